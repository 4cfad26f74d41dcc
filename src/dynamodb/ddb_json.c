#include "ddb_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"

static json_t *wrap(const char *type, json_t *value)
{
    json_t *av;
    if (!value)
        return NULL;
    if (!(av = json_object())) {
        json_decref(value); /* wrap() owns value: released on every failure */
        return NULL;
    }
    if (json_object_set_new(av, type, value) != 0) {
        json_decref(av);
        return NULL;
    }
    return av;
}

json_t *dr__av_s(const char *s)
{
    return s ? wrap("S", json_string(s)) : NULL;
}

json_t *dr__av_n_u64(uint64_t n)
{
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRIu64, n);
    return wrap("N", json_string(digits));
}

json_t *dr__av_n_str(const char *decimal)
{
    return decimal ? wrap("N", json_string(decimal)) : NULL;
}

json_t *dr__av_bool(int b)
{
    return wrap("BOOL", json_boolean(b));
}

int dr__item_set(json_t *item, const char *name, json_t *value)
{
    if (!item || !value) {
        json_decref(value);
        return -1;
    }
    return json_object_set_new(item, name, value) == 0 ? 0 : -1;
}

static const char *typed_string(const json_t *item, const char *name, const char *type)
{
    const json_t *av = json_object_get(item, name);
    const json_t *v = av ? json_object_get(av, type) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *dr__av_get_s(const json_t *item, const char *name)
{
    return typed_string(item, name, "S");
}

const char *dr__av_get_n(const json_t *item, const char *name)
{
    return typed_string(item, name, "N");
}

int dr__parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        unsigned d;
        if (*s < '0' || *s > '9')
            return -1;
        d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int dr__av_get_u64(const json_t *item, const char *name, uint64_t *out)
{
    const char *n = dr__av_get_n(item, name);
    if (!n)
        return -1;
    return dr__parse_u64(n, out) == 0 ? 0 : -2;
}

int dr__av_get_bool(const json_t *item, const char *name, int *out)
{
    const json_t *av = json_object_get(item, name);
    const json_t *v = av ? json_object_get(av, "BOOL") : NULL;
    if (!json_is_boolean(v))
        return -1;
    *out = json_is_true(v);
    return 0;
}

static int dump_to_buf(const char *data, size_t len, void *payload)
{
    dr_buf *b = payload;
    dr__buf_append(b, data, len);
    return b->failed ? -1 : 0;
}

char *dr__json_dump(const json_t *value)
{
    /* Through a callback into our own buffer: json_dumps() would allocate with
     * jansson's allocator, which the host may have replaced. */
    dr_buf b = DR_BUF_INIT;
    if (json_dump_callback(value, dump_to_buf, &b, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
        dr__buf_free(&b);
        return NULL;
    }
    return dr__buf_detach(&b);
}

int dr__ddb_project(json_t *req, const char *const *attrs, size_t n)
{
    json_t *names = json_object_get(req, "ExpressionAttributeNames");
    char expr[DR_PROJECT_MAX * 7], ref[8];
    size_t i, len = 0;

    if (n < 1 || n > DR_PROJECT_MAX)
        return -1;
    if (!names && (json_object_set_new(req, "ExpressionAttributeNames", json_object()) != 0 ||
                   !(names = json_object_get(req, "ExpressionAttributeNames"))))
        return -1;
    for (i = 0; i < n; i++) {
        snprintf(ref, sizeof ref, "#p%zu", i);
        len += (size_t)snprintf(expr + len, sizeof expr - len, "%s%s", i ? ", " : "", ref);
        if (json_object_set_new(names, ref, json_string(attrs[i])) != 0)
            return -1;
    }
    return json_object_set_new(req, "ProjectionExpression", json_string(expr));
}
