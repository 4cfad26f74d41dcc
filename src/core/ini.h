/* The syntax of the AWS shared config and credentials files (an INI dialect), line by line,
 * as the AWS SDKs' shared profile-file rules define it and their common test suite checks
 * it (tests/data/profile-parser/). It never allocates: each construct is handed to a
 * callback as spans of the input. What the sections mean (which are profiles, how files
 * and duplicates merge) is the caller's business: src/aws/profile_file.h. */
#ifndef DR_INI_H
#define DR_INI_H

#include <stddef.h>

#include "dadratings.h"

/* A span of the input; not NUL-terminated. */
typedef struct dr_ini_span {
    const char *ptr;
    size_t len;
} dr_ini_span;

/* What the parser reports, in file order. Any member may be NULL; a callback's status
 * other than DR_OK stops the parse and is returned. Spans are trimmed of spaces and tabs. */
typedef struct dr_ini_handler {
    /* A `[name]` header: the text between the brackets, trailing comment removed. */
    dr_status (*section)(dr_ini_span name, void *payload);
    /* `key = value` in a section. The key as written (the SDKs compare keys without
     * regard to case); the value without its comment. An empty value opens a block of
     * sub-properties. */
    dr_status (*property)(dr_ini_span key, dr_ini_span value, void *payload);
    /* An indented line that continues the last property, comments included. Under a
     * property with an empty value it has been checked to be a `name = value`
     * sub-property. */
    dr_status (*continuation)(dr_ini_span line, void *payload);
} dr_ini_handler;

/* Parse `len` bytes of `text` (NUL bytes are data). The rules:
 *  - lines end at LF; a CR before the LF is dropped; white space is space and tab;
 *  - blank lines and lines starting with `#` or `;` are skipped;
 *  - `[name]` starts a section; `#` or `;` anywhere after the name starts a comment;
 *  - `key = value` (only inside a section) defines a property; `#` or `;` starts a
 *    comment only after white space (`a#b` is a value);
 *  - an indented line continues the property above it, or is one of its sub-properties
 *    when the property's value is empty.
 * Returns DR_OK, the first callback status other than DR_OK, or DR_E_CONFIG at the
 * first line that breaks the rules, recorded as "error parsing <display> on line <n>:
 * <what>" with the SDKs' wording of <what>; the message never quotes the file, which may
 * hold secrets. The lines before an error have been reported: a caller that must not act
 * on part of a broken file parses it once without callbacks first. */
dr_status dr__ini_parse(const char *text, size_t len, const char *display,
                        const dr_ini_handler *handler, void *payload);

/* The span without leading and trailing spaces and tabs. */
dr_ini_span dr__ini_trim(dr_ini_span span);

/* 1 if the span equals the NUL-terminated `s` (case-sensitive or not). */
int dr__ini_span_eq(dr_ini_span span, const char *s);
int dr__ini_span_caseeq(dr_ini_span span, const char *s);

#endif
