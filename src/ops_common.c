/* Keys and update builders shared by the operations and the stream aggregator. */
#include <inttypes.h>
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

static json_t *key_of(const char *pk_prefix, const char *pk_rest, const char *sk)
{
    dr_buf pk = DR_BUF_INIT;
    json_t *key;
    dr__buf_puts(&pk, pk_prefix);
    dr__buf_puts(&pk, pk_rest);
    if (pk.failed) {
        dr__buf_free(&pk);
        return NULL;
    }
    key = json_pack("{s:o, s:o}", "PK", dr__av_s(dr__buf_cstr(&pk)), "SK", dr__av_s(sk));
    dr__buf_free(&pk);
    return key;
}

json_t *dr__stats_key(const char *joke_id)
{
    return key_of(DR_PK_STATS, joke_id, DR_SK_AGGREGATE);
}

dr_status dr__get_joke_stats_item(dr_client *c, const char *joke_id, json_t **item_out)
{
    json_t *req, *resp = NULL;
    dr_status rc;

    *item_out = NULL;
    req = json_pack("{s:s, s:o, s:b}", "TableName", c->stats_table, "Key",
                    dr__stats_key(joke_id), "ConsistentRead", 1);
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory building GetItem");
    rc = dr__ddb_call(c, "GetItem", req, &resp, NULL);
    json_decref(req);
    if (rc != DR_OK)
        return rc;
    *item_out = json_incref(json_object_get(resp, "Item"));
    json_decref(resp);
    return DR_OK;
}

void dr__global_shard_pk(uint32_t k, char out[32])
{
    if (k == 0)
        snprintf(out, 32, "%s", DR_PK_GLOBAL);
    else
        snprintf(out, 32, "%s#%" PRIu32, DR_PK_GLOBAL, k);
}

void dr__top_sort_key(dr_buf *b, uint32_t average_hundredths, uint64_t total,
                      const char *joke_id)
{
    dr__buf_printf(b, "%03" PRIu32 "#%020" PRIu64 "#%s", average_hundredths, total, joke_id);
}

void dr__top_partition(uint32_t shards, const char *joke_id, char out[48])
{
    uint32_t hash = 2166136261u;
    const unsigned char *p;
    if (shards <= 1) {
        snprintf(out, 48, "%s", DR_GSI_TOP_PERFORMERS);
        return;
    }
    for (p = (const unsigned char *)joke_id; *p; p++)
        hash = (hash ^ *p) * 16777619u;
    snprintf(out, 48, "%s#%" PRIu32, DR_GSI_TOP_PERFORMERS, hash % shards);
}

dr_delta dr__delta_of_rating(int32_t stars)
{
    dr_delta d;
    memset(&d, 0, sizeof d);
    d.total = 1;
    d.score = stars;
    d.count[stars - 1] = 1;
    return d;
}

/* old + delta, clamped at 0 (a delta never takes a counter below zero unless the
 * stored item was already inconsistent). */
static uint64_t apply(uint64_t old, int64_t delta)
{
    if (delta < 0 && (uint64_t)(-delta) > old)
        return 0;
    return delta < 0 ? old - (uint64_t)(-delta) : old + (uint64_t)delta;
}

static json_t *av_n_i64(int64_t v)
{
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRId64, v);
    return dr__av_n_str(digits);
}

