#include "ini.h"

#include <string.h>
#include <strings.h>

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static dr_ini_span trim(const char *p, size_t n)
{
    dr_ini_span s;
    while (n && is_blank(*p)) {
        p++;
        n--;
    }
    while (n && is_blank(p[n - 1]))
        n--;
    s.ptr = p;
    s.len = n;
    return s;
}

/* A value's inline comment starts at `#` or `;` preceded by white space, as the AWS
 * shared-file format specifies; a `#` inside a value (no blank before it) is data. */
static size_t value_length(const char *v, size_t n)
{
    size_t i;
    for (i = 1; i < n; i++)
        if ((v[i] == '#' || v[i] == ';') && is_blank(v[i - 1]))
            return i;
    return (n && (v[0] == '#' || v[0] == ';')) ? 0 : n;
}

/* `[ name ]` with an optional trailing comment. 1 and *section set if well formed. */
static int parse_section(dr_ini_span line, dr_ini_span *section)
{
    const char *close = memchr(line.ptr, ']', line.len);
    dr_ini_span rest;
    if (!close)
        return 0;
    rest = trim(close + 1, line.len - (size_t)(close + 1 - line.ptr));
    if (rest.len && rest.ptr[0] != '#' && rest.ptr[0] != ';')
        return 0;
    *section = trim(line.ptr + 1, (size_t)(close - line.ptr - 1));
    return section->len > 0;
}

size_t dr__ini_parse(const char *text, size_t len, dr_ini_property_fn fn, void *payload)
{
    dr_ini_span section = {"", 0};
    /* NULL with len 0 is an empty file: NULL + 0 is undefined behaviour in C. */
    const char *p = text, *end = text ? text + len : NULL;
    size_t malformed = 0;
    int in_property = 0; /* a property line was seen in this section */

    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        int indented = is_blank(*p) && *p != '\r';
        dr_ini_span line = trim(p, (size_t)(eol - p));
        const char *eq;

        p = nl ? nl + 1 : NULL;
        if (line.len == 0 || line.ptr[0] == '#' || line.ptr[0] == ';')
            continue;
        if (line.ptr[0] == '[') {
            dr_ini_span name;
            if (parse_section(line, &name)) {
                section = name;
                in_property = 0;
            } else {
                /* Properties after a broken header must not land in the previous
                 * section: a typo must not hand one profile's keys to another. */
                section.ptr = "";
                section.len = 0;
                in_property = 0;
                malformed++;
            }
            continue;
        }
        if (indented && in_property)
            continue; /* continuation or sub-property of the previous key */
        eq = memchr(line.ptr, '=', line.len);
        if (!eq || eq == line.ptr || section.len == 0) {
            malformed++;
            continue;
        }
        {
            dr_ini_span key = trim(line.ptr, (size_t)(eq - line.ptr));
            dr_ini_span value = trim(eq + 1, line.len - (size_t)(eq + 1 - line.ptr));
            value = trim(value.ptr, value_length(value.ptr, value.len));
            in_property = 1;
            if (key.len == 0) {
                malformed++;
                continue;
            }
            if (fn(section, key, value, payload))
                break;
        }
    }
    return malformed;
}

int dr__ini_span_eq(dr_ini_span span, const char *s)
{
    return strlen(s) == span.len && memcmp(span.ptr, s, span.len) == 0;
}

int dr__ini_span_caseeq(dr_ini_span span, const char *s)
{
    return strlen(s) == span.len && strncasecmp(span.ptr, s, span.len) == 0;
}
