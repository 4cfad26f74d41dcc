/* dr_client_import (docs/migration.md): the pages of the source gathered into batches,
 * each sorted by joke and author and committed one transaction of many jokes at a time
 * through the bulk commit (bulk.h), then the batch's last key written as the checkpoint.
 * Also the options, the report and the identity of the public API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bulk.h"
#include "ddb.h"
#include "ddb_json.h"
#include "identity.h"
#include "import.h"

/* ---- options, report, identity -------------------------------------------------------- */

DR_API dr_status dr_import_options_new(dr_import_options **out, const char *source)
{
    dr_import_options *o;
    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_import_options_new: out is NULL");
    *out = NULL;
    if (!source || !*source)
        return dr__fail(DR_E_INVALID_ARGUMENT, "source: give s3://bucket[/prefix] or a directory");
    if (!(o = dr__calloc(1, sizeof *o)) || !(o->source = dr__strdup(source))) {
        dr__free(o);
        return dr__fail(DR_E_NOMEM, "out of memory creating import options");
    }
    o->concurrency = DR_IMPORT_DEFAULT_CONCURRENCY;
    o->page_size = 1000;
    *out = o;
    return DR_OK;
}

DR_API void dr_import_options_free(dr_import_options *o)
{
    if (!o)
        return;
    dr__free(o->source);
    dr__free(o->layout);
    dr__free(o->copy_bucket);
    dr__free(o->copy_prefix);
    dr__free(o);
}

static dr_status replace(char **slot, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = dr__strdup(value)))
        return dr__fail(DR_E_NOMEM, "out of memory copying an import option");
    dr__free(*slot);
    *slot = copy;
    return DR_OK;
}

#define REQUIRE_OPTIONS(o)                                                                     \
    do {                                                                                       \
        if (!(o))                                                                              \
            return dr__fail(DR_E_INVALID_ARGUMENT, "%s: options is NULL", __func__);          \
    } while (0)

DR_API dr_status dr_import_options_set_layout(dr_import_options *o, const char *layout)
{
    REQUIRE_OPTIONS(o);
    return replace(&o->layout, layout);
}

DR_API dr_status dr_import_options_set_copy_of(dr_import_options *o, const char *bucket,
                                               const char *prefix)
{
    dr_status rc;
    REQUIRE_OPTIONS(o);
    if ((rc = replace(&o->copy_bucket, bucket)) != DR_OK)
        return rc;
    return replace(&o->copy_prefix, bucket ? prefix : NULL);
}

DR_API dr_status dr_import_options_set_dry_run(dr_import_options *o, int dry_run)
{
    REQUIRE_OPTIONS(o);
    o->dry_run = dry_run != 0;
    return DR_OK;
}

DR_API dr_status dr_import_options_set_resume(dr_import_options *o, int resume)
{
    REQUIRE_OPTIONS(o);
    o->resume = resume != 0;
    return DR_OK;
}

DR_API dr_status dr_import_options_set_concurrency(dr_import_options *o, uint32_t concurrency)
{
    REQUIRE_OPTIONS(o);
    if (concurrency < 1 || concurrency > DR_IMPORT_MAX_CONCURRENCY)
        return dr__fail(DR_E_INVALID_ARGUMENT, "concurrency: must be 1..%u, got %u",
                        DR_IMPORT_MAX_CONCURRENCY, concurrency);
    o->concurrency = concurrency;
    return DR_OK;
}

DR_API dr_status dr_import_options_set_page_size(dr_import_options *o, uint32_t page_size)
{
    REQUIRE_OPTIONS(o);
    if (page_size < 1 || page_size > 1000)
        return dr__fail(DR_E_INVALID_ARGUMENT, "page size: must be 1..1000, got %u", page_size);
    o->page_size = page_size;
    return DR_OK;
}

DR_API dr_status dr_import_options_set_callbacks(dr_import_options *o,
                                                 dr_import_progress_fn progress,
                                                 dr_import_message_fn message, void *ctx)
{
    REQUIRE_OPTIONS(o);
    o->progress = progress;
    o->message = message;
    o->ctx = ctx;
    return DR_OK;
}

DR_API void dr_import_report_free(dr_import_report *report)
{
    dr__free(report);
}

DR_API uint64_t dr_import_report_get(const dr_import_report *report, dr_import_figure figure)
{
    if (!report || (unsigned)figure >= DR_IMPORT_FIGURES)
        return 0;
    return report->figure[figure];
}

