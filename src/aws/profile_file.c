#include "profile_file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "env.h"
#include "error.h"
#include "file.h"

/* Real shared files are a few kilobytes; a bigger one is not what it claims to be. */
#define DR_PROFILE_FILE_MAX ((size_t)1024 * 1024)

/* ---- the set --------------------------------------------------------------------- */

static void free_sections(dr_profile_sections *sections)
{
    size_t i, j;
    for (i = 0; i < sections->count; i++) {
        dr_profile_section *s = &sections->items[i];
        for (j = 0; j < s->count; j++) {
            dr__free(s->properties[j].name);
            dr__buf_free(&s->properties[j].value); /* marked secret: wiped */
        }
        dr__free(s->properties);
        dr__free(s->name);
    }
    dr__free(sections->items);
    memset(sections, 0, sizeof *sections);
}

void dr__profile_set_free(dr_profile_set *set)
{
    if (!set)
        return;
    free_sections(&set->profiles);
    free_sections(&set->sso_sessions);
    free_sections(&set->services);
}

/* Make room for one more element of `size` bytes in *items (count used, cap allocated). */
static dr_status reserve(void **items, size_t count, size_t *cap, size_t size)
{
    size_t want = *cap ? *cap * 2 : 4;
    void *grown;
    if (count < *cap)
        return DR_OK;
    if (!(grown = dr__reallocarray(*items, want, size)))
        return dr__fail(DR_E_NOMEM, "out of memory reading the shared files");
    *items = grown;
    *cap = want;
    return DR_OK;
}

static dr_profile_section *find_section(const dr_profile_sections *sections, dr_ini_span name)
{
    size_t i;
    for (i = 0; i < sections->count; i++)
        if (dr__ini_span_eq(name, sections->items[i].name))
            return &sections->items[i];
    return NULL;
}

static dr_status add_section(dr_profile_sections *sections, dr_ini_span name,
                             dr_profile_section **out)
{
    dr_profile_section *s;
    if ((*out = find_section(sections, name)) != NULL)
        return DR_OK;
    if (reserve((void **)&sections->items, sections->count, &sections->cap,
                sizeof *sections->items) != DR_OK)
        return DR_E_NOMEM;
    s = &sections->items[sections->count];
    memset(s, 0, sizeof *s);
    if (!(s->name = dr__strndup(name.ptr, name.len)))
        return dr__fail(DR_E_NOMEM, "out of memory reading the shared files");
    sections->count++;
    *out = s;
    return DR_OK;
}

/* Set `key` (any case) of `section` to `value`, replacing an earlier definition. */
static dr_status set_property(dr_profile_section *section, dr_ini_span key, dr_ini_span value,
                              dr_profile_file_kind origin, dr_profile_property **out)
{
    dr_profile_property *p = NULL;
    size_t i;
    for (i = 0; i < section->count && !p; i++)
        if (dr__ini_span_caseeq(key, section->properties[i].name))
            p = &section->properties[i];
    if (!p) {
        if (reserve((void **)&section->properties, section->count, &section->cap,
                    sizeof *section->properties) != DR_OK)
            return DR_E_NOMEM;
        p = &section->properties[section->count];
        memset(p, 0, sizeof *p);
        dr__buf_mark_secret(&p->value);
        if (!(p->name = dr__strndup(key.ptr, key.len)))
            return dr__fail(DR_E_NOMEM, "out of memory reading the shared files");
        for (i = 0; i < key.len; i++)
            if (p->name[i] >= 'A' && p->name[i] <= 'Z')
                p->name[i] = (char)(p->name[i] - 'A' + 'a');
        section->count++;
    }
    dr__buf_reset(&p->value);
    dr__buf_append(&p->value, value.ptr, value.len);
    p->origin = origin;
    *out = p;
    return dr__buf_ok(&p->value);
}

/* ---- parsing one file -------------------------------------------------------------- */

