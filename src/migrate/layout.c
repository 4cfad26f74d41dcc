/* Layout patterns (layout.h). */
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "layout.h"
#include "timeutil.h"

typedef enum seg_kind { SEG_LITERAL, SEG_JOKE, SEG_DATE, SEG_MODE, SEG_AUTHOR, SEG_ANY } seg_kind;

static const char *const seg_names[] = {NULL, "joke", "date", "mode", "author", "any"};

typedef struct layout_segment {
    seg_kind kind;
    dr_key_span text; /* a literal, or the fixed value of {NAME:value}; ptr NULL: none */
} layout_segment;

typedef struct layout_pattern {
    layout_segment segments[DR_LAYOUT_MAX_SEGMENTS];
    size_t count;
} layout_pattern;

struct dr_layout {
    char *spec; /* the spans point into it */
    layout_pattern patterns[DR_LAYOUT_MAX_PATTERNS];
    size_t count;
};

static int span_is_date(dr_key_span s)
{
    int y, m, d;
    size_t i;
    if (s.len != 10 || s.ptr[4] != '-' || s.ptr[7] != '-')
        return 0;
    for (i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s.ptr[i] < '0' || s.ptr[i] > '9'))
            return 0;
    y = (s.ptr[0] - '0') * 1000 + (s.ptr[1] - '0') * 100 + (s.ptr[2] - '0') * 10 + s.ptr[3] - '0';
    m = (s.ptr[5] - '0') * 10 + s.ptr[6] - '0';
    d = (s.ptr[8] - '0') * 10 + s.ptr[9] - '0';
    return dr__valid_date(y, m, d);
}

