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

#include "alloc.h"
#include "ddb.h"
#include "ddb_json.h"
#include "error.h"
#include "keys.h"
#include "ops.h"
#include "retry.h"

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
    return item ? dr__put_if_absent(c->ratings_table, item) : NULL;
}

/* Inline mode: the rating item (and the caller's idempotency marker) guard one commit
 * of the rating with every aggregate it changes. */
static dr_status write_inline(dr_client *c, const write_ctx *x, dr_stats **out)
{
    dr_change chg;
    dr_commit_outcome outcome = DR_COMMIT_NOTHING;
    dr_counts after;
    char last[64];
    json_t *guards;
    dr_status rc;

    guards = json_pack("[o]", dr__put_if_absent(c->ratings_table, rating_item(x, 1)));
    if (guards && x->r->idempotency_key &&
        json_array_append_new(guards, marker_put(c, x)) != 0) {
        json_decref(guards);
        guards = NULL;
    }
    if (!guards)
        return dr__fail(DR_E_NOMEM, "out of memory building the rating write");
    memset(&chg, 0, sizeof chg);
    chg.joke_id = x->r->joke_id;
    chg.delta = dr__delta_of_rating(x->r->stars);
    chg.rated_at = x->submitted_at;
    chg.author = x->author;
    chg.joke_text = x->r->joke_text;
    chg.guards = guards;
    chg.token_seed = x->uuid;
    chg.global_shard = x->global_shard;
    rc = dr__commit_change(c, &chg, &outcome, &after, last, sizeof last);
    json_decref(guards);
    if (rc != DR_OK)
        return rc;
    if (outcome != DR_COMMIT_APPLIED) /* stored before, under the same key */
        return dr__read_stats(c, x->r->joke_id, out);
    if (out && !(*out = dr__stats_new(x->r->joke_id, &after, last, 1)))
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
        dr__request_token(x->uuid, 1, token);
        req = json_pack("{s:[o, o], s:s}", "TransactItems",
                        dr__put_if_absent(c->ratings_table, rating_item(x, 0)), marker_put(c, x),
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
    if ((rc = dr__read_stats(c, x->r->joke_id, out)) != DR_OK || duplicate)
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
