/* The data model (docs/data-model.md). Key layout, compatible with the JavaScript services:
 *
 *   ratings table  PK JOKE#<jokeId>      SK RATING#<submittedAt>#<uuid>
 *                  PK JOKE#<jokeId>      SK IDEMPOTENCY#<key>      (marker, this library)
 *   stats table    PK STATS#<jokeId>     SK AGGREGATE
 *                  PK GLOBAL             SK AGGREGATE              (shard 0 / unsharded)
 *                  PK GLOBAL#<k>         SK AGGREGATE              (shard k > 0)
 *                  PK GLOBAL             SK AUTHOR#<author>
 *                  PK DEADLETTER#<ratings table>  SK <shardId>#<sequenceNumber>
 *                                                   (a parked stream record, the follower)
 *                  PK SCHEMA             SK VERSION                (layout marker)
 *                  PK IMPORT#<bucket>/<prefix>  SK PROGRESS        (the import's progress)
 *
 * Every key, index and attribute name of that layout, and every key format, is defined
 * here and nowhere else (tests/arch/check_model_literals.py holds the rest of src/ to
 * it). What callers pass in is checked by validate.h before it reaches a key. No I/O. */
#ifndef DR_KEYS_H
#define DR_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "dadratings.h"

/* The key attributes of both tables, and the two global secondary indexes each has:
 * ratings GSI1 = ALL_RATINGS by submittedAt, GSI2 = AUTHOR#<author> by submittedAt;
 * stats GSI1 = TOP_PERFORMERS by average (the JavaScript layout), GSI2 = the total
 * order of the top performers (DR_TOP_INDEX). */
#define DR_ATTR_PK "PK"
#define DR_ATTR_SK "SK"
#define DR_INDEX_GSI1 "GSI1"
#define DR_ATTR_GSI1PK "GSI1PK"
#define DR_ATTR_GSI1SK "GSI1SK"
#define DR_INDEX_GSI2 "GSI2"
#define DR_ATTR_GSI2PK "GSI2PK"
#define DR_ATTR_GSI2SK "GSI2SK"

#define DR_PK_JOKE "JOKE#"
#define DR_SK_RATING "RATING#"
#define DR_SK_IDEMPOTENCY "IDEMPOTENCY#"
#define DR_PK_STATS "STATS#"
#define DR_SK_AGGREGATE "AGGREGATE"
#define DR_PK_GLOBAL "GLOBAL"
#define DR_SK_AUTHOR "AUTHOR#"
#define DR_GSI_ALL_RATINGS "ALL_RATINGS"
#define DR_GSI_TOP_PERFORMERS "TOP_PERFORMERS"
#define DR_DEFAULT_AUTHOR "Unknown"

/* The attributes of each item (docs/data-model.md). Rating items, as the JavaScript
 * services write them, plus DR_ATTR_AGGREGATION below: */
#define DR_ATTR_RATING "rating"
#define DR_ATTR_JOKE_TEXT "jokeText"
#define DR_ATTR_AUTHOR "author" /* also on stats items: the joke's first author */
#define DR_ATTR_MODE "mode"
#define DR_ATTR_DATE "date"
#define DR_ATTR_SUBMITTED_AT "submittedAt"
/* Stats items (a joke's, a GLOBAL shard's, an author's); jokeText and author on a
 * joke's, uniqueJokes on GLOBAL shards, statsVersion on a joke's once this library or
 * the upgrade has written it (its absence marks a joke the JavaScript layout counted). */
#define DR_ATTR_TOTAL_RATINGS "totalRatings"
#define DR_ATTR_TOTAL_SCORE "totalScore"
#define DR_ATTR_COUNT1 "count1"
#define DR_ATTR_COUNT2 "count2"
#define DR_ATTR_COUNT3 "count3"
#define DR_ATTR_COUNT4 "count4"
#define DR_ATTR_COUNT5 "count5"
#define DR_ATTR_LAST_RATED_AT "lastRatedAt"
#define DR_ATTR_STATS_VERSION "statsVersion"
#define DR_ATTR_UNIQUE_JOKES "uniqueJokes"
/* The counters of a stats item, for code that walks them: totalRatings, totalScore,
 * then count1..count5 (count<n> at DR_COUNTER_ATTR_STAR(n)). */
#define DR_COUNTER_ATTRS 7
#define DR_COUNTER_ATTR_STAR(n) (1 + (n))
extern const char *const dr__counter_attr[DR_COUNTER_ATTRS];
/* What reads ask for (dr__ddb_project), so that no more is sent and parsed than a result
 * uses: a joke's stats for read_stats (its key, the counters, lastRatedAt); a top
 * performer (its key, the totals, statsVersion, text, author, lastRatedAt); a recent
 * rating (its key, stars, text, author, mode, date, submittedAt). */
#define DR_STATS_READ_ATTRS 9
extern const char *const dr__stats_read_attr[DR_STATS_READ_ATTRS];
#define DR_TOP_READ_ATTRS 7
extern const char *const dr__top_read_attr[DR_TOP_READ_ATTRS];
#define DR_RECENT_READ_ATTRS 7
extern const char *const dr__recent_read_attr[DR_RECENT_READ_ATTRS];
/* Markers: an idempotency key's (ratingSK, submittedAt) and a stream record's
 * (sequenceNumber); both expire through the table's TTL attribute. */
