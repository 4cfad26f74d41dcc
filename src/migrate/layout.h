/* Where the old app's tree keeps what a rating's object key says about it, and the
 * `--layout` patterns for other trees (docs/migration.md). Pure functions, no I/O.
 *
 * A layout is one or more patterns separated by ',', tried in order against an object key
 * with the source's prefix taken off. A pattern is segments separated by '/', matched
 * one to one against the key's segments; each segment is either
 *   - literal text, which the key's segment must equal, or
 *   - a placeholder: {joke}, {date} (YYYY-MM-DD), {mode} (daily or live), {author} or
 *     {any} (one segment, not looked at), or {NAME:value}, which matches only `value` and
 *     sets NAME to it ({mode:live}).
 * A segment is a literal or a placeholder, never both. The old app's layout, the default:
 *   {mode:live}/{joke}/{any},{mode:daily}/{date}/{joke}/{any}
 */
#ifndef DR_LAYOUT_H
#define DR_LAYOUT_H

#include <stddef.h>

#include "dadratings.h"

#define DR_LAYOUT_DEFAULT "{mode:live}/{joke}/{any},{mode:daily}/{date}/{joke}/{any}"
/* More would be no rating tree anyone wrote. */
#define DR_LAYOUT_MAX_PATTERNS 8
#define DR_LAYOUT_MAX_SEGMENTS 16

typedef struct dr_layout dr_layout;

/* A bounded piece of the key (not NUL-terminated); ptr NULL when the layout has none. */
typedef struct dr_key_span {
    const char *ptr;
    size_t len;
} dr_key_span;

/* What a key's path says; each span points into the key (or the layout's value text). */
typedef struct dr_key_fields {
    dr_key_span joke, date, mode, author;
} dr_key_fields;

/* Parse `spec` (NULL: DR_LAYOUT_DEFAULT). DR_E_INVALID_ARGUMENT naming the pattern and
 * what is wrong (an unknown or repeated placeholder, an empty segment, a pattern without
 * {joke}, a fixed {date:...} or {mode:...} value that is not one); DR_E_NOMEM. */
dr_status dr__layout_parse(const char *spec, dr_layout **out);
void dr__layout_free(dr_layout *layout);

/* Match `key` (relative to the source's prefix, without a leading '/'). 1 with *fields
 * filled by the first pattern that matches, 0 when none does (not a rating object). A
 * {date} or {mode} segment matches only a valid date or mode. */
int dr__layout_match(const dr_layout *layout, const char *key, dr_key_fields *fields);

#endif
