/* read_stats on a GetItem response: src/ratings/ops_read.c is compiled into this target with
 * dr__read_joke_stats_item (the GetItem call) renamed to the stub below, which parses the
 * fuzz input as the response body exactly as the real one does (json_incref of "Item").
 * So dr__read_stats runs as in the library: dr__counts_from_item, dr__stats_new with the
 * item's lastRatedAt, then dr_stats_to_json and every accessor, on any response. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ops.h"

static const uint8_t *input;
static size_t input_size;

static dr_status fuzz_get_item(dr_client *c, const char *joke_id, json_t **item_out);

#define dr__read_joke_stats_item fuzz_get_item
#include "ops_read.c"
#undef dr__read_joke_stats_item

static dr_status fuzz_get_item(dr_client *c, const char *joke_id, json_t **item_out)
{
    json_t *resp = json_loadb((const char *)input, input_size, 0, NULL);
    (void)c; /* the stand-in answers every joke from the fuzz input */
    (void)joke_id;
    *item_out = NULL;
    if (!json_is_object(resp)) { /* as dr__ddb_call refuses a non-object */
        json_decref(resp);
        return dr__fail(DR_E_PROTOCOL, "GetItem: response is not a JSON object");
    }
    *item_out = json_incref(json_object_get(resp, "Item"));
    json_decref(resp);
    if (fuzz_skip_l3() && *item_out) {
        dr_counts counts;
        if (dr__counts_from_item(*item_out, &counts) == DR_OK && fuzz_l3_trigger(&counts)) {
            json_decref(*item_out);
            *item_out = NULL;
            return dr__fail(DR_E_PROTOCOL, "fuzz: skipped (L3)");
        }
    }
    return DR_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dr_stats *s = NULL;
    char *json = NULL;
    dr_status rc;
    int star;

    input = data;
    input_size = size;
    rc = dr_client_read_stats(fuzz_client(), "fuzz-joke", &s);
    if (rc != DR_OK) {
        FUZZ_CHECK(s == NULL);
        return 0;
    }
    FUZZ_CHECK(!strcmp(dr_stats_joke_id(s), "fuzz-joke"));
    (void)dr_stats_total_ratings(s);
    (void)dr_stats_total_score(s);
    (void)dr_stats_average(s);
    (void)dr_stats_last_rated_at(s);
    (void)dr_stats_pending(s);
    for (star = 0; star <= 6; star++)
        (void)dr_stats_count(s, star);
    FUZZ_CHECK(dr_stats_to_json(s, &json) == DR_OK);
    {
        json_error_t jerr;
        json_t *out = json_loads(json, JSON_DECODE_INT_AS_REAL, &jerr); /* u64 counters */
        if (!out) {
            fprintf(stderr, "dr_stats_to_json wrote invalid JSON (%s): %s\n", jerr.text, json);
            abort();
        }
        json_decref(out);
    }
    dr_free(json);
    dr_stats_free(s);
    return 0;
}
