/* read_stats: one strongly consistent GetItem of the joke's stats item; for many jokes,
 * one BatchGetItem per 100. */
#include <string.h>

#include "alloc.h"
#include "ddb_batch.h"
#include "ddb_json.h"
#include "error.h"
#include "keys.h"
#include "ops.h"

/* The statistics of `joke_id` from its stats item (NULL: none). */
static dr_status stats_of_item(const char *joke_id, const json_t *item, dr_stats **out)
{
    dr_counts counts;
    dr_status rc = dr__counts_from_item(item, &counts);
    if (rc == DR_OK &&
        !(*out = dr__stats_new(joke_id, &counts, dr__av_get_s(item, DR_ATTR_LAST_RATED_AT),
                               item != NULL)))
        rc = dr__fail(DR_E_NOMEM, "out of memory creating stats");
    return rc;
}

dr_status dr__read_stats(dr_client *c, const char *joke_id, dr_stats **out)
{
    json_t *item = NULL;
    dr_stats *ignored = NULL;
    dr_status rc = dr__read_joke_stats_item(c, joke_id, &item);
    if (rc == DR_OK)
        rc = stats_of_item(joke_id, item, out ? out : &ignored);
    dr_stats_free(ignored);
    json_decref(item);
    return rc;
}

/* ---- many jokes -------------------------------------------------------------------- */

typedef struct many_read {
    const char *const *joke_ids;
    size_t n;
    json_t **items; /* n: joke_ids[i]'s stats item, NULL until read (or when none) */
} many_read;

static dr_status keep_item(void *ctx, json_t *item)
{
    many_read *m = ctx;
    const char *joke = dr__joke_id_of_stats_pk(dr__av_get_s(item, DR_ATTR_PK));
    size_t i;
    for (i = 0; joke && i < m->n; i++) /* a joke asked for twice gets both places */
        if (!m->items[i] && !strcmp(m->joke_ids[i], joke))
            m->items[i] = json_incref(item);
    return DR_OK;
}

DR_API dr_status dr_client_read_stats_many(dr_client *c, const char *const *joke_ids, size_t n,
                                           dr_stats **out)
{
    many_read m;
    json_t *keys = NULL;
    dr_status rc = DR_OK;
    size_t i, j;

    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_read_stats_many: out is NULL");
    if (n < 1 || n > DR_READ_STATS_MAX_JOKES) /* out is not touched: n is no length */
        return dr__fail(DR_E_INVALID_ARGUMENT,
                        "dr_client_read_stats_many: n must be 1..%d, not %zu",
                        DR_READ_STATS_MAX_JOKES, n);
    for (i = 0; i < n; i++)
        out[i] = NULL;
    if (!c || !joke_ids)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_read_stats_many: %s is NULL",
                        c ? "joke_ids" : "client");
    for (i = 0; i < n; i++)
        if ((rc = dr__validate_key_part("jokeId", joke_ids[i], DR_MAX_JOKE_ID_BYTES)) != DR_OK)
            return dr__fail_context(rc, "joke_ids[%zu]", i);
    m.joke_ids = joke_ids;
    m.n = n;
    if (!(m.items = dr__calloc(n, sizeof *m.items)) || !(keys = json_array()))
        rc = dr__fail(DR_E_NOMEM, "out of memory reading stats");
    /* One key per joke: BatchGetItem refuses a request naming an item twice. */
    for (i = 0; i < n && rc == DR_OK; i++) {
        for (j = 0; j < i && strcmp(joke_ids[j], joke_ids[i]); j++)
            ;
        if (j == i && json_array_append_new(keys, dr__stats_key(joke_ids[i])) != 0)
            rc = dr__fail(DR_E_NOMEM, "out of memory reading stats");
    }
    if (rc == DR_OK)
        rc = dr__ddb_batch_get_attrs(c, c->stats_table, keys, 1, dr__stats_read_attr,
                                     DR_STATS_READ_ATTRS, keep_item, &m);
    for (i = 0; i < n && rc == DR_OK; i++)
        rc = stats_of_item(joke_ids[i], m.items[i], &out[i]);
    for (i = 0; m.items && i < n; i++) {
        json_decref(m.items[i]);
        if (rc != DR_OK) {
            dr_stats_free(out[i]);
            out[i] = NULL;
        }
    }
    dr__free(m.items);
    json_decref(keys);
    return rc;
}

DR_API dr_status dr_client_read_stats(dr_client *c, const char *joke_id, dr_stats **out)
{
    dr_status rc;

    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_read_stats: out is NULL");
    *out = NULL;
    if (!c)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_read_stats: client is NULL");
    if ((rc = dr__validate_key_part("jokeId", joke_id, DR_MAX_JOKE_ID_BYTES)) != DR_OK)
        return rc;
    return dr__read_stats(c, joke_id, out);
}