static int span_eq(dr_key_span s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

static int span_is_mode(dr_key_span s)
{
    return span_eq(s, "daily") || span_eq(s, "live");
}

/* One segment's text [p, p+n) of pattern number `which`. */
static dr_status parse_segment(const char *p, size_t n, size_t which, layout_segment *seg)
{
    const char *colon;
    size_t name_len, k;

    memset(seg, 0, sizeof *seg);
    if (n == 0)
        return dr__fail(DR_E_INVALID_ARGUMENT, "layout pattern %zu: an empty segment", which);
    if (p[0] != '{') {
        if (memchr(p, '{', n) || memchr(p, '}', n))
            return dr__fail(DR_E_INVALID_ARGUMENT, "layout pattern %zu: a segment is either "
                            "text or one {placeholder}", which);
        seg->kind = SEG_LITERAL;
        seg->text.ptr = p;
        seg->text.len = n;
        return DR_OK;
    }
    if (p[n - 1] != '}' || memchr(p + 1, '{', n - 1) || memchr(p, '}', n - 1))
        return dr__fail(DR_E_INVALID_ARGUMENT, "layout pattern %zu: a segment is either "
                        "text or one {placeholder}", which);
    colon = memchr(p, ':', n);
    name_len = (colon ? (size_t)(colon - p) : n - 1) - 1;
    for (k = SEG_JOKE; k <= SEG_ANY; k++)
        if (strlen(seg_names[k]) == name_len && memcmp(p + 1, seg_names[k], name_len) == 0)
            break;
    if (k > SEG_ANY)
        return dr__fail(DR_E_INVALID_ARGUMENT, "layout pattern %zu: unknown placeholder "
                        "(known: {joke} {date} {mode} {author} {any})", which);
    seg->kind = (seg_kind)k;
    if (!colon)
        return DR_OK;
    seg->text.ptr = colon + 1;
    seg->text.len = (size_t)(p + n - 1 - seg->text.ptr);
    if (seg->kind == SEG_ANY || seg->text.len == 0)
        return dr__fail(DR_E_INVALID_ARGUMENT, "layout pattern %zu: {%s:...} needs a value",
                        which, seg_names[k]);
    if (seg->kind == SEG_DATE && !span_is_date(seg->text))
        return dr__fail(DR_E_INVALID_ARGUMENT, "layout pattern %zu: {date:...} is not a "
                        "YYYY-MM-DD date", which);
    if (seg->kind == SEG_MODE && !span_is_mode(seg->text))
        return dr__fail(DR_E_INVALID_ARGUMENT, "layout pattern %zu: {mode:...} is neither "
                        "daily nor live", which);
    return DR_OK;
}

static dr_status parse_pattern(const char *p, size_t n, size_t which, layout_pattern *pat)
{
    unsigned seen = 0;
    size_t i;
    dr_status rc;

    pat->count = 0;
    for (;;) {
        const char *slash = memchr(p, '/', n);
        size_t len = slash ? (size_t)(slash - p) : n;
        layout_segment *seg = &pat->segments[pat->count];
        if (pat->count == DR_LAYOUT_MAX_SEGMENTS)
            return dr__fail(DR_E_INVALID_ARGUMENT, "layout pattern %zu: more than %d segments",
                            which, DR_LAYOUT_MAX_SEGMENTS);
        if ((rc = parse_segment(p, len, which, seg)) != DR_OK)
            return rc;
        pat->count++;
        if (seg->kind != SEG_LITERAL && seg->kind != SEG_ANY) {
            if (seen & (1u << seg->kind))
                return dr__fail(DR_E_INVALID_ARGUMENT, "layout pattern %zu: {%s} twice", which,
                                seg_names[seg->kind]);
            seen |= 1u << seg->kind;
        }
        if (!slash)
            break;
        n -= len + 1;
        p = slash + 1;
    }
    for (i = 0; i < pat->count; i++)
        if (pat->segments[i].kind == SEG_JOKE)
            return DR_OK;
    return dr__fail(DR_E_INVALID_ARGUMENT, "layout pattern %zu: has no {joke}", which);
}

dr_status dr__layout_parse(const char *spec, dr_layout **out)
{
    dr_layout *layout;
    const char *p;
    dr_status rc = DR_OK;

    *out = NULL;
    if (!(layout = dr__calloc(1, sizeof *layout)) ||
        !(layout->spec = dr__strdup(spec ? spec : DR_LAYOUT_DEFAULT))) {
        dr__free(layout);
        return DR_E_NOMEM;
    }
    for (p = layout->spec; rc == DR_OK;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (layout->count == DR_LAYOUT_MAX_PATTERNS) {
            rc = dr__fail(DR_E_INVALID_ARGUMENT, "layout: more than %d patterns",
                          DR_LAYOUT_MAX_PATTERNS);
            break;
        }
        rc = parse_pattern(p, len, layout->count + 1, &layout->patterns[layout->count]);
        layout->count++;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (rc != DR_OK) {
        dr__layout_free(layout);
        return rc;
    }
    *out = layout;
    return DR_OK;
}

void dr__layout_free(dr_layout *layout)
{
    if (!layout)
        return;
    dr__free(layout->spec);
    dr__free(layout);
}

static int match_pattern(const layout_pattern *pat, const char *key, dr_key_fields *fields)
{
    const char *p = key;
    size_t i;

    memset(fields, 0, sizeof *fields);
    for (i = 0; i < pat->count; i++) {
        const layout_segment *seg = &pat->segments[i];
        const char *slash = strchr(p, '/');
        dr_key_span s;
        dr_key_span *target = NULL;

        s.ptr = p;
        s.len = slash ? (size_t)(slash - p) : strlen(p);
        /* The last segment of the pattern must be the key's last, and none is empty. */
        if (s.len == 0 || (slash != NULL) != (i + 1 < pat->count))
            return 0;
        if (seg->text.ptr && (s.len != seg->text.len || memcmp(s.ptr, seg->text.ptr, s.len)))
            return 0;
        switch (seg->kind) {
        case SEG_LITERAL:
        case SEG_ANY:
            break;
        case SEG_JOKE:
            target = &fields->joke;
            break;
        case SEG_DATE:
            if (!span_is_date(s))
                return 0;
            target = &fields->date;
            break;
        case SEG_MODE:
            if (!span_is_mode(s))
                return 0;
            target = &fields->mode;
            break;
        case SEG_AUTHOR:
            target = &fields->author;
            break;
        }
        if (target)
            *target = s;
        p = slash ? slash + 1 : p + s.len;
    }
    return 1;
}

int dr__layout_match(const dr_layout *layout, const char *key, dr_key_fields *fields)
{
    size_t i;
    for (i = 0; i < layout->count; i++)
        if (match_pattern(&layout->patterns[i], key, fields))
            return 1;
    memset(fields, 0, sizeof *fields);
    return 0;
}