DR_API dr_status dr_import_identity(const char *bucket, const char *key, size_t index,
                                    char *out)
{
    if (!bucket || !key || !out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_import_identity: %s is NULL",
                        !bucket ? "bucket" : !key ? "key" : "out");
    return dr__import_identity(bucket, key, index, out);
}

/* ---- the checkpoint ------------------------------------------------------------------- */

static json_t *checkpoint_key(const dr_source *source)
{
    dr_buf pk = DR_BUF_INIT;
    json_t *key = NULL;
    dr__buf_printf(&pk, DR_PK_IMPORT "%s/%s", dr__source_bucket(source),
                   dr__source_prefix(source));
    if (!pk.failed)
        key = dr__item_key(dr__buf_cstr(&pk), DR_SK_IMPORT_PROGRESS);
    dr__buf_free(&pk);
    return key;
}

/* The last key a previous run committed (*out NULL: none). */
static dr_status read_checkpoint(dr_client *c, const dr_source *source, char **out)
{
    json_t *req = json_pack("{s:s, s:o, s:b}", "TableName", c->stats_table, "Key",
                            checkpoint_key(source), "ConsistentRead", 1);
    json_t *resp = NULL;
    const char *last;
    dr_status rc;

    *out = NULL;
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory reading the import checkpoint");
    rc = dr__ddb_call(c, "GetItem", req, &resp, NULL);
    json_decref(req);
    if (rc != DR_OK)
        return dr__fail_context(rc, "reading the import checkpoint");
    last = dr__av_get_s(json_object_get(resp, "Item"), DR_ATTR_LAST_KEY);
    if (last && !(*out = dr__strdup(last)))
        rc = dr__fail(DR_E_NOMEM, "out of memory reading the import checkpoint");
    json_decref(resp);
    return rc;
}

static dr_status write_checkpoint(dr_client *c, const dr_source *source, const char *last_key)
{
    char now[25];
    json_t *item = checkpoint_key(source), *req = NULL;
    dr_status rc;

    dr__iso8601_now(now);
    if (item && dr__item_set(item, DR_ATTR_LAST_KEY, dr__av_s(last_key)) == 0 &&
        dr__item_set(item, DR_ATTR_UPDATED_AT, dr__av_s(now)) == 0)
        req = json_pack("{s:s, s:O}", "TableName", c->stats_table, "Item", item);
    json_decref(item);
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory writing the import checkpoint");
    rc = dr__ddb_call(c, "PutItem", req, NULL, NULL);
    json_decref(req);
    return rc == DR_OK ? rc : dr__fail_context(rc, "writing the import checkpoint");
}

/* ---- committing a page ---------------------------------------------------------------- */

typedef struct import_run {
    dr_client *c;
    const dr_import_options *opts;
    const dr_source *source;
    dr_import_report *report;
    /* The ratings of the pages read since the last commit, and the last page's last key. */
    struct {
        dr_rating **items;
        size_t count, cap;
    } batch;
    char *batch_last_key;
} import_run;

static const char *author_of(const dr_rating *r)
{
    return r->author ? r->author : DR_DEFAULT_AUTHOR;
}

/* A page's rating and its position, so the sort can keep the page's order within a
 * group (the last text given wins, as when written one by one). */
typedef struct placed {
    const dr_rating *r;
    size_t pos;
} placed;

static int by_joke_author(const void *a, const void *b)
{
    const placed *x = a, *y = b;
    int d = strcmp(x->r->joke_id, y->r->joke_id);
    if (!d)
        d = strcmp(author_of(x->r), author_of(y->r));
    return d ? d : (x->pos > y->pos) - (x->pos < y->pos);
}

/* The batch's ratings sorted by joke and author into `sorted`, so that the bulk commit
 * fills whole transactions; DR_E_NOMEM. */
static dr_status sort_batch(dr_rating *const *ratings, size_t n, const dr_rating **sorted)
{
    placed *p = dr__malloc((n ? n : 1) * sizeof *p);
    size_t i;
    if (!p)
        return dr__fail(DR_E_NOMEM, "out of memory committing a batch of ratings");
    for (i = 0; i < n; i++) {
        p[i].r = ratings[i];
        p[i].pos = i;
    }
    qsort(p, n, sizeof *p, by_joke_author);
    for (i = 0; i < n; i++)
        sorted[i] = p[i].r;
    dr__free(p);
    return DR_OK;
}

