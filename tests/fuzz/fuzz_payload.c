/* The old app's rating objects (payload.h) with keys from the fuzz input through the default
 * layout: the first line is the object key, the rest the payload, read as exact-size input.
 * Every entry returned must pass the library's own setters (so the import never builds a
 * rating it cannot write), every reject must name the key, and the identity of each entry
 * must be a valid idempotency key. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "identity.h"
#include "layout.h"
#include "payload.h"
#include "validate.h"

static dr_layout *g_layout;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t key_len = nl ? (size_t)(nl - data) : 0, i;
    char *key = fuzz_cstr(data, key_len), *body;
    size_t body_len = nl ? size - key_len - 1 : size;
    char identity[DR_IMPORT_KEY_LEN + 1];
    dr_payload p = DR_PAYLOAD_INIT;
    dr_key_fields fields;
    int matched;

    if (!g_layout && dr__layout_parse(NULL, &g_layout) != DR_OK)
        abort();
    body = fuzz_copy(nl ? nl + 1 : data, body_len);
    matched = dr__layout_match(g_layout, key, &fields);
    if (dr__payload_parse(key, matched ? &fields : NULL, body, body_len, &p) == DR_OK) {
        for (i = 0; i < p.count; i++) {
            const dr_import_entry *e = &p.entries[i];
            dr_rating *r = NULL;
            FUZZ_CHECK(e->stars >= 1 && e->stars <= 5);
            FUZZ_CHECK(dr_rating_new(&r, e->joke_id, e->stars) == DR_OK);
            FUZZ_CHECK(dr_rating_set_joke_text(r, e->joke_text) == DR_OK);
            FUZZ_CHECK(dr_rating_set_author(r, e->author) == DR_OK);
            FUZZ_CHECK(dr_rating_set_mode(r, e->mode) == DR_OK);
            FUZZ_CHECK(dr_rating_set_date(r, e->date) == DR_OK);
            FUZZ_CHECK(!e->submitted_at || dr__submitted_at_valid(e->submitted_at));
            FUZZ_CHECK(dr__import_identity("bucket", key, e->index, identity) == DR_OK);
            FUZZ_CHECK(dr_rating_set_idempotency_key(r, identity) == DR_OK);
            dr_rating_free(r);
        }
        for (i = 0; i < p.reject_count; i++)
            FUZZ_CHECK(strncmp(p.rejects[i].reason, key, strlen(key)) == 0);
        FUZZ_CHECK(p.count + p.reject_count > 0 || body_len > 0);
    }
    dr__payload_free(&p);
    free(key);
    free(body);
    return 0;
}
