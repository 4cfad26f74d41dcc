/* upgrade_tables: a stats table in the original JavaScript layout (terraform: GSI1 only;
 * items written by the original aggregator: no statsVersion, GSI1 keys on every joke,
 * uniqueJokes never counted) brought to this library's layout, in three idempotent
 * steps: add the GSI2 index, backfill every joke's stats item, write the schema marker.
 * A run stopped anywhere and started again converges: each item's step is conditional
 * on the item being as it was read, and an item already done is recognised as done. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ddb.h"
#include "ddb_json.h"
#include "error.h"
#include "keys.h"
#include "ops.h"
#include "retry.h"
#include "schema.h"

/* DynamoDB builds a new index over every item before it turns ACTIVE: minutes on a
 * large table. A call that times out can simply be repeated. */
#define DR_INDEX_WAIT_MS (10 * 60 * 1000)
/* Attempts at one item that keeps changing under the upgrade (live writers). */
#define DR_UPGRADE_ITEM_ATTEMPTS 10

typedef struct upgrade {
    dr_client *c;
    dr_upgrade_progress_fn fn;
    void *payload;
    uint64_t scanned, updated, estimate;
    int stop;
} upgrade;

static void report(upgrade *u, dr_upgrade_phase phase)
{
    if (u->fn && u->fn(phase, u->scanned, u->updated, u->estimate, u->payload) != 0)
        u->stop = 1;
}

/* Whether the stats table has the index, its item count, and its provisioned throughput
 * (NULL for on-demand tables; a new index on a provisioned table needs one). */
static dr_status describe(dr_client *c, int *has_index, uint64_t *estimate,
                          json_t **throughput)
{
    json_t *req = json_pack("{s:s}", "TableName", c->stats_table), *resp = NULL, *table, *gsi;
    const char *billing;
    dr_status rc;
    size_t i;

    *has_index = 0;
    *estimate = 0;
    *throughput = NULL;
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory building DescribeTable");
    rc = dr__ddb_call(c, "DescribeTable", req, &resp, NULL);
    json_decref(req);
    if (rc != DR_OK)
        return rc;
    table = json_object_get(resp, "Table");
    json_array_foreach(json_object_get(table, "GlobalSecondaryIndexes"), i, gsi) {
        const char *name = json_string_value(json_object_get(gsi, "IndexName"));
        *has_index |= name && !strcmp(name, DR_TOP_INDEX);
    }
    if (json_integer_value(json_object_get(table, "ItemCount")) > 0)
        *estimate = (uint64_t)json_integer_value(json_object_get(table, "ItemCount"));
    billing = json_string_value(
        json_object_get(json_object_get(table, "BillingModeSummary"), "BillingMode"));
    if (!(billing && !strcmp(billing, "PAY_PER_REQUEST"))) {
        json_t *pt = json_object_get(table, "ProvisionedThroughput");
        *throughput = json_pack("{s:O?, s:O?}", "ReadCapacityUnits",
                                json_object_get(pt, "ReadCapacityUnits"), "WriteCapacityUnits",
                                json_object_get(pt, "WriteCapacityUnits"));
    }
    json_decref(resp);
    return DR_OK;
}

/* UpdateTable creating GSI2 with the key schema and projection create_tables gives it. */
static dr_status add_index(dr_client *c, json_t *throughput)
{
    json_t *create, *req = NULL;
    dr_status rc;

    create = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:{s:s}}", "IndexName", DR_TOP_INDEX,
                       "KeySchema", "AttributeName", DR_ATTR_GSI2PK, "KeyType", "HASH",
                       "AttributeName", DR_ATTR_GSI2SK, "KeyType", "RANGE", "Projection",
                       "ProjectionType", "ALL");
    if (create && throughput && json_object_size(throughput) == 2 &&
        json_object_set(create, "ProvisionedThroughput", throughput) != 0) {
        json_decref(create);
        create = NULL;
    }
    if (create)
        req = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:[{s:o}]}", "TableName",
                        c->stats_table, "AttributeDefinitions", "AttributeName", DR_ATTR_GSI2PK,
                        "AttributeType", "S", "AttributeName", DR_ATTR_GSI2SK, "AttributeType", "S",
                        "GlobalSecondaryIndexUpdates", "Create", create);
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory building UpdateTable");
    rc = dr__ddb_call(c, "UpdateTable", req, NULL, NULL);
    json_decref(req);
    if (rc != DR_OK)
        return dr__fail_context(rc, "adding index %s to %s", DR_TOP_INDEX, c->stats_table);
    dr__logf(&c->log, DR_LOG_INFO, "upgrade: creating index %s on %s", DR_TOP_INDEX,
             c->stats_table);
    return DR_OK;
}

