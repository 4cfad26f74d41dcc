/* create_tables: both tables as docs/data-model.md describes them, plus the stats
 * table's top-performers index (GSI2, see docs/data-model.md) and the schema marker
 * saying that index is complete. Idempotent: a table that exists is left as it is. */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "ddb.h"
#include "ddb_json.h"
#include "error.h"
#include "keys.h"
#include "ops.h"
#include "schema.h"

#define DR_TABLE_WAIT_MS 60000

static json_t *attribute(const char *name, const char *type)
{
    return json_pack("{s:s, s:s}", "AttributeName", name, "AttributeType", type);
}

static json_t *key_schema(const char *hash, const char *range)
{
    return json_pack("[{s:s, s:s}, {s:s, s:s}]", "AttributeName", hash, "KeyType", "HASH",
                     "AttributeName", range, "KeyType", "RANGE");
}

static json_t *index(const char *name, const char *hash, const char *range)
{
    return json_pack("{s:s, s:o, s:{s:s}}", "IndexName", name, "KeySchema",
                     key_schema(hash, range), "Projection", "ProjectionType", "ALL");
}

/* Ratings: PK/SK; GSI1 (ALL_RATINGS by submittedAt), GSI2 (by author); stream with
 * both images for the aggregator; TTL on expiresAt is set separately. */
static json_t *ratings_table_request(const char *name)
{
    return json_pack(
        "{s:s, s:s, s:[o, o, o, o, o, o], s:o, s:[o, o], s:{s:b, s:s}}", "TableName", name,
        "BillingMode", "PAY_PER_REQUEST", "AttributeDefinitions",
        attribute(DR_ATTR_PK, "S"), attribute(DR_ATTR_SK, "S"), attribute(DR_ATTR_GSI1PK, "S"),
        attribute(DR_ATTR_GSI1SK, "S"), attribute(DR_ATTR_GSI2PK, "S"),
        attribute(DR_ATTR_GSI2SK, "S"), "KeySchema", key_schema(DR_ATTR_PK, DR_ATTR_SK),
        "GlobalSecondaryIndexes", index(DR_INDEX_GSI1, DR_ATTR_GSI1PK, DR_ATTR_GSI1SK),
        index(DR_INDEX_GSI2, DR_ATTR_GSI2PK, DR_ATTR_GSI2SK), "StreamSpecification",
        "StreamEnabled", 1, "StreamViewType", "NEW_AND_OLD_IMAGES");
}

/* Stats: PK/SK; GSI1 (TOP_PERFORMERS by average, a number, as the JavaScript services
 * query it); GSI2 (the library's top-performers index with a total order). */
static json_t *stats_table_request(const char *name)
{
    return json_pack("{s:s, s:s, s:[o, o, o, o, o, o], s:o, s:[o, o]}", "TableName", name,
                     "BillingMode", "PAY_PER_REQUEST", "AttributeDefinitions",
                     attribute(DR_ATTR_PK, "S"), attribute(DR_ATTR_SK, "S"),
                     attribute(DR_ATTR_GSI1PK, "S"), attribute(DR_ATTR_GSI1SK, "N"),
                     attribute(DR_ATTR_GSI2PK, "S"), attribute(DR_ATTR_GSI2SK, "S"),
                     "KeySchema", key_schema(DR_ATTR_PK, DR_ATTR_SK),
                     "GlobalSecondaryIndexes", index(DR_INDEX_GSI1, DR_ATTR_GSI1PK, DR_ATTR_GSI1SK),
                     index(DR_TOP_INDEX, DR_ATTR_GSI2PK, DR_ATTR_GSI2SK));
}

static dr_status create_one(dr_client *c, json_t *request, const char *name, int *created)
{
    dr_status rc;
    *created = 0;
    if (!request)
        return dr__fail(DR_E_NOMEM, "out of memory building CreateTable for %s", name);
    rc = dr__ddb_call(c, "CreateTable", request, NULL, NULL);
    json_decref(request);
    if (rc == DR_E_IN_USE)
        return DR_OK; /* it exists already */
    if (rc == DR_OK)
        *created = 1;
    return rc;
}

static int table_active(const json_t *table)
{
    const char *status = json_string_value(json_object_get(table, "TableStatus"));
    json_t *index;
    size_t i;
    if (!status || strcmp(status, "ACTIVE") != 0)
        return 0;
    json_array_foreach(json_object_get(table, "GlobalSecondaryIndexes"), i, index) {
        const char *s = json_string_value(json_object_get(index, "IndexStatus"));
        if (s && strcmp(s, "ACTIVE") != 0)
            return 0;
    }
    return 1;
}

