/* A joke's stats item and the counters items (GLOBAL shards, authors): the strongly
 * consistent read, and the UpdateItem bodies that every writer commits. */
#ifndef DR_STATS_ITEM_H
#define DR_STATS_ITEM_H

#include <jansson.h>

#include "client.h"
#include "stats.h"

/* GetItem of a joke's stats item (strongly consistent). *item_out receives the item or
 * NULL when the joke has none. */
dr_status dr__get_joke_stats_item(dr_client *c, const char *joke_id, json_t **item_out);
/* The same with only what read_stats uses (dr__stats_read_attr): for results, not for
 * the writers, which rewrite the whole item. */
dr_status dr__read_joke_stats_item(dr_client *c, const char *joke_id, json_t **item_out);

/* The joke's stats update as an UpdateItem body (TableName, Key, UpdateExpression,
 * ConditionExpression, ExpressionAttributeValues), usable inside TransactWriteItems and
 * on its own. It writes exact values computed from `old` (the item as read, or NULL)
 * plus `delta`, and is conditional on the item being unchanged since it was read (its
 * statsVersion), so the stored average always equals totalScore/totalRatings. The
 * average and the top-performers index keys are set only from 3 ratings on (a sparse
 * index). Used by inline writes and the stream aggregator alike. *new_counts and
 * *new_last_rated_at (borrowed from `old` or `rated_at`) describe the result. */
json_t *dr__joke_stats_update(dr_client *c, const char *joke_id, const json_t *old,
                              const dr_delta *delta, const char *rated_at, const char *author,
                              const char *joke_text, dr_counts *new_counts,
                              const char **new_last_rated_at);

/* An UpdateItem body adding `delta` to a counters item (GLOBAL shard or author):
 * commutative ADDs, so concurrent writers never need to re-read it. `author` (may be
 * NULL) is SET on author items. */
json_t *dr__counters_update(dr_client *c, const char *pk, const char *sk, const dr_delta *delta,
                            const char *author);

#endif
