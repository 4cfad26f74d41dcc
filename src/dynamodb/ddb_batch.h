/* BatchGetItem over any number of keys: at most 100 per request, the keys DynamoDB
 * leaves unprocessed asked for again after the SDKs' backoff, every item returned handed
 * to a callback. The dashboard's GLOBAL read, the import's marker check and the
 * verification's read of the stats items all go through it. */
#ifndef DR_DDB_BATCH_H
#define DR_DDB_BATCH_H

#include <jansson.h>

#include "client.h"

/* BatchGetItem's limit per request. */
#define DR_BATCH_GET_MAX_KEYS 100
/* Rounds of asking again for unprocessed keys before giving up (DR_E_THROTTLED). */
#define DR_BATCH_GET_MAX_ROUNDS 10

/* Called with each item found (borrowed: json_incref keeps it); a status other than DR_OK
 * stops the read. */
typedef dr_status (*dr_batch_item_fn)(void *ctx, json_t *item);

/* Read the items of `keys` (an array of {"PK":..,"SK":..} key objects; borrowed) from
 * `table`, strongly consistent when `consistent`. Items are handed over in no particular
 * order; keys without an item are simply absent. Errors: the transport's, DR_E_THROTTLED
 * when keys stay unprocessed, DR_E_NOMEM, or what `fn` returned. */
dr_status dr__ddb_batch_get(dr_client *c, const char *table, const json_t *keys, int consistent,
                            dr_batch_item_fn fn, void *ctx);
/* The same, asking only for `attrs` (n names, dr__ddb_project; the key attributes the
 * callback needs must be among them). */
dr_status dr__ddb_batch_get_attrs(dr_client *c, const char *table, const json_t *keys,
                                  int consistent, const char *const *attrs, size_t n,
                                  dr_batch_item_fn fn, void *ctx);

#endif
