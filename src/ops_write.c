/* write_rating.
 *
 * Inline mode commits, in one TransactWriteItems, the rating item, an idempotency
 * marker (when the caller gave a key), the joke's stats with exact values computed from
 * what was just read (conditional on the item being unchanged), and commutative ADDs
 * to one GLOBAL shard and the author's item. A concurrent writer makes the condition
 * fail or the transaction conflict; the loop then re-reads and tries again, so the
 * stored average always equals totalScore/totalRatings. docs/aggregation.md has the
 * whole argument.
 *
 * Stream mode writes the rating alone (with its marker, when a key is given) and
 * returns the stats as read plus the new rating, flagged pending. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "alloc.h"
#include "ddb.h"
#include "ddb_json.h"
#include "error.h"
#include "keys.h"
#include "ops.h"
#include "retry.h"

/* Optimistic attempts before giving up on a hot joke; each waits a jittered backoff. */
#define DR_WRITE_MAX_ATTEMPTS 25
#define DR_WRITE_BACKOFF_BASE_MS 10u
#define DR_WRITE_BACKOFF_MAX_MS 500u

/* Everything fixed for one logical write, whatever the number of attempts. */
typedef struct write_ctx {
    const dr_rating *r;
    const char *author;
    const char *mode;
    char submitted_at[25];
    char date[11];
    char uuid[37];
    char rating_sk[96];
    char pk[8 + DR_MAX_JOKE_ID_BYTES];
    uint32_t global_shard;
} write_ctx;

static dr_status init_ctx(dr_client *c, const dr_rating *r, write_ctx *x)
{
    dr_status rc;
    memset(x, 0, sizeof *x);
    x->r = r;
    x->author = r->author ? r->author : DR_DEFAULT_AUTHOR;
    x->mode = r->mode ? r->mode : "live";
    dr__iso8601_now(x->submitted_at);
    /* The date given, or the day of submittedAt: its first 10 characters. */
    memcpy(x->date, r->date ? r->date : x->submitted_at, 10);
    x->date[10] = '\0';
    if ((rc = dr__uuid_v4(x->uuid)) != DR_OK)
        return rc;
    snprintf(x->rating_sk, sizeof x->rating_sk, DR_SK_RATING "%s#%s", x->submitted_at, x->uuid);
    snprintf(x->pk, sizeof x->pk, DR_PK_JOKE "%s", r->joke_id);
    x->global_shard = c->global_shards > 1 ? (uint32_t)(dr__random01() * c->global_shards) : 0;
    return DR_OK;
}

/* The rating item, compatible with the JavaScript services' items. */
static json_t *rating_item(const write_ctx *x, int inline_mode)
{
    json_t *item = json_object();
    char gsi2pk[16 + DR_MAX_AUTHOR_BYTES];
    int failed = 0;

    snprintf(gsi2pk, sizeof gsi2pk, "AUTHOR#%s", x->author);
    failed |= dr__item_set(item, "PK", dr__av_s(x->pk));
    failed |= dr__item_set(item, "SK", dr__av_s(x->rating_sk));
    failed |= dr__item_set(item, "rating", dr__av_n_u64((uint64_t)x->r->stars));
    if (x->r->joke_text)
        failed |= dr__item_set(item, "jokeText", dr__av_s(x->r->joke_text));
    failed |= dr__item_set(item, "author", dr__av_s(x->author));
    failed |= dr__item_set(item, "mode", dr__av_s(x->mode));
    failed |= dr__item_set(item, "date", dr__av_s(x->date));
    failed |= dr__item_set(item, "submittedAt", dr__av_s(x->submitted_at));
    failed |= dr__item_set(item, "GSI1PK", dr__av_s(DR_GSI_ALL_RATINGS));
    failed |= dr__item_set(item, "GSI1SK", dr__av_s(x->submitted_at));
    failed |= dr__item_set(item, "GSI2PK", dr__av_s(gsi2pk));
    failed |= dr__item_set(item, "GSI2SK", dr__av_s(x->submitted_at));
    if (inline_mode)
        failed |= dr__item_set(item, DR_ATTR_AGGREGATION, dr__av_s(DR_AGGREGATION_INLINE_MARK));
    if (failed) {
        json_decref(item);
        return NULL;
    }
    return item;
}

static json_t *put_if_absent(const char *table, json_t *item)
{
    return json_pack("{s:{s:s, s:o, s:s}}", "Put", "TableName", table, "Item", item,
                     "ConditionExpression", "attribute_not_exists(PK)");
}

/* The marker that makes a caller's idempotency key count once, for as long as it
 * exists: its condition fails on any later write with the same key. */
static json_t *marker_put(dr_client *c, const write_ctx *x)
{
    dr_buf sk = DR_BUF_INIT;
    json_t *item = NULL;
    dr__buf_printf(&sk, DR_SK_IDEMPOTENCY "%s", x->r->idempotency_key);
    if (!sk.failed)
        item = json_pack("{s:o, s:o, s:o, s:o}", "PK", dr__av_s(x->pk), "SK",
                         dr__av_s(dr__buf_cstr(&sk)), "ratingSK", dr__av_s(x->rating_sk),
                         "submittedAt", dr__av_s(x->submitted_at));
    dr__buf_free(&sk);
    return item ? put_if_absent(c->ratings_table, item) : NULL;
}