/* SET (or REMOVE) of a joke's index keys exactly as the library's writes leave them:
 * GSI2 from 3 ratings on, GSI1 too when unsharded (the JavaScript readers' index);
 * below 3 ratings none (the original aggregator put GSI1 keys on every joke). */
static int index_keys(dr_client *c, const char *joke_id, const dr_counts *counts,
                      dr_buf *set, dr_buf *remove, json_t *values, dr_buf *rank)
{
    char avg_text[16], partition[48];
    uint32_t avg;
    int failed = 0;

    if (counts->total < DR_TOP_MIN_RATINGS) {
        dr__buf_puts(remove, " REMOVE " DR_ATTR_GSI1PK ", " DR_ATTR_GSI1SK);
        return 0;
    }
    avg = dr__average_hundredths(counts->score, counts->total);
    dr__format_hundredths(avg, avg_text);
    dr__top_partition(c->global_shards, joke_id, partition);
    dr__top_sort_key(rank, avg, counts->total, joke_id);
    if (c->global_shards <= 1) {
        dr__buf_puts(set, ", " DR_ATTR_GSI1PK " = :top, " DR_ATTR_GSI1SK " = :avg");
        failed |= dr__item_set(values, ":top", dr__av_s(DR_GSI_TOP_PERFORMERS));
        failed |= dr__item_set(values, ":avg", dr__av_n_str(avg_text));
    }
    dr__buf_puts(set, ", " DR_ATTR_GSI2PK " = :toppart, " DR_ATTR_GSI2SK " = :rank");
    failed |= dr__item_set(values, ":toppart", dr__av_s(partition));
    failed |= dr__item_set(values, ":rank", dr__av_s(dr__buf_cstr(rank)));
    return failed;
}

typedef enum step_result { STEP_DONE, STEP_NOTHING, STEP_CHANGED } step_result;

/* One attempt at one item as read: the request that brings it to the library's layout,
 * sent; STEP_CHANGED when the item changed since it was read. */
