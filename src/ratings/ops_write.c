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

dr_status dr__write_plan_init(const dr_rating *r, dr_write_plan *x)
{
    dr_status rc;
    memset(x, 0, sizeof *x);
    x->r = r;
    x->author = r->author ? r->author : DR_DEFAULT_AUTHOR;
    x->mode = r->mode ? r->mode : "live";
    if (r->submitted_at)
        snprintf(x->submitted_at, sizeof x->submitted_at, "%s", r->submitted_at);
    else
        dr__iso8601_now(x->submitted_at);
    /* The date given, or the day of submittedAt: its first 10 characters. */
    memcpy(x->date, r->date ? r->date : x->submitted_at, 10);
    x->date[10] = '\0';
    /* A keyed rating's item is named by its key, so every write of it names one item. */
    if ((rc = dr__uuid_v4(x->token_seed)) != DR_OK ||
        (rc = r->idempotency_key ? dr__uuid_of_key(r->idempotency_key, x->uuid)
                                 : dr__uuid_v4(x->uuid)) != DR_OK)
        return rc;
    snprintf(x->rating_sk, sizeof x->rating_sk, DR_SK_RATING "%s#%s", x->submitted_at, x->uuid);
    snprintf(x->pk, sizeof x->pk, DR_PK_JOKE "%s", r->joke_id);
    return DR_OK;
}

/* The rating item, compatible with the JavaScript services' items. */
static json_t *rating_item(const dr_write_plan *x, int inline_mode)
{
    json_t *item = json_object();
    char gsi2pk[16 + DR_MAX_AUTHOR_BYTES];
    int failed = 0;

    snprintf(gsi2pk, sizeof gsi2pk, DR_SK_AUTHOR "%s", x->author);
    failed |= dr__item_set(item, DR_ATTR_PK, dr__av_s(x->pk));
    failed |= dr__item_set(item, DR_ATTR_SK, dr__av_s(x->rating_sk));
    failed |= dr__item_set(item, DR_ATTR_RATING, dr__av_n_u64((uint64_t)x->r->stars));
    if (x->r->joke_text)
        failed |= dr__item_set(item, DR_ATTR_JOKE_TEXT, dr__av_s(x->r->joke_text));
    failed |= dr__item_set(item, DR_ATTR_AUTHOR, dr__av_s(x->author));
    failed |= dr__item_set(item, DR_ATTR_MODE, dr__av_s(x->mode));
    failed |= dr__item_set(item, DR_ATTR_DATE, dr__av_s(x->date));
    failed |= dr__item_set(item, DR_ATTR_SUBMITTED_AT, dr__av_s(x->submitted_at));
    failed |= dr__item_set(item, DR_ATTR_GSI1PK, dr__av_s(DR_GSI_ALL_RATINGS));
    failed |= dr__item_set(item, DR_ATTR_GSI1SK, dr__av_s(x->submitted_at));
    failed |= dr__item_set(item, DR_ATTR_GSI2PK, dr__av_s(gsi2pk));
    failed |= dr__item_set(item, DR_ATTR_GSI2SK, dr__av_s(x->submitted_at));
    if (inline_mode)
        failed |= dr__item_set(item, DR_ATTR_AGGREGATION, dr__av_s(DR_AGGREGATION_INLINE_MARK));
    if (failed) {
        json_decref(item);
        return NULL;
    }
    return item;
}

json_t *dr__marker_key(const dr_write_plan *x)
{
    dr_buf sk = DR_BUF_INIT;
    json_t *key = NULL;
    dr__buf_printf(&sk, DR_SK_IDEMPOTENCY "%s", x->r->idempotency_key);
    if (!sk.failed)
        key = dr__item_key(x->pk, dr__buf_cstr(&sk));
    dr__buf_free(&sk);
    return key;
}

/* The marker that makes a caller's idempotency key count once, for as long as it
 * exists: its condition fails on any later write with the same key. */
static json_t *marker_put(dr_client *c, const dr_write_plan *x)
{
    json_t *item = dr__marker_key(x);
    if (item && (json_object_set_new(item, DR_ATTR_MARKER_RATING_SK, dr__av_s(x->rating_sk)) ||
                 json_object_set_new(item, DR_ATTR_SUBMITTED_AT, dr__av_s(x->submitted_at)))) {
        json_decref(item);
        item = NULL;
    }
    return item ? dr__put_if_absent(c->ratings_table, item) : NULL;
}

dr_status dr__write_guards_append(dr_client *c, const dr_write_plan *x, int inline_mode,
                                  json_t *guards)
{
    if (json_array_append_new(guards, dr__put_if_absent(c->ratings_table,
                                                        rating_item(x, inline_mode))) != 0 ||
        (x->r->idempotency_key && json_array_append_new(guards, marker_put(c, x)) != 0))
        return dr__fail(DR_E_NOMEM, "out of memory building the rating write");
    return DR_OK;
}

/* The guards of a write: the rating item, and the caller's idempotency marker when a
 * key is given. Index 0 failing means this very rating was stored by an earlier attempt
 * whose answer was lost; index 1, that another write under the same key was stored. */
#define GUARD_RATING 0
static json_t *write_guards(dr_client *c, const dr_write_plan *x, int inline_mode)
{
    json_t *guards = json_array();
    if (!guards) {
        dr__fail(DR_E_NOMEM, "out of memory building the rating write");
        return NULL;
    }
    if (dr__write_guards_append(c, x, inline_mode, guards) != DR_OK) {
        json_decref(guards);
        return NULL;
    }
    return guards;
}

