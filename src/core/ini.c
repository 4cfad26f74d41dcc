#include "ini.h"

#include <string.h>
#include <strings.h>

#include "error.h"

/* The format's white space: space and tab only. A CR or form feed inside a line is data. */
static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static dr_ini_span trim(const char *p, size_t n)
{
    dr_ini_span s;
    while (n && is_space(*p)) {
        p++;
        n--;
    }
    while (n && is_space(p[n - 1]))
        n--;
    s.ptr = p;
    s.len = n;
    return s;
}

/* Drop a trailing comment from a trimmed line. In a header `#` and `;` start one
 * anywhere; in a property only after white space, so `a#b` stays a value. The SDKs count
 * any white space there, CR and form feed included. */
static dr_ini_span strip_comment(dr_ini_span line, int needs_space)
{
    size_t i;
    for (i = 0; i < line.len; i++) {
        char prev = i ? line.ptr[i - 1] : 'x';
        if ((line.ptr[i] == '#' || line.ptr[i] == ';') &&
            (!needs_space || is_space(prev) || (prev >= '\n' && prev <= '\r')))
            return trim(line.ptr, i);
    }
    return line;
}

typedef enum property_syntax { PROPERTY_OK, PROPERTY_NO_EQUALS, PROPERTY_NO_NAME } property_syntax;

/* `key = value` with an optional comment; the value may be empty, the key may not. */
static property_syntax split_property(dr_ini_span line, dr_ini_span *key, dr_ini_span *value)
{
    const char *eq;
    line = strip_comment(trim(line.ptr, line.len), 1);
    eq = line.len ? memchr(line.ptr, '=', line.len) : NULL;
    if (!eq)
        return PROPERTY_NO_EQUALS;
    *key = trim(line.ptr, (size_t)(eq - line.ptr));
    *value = trim(eq + 1, line.len - (size_t)(eq + 1 - line.ptr));
    return key->len ? PROPERTY_OK : PROPERTY_NO_NAME;
}

static dr_status syntax_error(const char *display, size_t line_number, const char *what)
{
    return dr__fail(DR_E_CONFIG, "error parsing %s on line %zu: %s", display, line_number,
                    what);
}

/* Where the parser is: what an indented line would continue. */
typedef enum parse_state {
    BEFORE_SECTION,     /* no header yet */
    SECTION_START,      /* a header, no property since */
    IN_PROPERTY,        /* after a property with a value: continuations are free text */
    IN_SUB_PROPERTIES   /* after a property without value: continuations are `k = v` */
} parse_state;

dr_status dr__ini_parse(const char *text, size_t len, const char *display,
                        const dr_ini_handler *handler, void *payload)
{
    static const dr_ini_handler none = {NULL, NULL, NULL};
    /* NULL with len 0 is an empty file: NULL + 0 is undefined behaviour in C. */
    const char *p = text, *end = text ? text + len : NULL;
    parse_state state = BEFORE_SECTION;
    size_t line_number = 0;
    dr_status rc = DR_OK;

    if (!handler)
        handler = &none;
    while (rc == DR_OK && p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        dr_ini_span line = {p, (size_t)((nl ? nl : end) - p)};
        dr_ini_span key, value;

        p = nl ? nl + 1 : NULL;
        line_number++;
        if (nl && line.len && line.ptr[line.len - 1] == '\r')
            line.len--;
        if (trim(line.ptr, line.len).len == 0 || line.ptr[0] == '#' || line.ptr[0] == ';')
            continue;

        if (line.ptr[0] == '[') {
            dr_ini_span header = strip_comment(trim(line.ptr, line.len), 0);
            if (header.len < 2 || header.ptr[header.len - 1] != ']')
                return syntax_error(display, line_number, "Profile definition must end with ']'");
            state = SECTION_START;
            if (handler->section)
                rc = handler->section(trim(header.ptr + 1, header.len - 2), payload);
        } else if (is_space(line.ptr[0])) {
            if (state == BEFORE_SECTION)
                return syntax_error(display, line_number, "Expected a profile definition");
            if (state == SECTION_START)
                return syntax_error(display, line_number,
                                    "Expected a property definition, found continuation");
            if (state == IN_SUB_PROPERTIES) {
                property_syntax syntax = split_property(line, &key, &value);
                if (syntax == PROPERTY_NO_EQUALS)
                    return syntax_error(display, line_number,
                                        "Expected an '=' sign defining a sub-property");
                if (syntax == PROPERTY_NO_NAME)
                    return syntax_error(display, line_number, "Sub-property did not have a name");
            }
            if (handler->continuation)
                rc = handler->continuation(trim(line.ptr, line.len), payload);
        } else {
            property_syntax syntax;
            if (state == BEFORE_SECTION)
                return syntax_error(display, line_number, "Expected a profile definition");
            syntax = split_property(line, &key, &value);
            if (syntax == PROPERTY_NO_EQUALS)
                return syntax_error(display, line_number,
                                    "Expected an '=' sign defining a property");
            if (syntax == PROPERTY_NO_NAME)
                return syntax_error(display, line_number, "Property did not have a name");
            state = value.len ? IN_PROPERTY : IN_SUB_PROPERTIES;
            if (handler->property)
                rc = handler->property(key, value, payload);
        }
    }
    return rc;
}

dr_ini_span dr__ini_trim(dr_ini_span span)
{
    return trim(span.ptr, span.len);
}

int dr__ini_span_eq(dr_ini_span span, const char *s)
{
    return strlen(s) == span.len && memcmp(span.ptr, s, span.len) == 0;
}

int dr__ini_span_caseeq(dr_ini_span span, const char *s)
{
    return strlen(s) == span.len && strncasecmp(span.ptr, s, span.len) == 0;
}