static dr_status upgrade_step(dr_client *c, const char *joke_id, const json_t *item,
                              step_result *result)
{
    dr_buf set = DR_BUF_INIT, remove = DR_BUF_INIT, rank = DR_BUF_INIT;
    json_t *values = json_object(), *update = NULL, *req = NULL;
    dr_ddb_error err = DR_DDB_ERROR_INIT;
    const json_t *version = json_object_get(item, DR_ATTR_STATS_VERSION);
    const char *operation;
    dr_counts counts;
    dr_status rc;
    int failed = 0;

    *result = STEP_NOTHING;
    if (dr__counts_from_item(item, &counts) != DR_OK || !dr__counts_consistent(&counts)) {
        dr__logf(&c->log, DR_LOG_WARN,
                 "upgrade: stats item " DR_PK_STATS "%s holds counters no "
                 "ratings can produce; left as it is",
                 joke_id);
        json_decref(values);
        return DR_OK;
    }
    if (counts.total == 0 || (version && counts.total < DR_TOP_MIN_RATINGS)) {
        json_decref(values);
        return DR_OK;
    }
    dr__buf_puts(&set, version ? "SET " DR_ATTR_STATS_VERSION " = " DR_ATTR_STATS_VERSION
                               : "SET " DR_ATTR_STATS_VERSION " = :one");
    failed |= index_keys(c, joke_id, &counts, &set, &remove, values, &rank);
    if (version) {
        const char *pk = dr__av_get_s(item, DR_ATTR_GSI2PK);
        const char *sk = dr__av_get_s(item, DR_ATTR_GSI2SK);
        char partition[48];
        dr__top_partition(c->global_shards, joke_id, partition);
        if (!failed && !rank.failed && pk && sk && !strcmp(pk, partition) &&
            !strcmp(sk, dr__buf_cstr(&rank)))
            goto done; /* already as the library writes it */
    }
    failed |= dr__item_set(values, ":t", dr__av_n_u64(counts.total));
    if (version) {
        /* Counted already: only its index keys are missing or stale. */
        failed |= dr__item_set(values, ":v", json_deep_copy(version));
        dr__buf_puts(&set, dr__buf_cstr(&remove));
        if (!failed && !set.failed && !remove.failed)
            req = json_pack("{s:s, s:o, s:s, s:s, s:O}", "TableName", c->stats_table, "Key",
                            dr__stats_key(joke_id), "UpdateExpression", dr__buf_cstr(&set),
                            "ConditionExpression",
                            DR_ATTR_STATS_VERSION " = :v AND " DR_ATTR_TOTAL_RATINGS " = :t",
                            "ExpressionAttributeValues", values);
        operation = "UpdateItem";
    } else {
        /* Its first statsVersion and its count in uniqueJokes, together and once: the
         * condition admits one writer, this upgrade or a library write. */
        dr_delta counted;
        memset(&counted, 0, sizeof counted);
        counted.unique_jokes = 1;
        failed |= dr__item_set(values, ":one", dr__av_n_u64(1));
        dr__buf_puts(&set, dr__buf_cstr(&remove));
        if (!failed && !set.failed && !remove.failed)
            update = json_pack("{s:s, s:o, s:s, s:s, s:O}", "TableName", c->stats_table, "Key",
                               dr__stats_key(joke_id), "UpdateExpression", dr__buf_cstr(&set),
                               "ConditionExpression",
                               "attribute_not_exists(" DR_ATTR_STATS_VERSION ") AND "
                               DR_ATTR_TOTAL_RATINGS " = :t",
                               "ExpressionAttributeValues", values);
        if (update)
            req = json_pack("{s:[{s:o}, {s:o}]}", "TransactItems", "Update", update, "Update",
                            dr__counters_update(c, DR_PK_GLOBAL, DR_SK_AGGREGATE, &counted,
                                                NULL));
        operation = "TransactWriteItems";
    }
    if (!req) {
        rc = dr__fail(DR_E_NOMEM, "out of memory building the upgrade of " DR_PK_STATS "%s",
                      joke_id);
        goto out;
    }
    rc = dr__ddb_call(c, operation, req, NULL, &err);
    json_decref(req);
    if (rc == DR_OK) {
        *result = STEP_DONE;
    } else if (rc == DR_E_CONDITION_FAILED || rc == DR_E_TRANSACTION_CANCELED ||
               rc == DR_E_TRANSACTION_CONFLICT) {
        /* A writer changed it (or holds it); the caller reads it again. A cancellation
         * for any other reason than a condition or a conflict is an error. */
        size_t i;
        int contended = rc != DR_E_TRANSACTION_CANCELED;
        for (i = 0; i < json_array_size(err.cancellation_reasons); i++) {
            const char *code = json_string_value(
                json_object_get(json_array_get(err.cancellation_reasons, i), "Code"));
            contended |= code && (!strcmp(code, "ConditionalCheckFailed") ||
                                  !strcmp(code, "TransactionConflict"));
        }
        if (contended) {
            *result = STEP_CHANGED;
            rc = DR_OK;
        }
    }
    goto out;
done:
    rc = DR_OK;
out:
    dr__ddb_error_clear(&err);
    json_decref(values);
    dr__buf_free(&set);
    dr__buf_free(&remove);
    dr__buf_free(&rank);
    return rc;
}

