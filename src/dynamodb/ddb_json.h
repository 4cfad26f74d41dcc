/* DynamoDB's attribute-value JSON ({"S":"x"}, {"N":"12"}, {"M":{...}}, ...), in one
 * place for every operation. Numbers stay decimal strings as DynamoDB sends them; the
 * integer readers parse them exactly and refuse what is not a plain integer. No I/O. */
#ifndef DR_DDB_JSON_H
#define DR_DDB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dadratings.h"

/* Encoders return a new reference, or NULL on OOM (which jansson reports as NULL). */
json_t *dr__av_s(const char *s);
json_t *dr__av_n_u64(uint64_t n);
json_t *dr__av_n_str(const char *decimal);
json_t *dr__av_bool(int b);

/* Set item[name] = value, stealing value; returns -1 (and frees value) on failure
 * or if value is NULL, so a chain of sets can be checked once. */
int dr__item_set(json_t *item, const char *name, json_t *value);

/* Readers of an item (an object of attribute values). They return NULL/-1 when the
 * attribute is absent or of another type. */
const char *dr__av_get_s(const json_t *item, const char *name);
const char *dr__av_get_n(const json_t *item, const char *name);
/* Exact unsigned integer: 0 ok, -1 absent/wrong type, -2 not a plain integer in range. */
int dr__av_get_u64(const json_t *item, const char *name, uint64_t *out);
int dr__av_get_bool(const json_t *item, const char *name, int *out);

/* Parse a decimal integer string exactly: digits only (no sign, no fraction, no
 * exponent), at most UINT64_MAX. 0 ok, -1 otherwise. */
int dr__parse_u64(const char *s, uint64_t *out);

/* Ask a read for `attrs` only (n names, at most DR_PROJECT_MAX): set `req`'s
 * ProjectionExpression to "#p0, #p1, ..." and add the names to its
 * ExpressionAttributeNames (made if absent). Less to send and to parse than whole items.
 * 0, or -1 when out of memory. */
#define DR_PROJECT_MAX 16
int dr__ddb_project(json_t *req, const char *const *attrs, size_t n);

/* Serialise compactly into a library-owned string (dr__free). NULL on OOM. */
char *dr__json_dump(const json_t *value);

#endif
