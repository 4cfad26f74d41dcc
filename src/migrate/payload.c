/* The old app's payloads (payload.h). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "payload.h"
#include "timeutil.h"
#include "validate.h"
#include "validate.h"

void dr__payload_free(dr_payload *payload)
{
    size_t i;
    if (!payload)
        return;
    for (i = 0; i < payload->count; i++) {
        dr_import_entry *e = &payload->entries[i];
        dr__free(e->joke_id);
        dr__free(e->joke_text);
        dr__free(e->author);
        dr__free(e->mode);
        dr__free(e->date);
        dr__free(e->submitted_at);
    }
    for (i = 0; i < payload->reject_count; i++)
        dr__free(payload->rejects[i].reason);
    dr__free(payload->entries);
    dr__free(payload->rejects);
    memset(payload, 0, sizeof *payload);
}


static dr_status add_reject(dr_payload *out, const char *key, size_t index, const char *why)
{
    dr_buf reason = DR_BUF_INIT;
    if (out->reject_count == out->reject_cap) {
        size_t cap = out->reject_cap ? out->reject_cap * 2 : 4;
        dr_import_reject *grown = dr__reallocarray(out->rejects, cap, sizeof *grown);
        if (!grown)
            return DR_E_NOMEM;
        out->rejects = grown;
        out->reject_cap = cap;
    }
    if (index == DR_PAYLOAD_WHOLE_OBJECT)
        dr__buf_printf(&reason, "%s: ", key);
    else
        dr__buf_printf(&reason, "%s entry %zu: ", key, index);
    dr__buf_puts(&reason, why);
    if (dr__buf_ok(&reason) != DR_OK)
        return DR_E_NOMEM;
    out->rejects[out->reject_count].index = index;
    out->rejects[out->reject_count].reason = dr__buf_detach(&reason);
    out->reject_count++;
    return DR_OK;
}

/* The stars of a "rating" value, or 0 when it is not a whole number 1..5. */
static int read_stars(const json_t *v)
{
    double d;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        return i >= 1 && i <= 5 ? (int)i : 0;
    }
    if (json_is_real(v)) {
        d = json_real_value(v);
    } else if (json_is_string(v)) {
        /* Number("4") as the old app read it: surrounding white space is allowed. */
        const char *s = json_string_value(v);
        char *end;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            return 0;
        d = strtod(s, &end);
        while (isspace((unsigned char)*end))
            end++;
        if (*end)
            return 0;
    } else {
        return 0;
    }
    return isfinite(d) && d == floor(d) && d >= 1 && d <= 5 ? (int)d : 0;
}

/* A string field: the payload's `name` (else `alt`), else the key's span. 0 with *why
 * set when the payload's value is neither a string nor null. */
static int pick_string(const json_t *obj, const char *name, const char *alt,
                       const dr_key_span *from_key, char **out, const char **why)
{
    const json_t *v = json_object_get(obj, name);
    if ((!v || json_is_null(v)) && alt)
        v = json_object_get(obj, alt), name = alt;
    *out = NULL;
    if (v && json_is_string(v)) {
        *out = dr__strdup(json_string_value(v));
    } else if (v && !json_is_null(v)) {
        *why = name;
        return 0;
    } else if (from_key && from_key->ptr) {
        *out = dr__strndup(from_key->ptr, from_key->len);
    } else {
        return 1;
    }
    return *out ? 1 : -1;
}

