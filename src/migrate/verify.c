/* dr_client_verify(): the source walked from its beginning (walk.c) and added up in
 * memory (tally.c: per joke and author, so O(jokes), never O(ratings)), then compared
 * with the stats table: each joke's stats item read with strongly consistent
 * BatchGetItem, in byte order of joke id so the differences come out in a stable order,
 * then what the dashboard reads (global, uniqueJokes, authors, the top 8). Writes
 * nothing. */
#include <string.h>

#include "alloc.h"
#include "ddb_batch.h"
#include "ddb_json.h"
#include "error.h"
#include "import.h"
#include "keys.h"
#include "tally.h"

static dr_status add_page(void *ctx, const dr_walk_page *page)
{
    dr_tally *tally = ctx;
    size_t i;
    dr_status rc = DR_OK;
    for (i = 0; i < page->count && rc == DR_OK; i++) {
        const dr_rating *r = page->ratings[i];
        rc = dr__tally_add(tally, r->joke_id, r->author, r->stars);
    }
    return rc;
}

/* A stats item read, kept under its joke id until the chunk is compared. */
static dr_status keep_item(void *ctx, json_t *item)
{
    json_t *by_joke = ctx;
    const char *joke_id = dr__joke_id_of_stats_pk(dr__av_get_s(item, DR_ATTR_PK));
    if (!joke_id)
        return dr__fail(DR_E_PROTOCOL, "BatchGetItem of joke stats returned another item");
    if (json_object_set_new(by_joke, joke_id, json_deep_copy(item)) != 0)
        return dr__fail(DR_E_NOMEM, "out of memory reading joke stats");
    return DR_OK;
}

/* Every joke of the source against its stats item, DR_BATCH_GET_MAX_KEYS at a time: the
 * items of one request are all that is held. */
static dr_status diff_jokes(dr_client *c, const dr_tally *tally, dr_diff_sink *sink)
{
    const dr_tally_entry **sorted = NULL;
    size_t from, i, n = tally->jokes.count;
    dr_status rc = dr__tally_sorted(&tally->jokes, &sorted);

    for (from = 0; from < n && rc == DR_OK; from += DR_BATCH_GET_MAX_KEYS) {
        size_t end = n - from < DR_BATCH_GET_MAX_KEYS ? n : from + DR_BATCH_GET_MAX_KEYS;
        json_t *keys = json_array(), *by_joke = json_object();
        for (i = from; keys && i < end; i++)
            if (json_array_append_new(keys, dr__stats_key(sorted[i]->name)) != 0) {
                json_decref(keys);
                keys = NULL;
            }
        if (!keys || !by_joke)
            rc = dr__fail(DR_E_NOMEM, "out of memory building BatchGetItem keys");
        else
            rc = dr__ddb_batch_get(c, c->stats_table, keys, 1, keep_item, by_joke);
        for (i = from; i < end && rc == DR_OK; i++)
            dr__diff_joke(sink, sorted[i]->name, &sorted[i]->counts,
                          json_object_get(by_joke, sorted[i]->name));
        json_decref(keys);
        json_decref(by_joke);
    }
    dr__free(sorted);
    return rc;
}

DR_API dr_status dr_client_verify(dr_client *c, const dr_import_options *opts,
                                  dr_import_report **out)
{
    dr_import_report figures;
    dr_tally tally = DR_TALLY_INIT;
    dr_diff_sink sink;
    dr_dashboard *stored = NULL;
    dr_walk *walk = NULL;
    dr_status rc;

    if (out)
        *out = NULL;
    if (!c || !opts)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_verify: %s is NULL",
                        c ? "options" : "client");
    memset(&figures, 0, sizeof figures);
    if ((rc = dr__walk_open(c, opts, &walk)) != DR_OK)
        return rc;
    rc = dr__walk_run(walk, NULL, add_page, &tally, &figures);
    dr__walk_free(walk);

    sink.message = opts->message;
    sink.ctx = opts->ctx;
    sink.count = 0;
    if (rc == DR_OK)
        rc = diff_jokes(c, &tally, &sink);
    if (rc == DR_OK && (rc = dr_client_dashboard_stats(c, &stored)) == DR_OK)
        dr__diff_dashboard(&sink, &tally, stored);
    dr_dashboard_free(stored);
    dr__tally_free(&tally);
    figures.figure[DR_IMPORT_DIFFERENCES] = sink.count;
    return dr__import_hand_over(&figures, out, rc);
}
