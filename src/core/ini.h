/* A small parser for the AWS shared credentials and config files (an INI dialect).
 * It never allocates and accepts any bytes: malformed lines are skipped, never fatal,
 * because a stray line in ~/.aws/config must not stop every other setting working. */
#ifndef DR_INI_H
#define DR_INI_H

#include <stddef.h>

/* A span of the input; not NUL-terminated. */
typedef struct dr_ini_span {
    const char *ptr;
    size_t len;
} dr_ini_span;

/* Called for each `key = value` line, with the enclosing section's name (empty before
 * any section header). Spans are trimmed; the value excludes an inline comment. Return
 * non-zero to stop parsing. */
typedef int (*dr_ini_property_fn)(dr_ini_span section, dr_ini_span key, dr_ini_span value,
                                  void *payload);

/* Parse `len` bytes of `text` (NUL bytes allowed). Understands:
 *  - LF and CRLF line ends;
 *  - `#` and `;` comment lines, and ` #` / ` ;` inline comments after a value;
 *  - `[section]` headers (inner white space trimmed, trailing comment allowed);
 *  - indented lines following a property are that property's continuation or
 *    sub-properties (e.g. `s3 =` blocks in ~/.aws/config) and are not reported.
 * Returns the number of malformed lines skipped. */
size_t dr__ini_parse(const char *text, size_t len, dr_ini_property_fn fn, void *payload);

/* 1 if the span equals the NUL-terminated `s` (case-sensitive or not). */
int dr__ini_span_eq(dr_ini_span span, const char *s);
int dr__ini_span_caseeq(dr_ini_span span, const char *s);

#endif
