/* The import of the old S3 tree and its verification (docs/migration.md), behind the
 * public dr_client_import() and dr_client_verify(). Both walk the source the same way:
 * list a page of keys, fetch the objects the layout matches with bounded concurrency,
 * read their payloads into ratings (identity as idempotency key, the original
 * submittedAt), report what cannot be read, and hand the page's ratings on: the import
 * commits them (import.c), the verification adds them up (verify.c). Memory is bounded
 * by one page. */
#ifndef DR_IMPORT_H
#define DR_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "dadratings.h"
#include "error.h"
#include "ops.h"
#include "parallel.h"
#include "source.h"

#define DR_IMPORT_FIGURES 8
#define DR_IMPORT_DEFAULT_CONCURRENCY 8u
#define DR_IMPORT_MAX_CONCURRENCY DR_PARALLEL_MAX
/* The import commits once it has gathered this many ratings (and at the end): a joke's
 * ratings fill whole transactions, and memory stays bounded by the batch. */
#define DR_IMPORT_BATCH_RATINGS 10000u

struct dr_import_options {
    char *source;
    char *layout;      /* NULL: DR_LAYOUT_DEFAULT */
    char *copy_bucket; /* directory sources: what they are a copy of (NULL: unset) */
    char *copy_prefix;
    int dry_run, resume;
    uint32_t concurrency; /* 1..DR_IMPORT_MAX_CONCURRENCY */
    uint32_t page_size;   /* 1..1000 */
    dr_import_progress_fn progress;
    dr_import_message_fn message;
    void *ctx;
};

struct dr_import_report {
    uint64_t figure[DR_IMPORT_FIGURES]; /* indexed by dr_import_figure */
};

/* One page of the source, read. Ratings are in key order, an object's entries in their
 * order; each has idempotency_key = its identity and submitted_at set (the entry's, else
 * the object's LastModified). Owned by the walker: valid during the callback only. */
typedef struct dr_walk_page {
    dr_rating **ratings;
    size_t count;
    const char *last_key; /* the page's last listed key: the checkpoint once committed */
} dr_walk_page;

/* What the walker calls with each page that lists at least one key. It may keep a rating
 * by taking it and setting its slot to NULL; the walker frees the others. A status other than
 * DR_OK stops the walk and is returned. */
typedef dr_status (*dr_walk_fn)(void *ctx, const dr_walk_page *page);

/* An opened walk: the options checked, the source and layout ready. */
typedef struct dr_walk dr_walk;

/* Check `opts` and open its source (errors name the option). */
dr_status dr__walk_open(dr_client *c, const dr_import_options *opts, dr_walk **out);
void dr__walk_free(dr_walk *walk);
/* The source's bucket and prefix, for the checkpoint's name. */
const dr_source *dr__walk_source(const dr_walk *walk);
/* Walk from after `start_after` (NULL: the beginning) to the end, calling `fn` per page
 * and updating `report` (objects, skipped keys, entries, rejects, bytes; rejects go to
 * the message callback) and the progress callback. */
dr_status dr__walk_run(dr_walk *walk, const char *start_after, dr_walk_fn fn, void *ctx,
                       dr_import_report *report);

/* The report for *out (may be NULL): a copy of `figures`, also after an error. Returns
 * `rc`, or DR_E_NOMEM when all went well but the copy. */
dr_status dr__import_hand_over(const dr_import_report *figures, dr_import_report **out,
                               dr_status rc);

/* The message callback, printf-style; a no-op without one. */
void dr__import_message(const dr_import_options *opts, const char *fmt, ...) DR_PRINTF(2, 3);

#endif
