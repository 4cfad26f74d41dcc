/* A joke's stats item and the counters items: the read, and the update bodies every
 * writer commits (inline writes, the stream aggregator, the upgrade). */
#include "stats_item.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ddb.h"
#include "ddb_json.h"
#include "error.h"
#include "keys.h"

/* GetItem of the joke's stats item, whole or only `attrs` (n of them). */
static dr_status get_stats_item(dr_client *c, const char *joke_id, const char *const *attrs,
                                size_t n, json_t **item_out)
{
    json_t *req, *resp = NULL;
    dr_status rc;

    *item_out = NULL;
    req = json_pack("{s:s, s:o, s:b}", "TableName", c->stats_table, "Key",
                    dr__stats_key(joke_id), "ConsistentRead", 1);
    if (req && attrs && dr__ddb_project(req, attrs, n) != 0) {
        json_decref(req);
        req = NULL;
    }
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory building GetItem");
    rc = dr__ddb_call(c, "GetItem", req, &resp, NULL);
    json_decref(req);
    if (rc != DR_OK)
        return rc;
    *item_out = json_incref(json_object_get(resp, "Item"));
    json_decref(resp);
    return DR_OK;
}

dr_status dr__get_joke_stats_item(dr_client *c, const char *joke_id, json_t **item_out)
{
    return get_stats_item(c, joke_id, NULL, 0, item_out);
}

dr_status dr__read_joke_stats_item(dr_client *c, const char *joke_id, json_t **item_out)
{
    return get_stats_item(c, joke_id, dr__stats_read_attr, DR_STATS_READ_ATTRS, item_out);
}

/* old + delta, clamped at 0 (a delta never takes a counter below zero unless the
 * stored item was already inconsistent). */
static uint64_t apply(uint64_t old, int64_t delta)
{
    if (delta < 0 && (uint64_t)(-delta) > old)
        return 0;
    return delta < 0 ? old - (uint64_t)(-delta) : old + (uint64_t)delta;
}

static json_t *av_n_i64(int64_t v)
{
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRId64, v);
    return dr__av_n_str(digits);
}

