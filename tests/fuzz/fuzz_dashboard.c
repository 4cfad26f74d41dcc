/* dashboard_stats on DynamoDB responses: src/ratings/ops_dashboard.c is compiled into this target
 * with dr__ddb_call renamed to the stub below, which answers the calls in order with the
 * responses of the fuzz input: a JSON array of response bodies (BatchGetItem of the GLOBAL
 * shards, then the authors Query pages, the top-performers Query per shard, the recent
 * ratings Query), or {"GlobalShards": k, "Responses": [...]} to read k shards. Once the
 * array is used up the stub answers {} (no items, no next page), so every read ends.
 * The four reads run one after the other on this thread, as dr_client_dashboard_stats
 * runs them when no thread can be had; then dr_dashboard_to_json and every accessor. */
#include <stdlib.h>
#include <string.h>

#include "ddb.h"
#include "fuzz_common.h"

static const json_t *responses;
static size_t next_response, l3_skipped;
static dr_counts global_sum;

static dr_status fuzz_ddb_call(dr_client *c, const char *operation, const json_t *request,
                               json_t **response, dr_ddb_error *err);

#define dr__ddb_call fuzz_ddb_call
#include "ops_dashboard.c"
#undef dr__ddb_call

/* DR_FUZZ_SKIP_L3: refuse a response holding counters that would trip finding L3, alone
 * or summed over the GLOBAL shards. */
static int l3_check(const char *operation, const json_t *resp, const char *table)
{
    const json_t *items = json_object_get(resp, "Items"), *item;
    size_t i;
    if (!fuzz_skip_l3())
        return 0;
    if (!strcmp(operation, "BatchGetItem"))
        items = json_object_get(json_object_get(resp, "Responses"), table);
    json_array_foreach(items, i, item) {
        dr_counts counts;
        if (dr__counts_from_item(item, &counts) != DR_OK)
            continue;
        if (fuzz_l3_trigger(&counts))
            return 1;
        if (!strcmp(operation, "BatchGetItem")) {
            dr__counts_add(&global_sum, &counts);
            if (fuzz_l3_trigger(&global_sum))
                return 1;
        }
    }
    return 0;
}

static dr_status fuzz_ddb_call(dr_client *c, const char *operation, const json_t *request,
                               json_t **response, dr_ddb_error *err)
{
    const json_t *resp = json_array_get(responses, next_response++);
    FUZZ_CHECK(json_is_object(request));
    if (err)
        err->type[0] = '\0';
    if (!resp) {
        *response = json_object();
        return DR_OK;
    }
    if (!json_is_object(resp)) /* as dr__ddb_call refuses a non-object */
        return dr__fail(DR_E_PROTOCOL, "%s: response is not a JSON object", operation);
    if (l3_check(operation, resp, c->stats_table)) {
        l3_skipped++;
        return dr__fail(DR_E_PROTOCOL, "fuzz: skipped (L3)");
    }
    *response = json_deep_copy(resp); /* the caller owns and may change it */
    return *response ? DR_OK : dr__fail(DR_E_NOMEM, "fuzz: out of memory");
}

static void check_json(const char *json)
{
    json_error_t jerr;
    json_t *out = json_loads(json, JSON_DECODE_INT_AS_REAL, &jerr); /* u64 counters */
    if (!out) {
        fprintf(stderr, "dr_dashboard_to_json wrote invalid JSON (%s): %s\n", jerr.text, json);
        abort();
    }
    json_decref(out);
}

static void read_accessors(const dr_dashboard *d)
{
    size_t i, n;
    int32_t star;
    (void)dr_dashboard_overall_ratings(d);
    (void)dr_dashboard_overall_average(d);
    (void)dr_dashboard_unique_jokes(d);
    for (star = 0; star <= 6; star++)
        (void)dr_dashboard_rating_count(d, star);
    n = dr_dashboard_author_count(d);
    for (i = 0; i <= n; i++) {
        FUZZ_CHECK(i < n || !dr_dashboard_author_name(d, i));
        (void)dr_dashboard_author_total_ratings(d, i);
        (void)dr_dashboard_author_average(d, i);
        (void)dr_dashboard_author_rating_count(d, i, 5);
    }
    n = dr_dashboard_top_count(d);
    FUZZ_CHECK(n <= DR_TOP_LIMIT);
    for (i = 0; i <= n; i++) {
        FUZZ_CHECK(i < n || !dr_dashboard_top_joke_id(d, i));
        (void)dr_dashboard_top_joke_text(d, i);
        (void)dr_dashboard_top_author(d, i);
        (void)dr_dashboard_top_total_ratings(d, i);
        (void)dr_dashboard_top_average(d, i);
        (void)dr_dashboard_top_last_rated_at(d, i);
    }
    n = dr_dashboard_recent_count(d);
    for (i = 0; i <= n; i++) {
        FUZZ_CHECK(i < n || !dr_dashboard_recent_joke_id(d, i));
        (void)dr_dashboard_recent_rating(d, i);
        (void)dr_dashboard_recent_joke_text(d, i);
        (void)dr_dashboard_recent_author(d, i);
        (void)dr_dashboard_recent_mode(d, i);
        (void)dr_dashboard_recent_date(d, i);
        (void)dr_dashboard_recent_submitted_at(d, i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dr_status (*const runs[])(task *) = {read_global, read_authors, read_top, read_recent};
    json_t *root = json_loadb((const char *)data, size, 0, NULL);
    dr_client *c = fuzz_client();
    dr_dashboard *d;
    dr_status rc = DR_OK;
    json_int_t shards = 1;
    char *json = NULL;
    size_t i;

    if (json_is_object(root)) {
        shards = json_integer_value(json_object_get(root, "GlobalShards"));
        responses = json_object_get(root, "Responses");
    } else {
        responses = root;
    }
    if (!json_is_array(responses) || shards < 1 || shards > 16) {
        json_decref(root);
        return 0;
    }
    c->global_shards = (uint32_t)shards;
    next_response = 0;
    memset(&global_sum, 0, sizeof global_sum);
    if (!(d = dr__calloc(1, sizeof *d)))
        abort();
    for (i = 0; i < sizeof runs / sizeof runs[0] && rc == DR_OK; i++) {
        task t;
        memset(&t, 0, sizeof t);
        t.c = c;
        t.d = d;
        rc = runs[i](&t);
    }
    if (rc == DR_OK) {
        read_accessors(d);
        FUZZ_CHECK(dr_dashboard_to_json(d, &json) == DR_OK);
        check_json(json);
        dr_free(json);
    }
    dr_dashboard_free(d);
    json_decref(root);
    return 0;
}
