/* BatchGetItem over any number of keys (ddb_batch.h). */
#include "ddb_batch.h"

#include <time.h>

#include "ddb.h"
#include "ddb_json.h"
#include "error.h"
#include "retry.h"

/* Before asking again for unprocessed keys, wait as the AWS SDKs advise for them: the
 * transport's exponential backoff with full jitter, throttling base. */
static void unprocessed_backoff(dr_client *c, uint32_t round)
{
    uint32_t ms = dr__retry_backoff_ms(c->retry_policy, round + 1, DR_E_THROTTLED,
                                       dr__random01(), 0);
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* What every request of one read asks for: the table's keys are added per request. */
typedef struct read_spec {
    const char *table;
    int consistent;
    const char *const *attrs; /* NULL: whole items */
    size_t attr_count;
} read_spec;

/* One request's worth of keys (owned), until none is left unprocessed. */
static dr_status get_chunk(dr_client *c, const read_spec *spec, json_t *keys,
                           dr_batch_item_fn fn, void *ctx)
{
    const char *table = spec->table;
    dr_status rc = DR_OK;
    uint32_t round = 0;

    while (rc == DR_OK && json_array_size(keys)) {
        json_t *req, *resp = NULL, *item, *unprocessed;
        size_t i;
        if (round >= DR_BATCH_GET_MAX_ROUNDS) {
            rc = dr__fail(DR_E_THROTTLED, "BatchGetItem left %zu keys of %s unprocessed after "
                                          "%u rounds", json_array_size(keys), table, round);
            break;
        }
        if (round)
            unprocessed_backoff(c, round);
        round++;
        req = json_pack("{s:{s:{s:O, s:b}}}", "RequestItems", table, "Keys", keys,
                        "ConsistentRead", spec->consistent);
        if (req && spec->attrs &&
            dr__ddb_project(json_object_get(json_object_get(req, "RequestItems"), table),
                            spec->attrs, spec->attr_count) != 0) {
            json_decref(req);
            req = NULL;
        }
        if (!req) {
            rc = dr__fail(DR_E_NOMEM, "out of memory building BatchGetItem");
            break;
        }
        rc = dr__ddb_call(c, "BatchGetItem", req, &resp, NULL);
        json_decref(req);
        if (rc != DR_OK)
            break;
        json_array_foreach(json_object_get(json_object_get(resp, "Responses"), table), i, item)
            if ((rc = fn(ctx, item)) != DR_OK)
                break;
        unprocessed = json_object_get(json_object_get(json_object_get(resp, "UnprocessedKeys"),
                                                      table), "Keys");
        json_decref(keys);
        keys = json_array_size(unprocessed) ? json_incref(unprocessed) : json_array();
        json_decref(resp);
        if (!keys && rc == DR_OK)
            rc = dr__fail(DR_E_NOMEM, "out of memory reading %s", table);
    }
    json_decref(keys);
    return rc;
}

dr_status dr__ddb_batch_get_attrs(dr_client *c, const char *table, const json_t *keys,
                                  int consistent, const char *const *attrs, size_t n_attrs,
                                  dr_batch_item_fn fn, void *ctx)
{
    read_spec spec = {table, consistent, attrs, n_attrs};
    size_t start, n = json_array_size(keys);
    dr_status rc = DR_OK;

    for (start = 0; start < n && rc == DR_OK; start += DR_BATCH_GET_MAX_KEYS) {
        json_t *chunk = json_array();
        size_t i;
        for (i = start; chunk && i < n && i < start + DR_BATCH_GET_MAX_KEYS; i++)
            if (json_array_append(chunk, json_array_get(keys, i)) != 0) {
                json_decref(chunk);
                chunk = NULL;
            }
        rc = chunk ? get_chunk(c, &spec, chunk, fn, ctx)
                   : dr__fail(DR_E_NOMEM, "out of memory building BatchGetItem keys");
    }
    return rc;
}

dr_status dr__ddb_batch_get(dr_client *c, const char *table, const json_t *keys, int consistent,
                            dr_batch_item_fn fn, void *ctx)
{
    return dr__ddb_batch_get_attrs(c, table, keys, consistent, NULL, 0, fn, ctx);
}
