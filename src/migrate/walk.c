/* Walking the old tree page by page (import.h): list, fetch what the layout matches with
 * bounded concurrency, read payloads into ratings, hand each page on. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "identity.h"
#include "import.h"
#include "layout.h"
#include "parallel.h"
#include "payload.h"
#include "validate.h"

struct dr_walk {
    dr_client *c;
    const dr_import_options *opts;
    dr_source *source;
    dr_layout *layout;
    struct timespec last_progress;
};

/* One object of a page: what its key says, then what its bytes gave. */
typedef struct fetched {
    const dr_s3_object *object;
    dr_key_fields fields;
    dr_payload payload;
    size_t bytes;
    dr_status rc;
    char message[512];
} fetched;

dr_status dr__walk_open(dr_client *c, const dr_import_options *opts, dr_walk **out)
{
    dr_source_options so;
    dr_walk *w;
    dr_status rc;

    *out = NULL;
    if (opts->concurrency < 1 || opts->concurrency > DR_IMPORT_MAX_CONCURRENCY)
        return dr__fail(DR_E_INVALID_ARGUMENT, "concurrency: must be 1..%u, got %u",
                        DR_IMPORT_MAX_CONCURRENCY, opts->concurrency);
    if (opts->page_size < 1 || opts->page_size > 1000)
        return dr__fail(DR_E_INVALID_ARGUMENT, "page size: must be 1..1000, got %u",
                        opts->page_size);
    if (!(w = dr__calloc(1, sizeof *w)))
        return dr__fail(DR_E_NOMEM, "out of memory starting an import");
    w->c = c;
    w->opts = opts;
    memset(&so, 0, sizeof so);
    so.location = opts->source;
    so.bucket = opts->copy_bucket;
    so.prefix = opts->copy_prefix;
    so.page_size = opts->page_size;
    if ((rc = dr__layout_parse(opts->layout, &w->layout)) != DR_OK ||
        (rc = dr__source_open(c, &so, &w->source)) != DR_OK) {
        dr__walk_free(w);
        return rc;
    }
    *out = w;
    return DR_OK;
}

void dr__walk_free(dr_walk *w)
{
    if (!w)
        return;
    dr__source_free(w->source);
    dr__layout_free(w->layout);
    dr__free(w);
}

const dr_source *dr__walk_source(const dr_walk *w)
{
    return w->source;
}

void dr__import_message(const dr_import_options *opts, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (!opts->message)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    opts->message(opts->ctx, line);
}

/* ---- fetching a page's objects ---------------------------------------------------- */

static void fetch_one(dr_walk *w, fetched *f)
{
    dr_buf body = DR_BUF_INIT;
    f->rc = dr__source_get(w->source, f->object->key, DR_PAYLOAD_MAX_BYTES, &body);
    if (f->rc == DR_OK) {
        f->bytes = body.len;
        f->rc = dr__payload_parse(f->object->key, &f->fields, dr__buf_cstr(&body), body.len,
                                  &f->payload);
    }
    if (f->rc != DR_OK)
        snprintf(f->message, sizeof f->message, "%s", dr_last_error_message());
    dr__buf_free(&body);
}

/* Fetch and parse every object, `concurrency` at a time. */
typedef struct fetch_job {
    dr_walk *walk;
    fetched *objects;
} fetch_job;

static void fetch_item(void *ctx, size_t i)
{
    fetch_job *job = ctx;
    fetch_one(job->walk, &job->objects[i]);
}

static void fetch_all(dr_walk *w, fetched *objects, size_t count)
{
    fetch_job job;
    job.walk = w;
    job.objects = objects;
    dr__parallel_for(count, w->opts->concurrency, fetch_item, &job);
}

/* ---- entries into ratings ----------------------------------------------------------- */

/* The rating of entry `e` of `object`; a setter's refusal becomes a reason (the payload
 * reader applies the same rules, so this is a second line, not the first). */
static dr_status rating_of(const dr_source *source, const dr_s3_object *object,
                           const dr_import_entry *e, dr_rating **out)
{
    char identity[DR_IMPORT_KEY_LEN + 1];
    const char *submitted = e->submitted_at;
    dr_rating *r = NULL;
    dr_status rc;

    if (!submitted && dr__submitted_at_valid(object->last_modified))
        submitted = object->last_modified;
    if ((rc = dr__import_identity(dr__source_bucket(source), object->key, e->index, identity)) !=
            DR_OK ||
        (rc = dr_rating_new(&r, e->joke_id, e->stars)) != DR_OK ||
        (rc = dr_rating_set_joke_text(r, e->joke_text)) != DR_OK ||
        (rc = dr_rating_set_author(r, e->author)) != DR_OK ||
        (rc = dr_rating_set_mode(r, e->mode)) != DR_OK ||
        (rc = dr_rating_set_date(r, e->date)) != DR_OK ||
        (rc = dr_rating_set_submitted_at(r, submitted)) != DR_OK ||
        (rc = dr_rating_set_idempotency_key(r, identity)) != DR_OK) {
        dr_rating_free(r);
        return rc;
    }
    *out = r;
    return DR_OK;
}

