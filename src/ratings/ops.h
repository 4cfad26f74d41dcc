/* Internals shared by the three operations and create_tables. */
#ifndef DR_OPS_H
#define DR_OPS_H

#include <jansson.h>

#include "client.h"
#include "commit.h"
#include "stats.h"

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

/* Attribute `aggregation` on rating items whose aggregates were committed with them;
 * the stream aggregator skips those records so the two modes never double count. */
#define DR_ATTR_AGGREGATION "aggregation"
#define DR_AGGREGATION_INLINE_MARK "inline"

/* Index of the stats table holding jokes with >= 3 ratings in a total order (average,
 * then ratings, then id): see docs/data-model.md. */
#define DR_TOP_INDEX "GSI2"
#define DR_TOP_MIN_RATINGS 3
#define DR_TOP_LIMIT 8
#define DR_RECENT_LIMIT 20

/* The stats item key of a joke: {"PK":{"S":"STATS#id"},"SK":{"S":"AGGREGATE"}}. */
json_t *dr__stats_key(const char *joke_id);

/* GetItem of a joke's stats item (strongly consistent). *item_out receives the item or
 * NULL when the joke has none. */
dr_status dr__get_joke_stats_item(dr_client *c, const char *joke_id, json_t **item_out);

/* A joke's statistics as stored (zeros when it has none); joke_id already validated.
 * `out` may be NULL (then only the read happens). */
dr_status dr__read_stats(dr_client *c, const char *joke_id, dr_stats **out);

/* The partition key of GLOBAL counter shard k (k = 0 is the compatible "GLOBAL"). */
void dr__global_shard_pk(uint32_t k, char out[32]);

/* Sort key of the top-performers index: "AAA#TTTTTTTTTTTTTTTTTTTT#<jokeId>" with the
 * average in hundredths and the rating count zero-padded, so that descending key
 * order is best average, then most ratings, then joke id (descending bytes). */
void dr__top_sort_key(dr_buf *b, uint32_t average_hundredths, uint64_t total,
                      const char *joke_id);
/* The top index partition of a joke: "TOP_PERFORMERS", or with shards > 1
 * "TOP_PERFORMERS#k" for k = dr__global_shard_of(shards, jokeId). */
void dr__top_partition(uint32_t shards, const char *joke_id, char out[48]);

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

/* Why the first failed record of a batch result failed: its status (*code; DR_OK when
 * nothing failed) and message ("" then). Borrowed from the result. */
const char *dr__batch_result_reason(const dr_batch_result *r, dr_status *code);

#endif
