/* dr_client_apply_stream_batch on Lambda events ({"Records": [...]}) and GetRecords
 * responses (the same "Records" array, or a bare array).
 *
 * No network: aggregate.c is compiled into this target with dr__commit_changes and
 * dr__ddb_batch_get renamed to the stubs below, so the whole batch logic (JSON parsing,
 * planning every record, cutting transactions of many jokes, reading markers after a
 * duplicate, stopping at the first failure, reporting failures, the result's JSON) runs
 * as in the library, and only DynamoDB is replaced. The static library's own aggregate.o
 * is then not linked (every symbol it defines is defined here). The commit stub checks
 * what a transaction may hold (distinct jokes, within the item limit), builds each
 * joke's stats update, the first step the real commit takes, and decides the outcome
 * from a hash of the changes; the read stub finds a marker from a hash of its key, so
 * the fuzzer can steer every branch. */
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "ddb_batch.h"
#include "fuzz_common.h"
#include "commit.h"
#include "ops.h"

static int stub_failures;
static json_t *last_batch; /* the library's parse of the batch, kept for the checks */

/* The library's own parse, with one more reference for the checks below: parsing the
 * input a second time here would halve the speed. */
static json_t *fuzz_json_loadb(const char *buffer, size_t buflen, size_t flags,
                               json_error_t *error)
{
    json_t *batch = json_loadb(buffer, buflen, flags, error);
    json_decref(last_batch);
    last_batch = json_incref(batch);
    return batch;
}

static dr_status fuzz_commit_changes(dr_client *c, const dr_change *chgs, size_t n,
                                     dr_commit_outcome *outcome, unsigned char *committed);
static dr_status fuzz_batch_get(dr_client *c, const char *table, const json_t *keys,
                                int consistent, dr_batch_item_fn fn, void *ctx);

#define dr__commit_changes fuzz_commit_changes
#define dr__ddb_batch_get fuzz_batch_get
#define json_loadb fuzz_json_loadb
#include "aggregate.c"
#undef json_loadb
#undef dr__ddb_batch_get
#undef dr__commit_changes

static dr_status fuzz_commit_changes(dr_client *c, const dr_change *chgs, size_t n,
                                     dr_commit_outcome *outcome, unsigned char *committed)
{
    uint32_t h = 0;
    size_t i, j, items = 0;

    FUZZ_CHECK(n >= 1 && n <= DR_COMMIT_MAX_CHANGES);
    for (i = 0; i < n; i++) {
        const dr_change *chg = &chgs[i];
        const json_t *guard;
        const char *last = NULL;
        dr_counts after;
        json_t *update;
        FUZZ_CHECK(chg->joke_id && chg->joke_id[0]);
        FUZZ_CHECK(chg->author && chg->rated_at && chg->token_seed);
        FUZZ_CHECK(json_array_size(chg->guards) >= 1);
        json_array_foreach(chg->guards, j, guard)
            FUZZ_CHECK(json_is_object(guard));
        FUZZ_CHECK(chg->author_count >= 1 && chg->author_count <= DR_CHANGE_MAX_AUTHORS);
        for (j = 0; j < chg->author_count; j++)
            FUZZ_CHECK(chg->authors[j].author != NULL);
        for (j = 0; j < i; j++) /* a stats item once per transaction */
            FUZZ_CHECK(strcmp(chgs[j].joke_id, chg->joke_id) != 0);
        items += json_array_size(chg->guards) + 1 + chg->author_count;
        update = dr__joke_stats_update(c, chg->joke_id, NULL, &chg->delta, chg->rated_at,
                                       chg->author, chg->joke_text, &after, &last);
        FUZZ_CHECK(update != NULL);
        json_decref(update);
        /* From the changes' content only (the token seed is random): reproducible. */
        h ^= dr__crc32(chg->joke_id, strlen(chg->joke_id)) ^
             dr__crc32(chg->rated_at, strlen(chg->rated_at)) ^ (uint32_t)chg->delta.score;
    }
    /* Guards, stats items and (counted per change, so at least) the authors; the shards
     * are at most one per change. */
    FUZZ_CHECK(items <= DR_TXN_MAX_ITEMS + n * (DR_CHANGE_MAX_AUTHORS - 1));
    for (i = 0; i < n; i++)
        committed[i] = (h >> (i % 29)) % 7 != 0; /* now and then: nothing to un-count */
    switch (h % 8) {
    case 5:
        *outcome = DR_COMMIT_DUPLICATE;
        memset(committed, 0, n);
        return DR_OK;
    case 6:
        *outcome = DR_COMMIT_NOTHING;
        memset(committed, 0, n);
        return DR_OK;
    case 7:
        stub_failures++;
        memset(committed, 0, n);
        return dr__fail(DR_E_THROTTLED, "fuzz: commit throttled");
    default:
        *outcome = DR_COMMIT_APPLIED;
        return DR_OK;
    }
}