#define DR_ATTR_MARKER_RATING_SK "ratingSK"
#define DR_ATTR_EXPIRES_AT "expiresAt"
/* The follower's checkpoints (one per stream shard) and dead letters. */
#define DR_ATTR_STREAM_ARN "streamArn"
#define DR_ATTR_SHARD_ID "shardId"
#define DR_ATTR_SEQUENCE_NUMBER "sequenceNumber"
#define DR_ATTR_FINISHED "finished"
#define DR_ATTR_FAILING_SEQUENCE_NUMBER "failingSequenceNumber"
#define DR_ATTR_FAILED_DELIVERIES "failedDeliveries"
#define DR_ATTR_UPDATED_AT "updatedAt"
#define DR_ATTR_REASON "reason"
#define DR_ATTR_RECORD "record"
#define DR_ATTR_ATTEMPTS "attempts"
#define DR_ATTR_PARKED_AT "parkedAt"
#define DR_ATTR_IMAGES_OMITTED "imagesOmitted"
/* Stream records the follower gave up on (docs/aggregation.md, "Dead letters"). Keyed by
 * the ratings table, not the stream ARN: they outlive a stream that is re-enabled. */
#define DR_PK_DEAD_LETTER "DEADLETTER#"
#define DR_SK_DEAD_LETTER_SEPARATOR "#"
/* The import's checkpoint of one source tree (docs/migration.md): the last object key
 * whose ratings are all committed, and when. */
#define DR_PK_IMPORT "IMPORT#"
#define DR_SK_IMPORT_PROGRESS "PROGRESS"
#define DR_ATTR_LAST_KEY "lastKey"
/* The schema marker: present with schemaVersion >= DR_SCHEMA_VERSION once the stats table
 * has the complete top-performers index (created so, or upgraded). */
#define DR_PK_SCHEMA "SCHEMA"
#define DR_SK_SCHEMA "VERSION"
#define DR_ATTR_SCHEMA_VERSION "schemaVersion"
#define DR_ATTR_TOP_INDEX "topIndex"
#define DR_ATTR_MARKED_AT "markedAt"
#define DR_SCHEMA_VERSION 2

/* FNV-1a (32 bits) of a NUL-terminated string: spreads jokes over shards, the same
 * way in every release (changing it would move counts between shards). */
uint32_t dr__fnv1a(const char *s);

/* The current UTC time as JavaScript's toISOString() writes it:
 * "2026-11-25T11:51:17.123Z" (24 characters). */
void dr__iso8601_now(char out[25]);
/* A random (version 4) UUID, lower-case: 36 characters. */
dr_status dr__uuid_v4(char out[37]);
/* The UUID (RFC 9562 version 8) named by an idempotency key: the first 16 bytes of
 * SHA-256 of a fixed domain and the key. A keyed rating's item key carries it, so two
 * writes of one rating (the import, an app's dual write) name the same item. */
dr_status dr__uuid_of_key(const char *key, char out[37]);

/* Attribute `aggregation` on rating items whose aggregates were committed with them;
 * the stream aggregator skips those records so the two modes never double count. */
#define DR_ATTR_AGGREGATION "aggregation"
#define DR_AGGREGATION_INLINE_MARK "inline"

/* Index of the stats table holding jokes with >= 3 ratings in a total order (average,
 * then ratings, then id): see docs/data-model.md. */
#define DR_TOP_INDEX DR_INDEX_GSI2
/* Jokes enter the (sparse) top-performers index from this many ratings on. */
#define DR_TOP_MIN_RATINGS 3

/* An item key, {"PK":{"S":pk},"SK":{"S":sk}}; NULL on OOM. */
json_t *dr__item_key(const char *pk, const char *sk);
/* The stats item key of a joke: {"PK":{"S":"STATS#id"},"SK":{"S":"AGGREGATE"}}. */
json_t *dr__stats_key(const char *joke_id);
/* What follows `prefix` in `key` (borrowed), or NULL when `key` is NULL or does not start
 * with it: how readers take a key apart ("JOKE#<id>" -> "<id>"). */
const char *dr__key_rest(const char *key, const char *prefix);
/* The joke id of a stats item's partition key "STATS#<id>", borrowed from `pk`; NULL
 * when `pk` is NULL or not a joke's stats key. */
const char *dr__joke_id_of_stats_pk(const char *pk);

/* The GLOBAL shard that counts a joke's ratings: FNV-1a(jokeId) mod shards (0 when
 * unsharded). Deterministic, so an un-count lands where the count did; one joke's
 * ratings are bounded by its own stats item anyway, so nothing is lost by keeping
 * them on one shard. */
uint32_t dr__global_shard_of(uint32_t shards, const char *joke_id);

/* The partition key of GLOBAL counter shard k (k = 0 is the compatible "GLOBAL"). */
void dr__global_shard_pk(uint32_t k, char out[32]);

/* Sort key of the top-performers index: "AAA#TTTTTTTTTTTTTTTTTTTT#<jokeId>" with the
 * average in hundredths and the rating count zero-padded, so that descending key
 * order is best average, then most ratings, then joke id (descending bytes). */
void dr__top_sort_key(dr_buf *b, uint32_t average_hundredths, uint64_t total,
                      const char *joke_id);
/* The top index partition of shard k: "TOP_PERFORMERS", or with shards > 1
 * "TOP_PERFORMERS#k". The reader queries each; the writer uses the next one. */
void dr__top_shard_partition(uint32_t shards, uint32_t k, char out[48]);
/* The top index partition of a joke: that of shard dr__global_shard_of(shards, jokeId). */
void dr__top_partition(uint32_t shards, const char *joke_id, char out[48]);

#endif