/* The stats as read with this write's rating folded in, flagged pending: stream mode,
 * where the aggregator has not counted it yet. */
static dr_status fold_in_pending(const dr_write_plan *x, dr_stats *s)
{
    s->counts.total += 1;
    s->counts.score += (uint64_t)x->r->stars;
    s->counts.count[x->r->stars - 1] += 1;
    if (!s->last_rated_at || strcmp(s->last_rated_at, x->submitted_at) < 0) {
        char *copy = dr__strdup(x->submitted_at);
        if (!copy)
            return dr__fail(DR_E_NOMEM, "out of memory");
        dr__free(s->last_rated_at);
        s->last_rated_at = copy;
    }
    s->exists = 1;
    s->pending = 1;
    return DR_OK;
}

/* Inline mode: the guards protect one commit of the rating with every aggregate it
 * changes. */
static dr_status write_inline(dr_client *c, const dr_write_plan *x, dr_stats **out)
{
    dr_change chg;
    dr_commit_outcome outcome = DR_COMMIT_NOTHING;
    dr_delta delta = dr__delta_of_rating(x->r->stars);
    dr_counts after;
    char last[64];
    json_t *guards = write_guards(c, x, 1);
    dr_status rc;

    if (!guards)
        return DR_E_NOMEM;
    dr__change_init(&chg, x->r->joke_id, x->author, &delta);
    chg.rated_at = x->submitted_at;
    chg.joke_text = x->r->joke_text;
    chg.guards = guards;
    chg.token_seed = x->token_seed;
    rc = dr__commit_change(c, &chg, &outcome, NULL, &after, last, sizeof last);
    json_decref(guards);
    if (rc != DR_OK)
        return rc;
    if (outcome != DR_COMMIT_APPLIED) /* stored before: the stats as they are include it */
        return dr__read_stats(c, x->r->joke_id, out);
    if (out && !(*out = dr__stats_new(x->r->joke_id, &after, last, 1)))
        return dr__fail(DR_E_NOMEM, "out of memory creating stats");
    return DR_OK;
}

/* Stream mode with an idempotency key: the rating and its marker in one transaction. */
typedef struct stream_txn {
    const dr_write_plan *x;
    const json_t *guards;
} stream_txn;

static dr_status build_stream_write(dr_client *c, void *ctx, int attempt, json_t **request,
                                    dr_txn_shape *shape)
{
    const stream_txn *t = ctx;
    char token[37];
    (void)c;
    dr__request_token(t->x->token_seed, attempt, token);
    shape->guards = json_array_size(t->guards);
    *request = json_pack("{s:O, s:s}", "TransactItems", t->guards, "ClientRequestToken", token);
    return *request ? DR_OK : dr__fail(DR_E_NOMEM, "out of memory building the rating write");
}

/* Stream mode: the rating alone (with its marker when a key is given); the aggregator
 * counts it. The stats returned are those stored plus this rating, flagged pending,
 * unless the key's marker shows another write stored this rating before (then the
 * stats as stored: that write's rating is the aggregator's business). */
static dr_status write_stream(dr_client *c, const dr_write_plan *x, dr_stats **out)
{
    dr_commit_outcome outcome = DR_COMMIT_APPLIED;
    size_t guard = GUARD_RATING;
    dr_status rc;

    if (x->r->idempotency_key) {
        json_t *guards = write_guards(c, x, 0);
        stream_txn t;
        if (!guards)
            return DR_E_NOMEM;
        t.x = x;
        t.guards = guards;
        rc = dr__transact(c, "rating write", build_stream_write, &t, &outcome, &guard);
        json_decref(guards);
    } else {
        json_t *req = json_pack("{s:s, s:o, s:s}", "TableName", c->ratings_table, "Item",
                                rating_item(x, 0), "ConditionExpression",
                                "attribute_not_exists(" DR_ATTR_PK ")");
        if (!req)
            return dr__fail(DR_E_NOMEM, "out of memory building the rating write");
        rc = dr__ddb_call(c, "PutItem", req, NULL, NULL);
        json_decref(req);
        /* The key carries this write's fresh UUID: only a transport retry of this very
         * request, whose first answer was lost, can find it stored. */
        if (rc == DR_E_CONDITION_FAILED)
            rc = DR_OK;
    }
    if (rc != DR_OK || !out)
        return rc;
    if ((rc = dr__read_stats(c, x->r->joke_id, out)) != DR_OK)
        return rc;
    if (outcome == DR_COMMIT_DUPLICATE && guard != GUARD_RATING)
        return DR_OK;
    if ((rc = fold_in_pending(x, *out)) != DR_OK) {
        dr_stats_free(*out);
        *out = NULL;
    }
    return rc;
}

DR_API dr_status dr_client_write_rating(dr_client *c, const dr_rating *r, dr_stats **out)
{
    dr_write_plan x;
    dr_status rc;

    if (out)
        *out = NULL;
    if (!c || !r)
        return dr__fail(DR_E_INVALID_ARGUMENT, c ? "dr_client_write_rating: rating is NULL"
                                                 : "dr_client_write_rating: client is NULL");
    if ((rc = dr__write_plan_init(r, &x)) != DR_OK)
        return rc;
    rc = c->mode == DR_AGGREGATION_STREAM ? write_stream(c, &x, out) : write_inline(c, &x, out);
    if (rc != DR_OK && out)
        *out = NULL;
    return rc;
}
