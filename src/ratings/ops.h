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
};

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
