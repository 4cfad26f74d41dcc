/* Keyed ratings of one joke committed together (bulk.h). */
#include "bulk.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "ddb_batch.h"
#include "ddb_json.h"
#include "error.h"

/* One transaction being committed: its plans, and which are still to be written. */
typedef struct chunk {
    dr_client *c;
    const dr_rating *const *ratings;
    dr_bulk_state *state;
    dr_write_plan plans[DR_BULK_MAX_RATINGS];
    size_t n;
} chunk;

static const char *author_of(const dr_rating *r)
{
    return r->author ? r->author : DR_DEFAULT_AUTHOR;
}

static int holds_string(const char *const *set, size_t n, const char *s)
{
    while (n--)
        if (!strcmp(set[n], s))
            return 1;
    return 0;
}

/* What the ratings of a transaction being cut touch once each. */
typedef struct pack {
    const char *jokes[DR_COMMIT_MAX_CHANGES], *authors[DR_COMMIT_MAX_CHANGES];
    uint32_t shards[DR_COMMIT_MAX_CHANGES];
    size_t joke_count, author_count, shard_count, items;
} pack;

/* Take the first rating of a joke into the pack, if the joke is new to it and its items
 * fit: its stats item, and its author's and GLOBAL shard's unless already there. */
static int pack_joke(pack *p, const dr_client *c, const dr_rating *r)
{
    uint32_t shard = dr__global_shard_of(c->global_shards, r->joke_id);
    int new_author = !holds_string(p->authors, p->author_count, author_of(r));
    int new_shard = 1;
    size_t i;
    for (i = 0; i < p->shard_count && new_shard; i++)
        new_shard = p->shards[i] != shard;
    if (p->joke_count == DR_COMMIT_MAX_CHANGES ||
        holds_string(p->jokes, p->joke_count, r->joke_id) ||
        p->items + 3 + (size_t)new_author + (size_t)new_shard > DR_TXN_MAX_ITEMS)
        return 0;
    p->jokes[p->joke_count++] = r->joke_id;
    if (new_author)
        p->authors[p->author_count++] = author_of(r);
    if (new_shard)
        p->shards[p->shard_count++] = shard;
    p->items += 3 + (size_t)new_author + (size_t)new_shard;
    return 1;
}

size_t dr__bulk_pack(const dr_client *c, const dr_rating *const *ratings, size_t n)
{
    pack p;
    size_t i;
    memset(&p, 0, sizeof p);
    for (i = 0; i < n; i++) {
        const dr_rating *r = ratings[i];
        int same_group = i > 0 && !strcmp(r->joke_id, ratings[i - 1]->joke_id) &&
                         !strcmp(author_of(r), author_of(ratings[i - 1]));
        if (same_group ? p.items + 2 > DR_TXN_MAX_ITEMS : !pack_joke(&p, c, r))
            break;
        if (same_group)
            p.items += 2;
    }
    return i;
}

/* The marker read back: the rating whose marker it is was stored before. */
static dr_status note_present(void *ctx, json_t *item)
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

/* One joke's change in a transaction, summing its pending ratings. */
typedef struct joke_change {
    dr_change chg;
    dr_delta sum;
    json_t *guards;
} joke_change;

/* One attempt at the chunk: what is not stored yet, in one transaction. */
static dr_status commit_pending(chunk *k, dr_commit_outcome *outcome)
{
    joke_change jc[DR_COMMIT_MAX_CHANGES];
    dr_change chgs[DR_COMMIT_MAX_CHANGES];
    char seed[37];
    dr_status rc = DR_OK;
    size_t i, n = 0;

    *outcome = DR_COMMIT_NOTHING;
    for (i = 0; i < k->n && rc == DR_OK; i++) {
        const dr_write_plan *x = &k->plans[i];
        joke_change *j = n ? &jc[n - 1] : NULL;
        dr_delta one;
        if (k->state[i] != DR_BULK_PENDING)
            continue;
        if (!j || strcmp(j->chg.joke_id, x->r->joke_id)) { /* dr__bulk_pack: one run each */
            j = &jc[n++];
            memset(&j->sum, 0, sizeof j->sum);
            dr__change_init(&j->chg, x->r->joke_id, x->author, &j->sum);
            j->chg.rated_at = x->submitted_at;
            if (!(j->guards = json_array())) {
                n--;
                rc = dr__fail(DR_E_NOMEM, "out of memory building an import");
                break;
            }
        }
        one = dr__delta_of_rating(x->r->stars);
        dr__delta_add(&j->sum, &one);
        if (strcmp(x->submitted_at, j->chg.rated_at) > 0) /* lastRatedAt keeps the newest */
            j->chg.rated_at = x->submitted_at;
        if (x->r->joke_text) /* as written one by one: the last text given wins */
            j->chg.joke_text = x->r->joke_text;
        rc = dr__write_guards_append(k->c, x, 1, j->guards);
    }
    /* A fresh token seed per call: after a cancellation the body differs, and a token
     * reused with another body is refused (IdempotentParameterMismatch). */
    if (rc == DR_OK && n && (rc = dr__uuid_v4(seed)) == DR_OK) {
        for (i = 0; i < n; i++) {
            chgs[i] = jc[i].chg;
            chgs[i].delta = jc[i].sum;
            chgs[i].authors[0].delta = jc[i].sum;
            chgs[i].guards = jc[i].guards;
            chgs[i].token_seed = seed;
        }
        rc = dr__commit_changes(k->c, chgs, n, outcome, NULL);
    }
    for (i = 0; i < n; i++)
        json_decref(jc[i].guards);
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

dr_status dr__bulk_commit(dr_client *c, const dr_rating *const *ratings, size_t n,
                          dr_bulk_state *state)
{
    chunk *k;
    size_t start, i;
    dr_status rc = DR_OK;

    for (i = 0; i < n; i++) {
        state[i] = DR_BULK_PENDING;
        if (!ratings[i]->idempotency_key)
            return dr__fail(DR_E_INVALID_ARGUMENT, "a bulk commit takes keyed ratings");
    }
    if (!(k = dr__calloc(1, sizeof *k)))
        return dr__fail(DR_E_NOMEM, "out of memory committing ratings");
    k->c = c;
    for (start = 0; start < n && rc == DR_OK; start += k->n) {
        k->ratings = ratings + start;
        k->state = state + start;
        k->n = dr__bulk_pack(c, ratings + start, n - start);
        for (i = 0; i < k->n && rc == DR_OK; i++)
            rc = dr__write_plan_init(k->ratings[i], &k->plans[i]);
        if (rc == DR_OK)
            rc = commit_chunk(k);
    }
    dr__free(k);
    return rc;
}