/* [A-Za-z0-9_-/.%@:+]+, the SDKs' rule for profile, section and property names. */
static int is_identifier(dr_ini_span s)
{
    size_t i;
    for (i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (c && strchr("_-/.%@:+", c))))
            return 0;
    }
    return s.len > 0;
}

/* How a config-file header names the default profile: `[profile default]` wins over
 * `[default]` in the same file, wherever each is. */
typedef enum default_form { NOT_DEFAULT, BARE_DEFAULT, PREFIXED_DEFAULT } default_form;

typedef struct merge_state {
    dr_profile_set *set;
    dr_profile_file_kind kind;
    int merging;                   /* second pass: the first only checks the syntax */
    int has_prefixed_default;      /* the file has [profile default]: [default] is ignored */
    dr_profile_section *section;   /* where properties go; NULL: an ignored section */
    dr_profile_property *property; /* where continuation lines go; NULL: ignored */
} merge_state;

/* Which list a header's section belongs to, and its name there; NULL when the file's
 * kind has no such section or the name is not an identifier. A header is `prefix name`
 * (split at the first white space) or a bare name. */
static dr_profile_sections *classify(const merge_state *m, dr_ini_span header,
                                     dr_ini_span *name, default_form *form)
{
    dr_ini_span prefix = header;
    int config = m->kind == DR_PROFILE_CONFIG_FILE;

    *form = NOT_DEFAULT;
    for (prefix.len = 0; prefix.len < header.len; prefix.len++)
        if (header.ptr[prefix.len] == ' ' || header.ptr[prefix.len] == '\t')
            break;
    if (prefix.len == header.len) { /* a bare name */
        *name = header;
        if (!config)
            return is_identifier(header) ? &m->set->profiles : NULL;
        if (!dr__ini_span_eq(header, "default"))
            return NULL; /* config-file profiles other than default need the prefix */
        *form = BARE_DEFAULT;
        return &m->set->profiles;
    }
    name->ptr = header.ptr + prefix.len;
    name->len = header.len - prefix.len;
    *name = dr__ini_trim(*name);
    if (!config || !is_identifier(*name))
        return NULL;
    if (dr__ini_span_eq(prefix, "profile")) {
        if (dr__ini_span_eq(*name, "default"))
            *form = PREFIXED_DEFAULT;
        return &m->set->profiles;
    }
    if (dr__ini_span_eq(prefix, "sso-session"))
        return &m->set->sso_sessions;
    if (dr__ini_span_eq(prefix, "services"))
        return &m->set->services;
    return NULL;
}

static dr_status on_section(dr_ini_span header, void *payload)
{
    merge_state *m = payload;
    dr_ini_span name;
    default_form form;
    dr_profile_sections *list = classify(m, header, &name, &form);

    m->section = NULL;
    m->property = NULL;
    if (!m->merging) {
        m->has_prefixed_default |= form == PREFIXED_DEFAULT;
        return DR_OK;
    }
    if (!list || (form == BARE_DEFAULT && m->has_prefixed_default))
        return DR_OK;
    return add_section(list, name, &m->section);
}

static dr_status on_property(dr_ini_span key, dr_ini_span value, void *payload)
{
    merge_state *m = payload;
    m->property = NULL;
    if (!m->merging || !m->section || !is_identifier(key))
        return DR_OK;
    return set_property(m->section, key, value, m->kind, &m->property);
}

static dr_status on_continuation(dr_ini_span line, void *payload)
{
    merge_state *m = payload;
    if (!m->property)
        return DR_OK;
    dr__buf_putc(&m->property->value, '\n');
    dr__buf_append(&m->property->value, line.ptr, line.len);
    return dr__buf_ok(&m->property->value);
}

dr_status dr__profile_set_parse(dr_profile_set *set, dr_profile_file_kind kind,
                                const char *text, size_t len, const char *display)
{
    static const dr_ini_handler handler = {on_section, on_property, on_continuation};
    merge_state m;
    dr_status rc;

    memset(&m, 0, sizeof m);
    m.set = set;
    m.kind = kind;
    /* A broken file is not half merged: the first pass finds any syntax error (and
     * [profile default]) before the second changes the set. */
    if ((rc = dr__ini_parse(text, len, display, &handler, &m)) != DR_OK)
        return rc;
    m.merging = 1;
    return dr__ini_parse(text, len, display, &handler, &m);
}