typedef struct rating_list {
    dr_rating **items;
    size_t count, cap;
} rating_list;

static dr_status list_push(rating_list *l, dr_rating *r)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        dr_rating **grown = dr__realloc(l->items, cap * sizeof *grown);
        if (!grown) {
            dr_rating_free(r);
            return dr__fail(DR_E_NOMEM, "out of memory reading a page of ratings");
        }
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->count++] = r;
    return DR_OK;
}

static void list_clear(rating_list *l)
{
    while (l->count)
        dr_rating_free(l->items[--l->count]);
}

/* What one object gave: its rejects reported, its entries as ratings. */
static dr_status take_object(dr_walk *w, const fetched *f, rating_list *ratings,
                             dr_import_report *report)
{
    size_t i;
    dr_status rc = DR_OK;

    report->figure[DR_IMPORT_OBJECTS]++;
    report->figure[DR_IMPORT_BYTES] += f->bytes;
    for (i = 0; i < f->payload.reject_count; i++) {
        report->figure[DR_IMPORT_REJECTED]++;
        dr__import_message(w->opts, "%s", f->payload.rejects[i].reason);
    }
    for (i = 0; i < f->payload.count && rc == DR_OK; i++) {
        const dr_import_entry *e = &f->payload.entries[i];
        dr_rating *r = NULL;
        rc = rating_of(w->source, f->object, e, &r);
        if (rc == DR_OK) {
            report->figure[DR_IMPORT_ENTRIES]++;
            rc = list_push(ratings, r);
        } else if (rc == DR_E_INVALID_ARGUMENT) {
            report->figure[DR_IMPORT_REJECTED]++;
            dr__import_message(w->opts, "%s entry %zu: %s", f->object->key, e->index,
                               dr_last_error_message());
            rc = DR_OK;
        }
    }
    return rc;
}

/* ---- the walk ------------------------------------------------------------------------ */

static void report_progress(dr_walk *w, const dr_import_report *report, int force)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!w->opts->progress)
        return;
    if (!force && now.tv_sec - w->last_progress.tv_sec < 1)
        return;
    w->last_progress = now;
    w->opts->progress(w->opts->ctx, report);
}

/* One listed page: fetch, read, hand on. */
static dr_status walk_page(dr_walk *w, const dr_s3_list_page *page, dr_walk_fn fn, void *ctx,
                           dr_import_report *report)
{
    fetched *objects = dr__calloc(page->count ? page->count : 1, sizeof *objects);
    rating_list ratings = {NULL, 0, 0};
    size_t i, count = 0;
    dr_status rc = DR_OK;

    if (!objects)
        return dr__fail(DR_E_NOMEM, "out of memory reading a page of objects");
    for (i = 0; i < page->count; i++) {
        const char *rel = dr__source_relative_key(w->source, page->objects[i].key);
        objects[count].object = &page->objects[i];
        if (rel && dr__layout_match(w->layout, rel, &objects[count].fields))
            count++;
        else
            report->figure[DR_IMPORT_OBJECTS_SKIPPED]++;
    }
    fetch_all(w, objects, count);
    for (i = 0; i < count && rc == DR_OK; i++) {
        if (objects[i].rc != DR_OK)
            rc = dr__fail(objects[i].rc, "%s", objects[i].message);
        else
            rc = take_object(w, &objects[i], &ratings, report);
    }
    if (rc == DR_OK) {
        dr_walk_page p;
        p.ratings = ratings.items;
        p.count = ratings.count;
        p.last_key = page->objects[page->count - 1].key;
        rc = fn(ctx, &p);
    }
    list_clear(&ratings);
    dr__free(ratings.items);
    for (i = 0; i < count; i++)
        dr__payload_free(&objects[i].payload);
    dr__free(objects);
    return rc;
}

dr_status dr__walk_run(dr_walk *w, const char *start_after, dr_walk_fn fn, void *ctx,
                       dr_import_report *report)
{
    dr_s3_list_page page = DR_S3_LIST_PAGE_INIT;
    dr_status rc;

    if ((rc = dr__source_start_after(w->source, start_after)) != DR_OK)
        return rc;
    for (;;) {
        if ((rc = dr__source_next_page(w->source, &page)) != DR_OK)
            break;
        if (page.count == 0) {
            if (page.is_truncated) /* S3 may answer a page with no keys but more to come */
                continue;
            break;
        }
        if ((rc = walk_page(w, &page, fn, ctx, report)) != DR_OK)
            break;
        report_progress(w, report, 0);
    }
    report_progress(w, report, 1);
    dr__s3_list_page_free(&page);
    return rc;
}
