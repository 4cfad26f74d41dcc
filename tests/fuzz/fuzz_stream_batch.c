/* dr_client_apply_stream_batch on Lambda events ({"Records": [...]}) and GetRecords
 * responses (the same "Records" array, or a bare array).
 *
 * No network: aggregate.c is compiled into this target with dr__commit_change renamed to
 * the stub below, so the whole batch logic (JSON parsing, planning every record,
 * grouping a joke's INSERTs, falling back to one-by-one on a duplicate, stopping at the
 * first failure, reporting failures, the result's JSON) runs as in the library, and only
 * the DynamoDB transaction is replaced. The static library's own aggregate.o is then not
 * linked (every symbol it defines is defined here). Pointing a real client at a closed
 * loopback port instead costs a connect() and a curl handle per record group, two orders
 * of magnitude slower. The stub also builds the joke's stats update from the change, the
 * first step the real commit takes, and decides the commit's outcome from a hash of the
 * joke, time and delta, so the fuzzer can steer every branch. */
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
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

static dr_status fuzz_commit_change(dr_client *c, const dr_change *chg,
                                    dr_commit_outcome *outcome, size_t *guard_out,
                                    dr_counts *after, char *last_rated_at, size_t last_cap);

#define dr__commit_change fuzz_commit_change
#define json_loadb fuzz_json_loadb
#include "aggregate.c"
#undef json_loadb
#undef dr__commit_change

static dr_status fuzz_commit_change(dr_client *c, const dr_change *chg,
                                    dr_commit_outcome *outcome, size_t *guard_out,
                                    dr_counts *after, char *last_rated_at, size_t last_cap)
{
    const char *last = NULL;
    const json_t *guard;
    json_t *update;
    uint32_t h;
    size_t i;

    FUZZ_CHECK(chg->joke_id && chg->joke_id[0]);
    FUZZ_CHECK(chg->author && chg->rated_at && chg->token_seed);
    FUZZ_CHECK(json_array_size(chg->guards) >= 1 && json_array_size(chg->guards) <= DR_GROUP_MAX);
    json_array_foreach(chg->guards, i, guard)
        FUZZ_CHECK(json_is_object(guard));
    FUZZ_CHECK(chg->author_count == 1 || chg->author_count == 2);
    for (i = 0; i < chg->author_count; i++)
        FUZZ_CHECK(chg->authors[i].author != NULL);
    if (guard_out)
        *guard_out = 0;

    update = dr__joke_stats_update(c, chg->joke_id, NULL, &chg->delta, chg->rated_at,
                                   chg->author, chg->joke_text, after, &last);
    FUZZ_CHECK(update != NULL);
    json_decref(update);
    snprintf(last_rated_at, last_cap, "%s", last);

    /* From the change's content only (its token seed is random): reproducible. */
    h = dr__crc32(chg->joke_id, strlen(chg->joke_id)) ^
        dr__crc32(chg->rated_at, strlen(chg->rated_at)) ^ (uint32_t)chg->delta.score;
    switch (h % 8) {
    case 5:
        *outcome = DR_COMMIT_DUPLICATE;
        return DR_OK;
    case 6:
        *outcome = DR_COMMIT_NOTHING;
        return DR_OK;
    case 7:
        stub_failures++;
        return dr__fail(DR_E_THROTTLED, "fuzz: commit throttled");
    default:
        *outcome = DR_COMMIT_APPLIED;
        return DR_OK;
    }
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
