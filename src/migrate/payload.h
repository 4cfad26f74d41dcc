/* The old app's rating objects (docs/migration.md): what one object of the S3 tree holds,
 * read into entries the import writes, with a reason for each entry it cannot. Pure
 * functions, no I/O.
 *
 * An object's payload is one rating object, an array of them, or an object holding them
 * under "entries" (or, failing that, "ratings"). A rating object's fields, as the old app
 * wrote them:
 *   rating       1..5, a whole number or a string holding one ("4");
 *   jokeId       the joke (else the key's {joke});
 *   joke         the joke's text (else "jokeText");
 *   author, mode ("daily" | "live"), date (else "dateKey", YYYY-MM-DD), submittedAt
 *                (ISO 8601, kept as written);
 * each absent one (or null) is filled from the key's path (layout.h) where it has it.
 * Other fields are ignored. An entry is rejected, never half-read, when its rating is
 * missing or outside 1..5, it has no joke id, or a field is of the wrong type or breaks
 * the library's rules for it (validate.h). */
#ifndef DR_PAYLOAD_H
#define DR_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "dadratings.h"
#include "layout.h"

/* An object larger than this is no rating object of the old app (they are < 1 KiB). */
#define DR_PAYLOAD_MAX_BYTES ((size_t)1024 * 1024)
/* The index of a reason that concerns the whole object (bad JSON, the wrong shape). */
#define DR_PAYLOAD_WHOLE_OBJECT SIZE_MAX

typedef struct dr_import_entry {
    size_t index;       /* in the object: 0 for a single rating, else its array index */
    int stars;
    char *joke_id;
    char *joke_text;    /* NULL: none */
    char *author;       /* NULL: none ("Unknown") */
    char *mode;         /* NULL: none (live) */
    char *date;         /* NULL: none (the day of submission) */
    char *submitted_at; /* NULL: none */
} dr_import_entry;

typedef struct dr_import_reject {
    size_t index;  /* DR_PAYLOAD_WHOLE_OBJECT, or the entry's index */
    char *reason;  /* "<key> entry <i>: <why>" or "<key>: <why>" */
} dr_import_reject;

/* What one object gave. Zero-initialise (DR_PAYLOAD_INIT); free with dr__payload_free. */
typedef struct dr_payload {
    dr_import_entry *entries;
    size_t count, cap;
    dr_import_reject *rejects;
    size_t reject_count, reject_cap;
} dr_payload;

#define DR_PAYLOAD_INIT {NULL, 0, 0, NULL, 0, 0}

/* Read the `len` bytes of object `key` (named in reasons as given) whose path gave
 * `fields` (NULL: none) into `out` (emptied first). Unreadable content is never an error
 * here: it becomes rejects. DR_E_NOMEM only. */
dr_status dr__payload_parse(const char *key, const dr_key_fields *fields, const char *data,
                            size_t len, dr_payload *out);
void dr__payload_free(dr_payload *payload);

#endif
