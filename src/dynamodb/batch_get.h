/* BatchGetItem of any number of keys: the service's 100 keys per request, and the keys it
 * leaves unprocessed under load asked for again, as the AWS SDKs advise. */
#ifndef DR_BATCH_GET_H
#define DR_BATCH_GET_H

#include <jansson.h>

#include "client.h"

/* BatchGetItem's limit of keys per request. */
#define DR_BATCH_GET_MAX_KEYS 100
/* Rounds of one request's unprocessed keys before giving up (DR_E_THROTTLED). */
#define DR_BATCH_GET_MAX_ROUNDS 10

/* Called with each item returned (in no particular order); a status other than DR_OK
 * stops the reads and is returned. */
typedef dr_status (*dr_batch_get_fn)(void *ctx, const json_t *item);

/* Read the items of `keys` (an array of key objects, borrowed) from `table` with strongly
 * consistent BatchGetItem requests of at most DR_BATCH_GET_MAX_KEYS keys, calling `each`
 * per item found (keys without an item are not reported). Unprocessed keys are asked for
 * again after the transport's throttling backoff. `what` names the keys in errors
 * ("GLOBAL keys"). Errors as dr__ddb_call, DR_E_THROTTLED, DR_E_NOMEM. */
dr_status dr__batch_get(dr_client *c, const char *table, const json_t *keys, const char *what,
                        dr_batch_get_fn each, void *ctx);

#endif
