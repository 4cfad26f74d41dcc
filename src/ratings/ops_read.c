/* read_stats: one strongly consistent GetItem of the joke's stats item. */
#include "ddb_json.h"
#include "error.h"
#include "keys.h"
#include "ops.h"

dr_status dr__read_stats(dr_client *c, const char *joke_id, dr_stats **out)
{
    json_t *item = NULL;
    dr_counts counts;
    dr_status rc = dr__get_joke_stats_item(c, joke_id, &item);
    if (rc == DR_OK)
        rc = dr__counts_from_item(item, &counts);
    if (rc == DR_OK && out &&
        !(*out = dr__stats_new(joke_id, &counts, dr__av_get_s(item, DR_ATTR_LAST_RATED_AT),
                               item != NULL)))
        rc = dr__fail(DR_E_NOMEM, "out of memory creating stats");
    json_decref(item);
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
