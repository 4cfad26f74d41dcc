/* The data model's keys and the validation that keeps user input from forging them
 * (docs/data-model.md). Key layout, compatible with the JavaScript services:
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
 *
 * Joke ids and authors may not contain '#': with it, an id could end where another key's
 * prefix begins. They are rejected rather than escaped, because an escaped form would
 * read differently in the JavaScript services. No I/O. */
#ifndef DR_KEYS_H
#define DR_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "dadratings.h"

#define DR_MAX_JOKE_ID_BYTES 256
#define DR_MAX_AUTHOR_BYTES 256
/* A rating item stays far below DynamoDB's 400 KB item limit: 8 KiB of text twice
 * (rating and stats item) plus fixed attributes. */
#define DR_MAX_JOKE_TEXT_BYTES 8192
#define DR_MAX_IDEMPOTENCY_KEY_BYTES 128

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
/* Stream records the follower gave up on (docs/aggregation.md, "Dead letters"). Keyed by
 * the ratings table, not the stream ARN: they outlive a stream that is re-enabled. */
#define DR_PK_DEAD_LETTER "DEADLETTER#"
#define DR_SK_DEAD_LETTER_SEPARATOR "#"
/* The schema marker: present with schemaVersion >= DR_SCHEMA_VERSION once the stats table
 * has the complete top-performers index (created so, or upgraded). */
#define DR_PK_SCHEMA "SCHEMA"
#define DR_SK_SCHEMA "VERSION"
#define DR_ATTR_SCHEMA_VERSION "schemaVersion"
#define DR_SCHEMA_VERSION 2

/* 1 if s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF). */
int dr__utf8_valid(const char *s, size_t n);

/* Joke ids and authors: non-empty, at most `max` bytes, UTF-8, no control characters
 * (C0, DEL, C1), no '#'. The message names `field`. */
dr_status dr__validate_key_part(const char *field, const char *value, size_t max);
/* Free text: UTF-8, at most `max` bytes, no control characters but tab and newlines. */
dr_status dr__validate_text(const char *field, const char *value, size_t max);
/* "YYYY-MM-DD", a real calendar date. */
dr_status dr__validate_date(const char *value);
/* "daily" or "live". */
dr_status dr__validate_mode(const char *value);
/* 1..128 bytes of [A-Za-z0-9._:-]. */
dr_status dr__validate_idempotency_key(const char *value);

/* FNV-1a (32 bits) of a NUL-terminated string: spreads jokes over shards, the same
 * way in every release (changing it would move counts between shards). */
uint32_t dr__fnv1a(const char *s);

/* The current UTC time as JavaScript's toISOString() writes it:
 * "2026-11-25T11:51:17.123Z" (24 characters). */
void dr__iso8601_now(char out[25]);
/* A random (version 4) UUID, lower-case: 36 characters. */
dr_status dr__uuid_v4(char out[37]);

#endif