json_t *dr__joke_stats_update(dr_client *c, const char *joke_id, const json_t *old,
                              const dr_delta *delta, const char *rated_at, const char *author,
                              const char *joke_text, dr_counts *new_counts,
                              const char **new_last_rated_at)
{
    static const char *const count_names[] = {"count1", "count2", "count3", "count4", "count5"};
    dr_counts before;
    dr_buf expr = DR_BUF_INIT, rank = DR_BUF_INIT;
    json_t *values = json_object(), *update = NULL;
    const char *old_last = old ? dr__av_get_s(old, "lastRatedAt") : NULL;
    const char *condition;
    uint64_t version = 0;
    int failed = 0, malformed = 0, i;

    memset(&before, 0, sizeof before);
    if (old && dr__counts_from_item(old, &before) != DR_OK) {
        malformed = 1; /* the recorded message says which attribute */
        goto done;
    }
    (void)dr__av_get_u64(old, "statsVersion", &version);

    new_counts->total = apply(before.total, delta->total);
    new_counts->score = apply(before.score, delta->score);
    for (i = 0; i < 5; i++)
        new_counts->count[i] = apply(before.count[i], delta->count[i]);
    *new_last_rated_at = old_last && strcmp(old_last, rated_at) > 0 ? old_last : rated_at;

    dr__buf_puts(&expr, "SET totalRatings = :t, totalScore = :s, lastRatedAt = :last, "
                        "author = if_not_exists(author, :author), statsVersion = :next");
    failed |= dr__item_set(values, ":t", dr__av_n_u64(new_counts->total));
    failed |= dr__item_set(values, ":s", dr__av_n_u64(new_counts->score));
    failed |= dr__item_set(values, ":last", dr__av_s(*new_last_rated_at));
    failed |= dr__item_set(values, ":author", dr__av_s(author));
    failed |= dr__item_set(values, ":next", dr__av_n_u64(version + 1));
    for (i = 0; i < 5; i++) {
        char placeholder[8];
        snprintf(placeholder, sizeof placeholder, ":c%d", i + 1);
        dr__buf_printf(&expr, ", %s = %s", count_names[i], placeholder);
        failed |= dr__item_set(values, placeholder, dr__av_n_u64(new_counts->count[i]));
    }
    if (joke_text) {
        dr__buf_puts(&expr, ", jokeText = if_not_exists(jokeText, :text)");
        failed |= dr__item_set(values, ":text", dr__av_s(joke_text));
    }
    if (new_counts->total >= DR_TOP_MIN_RATINGS) {
        uint32_t avg = dr__average_hundredths(new_counts->score, new_counts->total);
        char avg_text[16], partition[48];
        dr__format_hundredths(avg, avg_text);
        dr__top_partition(c->global_shards, joke_id, partition);
        dr__top_sort_key(&rank, avg, new_counts->total, joke_id);
        if (c->global_shards <= 1) {
            /* GSI1 as the JavaScript services read it: sparse, so their Limit-8 query
             * only sees jokes that qualify. */
            dr__buf_puts(&expr, ", GSI1PK = :top, GSI1SK = :avg");
            failed |= dr__item_set(values, ":top", dr__av_s(DR_GSI_TOP_PERFORMERS));
            failed |= dr__item_set(values, ":avg", dr__av_n_str(avg_text));
        }
        dr__buf_puts(&expr, ", GSI2PK = :toppart, GSI2SK = :rank");
        failed |= dr__item_set(values, ":toppart", dr__av_s(partition));
        failed |= dr__item_set(values, ":rank", dr__av_s(dr__buf_cstr(&rank)));
    } else if (old && json_object_get(old, "GSI2PK")) {
        /* A changed rating cannot lower the count, but an inconsistent item could
         * carry index keys it should not: remove them. */
        dr__buf_puts(&expr, " REMOVE GSI1PK, GSI1SK, GSI2PK, GSI2SK");
    }

    if (!old) {
        condition = "attribute_not_exists(PK)";
    } else if (json_object_get(old, "statsVersion")) {
        condition = "statsVersion = :ver";
        failed |= dr__item_set(values, ":ver", dr__av_n_u64(version));
    } else {
        /* Written by the JavaScript aggregator: no version yet; its counters only grow,
         * so an unchanged totalRatings means an unchanged item. */
        condition = "attribute_not_exists(statsVersion) AND "
                    "(attribute_not_exists(totalRatings) OR totalRatings = :oldt)";
        failed |= dr__item_set(values, ":oldt", dr__av_n_u64(before.total));
    }
    if (failed || expr.failed || rank.failed)
        goto done;
    update = json_pack("{s:s, s:o, s:s, s:s, s:O}", "TableName", c->stats_table, "Key",
                       dr__stats_key(joke_id), "UpdateExpression", dr__buf_cstr(&expr),
                       "ConditionExpression", condition, "ExpressionAttributeValues", values);
done:
    if (!update && !malformed)
        dr__fail(DR_E_NOMEM, "out of memory building the stats update");
    json_decref(values);
    dr__buf_free(&expr);
    dr__buf_free(&rank);
    return update;
}