/* The markers read after a duplicate: a key's item exists when a hash of it says so. */
static dr_status fuzz_batch_get(dr_client *c, const char *table, const json_t *keys,
                                int consistent, dr_batch_item_fn fn, void *ctx)
{
    const json_t *key;
    size_t i;
    (void)c;
    FUZZ_CHECK(table && consistent);
    json_array_foreach(keys, i, key) {
        const char *pk = dr__av_get_s(key, DR_ATTR_PK), *sk = dr__av_get_s(key, DR_ATTR_SK);
        dr_status rc;
        size_t j;
        FUZZ_CHECK(pk && sk);
        for (j = 0; j < i; j++) /* BatchGetItem refuses a key twice */
            FUZZ_CHECK(!json_equal(json_array_get(keys, j), key));
        if (dr__crc32(sk, strlen(sk)) % 3 == 0)
            continue;
        {
            json_t *item = json_deep_copy(key); /* the item as BatchGetItem returns it */
            rc = item ? fn(ctx, item) : DR_E_NOMEM;
            json_decref(item);
        }
        if (rc != DR_OK)
            return rc;
    }
    return DR_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    dr_client *c = fuzz_client();
    dr_batch_result *r = NULL;
    const json_t *records;
    size_t n, done, i;
    char *json = NULL;
    dr_status rc;

    c->global_shards = size % 3 ? 1 : 4;
    stub_failures = 0;
    rc = dr_client_apply_stream_batch(c, text ? text : "", size, &r);
    if (rc != DR_OK) {
        FUZZ_CHECK(r == NULL);
        FUZZ_CHECK(rc == DR_E_INVALID_ARGUMENT || rc == DR_E_NOMEM);
        json_decref(last_batch);
        last_batch = NULL;
        free(text);
        return 0;
    }
    records = records_of(last_batch);
    n = json_array_size(records);
    done = dr_batch_result_applied(r) + dr_batch_result_skipped(r) +
           dr_batch_result_duplicates(r);
    FUZZ_CHECK(dr_batch_result_failed_count(r) <= n);
    FUZZ_CHECK(done <= n);
    if (dr_batch_result_failed_count(r) == 0)
        FUZZ_CHECK(done == n);
    /* A record reported failed comes at or after the first record not done. */
    FUZZ_CHECK(done + dr_batch_result_failed_count(r) >= n);
    for (i = 0; i < dr_batch_result_failed_count(r); i++)
        FUZZ_CHECK(dr_batch_result_failed_sequence_number(r, i) != NULL);
    FUZZ_CHECK(!dr_batch_result_failed_sequence_number(r, dr_batch_result_failed_count(r)));
    FUZZ_CHECK(dr_batch_result_to_json(r, &json) == DR_OK);
    {
        json_t *out = json_loads(json, 0, NULL);
        FUZZ_CHECK(json_array_size(json_object_get(out, "batchItemFailures")) ==
                   dr_batch_result_failed_count(r));
        json_decref(out);
    }
    dr_free(json);
    dr_batch_result_free(r);
    json_decref(last_batch);
    last_batch = NULL;
    free(text);
    return 0;
}
