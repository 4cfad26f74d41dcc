/* Items as DynamoDB returns them (GetItem {"Item"}, Query/Scan {"Items"}, BatchGetItem
 * {"Responses": {table: [...]}}, or a bare item) through every reader of attribute
 * values: dr__counts_from_item, dr__opt_str_from_item, dr__av_get_*, and
 * dr__joke_stats_update with the item as the old stats item (what the commit path does
 * with a GetItem it made). */
#include <stdlib.h>
#include <string.h>

#include "ddb_json.h"
#include "fuzz_common.h"
#include "ops.h"

#define MAX_ITEMS 8 /* more only repeats the same work: 8 keep a run fast */

static size_t collect(json_t *root, json_t **items)
{
    size_t n = 0, i;
    const char *table;
    json_t *v, *item;

    if (json_is_object(json_object_get(root, "Item")))
        items[n++] = json_object_get(root, "Item");
    json_array_foreach(json_object_get(root, "Items"), i, item) {
        if (n < MAX_ITEMS)
            items[n++] = item;
    }
    json_object_foreach(json_object_get(root, "Responses"), table, v) {
        json_array_foreach(v, i, item) {
            if (n < MAX_ITEMS)
                items[n++] = item;
        }
    }
    if (!n)
        items[n++] = root;
    return n;
}

/* ops_common.c's apply(): old + delta clamped at 0, to predict the new counters. */
static uint64_t apply(uint64_t old, int64_t delta)
{
    if (delta < 0 && (uint64_t)(-delta) > old)
        return 0;
    return delta < 0 ? old - (uint64_t)(-delta) : old + (uint64_t)delta;
}

static void stats_update(const json_t *item, const dr_counts *before, const dr_delta *delta)
{
    dr_client *c = fuzz_client();
    dr_counts predicted, after;
    const char *last = NULL;
    json_t *update;
    int i;

    predicted.total = apply(before->total, delta->total);
    predicted.score = apply(before->score, delta->score);
    for (i = 0; i < 5; i++)
        predicted.count[i] = apply(before->count[i], delta->count[i]);
    if (fuzz_l3_trigger(&predicted))
        return;
    update = dr__joke_stats_update(c, "fuzz-joke", item, delta, "2026-12-01T00:00:00.000Z",
                                   "fuzz-author", "fuzz text", &after, &last);
    FUZZ_CHECK(update != NULL);
    FUZZ_CHECK(!memcmp(&after, &predicted, sizeof after));
    FUZZ_CHECK(last != NULL);
    json_decref(update);
}

static void read_item(json_t *item)
{
    static const char *const names[] = {"jokeText", "author", "lastRatedAt", "mode", "date"};
    dr_counts counts;
    dr_opt_str s;
    dr_delta delta, removal;
    const char *key;
    json_t *value;
    size_t i;

    json_object_foreach(item, key, value) {
        uint64_t u;
        int b;
        (void)dr__av_get_s(item, key);
        (void)dr__av_get_n(item, key);
        (void)dr__av_get_u64(item, key, &u);
        (void)dr__av_get_bool(item, key, &b);
    }
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        memset(&s, 0, sizeof s);
        FUZZ_CHECK(dr__opt_str_from_item(item, names[i], &s) == 0);
        FUZZ_CHECK(!(s.value && s.is_null));
        dr__opt_str_free(&s);
    }
    if (dr__counts_from_item(item, &counts) != DR_OK) {
        /* A malformed old item must be refused by the update as well. */
        const char *last = NULL;
        dr_counts after;
        delta = dr__delta_of_rating(3);
        FUZZ_CHECK(!dr__joke_stats_update(fuzz_client(), "j", item, &delta, "2026", "a",
                                          NULL, &after, &last));
        return;
    }
    if (!fuzz_l3_trigger(&counts)) {
        char text[16];
        dr__format_hundredths(dr__average_hundredths(counts.score, counts.total), text);
    }
    delta = dr__delta_of_rating((int32_t)(counts.total % 5) + 1);
    stats_update(item, &counts, &delta);
    memset(&removal, 0, sizeof removal); /* a REMOVE of a 5-star rating */
    removal.total = -1;
    removal.score = -5;
    removal.count[4] = -1;
    stats_update(item, &counts, &removal);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *items[MAX_ITEMS];
    json_t *root = json_loadb((const char *)data, size, 0, NULL);
    size_t n, i;

    if (!json_is_object(root)) {
        json_decref(root);
        return 0;
    }
    n = collect(root, items);
    for (i = 0; i < n; i++)
        if (json_is_object(items[i]))
            read_item(items[i]);
    json_decref(root);
    return 0;
}