static dr_status upgrade_item(upgrade *u, json_t *scanned)
{
    /* backfill() passes only is_joke_stats() items */
    const char *joke_id = dr__joke_id_of_stats_pk(dr__av_get_s(scanned, DR_ATTR_PK));
    json_t *item = json_incref(scanned);
    dr_status rc = DR_OK;
    uint32_t attempt;

    for (attempt = 1; item; attempt++) {
        step_result result;
        json_t *fresh = NULL;
        if ((rc = upgrade_step(u->c, joke_id, item, &result)) != DR_OK || result != STEP_CHANGED) {
            u->updated += rc == DR_OK && result == STEP_DONE;
            break;
        }
        if (attempt == DR_UPGRADE_ITEM_ATTEMPTS) {
            rc = dr__fail(DR_E_TRANSACTION_CONFLICT, "upgrade: " DR_PK_STATS "%s kept changing; "
                          "gave up after %d attempts (run the upgrade again)", joke_id,
                          DR_UPGRADE_ITEM_ATTEMPTS);
            break;
        }
        {
            uint32_t ms = dr__retry_backoff_ms(u->c->retry_policy, attempt + 1,
                                               DR_E_TRANSACTION_CONFLICT, dr__random01(), 0);
            struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        /* Read it again (strongly consistent); NULL if it was deleted meanwhile. */
        rc = dr__get_joke_stats_item(u->c, joke_id, &fresh);
        json_decref(item);
        item = fresh;
        if (rc != DR_OK)
            break;
    }
    json_decref(item);
    return rc;
}

static int is_joke_stats(const json_t *item)
{
    const char *id = dr__joke_id_of_stats_pk(dr__av_get_s(item, DR_ATTR_PK));
    const char *sk = dr__av_get_s(item, DR_ATTR_SK);
    return id && *id && sk && !strcmp(sk, DR_SK_AGGREGATE);
}

/* Every stats item, page by page (strongly consistent: an item written just before the
 * scan is seen as written). Only the attributes the upgrade decides on. */
static dr_status backfill(upgrade *u)
{
    json_t *start = NULL;
    dr_status rc = DR_OK;

    do {
        json_t *req, *resp = NULL, *item;
        size_t i;
        req = json_pack("{s:s, s:b, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
                        "s:s, s:s}}",
                        "TableName", u->c->stats_table, "ConsistentRead", 1, "ProjectionExpression",
                        "#pk, #sk, #t, #s, #c1, #c2, #c3, #c4, #c5, #v, #g2pk, #g2sk",
                        "ExpressionAttributeNames", "#pk", DR_ATTR_PK, "#sk", DR_ATTR_SK, "#t",
                        DR_ATTR_TOTAL_RATINGS, "#s", DR_ATTR_TOTAL_SCORE, "#c1", DR_ATTR_COUNT1,
                        "#c2", DR_ATTR_COUNT2, "#c3", DR_ATTR_COUNT3, "#c4", DR_ATTR_COUNT4, "#c5",
                        DR_ATTR_COUNT5, "#v", DR_ATTR_STATS_VERSION, "#g2pk", DR_ATTR_GSI2PK,
                        "#g2sk", DR_ATTR_GSI2SK);
        if (req && start && json_object_set(req, "ExclusiveStartKey", start) != 0) {
            json_decref(req);
            req = NULL;
        }
        json_decref(start);
        start = NULL;
        if (!req)
            return dr__fail(DR_E_NOMEM, "out of memory building the upgrade's Scan");
        rc = dr__ddb_call(u->c, "Scan", req, &resp, NULL);
        json_decref(req);
        if (rc != DR_OK)
            return dr__fail_context(rc, "upgrade: scanning %s", u->c->stats_table);
        json_array_foreach(json_object_get(resp, "Items"), i, item) {
            if (!is_joke_stats(item))
                continue;
            u->scanned++;
            if ((rc = upgrade_item(u, item)) != DR_OK)
                break;
            report(u, DR_UPGRADE_BACKFILL);
            if (u->stop)
                break;
        }
        if (rc == DR_OK && !u->stop)
            start = json_incref(json_object_get(resp, "LastEvaluatedKey"));
        json_decref(resp);
    } while (rc == DR_OK && start);
    return rc;
}

DR_API dr_status dr_client_upgrade_tables(dr_client *c, uint32_t flags,
                                          dr_upgrade_progress_fn fn, void *payload)
{
    upgrade u;
    json_t *throughput = NULL;
    int has_index = 0;
    dr_status rc;

    if (!c)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_upgrade_tables: client is NULL");
    if (flags)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_upgrade_tables: unknown flags 0x%x",
                        (unsigned)flags);
    memset(&u, 0, sizeof u);
    u.c = c;
    u.fn = fn;
    u.payload = payload;

    rc = describe(c, &has_index, &u.estimate, &throughput);
    if (rc == DR_OK && !has_index)
        rc = add_index(c, throughput);
    json_decref(throughput);
    if (rc == DR_OK)
        report(&u, DR_UPGRADE_INDEX);
    if (rc == DR_OK && !u.stop)
        rc = dr__table_wait_active(c, c->stats_table, DR_INDEX_WAIT_MS);
    if (rc == DR_OK && !u.stop)
        rc = backfill(&u);
    if (rc != DR_OK)
        return dr__fail_context(rc, "upgrade_tables");
    if (u.stop) {
        dr__logf(&c->log, DR_LOG_INFO,
                 "upgrade: stopped by the caller after %" PRIu64 " items; run "
                 "it again to finish",
                 u.scanned);
        return DR_OK;
    }
    if ((rc = dr__schema_mark_complete(c)) != DR_OK)
        return dr__fail_context(rc, "upgrade_tables");
    dr__logf(&c->log, DR_LOG_INFO,
             "upgrade: %s complete: %" PRIu64 " stats items scanned, %" PRIu64 " updated",
             c->stats_table, u.scanned, u.updated);
    report(&u, DR_UPGRADE_DONE);
    return DR_OK;
}