static dr_status read_entry(const char *key, size_t index, const json_t *obj,
                            const dr_key_fields *fields, dr_payload *out)
{
    static const dr_key_fields none;
    dr_import_entry e;
    const json_t *joke = json_object_get(obj, "jokeId");
    const char *why = NULL;
    char number[32];
    dr_status rc = DR_OK;

    if (!fields)
        fields = &none;
    memset(&e, 0, sizeof e);
    e.index = index;
    if (!json_is_object(obj))
        return add_reject(out, key, index, "not a JSON object");
    if (!json_object_get(obj, "rating") || json_is_null(json_object_get(obj, "rating")))
        return add_reject(out, key, index, "no rating");
    if (!(e.stars = read_stars(json_object_get(obj, "rating"))))
        return add_reject(out, key, index, "rating is not a whole number 1..5");
    if (json_is_integer(joke)) {
        /* Ids the old app kept as numbers are the same ids as text. */
        snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(joke));
        e.joke_id = dr__strdup(number);
        rc = e.joke_id ? DR_OK : DR_E_NOMEM;
    } else if (pick_string(obj, "jokeId", NULL, &fields->joke, &e.joke_id, &why) < 0) {
        rc = DR_E_NOMEM;
    }
    if (rc == DR_OK && !why &&
        (pick_string(obj, "joke", "jokeText", NULL, &e.joke_text, &why) < 0 ||
         pick_string(obj, "author", NULL, &fields->author, &e.author, &why) < 0 ||
         pick_string(obj, "mode", NULL, &fields->mode, &e.mode, &why) < 0 ||
         pick_string(obj, "date", "dateKey", &fields->date, &e.date, &why) < 0 ||
         pick_string(obj, "submittedAt", NULL, NULL, &e.submitted_at, &why) < 0))
        rc = DR_E_NOMEM;
    if (rc == DR_OK && why) {
        char text[64];
        snprintf(text, sizeof text, "%s is not a string", why);
        rc = add_reject(out, key, index, text);
    } else if (rc == DR_OK && !e.joke_id) {
        rc = add_reject(out, key, index, "no joke id");
    } else if (rc == DR_OK &&
               ((rc = dr__validate_key_part("joke id", e.joke_id, DR_MAX_JOKE_ID_BYTES)) ||
                (e.joke_text &&
                 (rc = dr__validate_text("joke text", e.joke_text, DR_MAX_JOKE_TEXT_BYTES))) ||
                (e.author &&
                 (rc = dr__validate_key_part("author", e.author, DR_MAX_AUTHOR_BYTES))) ||
                (e.mode && (rc = dr__validate_mode(e.mode))) ||
                (e.date && (rc = dr__validate_date(e.date))))) {
        rc = rc == DR_E_NOMEM ? rc : add_reject(out, key, index, dr_last_error_message());
    } else if (rc == DR_OK && e.submitted_at && !dr__submitted_at_valid(e.submitted_at)) {
        rc = add_reject(out, key, index, "submittedAt is not an ISO 8601 time");
    } else if (rc == DR_OK) {
        if (out->count == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 4;
            dr_import_entry *grown = dr__reallocarray(out->entries, cap, sizeof *grown);
            if (!grown) {
                rc = DR_E_NOMEM;
                goto fail;
            }
            out->entries = grown;
            out->cap = cap;
        }
        out->entries[out->count++] = e;
        return DR_OK;
    }
fail:
    dr__free(e.joke_id);
    dr__free(e.joke_text);
    dr__free(e.author);
    dr__free(e.mode);
    dr__free(e.date);
    dr__free(e.submitted_at);
    return rc;
}

dr_status dr__payload_parse(const char *key, const dr_key_fields *fields, const char *data,
                            size_t len, dr_payload *out)
{
    json_error_t err;
    json_t *doc, *list = NULL;
    char where[64];
    dr_status rc = DR_OK;
    size_t i;

    dr__payload_free(out);
    if (len > DR_PAYLOAD_MAX_BYTES)
        return add_reject(out, key, DR_PAYLOAD_WHOLE_OBJECT, "larger than 1 MiB");
    if (!(doc = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err))) {
        snprintf(where, sizeof where, "not valid JSON (line %d column %d)", err.line,
                 err.column);
        return add_reject(out, key, DR_PAYLOAD_WHOLE_OBJECT, where);
    }
    if (json_is_array(doc))
        list = doc;
    else if (json_is_object(doc) && json_object_get(doc, "entries"))
        list = json_object_get(doc, "entries");
    else if (json_is_object(doc) && json_object_get(doc, "ratings"))
        list = json_object_get(doc, "ratings");
    if (list && !json_is_array(list))
        rc = add_reject(out, key, DR_PAYLOAD_WHOLE_OBJECT, "entries/ratings is not an "
                        "array");
    else if (list)
        for (i = 0; rc == DR_OK && i < json_array_size(list); i++)
            rc = read_entry(key, i, json_array_get(list, i), fields, out);
    else if (json_is_object(doc))
        rc = read_entry(key, 0, doc, fields, out);
    else
        rc = add_reject(out, key, DR_PAYLOAD_WHOLE_OBJECT, "neither a rating, an array of "
                        "them nor an object with entries");
    json_decref(doc);
    if (rc != DR_OK)
        dr__payload_free(out);
    return rc;
}
