/* Keyed ratings of one joke committed together (bulk.h). */
#include "bulk.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "ddb_batch.h"
#include "ddb_json.h"
#include "error.h"

/* One chunk being committed: its plans, and which are still to be written. */
typedef struct chunk {
    dr_client *c;
    const dr_rating *const *ratings;
    dr_bulk_state *state;
    dr_write_plan plans[DR_BULK_MAX_RATINGS];
    size_t n;
} chunk;

/* The marker read back: the rating whose marker it is was stored before. */
static dr_status note_present(void *ctx, const json_t *item)
{
    chunk *k = ctx;
    const char *sk = dr__av_get_s(item, DR_ATTR_SK);
    const char *key = dr__key_rest(sk, DR_SK_IDEMPOTENCY);
    size_t i;
    for (i = 0; key && i < k->n; i++)
        if (k->state[i] == DR_BULK_PENDING && !strcmp(k->ratings[i]->idempotency_key, key))
            k->state[i] = DR_BULK_PRESENT;
    return DR_OK;
}

static dr_status mark_stored(chunk *k)
{
    json_t *keys = json_array();
    dr_status rc = keys ? DR_OK : DR_E_NOMEM;
    size_t i;
    for (i = 0; i < k->n && rc == DR_OK; i++)
        if (k->state[i] == DR_BULK_PENDING &&
            json_array_append_new(keys, dr__marker_key(&k->plans[i])) != 0)
            rc = DR_E_NOMEM;
    if (rc == DR_OK && json_array_size(keys))
        rc = dr__ddb_batch_get(k->c, k->c->ratings_table, keys, 1, note_present, k);
    else if (rc != DR_OK)
        rc = dr__fail(DR_E_NOMEM, "out of memory reading idempotency markers");
    json_decref(keys);
    return rc;
}

/* One attempt at the chunk: what is not stored yet, in one transaction. */
static dr_status commit_pending(chunk *k, dr_commit_outcome *outcome)
{
    const dr_rating *first = NULL;
    dr_change chg;
    dr_delta sum, one;
    dr_counts after;
    char last[DR_MAX_SUBMITTED_AT_BYTES + 8], seed[37];
    json_t *guards = json_array();
    dr_status rc = guards ? DR_OK : dr__fail(DR_E_NOMEM, "out of memory building an import");
    size_t i;
    int j;

    *outcome = DR_COMMIT_NOTHING;
    memset(&sum, 0, sizeof sum);
    memset(&chg, 0, sizeof chg);
    for (i = 0; i < k->n && rc == DR_OK; i++) {
        const dr_write_plan *x = &k->plans[i];
        if (k->state[i] != DR_BULK_PENDING)
            continue;
        if (!first) {
            first = x->r;
            dr__change_init(&chg, first->joke_id, x->author, &sum);
            chg.rated_at = x->submitted_at;
        }
        one = dr__delta_of_rating(x->r->stars);
        sum.total += one.total;
        sum.score += one.score;
        for (j = 0; j < 5; j++)
            sum.count[j] += one.count[j];
        if (strcmp(x->submitted_at, chg.rated_at) > 0) /* lastRatedAt keeps the newest */
            chg.rated_at = x->submitted_at;
        if (x->r->joke_text) /* as written one by one: the last text given wins */
            chg.joke_text = x->r->joke_text;
        rc = dr__write_guards_append(k->c, x, 1, guards);
    }
    /* A fresh token seed per call: after a cancellation the body differs, and a token
     * reused with another body is refused (IdempotentParameterMismatch). */
    if (rc == DR_OK && first && (rc = dr__uuid_v4(seed)) == DR_OK) {
        chg.token_seed = seed;
        chg.delta = sum;
        chg.authors[0].delta = sum;
        chg.guards = guards;
        rc = dr__commit_change(k->c, &chg, outcome, NULL, &after, last, sizeof last);
    }
    json_decref(guards);
    return rc;
}

static dr_status commit_chunk(chunk *k)
{
    size_t round, i;
    /* The first attempt assumes nothing is stored (a first import: no read at all). A
     * cancellation by a guard means some rating is stored (a rerun, a dual write), and
     * each later attempt first reads the markers and leaves those out: at most one round
     * per rating. */
    for (round = 0; round <= k->n + 1; round++) {
        dr_commit_outcome outcome;
        dr_status rc;
        if ((round > 0 && (rc = mark_stored(k)) != DR_OK) ||
            (rc = commit_pending(k, &outcome)) != DR_OK)
            return rc;
        if (outcome == DR_COMMIT_NOTHING)
            return DR_OK; /* every rating was stored before */
        if (outcome == DR_COMMIT_APPLIED) {
            for (i = 0; i < k->n; i++)
                if (k->state[i] == DR_BULK_PENDING)
                    k->state[i] = DR_BULK_WRITTEN;
            return DR_OK;
        }
    }
    return dr__fail(DR_E_INTERNAL, "joke %s: a stored rating has no idempotency marker",
                    k->ratings[0]->joke_id);
}

static const char *author_of(const dr_rating *r)
{
    return r->author ? r->author : DR_DEFAULT_AUTHOR;
}

dr_status dr__bulk_commit(dr_client *c, const dr_rating *const *ratings, size_t n,
                          dr_bulk_state *state)
{
    chunk *k;
    size_t start, i;
    dr_status rc = DR_OK;

    for (i = 0; i < n; i++) {
        state[i] = DR_BULK_PENDING;
        if (!ratings[i]->idempotency_key || strcmp(ratings[i]->joke_id, ratings[0]->joke_id) ||
            strcmp(author_of(ratings[i]), author_of(ratings[0])))
            return dr__fail(DR_E_INVALID_ARGUMENT, "a bulk commit takes keyed ratings of one "
                                                   "joke and author");
    }
    if (!(k = dr__calloc(1, sizeof *k)))
        return dr__fail(DR_E_NOMEM, "out of memory committing ratings");
    k->c = c;
    for (start = 0; start < n && rc == DR_OK; start += DR_BULK_MAX_RATINGS) {
        k->ratings = ratings + start;
        k->state = state + start;
        k->n = n - start < DR_BULK_MAX_RATINGS ? n - start : DR_BULK_MAX_RATINGS;
        for (i = 0; i < k->n && rc == DR_OK; i++)
            rc = dr__write_plan_init(k->ratings[i], &k->plans[i]);
        if (rc == DR_OK)
            rc = commit_chunk(k);
    }
    dr__free(k);
    return rc;
}
