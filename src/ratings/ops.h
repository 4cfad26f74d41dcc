/* Internals shared by the three operations and create_tables. */
#ifndef DR_OPS_H
#define DR_OPS_H

#include <jansson.h>

#include "client.h"
#include "commit.h"
#include "keys.h"
#include "stats.h"
#include "stats_item.h"
#include "validate.h"

/* What a dr_rating holds: validated on the way in, so operations trust it. */
struct dr_rating {
    char *joke_id;
    int32_t stars;
    char *joke_text;       /* NULL: not given */
    char *author;          /* NULL: "Unknown" */
    char *mode;            /* NULL: "live" */
    char *date;            /* NULL: the UTC day of submission */
    char *idempotency_key; /* NULL: none */
    char *submitted_at;    /* NULL: the time of the write */
};

/* Everything fixed for one logical write of a rating, whatever the number of attempts:
 * the rating item's key (a keyed rating's named by its key, dr__uuid_of_key), its
 * submittedAt (the rating's, else now) and a fresh seed for request tokens. */
typedef struct dr_write_plan {
    const dr_rating *r;
    const char *author;
    const char *mode;
    char submitted_at[DR_MAX_SUBMITTED_AT_BYTES + 1];
    char date[11];
    char uuid[37];
    char token_seed[37];
    char rating_sk[96];
    char pk[8 + DR_MAX_JOKE_ID_BYTES];
} dr_write_plan;

dr_status dr__write_plan_init(const dr_rating *r, dr_write_plan *x);
/* Append the write's guards to `guards`: a Put of the rating item conditional on its
 * absence (marked as aggregated inline when `inline_mode`), then, for a keyed rating, of
 * its idempotency marker. DR_E_NOMEM. */
dr_status dr__write_guards_append(dr_client *c, const dr_write_plan *x, int inline_mode,
                                  json_t *guards);
/* The key of a keyed rating's idempotency marker; NULL on OOM. */
json_t *dr__marker_key(const dr_write_plan *x);

/* What the dashboard shows: the best jokes, and the newest ratings. */
#define DR_TOP_LIMIT 8
#define DR_RECENT_LIMIT 20

/* A joke's statistics as stored (zeros when it has none); joke_id already validated.
 * `out` may be NULL (then only the read happens). */
dr_status dr__read_stats(dr_client *c, const char *joke_id, dr_stats **out);

/* Why the first failed record of a batch result failed: its status (*code; DR_OK when
 * nothing failed) and message ("" then). Borrowed from the result. */
const char *dr__batch_result_reason(const dr_batch_result *r, dr_status *code);

#endif