dr_status dr__table_wait_active(dr_client *c, const char *name, int timeout_ms)
{
    json_t *req = json_pack("{s:s}", "TableName", name);
    struct timespec pause = {0, 100 * 1000000L};
    int waited_ms;
    dr_status rc = DR_OK;

    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory");
    for (waited_ms = 0; waited_ms < timeout_ms; waited_ms += 100) {
        json_t *resp = NULL;
        int active;
        if ((rc = dr__ddb_call(c, "DescribeTable", req, &resp, NULL)) != DR_OK)
            break;
        active = table_active(json_object_get(resp, "Table"));
        json_decref(resp);
        if (active)
            break;
        nanosleep(&pause, NULL);
    }
    json_decref(req);
    if (rc == DR_OK && waited_ms >= timeout_ms)
        rc = dr__fail(DR_E_TIMEOUT, "table %s did not become ACTIVE within %d s", name,
                      timeout_ms / 1000);
    return rc;
}

dr_status dr__schema_mark_complete(dr_client *c)
{
    char now[25];
    json_t *item = dr__schema_key(), *req = NULL;
    dr_status rc;

    dr__iso8601_now(now);
    if (item && !dr__item_set(item, DR_ATTR_SCHEMA_VERSION, dr__av_n_u64(DR_SCHEMA_VERSION)) &&
        !dr__item_set(item, DR_ATTR_TOP_INDEX, dr__av_s(DR_TOP_INDEX)) &&
        !dr__item_set(item, DR_ATTR_MARKED_AT, dr__av_s(now)))
        req = json_pack("{s:s, s:O}", "TableName", c->stats_table, "Item", item);
    json_decref(item);
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory building the schema marker");
    rc = dr__ddb_call(c, "PutItem", req, NULL, NULL);
    json_decref(req);
    if (rc != DR_OK)
        return dr__fail_context(rc, "writing the schema marker to %s", c->stats_table);
    atomic_store(&c->schema_state, DR_SCHEMA_COMPLETE);
    return DR_OK;
}

/* TTL on expiresAt: old daily ratings (ratings table) and the stream aggregator's
 * markers (stats table; aggregates never carry it). */
static dr_status enable_ttl(dr_client *c, const char *table)
{
    json_t *req = json_pack("{s:s, s:{s:b, s:s}}", "TableName", table,
                            "TimeToLiveSpecification", "Enabled", 1, "AttributeName",
                            DR_ATTR_EXPIRES_AT);
    dr_status rc;
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory");
    rc = dr__ddb_call(c, "UpdateTimeToLive", req, NULL, NULL);
    json_decref(req);
    return rc;
}

DR_API dr_status dr_client_create_tables(dr_client *c, uint32_t flags)
{
    int created_ratings = 0, created_stats = 0;
    dr_status rc;

    if (!c)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_create_tables: client is NULL");
    if (flags & ~DR_CREATE_TABLES_WAIT)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_create_tables: unknown flags 0x%x",
                        (unsigned)flags);
    if ((rc = create_one(c, ratings_table_request(c->ratings_table), c->ratings_table,
                         &created_ratings)) != DR_OK ||
        (rc = create_one(c, stats_table_request(c->stats_table), c->stats_table,
                         &created_stats)) != DR_OK)
        return dr__fail_context(rc, "create_tables");
    if (!(flags & DR_CREATE_TABLES_WAIT))
        return DR_OK;
    if ((rc = dr__table_wait_active(c, c->ratings_table, DR_TABLE_WAIT_MS)) != DR_OK ||
        (rc = dr__table_wait_active(c, c->stats_table, DR_TABLE_WAIT_MS)) != DR_OK)
        return rc;
    /* TTL can only be set on an ACTIVE table; only on those created here. */
    if ((created_ratings && (rc = enable_ttl(c, c->ratings_table)) != DR_OK) ||
        (created_stats && (rc = enable_ttl(c, c->stats_table)) != DR_OK))
        return dr__fail_context(rc, "create_tables: enabling TTL on expiresAt");
    /* A new stats table has the complete index from the start: mark it so the dashboard
     * takes its fast path at once. A table that existed is left to the upgrade. */
    if (created_stats && (rc = dr__schema_mark_complete(c)) != DR_OK)
        return dr__fail_context(rc, "create_tables");
    dr__logf(&c->log, DR_LOG_INFO, "tables %s and %s are ready", c->ratings_table, c->stats_table);
    return DR_OK;
}
