/* Internals shared by the three operations and create_tables. */
#ifndef DR_OPS_H
#define DR_OPS_H

#include <jansson.h>

#include "client.h"
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
 * "TOP_PERFORMERS#k" for k = FNV-1a(jokeId) mod shards. */
void dr__top_partition(uint32_t shards, const char *joke_id, char out[48]);

/* A change to counters: +1 rating for an insert; -1 on the old star and +1 on the new
 * one for a changed rating. unique_jokes is 1 when the joke gets its first rating. */
typedef struct dr_delta {
    int64_t total;
    int64_t score;
    int64_t count[5];
    int64_t unique_jokes;
} dr_delta;

/* The delta of one new rating of `stars`. */
dr_delta dr__delta_of_rating(int32_t stars);

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

/* One change to a joke's ratings, committed with every aggregate it touches. */
typedef struct dr_change {
    const char *joke_id;
    dr_delta delta;          /* unique_jokes is decided by the commit */
    const char *rated_at;    /* the rating's submittedAt: lastRatedAt keeps the newest */
    const char *author;      /* the joke's author: its author item and stats item */
    const char *joke_text;   /* NULL: leave the stats item's text as it is */
    const json_t *guards;    /* TransactItems placed first, each a Put conditional on
                              * absence: if one fails, this change was committed before */
    const char *token_seed;  /* unique per change: a request token derives from it */
    uint32_t global_shard;
} dr_change;

typedef enum dr_commit_outcome {
    DR_COMMIT_APPLIED,   /* committed now */
    DR_COMMIT_DUPLICATE, /* a guard existed: committed before */
    DR_COMMIT_NOTHING    /* un-counting a rating the stats do not hold */
} dr_commit_outcome;

/* Commit `chg` in one TransactWriteItems: its guards, the joke's stats (exact values,
 * conditional on the item as read), and ADDs to one GLOBAL shard and the author's item.
 * Contention (a concurrent writer changed the stats item, or a transaction conflict)
 * re-reads and retries with a jittered backoff. On DR_COMMIT_APPLIED, *after holds the
 * joke's new counters and last_rated_at its lastRatedAt. */
dr_status dr__commit_change(dr_client *c, const dr_change *chg, dr_commit_outcome *outcome,
                            dr_counts *after, char *last_rated_at, size_t last_cap);

/* A Put of `item` into `table` conditional on its absence, for TransactItems. Steals
 * item. */
json_t *dr__put_if_absent(const char *table, json_t *item);

/* ClientRequestToken (at most 36 characters) for attempt `attempt` of the change with
 * this seed: the same for the transport's retries of one attempt, so DynamoDB applies
 * it once; different per attempt and per change, as DynamoDB rejects a token reused
 * with another body (IdempotentParameterMismatch). */
void dr__request_token(const char *seed, int attempt, char out[37]);

/* An UpdateItem body adding `delta` to a counters item (GLOBAL shard or author):
 * commutative ADDs, so concurrent writers never need to re-read it. `author` (may be
 * NULL) is SET on author items. */
json_t *dr__counters_update(dr_client *c, const char *pk, const char *sk, const dr_delta *delta,
                            const char *author);

/* Why the first failed record of a batch result failed: its status (*code; DR_OK when
 * nothing failed) and message ("" then). Borrowed from the result. */
const char *dr__batch_result_reason(const dr_batch_result *r, dr_status *code);

#endif