json_t *dr__counters_update(dr_client *c, const char *pk, const char *sk, const dr_delta *delta,
                            const char *author)
{
    static const char *const count_names[] = {"count1", "count2", "count3", "count4", "count5"};
    dr_buf expr = DR_BUF_INIT;
    json_t *values = json_object(), *update = NULL, *key;
    const char *sep = "ADD ";
    int failed = 0, i;

#define ADD_COUNTER(name, placeholder, value)                                             \
    do {                                                                                  \
        if ((value) != 0) {                                                               \
            dr__buf_printf(&expr, "%s%s %s", sep, name, placeholder);                    \
            failed |= dr__item_set(values, placeholder, av_n_i64(value));                 \
            sep = ", ";                                                                   \
        }                                                                                 \
    } while (0)
    ADD_COUNTER("totalRatings", ":t", delta->total);
    ADD_COUNTER("totalScore", ":s", delta->score);
    for (i = 0; i < 5; i++) {
        char placeholder[8];
        snprintf(placeholder, sizeof placeholder, ":c%d", i + 1);
        ADD_COUNTER(count_names[i], placeholder, delta->count[i]);
    }
    ADD_COUNTER("uniqueJokes", ":u", delta->unique_jokes);
#undef ADD_COUNTER
    if (author) {
        dr__buf_puts(&expr, " SET author = :author");
        failed |= dr__item_set(values, ":author", dr__av_s(author));
    }
    key = json_pack("{s:o, s:o}", "PK", dr__av_s(pk), "SK", dr__av_s(sk));
    if (!failed && !expr.failed && key && expr.len)
        update = json_pack("{s:s, s:O, s:s, s:O}", "TableName", c->stats_table, "Key", key,
                           "UpdateExpression", dr__buf_cstr(&expr),
                           "ExpressionAttributeValues", values);
    if (!update)
        dr__fail(DR_E_NOMEM, "out of memory building a counters update");
    json_decref(key);
    json_decref(values);
    dr__buf_free(&expr);
    return update;
}

/* ---- committing a change ---------------------------------------------------- */

/* Optimistic attempts before giving up on a hot joke; each waits a jittered backoff. */
#define DR_COMMIT_MAX_ATTEMPTS 25
#define DR_COMMIT_BACKOFF_BASE_MS 10u
#define DR_COMMIT_BACKOFF_MAX_MS 500u

json_t *dr__put_if_absent(const char *table, json_t *item)
{
    return json_pack("{s:{s:s, s:o, s:s}}", "Put", "TableName", table, "Item", item,
                     "ConditionExpression", "attribute_not_exists(PK)");
}

