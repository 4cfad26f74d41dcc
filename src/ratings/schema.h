/* Which layout the stats table is in, found out once per client: the original
 * JavaScript layout (GSI1 only, no statsVersion, uniqueJokes not counted) or this
 * library's (a complete GSI2, marked by the schema item). See docs/data-model.md. */
#ifndef DR_SCHEMA_H
#define DR_SCHEMA_H

#include <jansson.h>

#include "client.h"

typedef enum dr_schema_state {
    DR_SCHEMA_UNKNOWN = 0,  /* not read yet */
    DR_SCHEMA_ORIGINAL = 1, /* no marker: read the top performers from GSI1 */
    DR_SCHEMA_COMPLETE = 2  /* marker present: GSI2 is complete */
} dr_schema_state;

/* The marker's key, {"PK":{"S":"SCHEMA"},"SK":{"S":"VERSION"}}; NULL on OOM. */
json_t *dr__schema_key(void);
/* Whether an item is the schema marker, and whether it says the index is complete. */
int dr__schema_is_marker(const json_t *item);
int dr__schema_marker_complete(const json_t *item);
/* Put the marker (the table must be ACTIVE) and remember the layout in the client. */
dr_status dr__schema_mark_complete(dr_client *c);

/* DescribeTable until the table and all its indexes are ACTIVE, at most `timeout_ms`. */
dr_status dr__table_wait_active(dr_client *c, const char *name, int timeout_ms);

#endif
