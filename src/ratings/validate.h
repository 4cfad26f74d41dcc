/* Validation of what callers pass in (joke ids, authors, text, dates, modes, idempotency
 * keys), so that user input can never forge or break a key of the data model (keys.h).
 * Joke ids and authors may not contain '#': with it, an id could end where another key's
 * prefix begins. They are rejected rather than escaped, because an escaped form would
 * read differently in the JavaScript services. No I/O. */
#ifndef DR_VALIDATE_H
#define DR_VALIDATE_H

#include <stddef.h>

#include "dadratings.h"

#define DR_MAX_JOKE_ID_BYTES 256
#define DR_MAX_AUTHOR_BYTES 256
/* A rating item stays far below DynamoDB's 400 KB item limit: 8 KiB of text twice
 * (rating and stats item) plus fixed attributes. */
#define DR_MAX_JOKE_TEXT_BYTES 8192
#define DR_MAX_IDEMPOTENCY_KEY_BYTES 128
/* "2026-01-30T15:30:00.123456789+01:00" is 35: room for any fraction a clock gives. */
#define DR_MAX_SUBMITTED_AT_BYTES 40

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
/* 1 if `s` is an ISO 8601 time as JavaScript's Date writes and reads it, at most
 * DR_MAX_SUBMITTED_AT_BYTES: YYYY-MM-DDTHH:MM:SS, an optional .fraction, then Z or
 * +HH:MM / -HH:MM, with a real date. */
int dr__submitted_at_valid(const char *s);
/* The same, as a status whose message names submittedAt. */
dr_status dr__validate_submitted_at(const char *value);

#endif
