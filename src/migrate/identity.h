/* The identity of an imported rating (docs/migration.md): the bucket, the object's full
 * key and the entry's index in it name one rating of the old tree for ever, so every run
 * of the import, a resumed one, and the app's dual write derive the same idempotency key
 * from it and count it once. Pure function, no I/O. */
#ifndef DR_IDENTITY_H
#define DR_IDENTITY_H

#include <stddef.h>

#include "dadratings.h"

/* "s3v1:" and 64 hex digits: within dr_rating_set_idempotency_key's 1..128 bytes of
 * [A-Za-z0-9._:-]. */
#define DR_IMPORT_KEY_LEN 69

/* out (DR_IMPORT_KEY_LEN + 1 bytes) = "s3v1:" + hex SHA-256 of
 *   "dadratings-import-v1\n" len(bucket) ":" bucket "\n" len(key) ":" key "\n" index
 * (lengths and index in decimal). DR_E_INTERNAL if OpenSSL has no SHA-256. */
dr_status dr__import_identity(const char *bucket, const char *key, size_t index,
                              char out[DR_IMPORT_KEY_LEN + 1]);

#endif
