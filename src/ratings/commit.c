/* The commit engine: one TransactWriteItems loop and one reader of cancellation
 * reasons for every write path (see commit.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "commit.h"
#include "ddb.h"
#include "ddb_batch.h"
#include "ddb_json.h"
#include "error.h"
#include "keys.h"
#include "stats_item.h"
#include "validate.h"
#include "retry.h"

/* ---- what a cancellation means ------------------------------------------------ */

static const char *reason_code(const json_t *reasons, size_t index)
{
    const char *code =
        json_string_value(json_object_get(json_array_get(reasons, index), "Code"));
    return code ? code : "None";
}

static int is_throttling(const char *code)
{
    return !strcmp(code, "ThrottlingError") || !strcmp(code, "ProvisionedThroughputExceeded") ||
           !strcmp(code, "RequestLimitExceeded");
}

dr_cancel_verdict dr__cancel_classify(const json_t *reasons, dr_txn_shape shape,
                                      size_t *guard_out)
{
    size_t i, n = json_array_size(reasons);
    int contended = 0, throttled = 0, error = n == 0;

    for (i = 0; i < n && i < shape.guards; i++) {
        if (!strcmp(reason_code(reasons, i), "ConditionalCheckFailed")) {
            if (guard_out)
                *guard_out = i;
            return DR_CANCEL_COMMITTED_BEFORE;
        }
    }
    for (i = 0; i < n; i++) {
        const char *code = reason_code(reasons, i);
        if (!strcmp(code, "None"))
            continue;
        if (is_throttling(code))
            throttled = 1;
        else if (!strcmp(code, "TransactionConflict") ||
                 (i >= shape.versioned && i - shape.versioned < shape.versioned_count &&
                  !strcmp(code, "ConditionalCheckFailed")))
            contended = 1;
        else
            error = 1;
    }
    if (error)
        return DR_CANCEL_ERROR;
    return throttled ? DR_CANCEL_THROTTLED : contended ? DR_CANCEL_CONTENDED : DR_CANCEL_ERROR;
}

int dr__cancel_has_conflict(const json_t *reasons)
{
    size_t i;
    for (i = 0; i < json_array_size(reasons); i++)
        if (!strcmp(reason_code(reasons, i), "TransactionConflict"))
            return 1;
    return 0;
}

/* ---- the transaction loop ------------------------------------------------------ */

#define DR_COMMIT_BACKOFF_BASE_MS 10u
#define DR_COMMIT_BACKOFF_MAX_MS 500u