json_t *dr__joke_stats_update(dr_client *c, const char *joke_id, const json_t *old,
                              const dr_delta *delta, const char *rated_at, const char *author,
                              const char *joke_text, dr_counts *new_counts,
                              const char **new_last_rated_at)
{
    dr_counts before;
    dr_buf expr = DR_BUF_INIT, rank = DR_BUF_INIT;
    json_t *values = json_object(), *update = NULL;
    const char *old_last = old ? dr__av_get_s(old, DR_ATTR_LAST_RATED_AT) : NULL;
    const char *condition;
    uint64_t version = 0;
    int failed = 0, malformed = 0, i;

    memset(&before, 0, sizeof before);
    if (old && dr__counts_from_item(old, &before) != DR_OK) {
        malformed = 1; /* the recorded message says which attribute */
        goto done;
    }
    (void)dr__av_get_u64(old, DR_ATTR_STATS_VERSION, &version);

    new_counts->total = apply(before.total, delta->total);
    new_counts->score = apply(before.score, delta->score);
    for (i = 0; i < 5; i++)
        new_counts->count[i] = apply(before.count[i], delta->count[i]);
    *new_last_rated_at = old_last && strcmp(old_last, rated_at) > 0 ? old_last : rated_at;

    dr__buf_puts(&expr, "SET " DR_ATTR_TOTAL_RATINGS " = :t, " DR_ATTR_TOTAL_SCORE " = :s, "
                        DR_ATTR_LAST_RATED_AT " = :last, " DR_ATTR_AUTHOR " = if_not_exists("
                        DR_ATTR_AUTHOR ", :author), " DR_ATTR_STATS_VERSION " = :next");
    failed |= dr__item_set(values, ":t", dr__av_n_u64(new_counts->total));
    failed |= dr__item_set(values, ":s", dr__av_n_u64(new_counts->score));
    failed |= dr__item_set(values, ":last", dr__av_s(*new_last_rated_at));
    failed |= dr__item_set(values, ":author", dr__av_s(author));
    failed |= dr__item_set(values, ":next", dr__av_n_u64(version + 1));
    for (i = 0; i < 5; i++) {
        char placeholder[8];
        snprintf(placeholder, sizeof placeholder, ":c%d", i + 1);
        dr__buf_printf(&expr, ", %s = %s", dr__counter_attr[DR_COUNTER_ATTR_STAR(i + 1)],
                       placeholder);
        failed |= dr__item_set(values, placeholder, dr__av_n_u64(new_counts->count[i]));
    }
    if (joke_text) {
        dr__buf_puts(&expr, ", " DR_ATTR_JOKE_TEXT " = if_not_exists(" DR_ATTR_JOKE_TEXT
                            ", :text)");
        failed |= dr__item_set(values, ":text", dr__av_s(joke_text));
    }
    if (new_counts->total >= DR_TOP_MIN_RATINGS) {
        uint32_t avg = dr__average_hundredths(new_counts->score, new_counts->total);
        char avg_text[16], partition[48];
        dr__format_hundredths(avg, avg_text);
        dr__top_partition(c->global_shards, joke_id, partition);
        dr__top_sort_key(&rank, avg, new_counts->total, joke_id);
        if (c->global_shards <= 1) {
            /* GSI1 as the JavaScript services read it: sparse, so their Limit-8 query
             * only sees jokes that qualify. */
            dr__buf_puts(&expr, ", " DR_ATTR_GSI1PK " = :top, " DR_ATTR_GSI1SK " = :avg");
            failed |= dr__item_set(values, ":top", dr__av_s(DR_GSI_TOP_PERFORMERS));
            failed |= dr__item_set(values, ":avg", dr__av_n_str(avg_text));
        }
        dr__buf_puts(&expr, ", " DR_ATTR_GSI2PK " = :toppart, " DR_ATTR_GSI2SK " = :rank");
        failed |= dr__item_set(values, ":toppart", dr__av_s(partition));
        failed |= dr__item_set(values, ":rank", dr__av_s(dr__buf_cstr(&rank)));
    } else if (old && json_object_get(old, DR_ATTR_GSI2PK)) {
        /* A changed rating cannot lower the count, but an inconsistent item could
         * carry index keys it should not: remove them. */
        dr__buf_puts(&expr, " REMOVE " DR_ATTR_GSI1PK ", " DR_ATTR_GSI1SK ", " DR_ATTR_GSI2PK
                            ", " DR_ATTR_GSI2SK);
    }

    if (!old) {
        condition = "attribute_not_exists(" DR_ATTR_PK ")";
    } else if (json_object_get(old, DR_ATTR_STATS_VERSION)) {
        /* totalRatings too: a JavaScript aggregator still running beside the library
         * changes the counters without touching statsVersion. */
        condition = DR_ATTR_STATS_VERSION " = :ver AND " DR_ATTR_TOTAL_RATINGS " = :oldt";
        failed |= dr__item_set(values, ":ver", dr__av_n_u64(version));
        failed |= dr__item_set(values, ":oldt", dr__av_n_u64(before.total));
    } else {
        /* Written by the JavaScript aggregator: no version yet; its counters only grow,
         * so an unchanged totalRatings means an unchanged item. */
        condition = "attribute_not_exists(" DR_ATTR_STATS_VERSION ") AND "
                    "(attribute_not_exists(" DR_ATTR_TOTAL_RATINGS ") OR "
                    DR_ATTR_TOTAL_RATINGS " = :oldt)";
        failed |= dr__item_set(values, ":oldt", dr__av_n_u64(before.total));
    }
    if (failed || expr.failed || rank.failed)
        goto done;
    update = json_pack("{s:s, s:o, s:s, s:s, s:O}", "TableName", c->stats_table, "Key",
                       dr__stats_key(joke_id), "UpdateExpression", dr__buf_cstr(&expr),
                       "ConditionExpression", condition, "ExpressionAttributeValues", values);
done:
    if (!update && !malformed)
        dr__fail(DR_E_NOMEM, "out of memory building the stats update");
    json_decref(values);
    dr__buf_free(&expr);
    dr__buf_free(&rank);
    return update;
}

json_t *dr__counters_update(dr_client *c, const char *pk, const char *sk, const dr_delta *delta,
                            const char *author)
{
    dr_buf expr = DR_BUF_INIT;
    json_t *values = json_object(), *update = NULL, *key;
    const char *sep = "ADD ";
    int failed = 0, i;

#define ADD_COUNTER(name, placeholder, value)                                             \
    do {                                                                                  \
        if ((value) != 0) {                                                               \
            dr__buf_printf(&expr, "%s%s %s", sep, name, placeholder);                    \
            failed |= dr__item_set(values, placeholder, av_n_i64(value));                 \
            sep = ", ";                                                                   \
        }                                                                                 \
    } while (0)
    ADD_COUNTER(DR_ATTR_TOTAL_RATINGS, ":t", delta->total);
    ADD_COUNTER(DR_ATTR_TOTAL_SCORE, ":s", delta->score);
    for (i = 0; i < 5; i++) {
        char placeholder[8];
        snprintf(placeholder, sizeof placeholder, ":c%d", i + 1);
        ADD_COUNTER(dr__counter_attr[DR_COUNTER_ATTR_STAR(i + 1)], placeholder, delta->count[i]);
    }
    ADD_COUNTER(DR_ATTR_UNIQUE_JOKES, ":u", delta->unique_jokes);
#undef ADD_COUNTER
    if (author) {
        dr__buf_puts(&expr, " SET " DR_ATTR_AUTHOR " = :author");
        failed |= dr__item_set(values, ":author", dr__av_s(author));
    }
    key = dr__item_key(pk, sk);
    if (!failed && !expr.failed && key && expr.len)
        update = json_pack("{s:s, s:O, s:s, s:O}", "TableName", c->stats_table, "Key", key,
                           "UpdateExpression", dr__buf_cstr(&expr),
                           "ExpressionAttributeValues", values);
    if (!update)
        dr__fail(DR_E_NOMEM, "out of memory building a counters update");
    json_decref(key);
    json_decref(values);
    dr__buf_free(&expr);
    return update;
}
