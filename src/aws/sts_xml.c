/* The XML extractor behind STS's answers (sts.h): one bounded pass over the bytes, a stack
 * of open element names, and the text of the requested fields. No tree, no DTD, no entity
 * other than XML's five and numeric references, so no input makes it allocate more than
 * the fields it keeps. */
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "sts.h"

typedef struct xml_span {
    const char *ptr;
    size_t len;
} xml_span;

typedef struct xml_reader {
    const char *xml;
    size_t len, pos;
    xml_span open[DR_XML_MAX_DEPTH]; /* names of the open elements, outermost first */
    size_t depth;
    int root_closed;
    dr_xml_field *fields;
    size_t field_count;
    dr_xml_field *active; /* the field of the innermost open element, or NULL */
    const dr_xml_records *records; /* NULL: no repeated element */
    size_t record_depth;           /* depth of the open record element, 0: none open */
} xml_reader;

static dr_status malformed(const xml_reader *r, const char *what)
{
    return dr__fail(DR_E_PROTOCOL, "malformed XML: %s at byte %zu", what, r->pos);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* XML 1.0 forbids the other C0 controls anywhere in a document. */
static int is_forbidden_control(unsigned char c)
{
    return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

static int is_name_char(unsigned char c, int first)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || c >= 0x80)
        return 1;
    return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

static int at(const xml_reader *r, const char *s)
{
    size_t n = strlen(s);
    return r->len - r->pos >= n && memcmp(r->xml + r->pos, s, n) == 0;
}

/* Move past the next `end`; 0 (at the end of the input) when there is none. */
static int skip_past(xml_reader *r, const char *end)
{
    size_t n = strlen(end);
    for (; r->len - r->pos >= n; r->pos++) {
        if (memcmp(r->xml + r->pos, end, n) == 0) {
            r->pos += n;
            return 1;
        }
    }
    r->pos = r->len;
    return 0;
}

static int skip_space(xml_reader *r)
{
    size_t start = r->pos;
    while (r->pos < r->len && is_space(r->xml[r->pos]))
        r->pos++;
    return r->pos > start;
}

static int read_name(xml_reader *r, xml_span *name)
{
    size_t start = r->pos;
    while (r->pos < r->len && is_name_char((unsigned char)r->xml[r->pos], r->pos == start))
        r->pos++;
    name->ptr = r->xml + start;
    name->len = r->pos - start;
    return name->len > 0;
}

/* The name without its namespace prefix. */
static xml_span local_name(xml_span name)
{
    size_t i;
    for (i = name.len; i > 0; i--) {
        if (name.ptr[i - 1] == ':') {
            name.ptr += i;
            name.len -= i;
            break;
        }
    }
    return name;
}

/* Whether the innermost open elements are the names of `path`, innermost last. */
static int path_matches(const xml_reader *r, const char *path)
{
    const char *end = path + strlen(path), *seg;
    size_t depth = r->depth;
    xml_span name;

    while (end > path) {
        for (seg = end; seg > path && seg[-1] != '/'; seg--)
            ;
        if (depth == 0)
            return 0;
        name = local_name(r->open[--depth]);
        if (name.len != (size_t)(end - seg) || memcmp(name.ptr, seg, name.len) != 0)
            return 0;
        end = seg > path ? seg - 1 : seg;
    }
    return 1;
}

static dr_status append(xml_reader *r, const char *data, size_t n)
{
    if (!r->active || n == 0)
        return DR_OK;
    if (r->active->value->len + n > DR_XML_MAX_FIELD)
        return malformed(r, "a field longer than the limit");
    dr__buf_append(r->active->value, data, n);
    return dr__buf_ok(r->active->value);
}

static int is_xml_char(uint32_t c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

static size_t utf8_encode(uint32_t c, char out[4])
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

static int digit_value(char c, int hex)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (hex && c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (hex && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "&#N;" or "&#xH;" at r->pos. */
static dr_status char_reference(xml_reader *r)
{
    const char *p = r->xml + r->pos + 2;
    size_t i = 0, left = r->len - r->pos - 2;
    uint32_t c = 0;
    int hex = 0, digits = 0, d;
    char utf8[4];

    if (left && p[0] == 'x') {
        hex = 1;
        i++;
    }
    for (; i < left && p[i] != ';'; i++) {
        /* Eight digits hold every code point and cannot overflow. */
        if ((d = digit_value(p[i], hex)) < 0 || ++digits > 8)
            return malformed(r, "a malformed character reference");
        c = c * (hex ? 16u : 10u) + (uint32_t)d;
    }
    if (i == left || digits == 0)
        return malformed(r, "a malformed character reference");
    if (!is_xml_char(c))
        return malformed(r, "a reference to a character XML does not allow");
    r->pos += 2 + i + 1;
    return append(r, utf8, utf8_encode(c, utf8));
}

static dr_status reference(xml_reader *r)
{
    static const struct {
        const char *name;
        char c;
    } predefined[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'},
                      {"&apos;", '\''}};
    size_t i;

    if (at(r, "&#"))
        return char_reference(r);
    for (i = 0; i < sizeof predefined / sizeof predefined[0]; i++) {
        if (at(r, predefined[i].name)) {
            r->pos += strlen(predefined[i].name);
            return append(r, &predefined[i].c, 1);
        }
    }
    return malformed(r, "an undefined entity");
}

/* Character data up to the next '<'. */
static dr_status text(xml_reader *r)
{
    size_t run = r->pos;
    dr_status rc;

    while (r->pos < r->len && r->xml[r->pos] != '<') {
        char c = r->xml[r->pos];
        if (is_forbidden_control((unsigned char)c))
            return malformed(r, "a control character");
        if (r->depth == 0 && !is_space(c))
            return malformed(r, "text outside the root element");
        if (c != '&') {
            r->pos++;
            continue;
        }
        if ((rc = append(r, r->xml + run, r->pos - run)) != DR_OK ||
            (rc = reference(r)) != DR_OK)
            return rc;
        run = r->pos;
    }
    return append(r, r->xml + run, r->pos - run);
}

static dr_status cdata(xml_reader *r)
{
    size_t start, i;
    if (r->depth == 0)
        return malformed(r, "CDATA outside the root element");
    r->pos += strlen("<![CDATA[");
    start = r->pos;
    if (!skip_past(r, "]]>"))
        return malformed(r, "an unterminated CDATA section");
    for (i = start; i < r->pos - 3; i++)
        if (is_forbidden_control((unsigned char)r->xml[i]))
            return malformed(r, "a control character");
    return append(r, r->xml + start, r->pos - 3 - start);
}

/* Quoted attributes after the name, up to and including '>' or "/>". */
static dr_status attributes(xml_reader *r, int *empty)
{
    xml_span name;
    char quote;

    for (;;) {
        int spaced = skip_space(r);
        if (r->pos >= r->len)
            return malformed(r, "an unterminated tag");
        if (r->xml[r->pos] == '>') {
            r->pos++;
            *empty = 0;
            return DR_OK;
        }
        if (at(r, "/>")) {
            r->pos += 2;
            *empty = 1;
            return DR_OK;
        }
        if (!spaced || !read_name(r, &name))
            return malformed(r, "a malformed attribute");
        skip_space(r);
        if (r->pos >= r->len || r->xml[r->pos] != '=')
            return malformed(r, "an attribute without a value");
        r->pos++;
        skip_space(r);
        if (r->pos >= r->len || (r->xml[r->pos] != '"' && r->xml[r->pos] != '\''))
            return malformed(r, "an unquoted attribute value");
        quote = r->xml[r->pos++];
        while (r->pos < r->len && r->xml[r->pos] != quote) {
            if (r->xml[r->pos] == '<' || is_forbidden_control((unsigned char)r->xml[r->pos]))
                return malformed(r, "a malformed attribute value");
            r->pos++;
        }
        if (r->pos >= r->len)
            return malformed(r, "an unterminated attribute value");
        r->pos++;
    }
}

/* A record element closing hands its fields to the callback. */
static dr_status close_innermost(xml_reader *r)
{
    dr_status rc = DR_OK;
    if (r->record_depth && r->depth == r->record_depth) {
        rc = r->records->on_record(r->records->ctx, r->records->fields, r->records->count);
        r->record_depth = 0;
    }
    r->depth--;
    r->active = NULL; /* a field holds no elements, so it was the innermost */
    if (r->depth == 0)
        r->root_closed = 1;
    return rc;
}

/* The fields to match at the innermost element: a record's inside a record. */
static dr_status match_field(xml_reader *r, dr_xml_field *fields, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (path_matches(r, fields[i].path)) {
            if (fields[i].found)
                return malformed(r, "a field that occurs twice");
            fields[i].found = 1;
            r->active = &fields[i];
            break;
        }
    }
    return DR_OK;
}

static void start_record(xml_reader *r)
{
    size_t i;
    r->record_depth = r->depth;
    for (i = 0; i < r->records->count; i++) {
        r->records->fields[i].found = 0;
        dr__buf_reset(r->records->fields[i].value);
    }
}

static dr_status start_tag(xml_reader *r)
{
    xml_span name;
    int empty = 0;
    dr_status rc;

    r->pos++;
    if (!read_name(r, &name))
        return malformed(r, "a malformed element name");
    if ((rc = attributes(r, &empty)) != DR_OK)
        return rc;
    if (r->active)
        return malformed(r, "an element inside a field");
    if (r->root_closed)
        return malformed(r, "a second root element");
    if (r->depth == DR_XML_MAX_DEPTH)
        return malformed(r, "elements nested too deep");
    r->open[r->depth++] = name;
    if (r->record_depth)
        rc = match_field(r, r->records->fields, r->records->count);
    else if (r->records && path_matches(r, r->records->path))
        start_record(r);
    else
        rc = match_field(r, r->fields, r->field_count);
    if (rc == DR_OK && empty)
        rc = close_innermost(r);
    return rc;
}

static dr_status end_tag(xml_reader *r)
{
    xml_span name, open;
    r->pos += 2;
    if (!read_name(r, &name))
        return malformed(r, "a malformed end tag");
    skip_space(r);
    if (r->pos >= r->len || r->xml[r->pos] != '>')
        return malformed(r, "a malformed end tag");
    r->pos++;
    if (r->depth == 0)
        return malformed(r, "an end tag without a start tag");
    open = r->open[r->depth - 1];
    if (open.len != name.len || memcmp(open.ptr, name.ptr, name.len) != 0)
        return malformed(r, "an end tag that does not match its start tag");
    return close_innermost(r);
}

static dr_status markup(xml_reader *r)
{
    if (at(r, "<!--"))
        return skip_past(r, "-->") ? DR_OK : malformed(r, "an unterminated comment");
    if (at(r, "<?"))
        return skip_past(r, "?>") ? DR_OK : malformed(r, "an unterminated processing "
                                                         "instruction");
    if (at(r, "<![CDATA["))
        return cdata(r);
    if (at(r, "<!"))
        /* DOCTYPE: entity definitions are how XML parsers get exploited. */
        return malformed(r, "a document type declaration");
    if (at(r, "</"))
        return end_tag(r);
    return start_tag(r);
}

dr_status dr__xml_extract(const char *xml, size_t len, dr_xml_field *fields, size_t n)
{
    return dr__xml_extract_records(xml, len, fields, n, NULL);
}

dr_status dr__xml_extract_records(const char *xml, size_t len, dr_xml_field *fields, size_t n,
                                  const dr_xml_records *records)
{
    xml_reader r;
    dr_status rc = DR_OK;
    size_t i;

    memset(&r, 0, sizeof r);
    r.xml = xml;
    r.len = len;
    r.fields = fields;
    r.field_count = n;
    r.records = records;
    for (i = 0; i < n; i++) {
        fields[i].found = 0;
        dr__buf_mark_secret(fields[i].value);
    }
    for (i = 0; records && i < records->count; i++)
        dr__buf_mark_secret(records->fields[i].value);
    while (rc == DR_OK && r.pos < r.len)
        rc = r.xml[r.pos] == '<' ? markup(&r) : text(&r);
    if (rc == DR_OK && r.depth)
        rc = malformed(&r, "an unterminated element");
    if (rc == DR_OK && !r.root_closed)
        rc = malformed(&r, "no root element");
    return rc;
}