static void commit_backoff(int attempt)
{
    uint32_t ceiling = DR_COMMIT_BACKOFF_BASE_MS << (attempt < 6 ? attempt : 6);
    uint32_t ms = (uint32_t)(dr__random01() * (ceiling > DR_COMMIT_BACKOFF_MAX_MS
                                                   ? DR_COMMIT_BACKOFF_MAX_MS
                                                   : ceiling));
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

dr_status dr__transact(dr_client *c, const char *what, dr_txn_builder build, void *ctx,
                       dr_commit_outcome *outcome, size_t *guard_out)
{
    dr_cancel_verdict verdict = DR_CANCEL_CONTENDED;
    int attempt;

    *outcome = DR_COMMIT_NOTHING;
    for (attempt = 1; attempt <= DR_COMMIT_MAX_ATTEMPTS; attempt++) {
        dr_ddb_error err = DR_DDB_ERROR_INIT;
        dr_txn_shape shape = {0, DR_NOT_VERSIONED, 0};
        json_t *req = NULL;
        dr_status rc;

        if ((rc = build(c, ctx, attempt, &req, &shape)) != DR_OK)
            return rc;
        if (!req)
            return DR_OK; /* DR_COMMIT_NOTHING */
        rc = dr__ddb_call(c, "TransactWriteItems", req, NULL, &err);
        json_decref(req);
        if (rc == DR_OK) {
            *outcome = DR_COMMIT_APPLIED;
            return DR_OK;
        }
        if (rc == DR_E_TRANSACTION_CONFLICT)
            verdict = DR_CANCEL_CONTENDED;
        else if (rc == DR_E_TRANSACTION_CANCELED)
            verdict = dr__cancel_classify(err.cancellation_reasons, shape, guard_out);
        else
            verdict = DR_CANCEL_ERROR;
        /* A cancellation because another transaction held an item is contention too:
         * the counter shows it beside the transport's TransactionConflictExceptions. */
        if (rc == DR_E_TRANSACTION_CANCELED && dr__cancel_has_conflict(err.cancellation_reasons))
            dr__count(c, DR_COUNTER_TRANSACTION_CONFLICTS, 1);
        dr__ddb_error_clear(&err);
        if (verdict == DR_CANCEL_COMMITTED_BEFORE) {
            *outcome = DR_COMMIT_DUPLICATE;
            return DR_OK;
        }
        if (verdict == DR_CANCEL_ERROR)
            return rc; /* the transport recorded the message with its reasons */
        dr__logf(&c->log, DR_LOG_DEBUG, "%s: %s; attempt %d", what,
                 verdict == DR_CANCEL_THROTTLED ? "throttled" : "changed concurrently",
                 attempt + 1);
        commit_backoff(attempt);
    }
    return verdict == DR_CANCEL_THROTTLED
               ? dr__fail(DR_E_THROTTLED, "%s: still throttled after %d attempts", what,
                          DR_COMMIT_MAX_ATTEMPTS)
               : dr__fail(DR_E_TRANSACTION_CONFLICT,
                          "%s kept changing concurrently; gave up after %d attempts", what,
                          DR_COMMIT_MAX_ATTEMPTS);
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

json_t *dr__put_if_absent(const char *table, json_t *item)
{
    return json_pack("{s:{s:s, s:o, s:s}}", "Put", "TableName", table, "Item", item,
                     "ConditionExpression", "attribute_not_exists(" DR_ATTR_PK ")");
}

/* ---- a change to a joke's ratings ---------------------------------------------- */

void dr__change_init(dr_change *chg, const char *joke_id, const char *author,
                     const dr_delta *delta)
{
    memset(chg, 0, sizeof *chg);
    chg->joke_id = joke_id;
    chg->author = author;
    chg->delta = *delta;
    chg->authors[0].author = author;
    chg->authors[0].delta = *delta;
    chg->author_count = 1;
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

/* What one commit of changes carries from attempt to attempt. */
typedef struct change_txn {
    const dr_change *chgs;
    size_t n;
    json_t **old; /* n: each joke's stats item as this attempt read it (NULL: none) */
    unsigned char *included; /* n: whether this attempt's transaction writes the change */
    dr_counts *after;
    char *last_rated_at;
    size_t last_cap;
} change_txn;

static int delta_is_zero(const dr_delta *d)
{
    int i;
    for (i = 0; i < 5 && d->count[i] == 0; i++)
        ;
    return i == 5 && d->total == 0 && d->score == 0 && d->unique_jokes == 0;
}

static int append_update(json_t *items, json_t *update)
{
    return update ? json_array_append_new(items, json_pack("{s:o}", "Update", update)) : -1;
}

/* A stats item read back by the BatchGetItem: it belongs to the change of its joke. */
static dr_status keep_old(void *ctx, json_t *item)
{
    change_txn *t = ctx;
    const char *joke = dr__joke_id_of_stats_pk(dr__av_get_s(item, DR_ATTR_PK));
    size_t i;
    for (i = 0; joke && i < t->n; i++)
        if (!t->old[i] && !strcmp(t->chgs[i].joke_id, joke))
            t->old[i] = json_incref(item);
    return DR_OK;
}

/* Every joke's stats item, strongly consistent: one GetItem for one joke, one
 * BatchGetItem for several. */
static dr_status read_old(dr_client *c, change_txn *t)
{
    json_t *keys;
    dr_status rc = DR_OK;
    size_t i;
    for (i = 0; i < t->n; i++) {
        json_decref(t->old[i]);
        t->old[i] = NULL;
    }
    if (t->n == 1)
        return dr__get_joke_stats_item(c, t->chgs[0].joke_id, &t->old[0]);
    if (!(keys = json_array()))
        return dr__fail(DR_E_NOMEM, "out of memory reading stats items");
    for (i = 0; i < t->n && rc == DR_OK; i++)
        if (json_array_append_new(keys, dr__stats_key(t->chgs[i].joke_id)) != 0)
            rc = dr__fail(DR_E_NOMEM, "out of memory reading stats items");
    if (rc == DR_OK)
        rc = dr__ddb_batch_get(c, c->stats_table, keys, 1, keep_old, t);
    json_decref(keys);
    return rc;
}

/* The summed deltas of the counters items a commit touches: each GLOBAL shard and each
 * author once (an item may appear only once in a transaction). */
typedef struct counters_sum {
    struct {
        uint32_t shard;
        dr_delta delta;
    } shards[DR_COMMIT_MAX_CHANGES];
    dr_author_delta authors[DR_TXN_MAX_ITEMS];
    size_t shard_count, author_count;
} counters_sum;

/* Add to a shard's sum; -1 when there would be more shards than changes. */
static int sum_shard(counters_sum *s, uint32_t shard, const dr_delta *d)
{
    size_t i;
    for (i = 0; i < s->shard_count && s->shards[i].shard != shard; i++)
        ;
    if (i == DR_COMMIT_MAX_CHANGES)
        return -1;
    if (i == s->shard_count) {
        memset(&s->shards[i], 0, sizeof s->shards[i]);
        s->shards[s->shard_count++].shard = shard;
    }
    dr__delta_add(&s->shards[i].delta, d);
    return 0;
}

/* Add to an author's sum; -1 when the authors alone would overflow a transaction. */
static int sum_author(counters_sum *s, const dr_author_delta *a)
{
    size_t i;
    for (i = 0; i < s->author_count && strcmp(s->authors[i].author, a->author); i++)
        ;
    if (i == DR_TXN_MAX_ITEMS)
        return -1;
    if (i == s->author_count) {
        memset(&s->authors[i], 0, sizeof s->authors[i]);
        s->authors[s->author_count++].author = a->author;
    }
    dr__delta_add(&s->authors[i].delta, &a->delta);
    return 0;
}

static int append_counters(dr_client *c, json_t *items, const counters_sum *s)
{
    char global_pk[32];
    size_t i;
    int failed = 0;
    /* A change of author alone leaves the joke's and GLOBAL's counters as they are. */
    for (i = 0; i < s->shard_count; i++) {
        if (delta_is_zero(&s->shards[i].delta))
            continue;
        dr__global_shard_pk(s->shards[i].shard, global_pk);
        failed |= append_update(items, dr__counters_update(c, global_pk, DR_SK_AGGREGATE,
                                                           &s->shards[i].delta, NULL));
    }
    for (i = 0; i < s->author_count; i++) {
        dr_buf sk = DR_BUF_INIT;
        if (delta_is_zero(&s->authors[i].delta))
            continue;
        dr__buf_printf(&sk, DR_SK_AUTHOR "%s", s->authors[i].author);
        failed |= sk.failed ||
                  append_update(items, dr__counters_update(c, DR_PK_GLOBAL, dr__buf_cstr(&sk),
                                                           &s->authors[i].delta,
                                                           s->authors[i].author));
        dr__buf_free(&sk);
    }
    return failed;
}

/* Each attempt reads the jokes' stats items and builds exact new values from them:
 * the guards of every change that commits, then their stats items (the versioned range),
 * then the counters items. */
static dr_status build_changes(dr_client *c, void *ctx, int attempt, json_t **request,
                               dr_txn_shape *shape)
{
    change_txn *t = ctx;
    counters_sum sum;
    json_t *items = NULL, *updates = NULL, *guard, *update;
    char token[37];
    size_t i, j;
    dr_status rc;
    int failed = 0, overflow = 0;

    if ((rc = read_old(c, t)) != DR_OK)
        return rc;
    memset(&sum, 0, sizeof sum);
    if (!(items = json_array()) || !(updates = json_array()))
        failed = 1;
    for (i = 0; i < t->n && !failed; i++) {
        const dr_change *chg = &t->chgs[i];
        dr_delta global_delta = chg->delta;
        const char *new_last = NULL;
        t->included[i] = 0;
        /* Nothing to un-count, or a change of a rating this joke never counted: leave
         * the aggregates alone rather than invent a stats item. */
        if (removes_more_than_stored(&chg->delta, t->old[i]) ||
            (!t->old[i] && chg->delta.total <= 0))
            continue;
        t->included[i] = 1;
        update = dr__joke_stats_update(c, chg->joke_id, t->old[i], &chg->delta, chg->rated_at,
                                       chg->author, chg->joke_text, t->after, &new_last);
        if (!update) {
            json_decref(items);
            json_decref(updates);
            return dr_last_error_code();
        }
        if (t->last_rated_at)
            snprintf(t->last_rated_at, t->last_cap, "%s", new_last);
        failed |= append_update(updates, update);
        json_array_foreach(chg->guards, j, guard)
            failed |= json_array_append(items, guard);
        /* A joke is counted in uniqueJokes once, by the commit that first gives its
         * stats item a statsVersion: the item's condition admits one such writer. An
         * item without one was never counted (it is new, or left by the JavaScript
         * aggregator, which kept no uniqueJokes); an item with one stays counted even at
         * 0 ratings. */
        global_delta.unique_jokes =
            !t->old[i] || !json_object_get(t->old[i], DR_ATTR_STATS_VERSION);
        overflow |= sum_shard(&sum, dr__global_shard_of(c->global_shards, chg->joke_id),
                              &global_delta);
        for (j = 0; j < chg->author_count; j++)
            overflow |= sum_author(&sum, &chg->authors[j]);
    }
    if (!failed) {
        shape->guards = json_array_size(items);
        shape->versioned = shape->guards;
        shape->versioned_count = json_array_size(updates);
        failed |= json_array_extend(items, updates) || append_counters(c, items, &sum);
        overflow |= json_array_size(items) > DR_TXN_MAX_ITEMS;
    }
    if (overflow) { /* the caller's packing is wrong: nothing is sent */
        json_decref(items);
        json_decref(updates);
        return dr__fail(DR_E_INTERNAL, "a commit of %zu jokes needs more than %d items", t->n,
                        DR_TXN_MAX_ITEMS);
    }
    dr__request_token(t->chgs[0].token_seed, attempt, token);
    if (!failed && json_array_size(updates))
        failed = !(*request = json_pack("{s:O, s:s}", "TransactItems", items,
                                        "ClientRequestToken", token));
    json_decref(items);
    json_decref(updates);
    return failed ? dr__fail(DR_E_NOMEM, "out of memory building the transaction") : DR_OK;
}

static dr_status commit_changes(dr_client *c, change_txn *t, dr_commit_outcome *outcome,
                                size_t *guard_out)
{
    char what[64 + DR_MAX_JOKE_ID_BYTES];
    dr_status rc;
    size_t i;
    if (t->n == 1)
        snprintf(what, sizeof what, "joke %s", t->chgs[0].joke_id);
    else
        snprintf(what, sizeof what, "%zu jokes from %s", t->n, t->chgs[0].joke_id);
    rc = dr__transact(c, what, build_changes, t, outcome, guard_out);
    for (i = 0; i < t->n; i++)
        json_decref(t->old[i]);
    return rc;
}

dr_status dr__commit_change(dr_client *c, const dr_change *chg, dr_commit_outcome *outcome,
                            size_t *guard_out, dr_counts *after, char *last_rated_at,
                            size_t last_cap)
{
    json_t *old = NULL;
    unsigned char included;
    change_txn t;
    t.chgs = chg;
    t.n = 1;
    t.old = &old;
    t.included = &included;
    t.after = after;
    t.last_rated_at = last_rated_at;
    t.last_cap = last_cap;
    return commit_changes(c, &t, outcome, guard_out);
}

dr_status dr__commit_changes(dr_client *c, const dr_change *chgs, size_t n,
                             dr_commit_outcome *outcome, unsigned char *committed)
{
    json_t *old[DR_COMMIT_MAX_CHANGES] = {NULL};
    unsigned char included[DR_COMMIT_MAX_CHANGES] = {0};
    dr_counts after;
    change_txn t;
    dr_status rc;
    size_t i;
    if (n < 1 || n > DR_COMMIT_MAX_CHANGES)
        return dr__fail(DR_E_INTERNAL, "a commit takes 1..%d changes, not %zu",
                        DR_COMMIT_MAX_CHANGES, n);
    t.chgs = chgs;
    t.n = n;
    t.old = old;
    t.included = included;
    t.after = &after;
    t.last_rated_at = NULL;
    t.last_cap = 0;
    rc = commit_changes(c, &t, outcome, NULL);
    for (i = 0; committed && i < n; i++)
        committed[i] = rc == DR_OK && *outcome == DR_COMMIT_APPLIED && included[i];
    return rc;
}