/* ---- the files ----------------------------------------------------------------------- */

static const char *file_variable(dr_profile_file_kind kind)
{
    return kind == DR_PROFILE_CREDENTIALS_FILE ? "AWS_SHARED_CREDENTIALS_FILE"
                                               : "AWS_CONFIG_FILE";
}

const char *dr__profile_file_display(dr_profile_file_kind kind)
{
    const char *configured = dr__env(file_variable(kind));
    if (configured)
        return configured;
    return kind == DR_PROFILE_CREDENTIALS_FILE ? "~/.aws/credentials" : "~/.aws/config";
}

dr_status dr__profile_file_path(dr_profile_file_kind kind, dr_buf *path)
{
    const char *display = dr__profile_file_display(kind);
    const char *home = dr__env("HOME");

    if (display[0] == '~' && (display[1] == '/' || display[1] == '\0')) {
        if (!home)
            return dr__fail(dr__env(file_variable(kind)) ? DR_E_CONFIG : DR_E_NOT_FOUND,
                            "HOME not set, cannot find %s", display);
        dr__buf_printf(path, "%s%s", home, display + 1);
    } else {
        dr__buf_puts(path, display);
    }
    return dr__buf_ok(path);
}

dr_status dr__profile_set_load(dr_profile_set *set)
{
    /* The credentials file last: where both files set a property, its value wins. */
    static const dr_profile_file_kind order[] = {DR_PROFILE_CONFIG_FILE,
                                                 DR_PROFILE_CREDENTIALS_FILE};
    dr_status rc = DR_OK;
    size_t i;

    for (i = 0; i < sizeof order / sizeof order[0] && rc == DR_OK; i++) {
        dr_buf path = DR_BUF_INIT, text = DR_BUF_SECRET_INIT;
        const char *display = dr__profile_file_display(order[i]);
        rc = dr__profile_file_path(order[i], &path);
        if (rc == DR_OK)
            rc = dr__file_read(dr__buf_cstr(&path), display, DR_PROFILE_FILE_MAX, DR_E_CONFIG,
                                   &text);
        if (rc == DR_OK)
            rc = dr__profile_set_parse(set, order[i], dr__buf_cstr(&text), text.len, display);
        else if (rc == DR_E_NOT_FOUND)
            rc = DR_OK;
        dr__buf_free(&path);
        dr__buf_free_secret(&text);
    }
    return rc;
}

/* ---- lookups ------------------------------------------------------------------------- */

const dr_profile_section *dr__profile_find(const dr_profile_sections *sections,
                                           const char *name)
{
    dr_ini_span span;
    span.ptr = name;
    span.len = strlen(name);
    return find_section(sections, span);
}

const dr_profile_property *dr__profile_property(const dr_profile_section *section,
                                                const char *name)
{
    size_t i;
    for (i = 0; section && i < section->count; i++)
        if (strcmp(section->properties[i].name, name) == 0)
            return &section->properties[i];
    return NULL;
}

int dr__profile_sub_property(const char *value, const char *name, dr_ini_span *out)
{
    int found = 0;
    while (*value) {
        const char *nl = strchr(value, '\n');
        size_t n = nl ? (size_t)(nl - value) : strlen(value);
        const char *eq = memchr(value, '=', n);
        if (eq) {
            dr_ini_span key = {value, (size_t)(eq - value)}, rest = {eq + 1, 0};
            rest.len = n - (size_t)(rest.ptr - value);
            if (dr__ini_span_eq(dr__ini_trim(key), name)) {
                *out = dr__ini_trim(rest);
                found = 1;
            }
        }
        value += n + (nl ? 1 : 0);
    }
    return found;
}