/* ClientRequestToken (at most 36 characters): the same for transport-level retries of
 * one attempt, so DynamoDB applies it once; different per optimistic attempt and per
 * call, because DynamoDB rejects a token reused with another body
 * (IdempotentParameterMismatch). A repeated call with the caller's idempotency key is
 * caught by the marker's condition instead, for as long as the marker exists. */
static void request_token(const write_ctx *x, int attempt, char out[37])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char seed[64];
    int i;
    snprintf(seed, sizeof seed, "%s#%d", x->uuid, attempt);
    EVP_Digest(seed, strlen(seed), digest, &len, EVP_sha256(), NULL);
    for (i = 0; i < 18; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* The cancellation reason of action `index`, or "" */
static const char *reason_code(const dr_ddb_error *err, size_t index)
{
    const char *code =
        json_string_value(json_object_get(json_array_get(err->cancellation_reasons, index), "Code"));
    return code ? code : "";
}

static dr_status read_stats_into(dr_client *c, const char *joke_id, dr_stats **out)
{
    json_t *item = NULL;
    dr_counts counts;
    dr_status rc = dr__get_joke_stats_item(c, joke_id, &item);
    if (rc == DR_OK)
        rc = dr__counts_from_item(item, &counts);
    if (rc == DR_OK && out) {
        *out = dr__stats_new(joke_id, &counts, dr__av_get_s(item, "lastRatedAt"), item != NULL);
        if (!*out)
            rc = dr__fail(DR_E_NOMEM, "out of memory creating stats");
    }
    json_decref(item);
    return rc;
}

static void backoff(int attempt)
{
    uint32_t ceiling = DR_WRITE_BACKOFF_BASE_MS << (attempt < 6 ? attempt : 6);
    uint32_t ms = (uint32_t)(dr__random01() *
                             (ceiling > DR_WRITE_BACKOFF_MAX_MS ? DR_WRITE_BACKOFF_MAX_MS : ceiling));
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef enum attempt_result { ATTEMPT_DONE, ATTEMPT_DUPLICATE, ATTEMPT_RETRY } attempt_result;

static dr_status inline_attempt(dr_client *c, const write_ctx *x, int attempt,
                                dr_counts *new_counts, char *last_rated_at, size_t last_cap,
                                attempt_result *result)
{
    const dr_rating *r = x->r;
    dr_delta delta = dr__delta_of_rating(r->stars), global_delta;
    dr_ddb_error err = DR_DDB_ERROR_INIT;
    json_t *old = NULL, *items = NULL, *req = NULL, *stats_update;
    char token[37], global_pk[32], author_sk[16 + DR_MAX_AUTHOR_BYTES];
    const char *new_last = NULL;
    size_t stats_index, rating_index = 0, marker_index = 1;
    dr_status rc;
    int failed = 0;

    *result = ATTEMPT_RETRY;
    if ((rc = dr__get_joke_stats_item(c, r->joke_id, &old)) != DR_OK)
        return rc;

    stats_update = dr__joke_stats_update(c, r->joke_id, old, &delta, x->submitted_at, x->author,
                                         r->joke_text, new_counts, &new_last);
    if (!stats_update) {
        json_decref(old);
        return dr_last_error_code();
    }
    snprintf(last_rated_at, last_cap, "%s", new_last);

    /* The joke's first rating makes it a rated joke: counted in uniqueJokes exactly
     * once, because the stats item's condition admits one first writer. */
    global_delta = delta;
    global_delta.unique_jokes = new_counts->total == (uint64_t)delta.total ? 1 : 0;
    dr__global_shard_pk(x->global_shard, global_pk);
    snprintf(author_sk, sizeof author_sk, DR_SK_AUTHOR "%s", x->author);

    items = json_array();
    failed |= json_array_append_new(items, put_if_absent(c->ratings_table, rating_item(x, 1)));
    if (r->idempotency_key)
        failed |= json_array_append_new(items, marker_put(c, x));
    stats_index = json_array_size(items);
    failed |= json_array_append_new(items, json_pack("{s:o}", "Update", stats_update));
    failed |= json_array_append_new(
        items, json_pack("{s:o}", "Update",
                         dr__counters_update(c, global_pk, DR_SK_AGGREGATE, &global_delta, NULL)));
    failed |= json_array_append_new(
        items, json_pack("{s:o}", "Update",
                         dr__counters_update(c, DR_PK_GLOBAL, author_sk, &delta, x->author)));
    request_token(x, attempt, token);
    if (!failed)
        req = json_pack("{s:O, s:s}", "TransactItems", items, "ClientRequestToken", token);
    json_decref(items);
    json_decref(old);
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory building the write transaction");

    rc = dr__ddb_call(c, "TransactWriteItems", req, NULL, &err);
    json_decref(req);
    if (rc == DR_OK) {
        *result = ATTEMPT_DONE;
    } else if (rc == DR_E_TRANSACTION_CANCELED) {
        const char *rating_reason = reason_code(&err, rating_index);
        const char *marker_reason = r->idempotency_key ? reason_code(&err, marker_index) : "";
        const char *stats_reason = reason_code(&err, stats_index);
        if (!strcmp(marker_reason, "ConditionalCheckFailed") ||
            !strcmp(rating_reason, "ConditionalCheckFailed")) {
            *result = ATTEMPT_DUPLICATE; /* this rating was stored before */
            rc = DR_OK;
        } else if (!strcmp(stats_reason, "ConditionalCheckFailed") ||
                   strstr(dr_last_error_message(), "TransactionConflict")) {
            rc = DR_OK; /* someone else got there first: re-read and try again */
        } else {
            int i;
            for (i = 0; i < (int)json_array_size(err.cancellation_reasons); i++)
                if (!strcmp(reason_code(&err, (size_t)i), "TransactionConflict"))
                    rc = DR_OK;
        }
    } else if (rc == DR_E_TRANSACTION_CONFLICT) {
        rc = DR_OK;
    }
    dr__ddb_error_clear(&err);
    return rc;
}

static dr_status write_inline(dr_client *c, const write_ctx *x, dr_stats **out)
{
    dr_counts counts;
    char last[64];
    attempt_result result = ATTEMPT_RETRY;
    dr_status rc = DR_OK;
    int attempt;

    for (attempt = 1; attempt <= DR_WRITE_MAX_ATTEMPTS; attempt++) {
        rc = inline_attempt(c, x, attempt, &counts, last, sizeof last, &result);
        if (rc != DR_OK || result != ATTEMPT_RETRY)
            break;
        dr__log(c, DR_LOG_DEBUG, "write_rating: joke stats changed concurrently; attempt %d",
                attempt + 1);
        backoff(attempt);
    }
    if (rc != DR_OK)
        return rc;
    if (result == ATTEMPT_RETRY)
        return dr__fail(DR_E_TRANSACTION_CONFLICT,
                        "write_rating: joke %s kept changing concurrently; gave up after %d "
                        "attempts",
                        x->r->joke_id, DR_WRITE_MAX_ATTEMPTS);
    if (result == ATTEMPT_DUPLICATE)
        return read_stats_into(c, x->r->joke_id, out);
    if (out && !(*out = dr__stats_new(x->r->joke_id, &counts, last, 1)))
        return dr__fail(DR_E_NOMEM, "out of memory creating stats");
    return DR_OK;
}

static dr_status write_stream(dr_client *c, const write_ctx *x, dr_stats **out)
{
    dr_ddb_error err = DR_DDB_ERROR_INIT;
    json_t *req;
    dr_status rc;
    int duplicate = 0;

    if (x->r->idempotency_key) {
        char token[37];
        request_token(x, 1, token);
        req = json_pack("{s:[o, o], s:s}", "TransactItems",
                        put_if_absent(c->ratings_table, rating_item(x, 0)), marker_put(c, x),
                        "ClientRequestToken", token);
    } else {
        req = json_pack("{s:s, s:o, s:s}", "TableName", c->ratings_table, "Item",
                        rating_item(x, 0), "ConditionExpression", "attribute_not_exists(PK)");
    }
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory building the rating write");
    rc = dr__ddb_call(c, x->r->idempotency_key ? "TransactWriteItems" : "PutItem", req, NULL,
                      &err);
    json_decref(req);
    if (rc == DR_E_TRANSACTION_CANCELED || rc == DR_E_CONDITION_FAILED) {
        duplicate = 1; /* stored before: its aggregation is the aggregator's business */
        rc = DR_OK;
    }
    dr__ddb_error_clear(&err);
    if (rc != DR_OK || !out)
        return rc;
    if ((rc = read_stats_into(c, x->r->joke_id, out)) != DR_OK || duplicate)
        return rc;
    /* Fold the new rating into what the stats table says so far, and say so. */
    {
        dr_stats *s = *out;
        s->counts.total += 1;
        s->counts.score += (uint64_t)x->r->stars;
        s->counts.count[x->r->stars - 1] += 1;
        if (!s->last_rated_at || strcmp(s->last_rated_at, x->submitted_at) < 0) {
            char *copy = dr__strdup(x->submitted_at);
            if (!copy) {
                dr_stats_free(s);
                *out = NULL;
                return dr__fail(DR_E_NOMEM, "out of memory");
            }
            dr__free(s->last_rated_at);
            s->last_rated_at = copy;
        }
        s->exists = 1;
        s->pending = 1;
    }
    return DR_OK;
}

DR_API dr_status dr_client_write_rating(dr_client *c, const dr_rating *r, dr_stats **out)
{
    write_ctx x;
    dr_status rc;

    if (out)
        *out = NULL;
    if (!c || !r)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_write_rating: %s is NULL",
                        c ? "rating" : "client");
    if ((rc = init_ctx(c, r, &x)) != DR_OK)
        return rc;
    rc = c->mode == DR_AGGREGATION_STREAM ? write_stream(c, &x, out) : write_inline(c, &x, out);
    if (rc != DR_OK && out)
        *out = NULL;
    return rc;
}