void dr__request_token(const char *seed, int attempt, char out[37])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    dr_buf text = DR_BUF_INIT;
    int i;
    dr__buf_printf(&text, "%s#%d", seed, attempt);
    EVP_Digest(dr__buf_cstr(&text), text.len, digest, &len, EVP_sha256(), NULL);
    dr__buf_free(&text);
    for (i = 0; i < 18; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static const char *reason_code(const dr_ddb_error *err, size_t index)
{
    const char *code = json_string_value(
        json_object_get(json_array_get(err->cancellation_reasons, index), "Code"));
    return code ? code : "";
}

static void commit_backoff(int attempt)
{
    uint32_t ceiling = DR_COMMIT_BACKOFF_BASE_MS << (attempt < 6 ? attempt : 6);
    uint32_t ms = (uint32_t)(dr__random01() * (ceiling > DR_COMMIT_BACKOFF_MAX_MS
                                                   ? DR_COMMIT_BACKOFF_MAX_MS
                                                   : ceiling));
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Whether a negative delta asks for more than the stored counters hold. */
static int removes_more_than_stored(const dr_delta *delta, const json_t *old)
{
    dr_counts before;
    int i;
    if (delta->total >= 0 && delta->score >= 0) {
        for (i = 0; i < 5 && delta->count[i] >= 0; i++)
            ;
        if (i == 5)
            return 0;
    }
    if (!old || dr__counts_from_item(old, &before) != DR_OK)
        return 1;
    if (delta->total < 0 && before.total < (uint64_t)(-delta->total))
        return 1;
    for (i = 0; i < 5; i++)
        if (delta->count[i] < 0 && before.count[i] < (uint64_t)(-delta->count[i]))
            return 1;
    return 0;
}

typedef enum attempt_result { ATTEMPT_DONE, ATTEMPT_RETRY } attempt_result;

static dr_status commit_attempt(dr_client *c, const dr_change *chg, int attempt,
                                dr_commit_outcome *outcome, dr_counts *after,
                                char *last_rated_at, size_t last_cap, attempt_result *result)
{
    dr_ddb_error err = DR_DDB_ERROR_INIT;
    json_t *old = NULL, *items = NULL, *req = NULL, *stats_update, *guard;
    dr_delta global_delta = chg->delta;
    char token[37], global_pk[32];
    dr_buf author_sk = DR_BUF_INIT;
    const char *new_last = NULL;
    size_t guard_count = json_array_size(chg->guards), i;
    dr_status rc;
    int failed = 0;

    *result = ATTEMPT_DONE;
    if ((rc = dr__get_joke_stats_item(c, chg->joke_id, &old)) != DR_OK)
        return rc;
    if (removes_more_than_stored(&chg->delta, old)) {
        json_decref(old);
        *outcome = DR_COMMIT_NOTHING;
        return DR_OK;
    }
    stats_update = dr__joke_stats_update(c, chg->joke_id, old, &chg->delta, chg->rated_at,
                                         chg->author, chg->joke_text, after, &new_last);
    if (!stats_update) {
        json_decref(old);
        return dr_last_error_code();
    }
    snprintf(last_rated_at, last_cap, "%s", new_last);

    /* A joke's first rating makes it a rated joke: counted in uniqueJokes exactly once,
     * because the stats item's condition admits one first writer. */
    global_delta.unique_jokes = chg->delta.total > 0 && after->total == (uint64_t)chg->delta.total;
    dr__global_shard_pk(chg->global_shard, global_pk);
    dr__buf_printf(&author_sk, DR_SK_AUTHOR "%s", chg->author);

    items = json_array();
    json_array_foreach(chg->guards, i, guard)
        failed |= json_array_append(items, guard);
    failed |= json_array_append_new(items, json_pack("{s:o}", "Update", stats_update));
    failed |= json_array_append_new(
        items, json_pack("{s:o}", "Update",
                         dr__counters_update(c, global_pk, DR_SK_AGGREGATE, &global_delta, NULL)));
    failed |= json_array_append_new(
        items, json_pack("{s:o}", "Update",
                         dr__counters_update(c, DR_PK_GLOBAL, dr__buf_cstr(&author_sk),
                                             &chg->delta, chg->author)));
    dr__request_token(chg->token_seed, attempt, token);
    if (!failed && !author_sk.failed)
        req = json_pack("{s:O, s:s}", "TransactItems", items, "ClientRequestToken", token);
    json_decref(items);
    json_decref(old);
    dr__buf_free(&author_sk);
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory building the transaction");

    rc = dr__ddb_call(c, "TransactWriteItems", req, NULL, &err);
    json_decref(req);
    if (rc == DR_OK) {
        *outcome = DR_COMMIT_APPLIED;
    } else if (rc == DR_E_TRANSACTION_CANCELED) {
        int contended = 0;
        for (i = 0; i < guard_count; i++) {
            if (!strcmp(reason_code(&err, i), "ConditionalCheckFailed")) {
                *outcome = DR_COMMIT_DUPLICATE;
                rc = DR_OK;
                goto done;
            }
        }
        /* The stats item changed since it was read, or another transaction held one of
         * the items: read again and retry. Anything else is the caller's error. */
        contended = !strcmp(reason_code(&err, guard_count), "ConditionalCheckFailed");
        for (i = 0; i < json_array_size(err.cancellation_reasons); i++)
            contended |= !strcmp(reason_code(&err, i), "TransactionConflict");
        if (contended) {
            *result = ATTEMPT_RETRY;
            rc = DR_OK;
        }
    } else if (rc == DR_E_TRANSACTION_CONFLICT) {
        *result = ATTEMPT_RETRY;
        rc = DR_OK;
    }
done:
    dr__ddb_error_clear(&err);
    return rc;
}

dr_status dr__commit_change(dr_client *c, const dr_change *chg, dr_commit_outcome *outcome,
                            dr_counts *after, char *last_rated_at, size_t last_cap)
{
    attempt_result result = ATTEMPT_RETRY;
    dr_status rc = DR_OK;
    int attempt;

    for (attempt = 1; attempt <= DR_COMMIT_MAX_ATTEMPTS; attempt++) {
        rc = commit_attempt(c, chg, attempt, outcome, after, last_rated_at, last_cap, &result);
        if (rc != DR_OK || result == ATTEMPT_DONE)
            return rc;
        dr__log(c, DR_LOG_DEBUG, "joke %s changed concurrently; attempt %d", chg->joke_id,
                attempt + 1);
        commit_backoff(attempt);
    }
    return dr__fail(DR_E_TRANSACTION_CONFLICT,
                    "joke %s kept changing concurrently; gave up after %d attempts",
                    chg->joke_id, DR_COMMIT_MAX_ATTEMPTS);
}