/* Commit every rating of the batch, then move the checkpoint to the batch's last key.
 * One transaction at a time (dr__bulk_commit cuts them): each touches the GLOBAL shard
 * and the author items that the others touch too, so concurrent ones only cancel each
 * other (TransactionConflict) and back off; measured, eight at once were slower than one
 * (docs/migration.md). */
static dr_status flush_batch(import_run *run)
{
    size_t i, n = run->batch.count;
    const dr_rating **sorted;
    dr_bulk_state *states;
    dr_status rc;

    if (!run->batch_last_key)
        return DR_OK;
    states = dr__calloc(n ? n : 1, sizeof *states);
    sorted = dr__calloc(n ? n : 1, sizeof *sorted);
    rc = states && sorted ? sort_batch(run->batch.items, n, sorted)
                          : dr__fail(DR_E_NOMEM, "out of memory committing a batch of ratings");
    if (rc == DR_OK && n)
        rc = dr__bulk_commit(run->c, sorted, n, states);
    for (i = 0; states && sorted && i < n; i++) {
        run->report->figure[DR_IMPORT_WRITTEN] += states[i] == DR_BULK_WRITTEN;
        run->report->figure[DR_IMPORT_ALREADY_PRESENT] += states[i] == DR_BULK_PRESENT;
    }
    dr__free(sorted);
    dr__free(states);
    /* Only a batch whose every rating is committed moves the checkpoint. */
    if (rc == DR_OK)
        rc = write_checkpoint(run->c, run->source, run->batch_last_key);
    while (run->batch.count)
        dr_rating_free(run->batch.items[--run->batch.count]);
    dr__free(run->batch_last_key);
    run->batch_last_key = NULL;
    return rc;
}

/* Take the page's ratings into the batch; commit the batch once it is full. Pages are
 * gathered so that a joke's ratings spread over many pages (the daily tree lists by date
 * first) still fill whole transactions. */
static dr_status import_page(void *ctx, const dr_walk_page *page)
{
    import_run *run = ctx;
    char *last;
    size_t i;

    if (run->opts->dry_run)
        return DR_OK;
    if (run->batch.count + page->count > run->batch.cap) {
        size_t cap = run->batch.count + page->count + DR_IMPORT_BATCH_RATINGS;
        dr_rating **grown = dr__realloc(run->batch.items, cap * sizeof *grown);
        if (!grown)
            return dr__fail(DR_E_NOMEM, "out of memory gathering a batch of ratings");
        run->batch.items = grown;
        run->batch.cap = cap;
    }
    if (!(last = dr__strdup(page->last_key)))
        return dr__fail(DR_E_NOMEM, "out of memory gathering a batch of ratings");
    dr__free(run->batch_last_key);
    run->batch_last_key = last;
    for (i = 0; i < page->count; i++) {
        run->batch.items[run->batch.count++] = page->ratings[i];
        page->ratings[i] = NULL; /* the batch owns it now */
    }
    return run->batch.count >= DR_IMPORT_BATCH_RATINGS ? flush_batch(run) : DR_OK;
}

dr_status dr__import_hand_over(const dr_import_report *figures, dr_import_report **out,
                               dr_status rc)
{
    if (!out)
        return rc;
    if (!(*out = dr__malloc(sizeof **out)))
        return rc == DR_OK ? dr__fail(DR_E_NOMEM, "out of memory") : rc;
    **out = *figures;
    return rc;
}

DR_API dr_status dr_client_import(dr_client *c, const dr_import_options *opts,
                                  dr_import_report **out)
{
    dr_import_report figures;
    import_run run;
    dr_walk *walk = NULL;
    char *start_after = NULL;
    dr_status rc;

    if (out)
        *out = NULL;
    if (!c || !opts)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_import: %s is NULL",
                        c ? "options" : "client");
    memset(&figures, 0, sizeof figures);
    if ((rc = dr__walk_open(c, opts, &walk)) != DR_OK)
        return rc;
    memset(&run, 0, sizeof run);
    run.c = c;
    run.opts = opts;
    run.source = dr__walk_source(walk);
    run.report = &figures;
    if (opts->resume)
        rc = read_checkpoint(c, run.source, &start_after);
    if (rc == DR_OK)
        rc = dr__walk_run(walk, start_after, import_page, &run, &figures);
    if (rc == DR_OK)
        rc = flush_batch(&run);
    while (run.batch.count)
        dr_rating_free(run.batch.items[--run.batch.count]);
    dr__free(run.batch.items);
    dr__free(run.batch_last_key);
    dr__free(start_after);
    dr__walk_free(walk);
    return dr__import_hand_over(&figures, out, rc);
}
