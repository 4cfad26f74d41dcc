/* dashboard_stats: four independent reads issued concurrently, whatever the number of
 * ratings:
 *   1. the GLOBAL counters: one BatchGetItem of every shard (one key when unsharded);
 *   2. the per-author counters: Query PK = GLOBAL, SK begins_with AUTHOR#, paged (its
 *      size grows with the number of authors, never with the number of ratings);
 *   3. the top performers: Query of the sparse top index, best first, Limit 8 (one
 *      query per shard of that index, in sequence, when sharded);
 *   4. the recent ratings: Query of the ratings table's GSI1, newest first, Limit 20.
 * Each runs on its own thread (the caller's thread runs the first); the client is
 * shared, as it may be. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "ddb.h"
#include "ddb_json.h"
#include "error.h"
#include "keys.h"
#include "ops.h"

/* One read's outcome; the error message is thread-local, so a worker copies it. */
typedef struct task {
    dr_client *c;
    dr_dashboard *d;
    dr_status rc;
    char message[512];
    dr_status (*run)(struct task *);
} task;

static void *task_main(void *arg)
{
    task *t = arg;
    t->rc = t->run(t);
    if (t->rc != DR_OK)
        snprintf(t->message, sizeof t->message, "%s", dr_last_error_message());
    return NULL;
}

static dr_status read_global(task *t)
{
    dr_client *c = t->c;
    json_t *keys = json_array(), *req = NULL, *resp = NULL, *items;
    dr_status rc = DR_OK;
    uint32_t k;

    for (k = 0; k < c->global_shards; k++) {
        char pk[32];
        dr__global_shard_pk(k, pk);
        json_array_append_new(keys, json_pack("{s:o, s:o}", "PK", dr__av_s(pk), "SK",
                                              dr__av_s(DR_SK_AGGREGATE)));
    }
    /* BatchGetItem may return some keys unprocessed under load: ask again for those. */
    while (rc == DR_OK && json_array_size(keys)) {
        size_t i;
        json_t *item, *unprocessed;
        req = json_pack("{s:{s:{s:O, s:b}}}", "RequestItems", c->stats_table, "Keys", keys,
                        "ConsistentRead", 1);
        if (!req) {
            rc = dr__fail(DR_E_NOMEM, "out of memory building BatchGetItem");
            break;
        }
        rc = dr__ddb_call(c, "BatchGetItem", req, &resp, NULL);
        json_decref(req);
        if (rc != DR_OK)
            break;
        items = json_object_get(json_object_get(resp, "Responses"), c->stats_table);
        json_array_foreach(items, i, item) {
            dr_counts shard;
            uint64_t unique = 0;
            if ((rc = dr__counts_from_item(item, &shard)) != DR_OK)
                break;
            dr__counts_add(&t->d->global, &shard);
            if (dr__av_get_u64(item, "uniqueJokes", &unique) == -2) {
                rc = dr__fail(DR_E_PROTOCOL, "stored uniqueJokes is not an integer");
                break;
            }
            t->d->unique_jokes += unique;
        }
        unprocessed = json_object_get(json_object_get(json_object_get(resp, "UnprocessedKeys"),
                                                      c->stats_table), "Keys");
        json_decref(keys);
        keys = json_array_size(unprocessed) ? json_incref(unprocessed) : json_array();
        json_decref(resp);
        resp = NULL;
    }
    json_decref(keys);
    return rc;
}

/* Run a Query to the end, calling `each` per item. */
static dr_status query_all(dr_client *c, json_t *req, dr_status (*each)(task *, const json_t *),
                           task *t, int follow_pages)
{
    json_t *start = NULL;
    dr_status rc = DR_OK;
    do {
        json_t *resp = NULL, *item;
        size_t i;
        if (start && json_object_set_new(req, "ExclusiveStartKey", start) != 0) {
            start = NULL;
            rc = dr__fail(DR_E_NOMEM, "out of memory paging a query");
            break;
        }
        if ((rc = dr__ddb_call(c, "Query", req, &resp, NULL)) != DR_OK)
            break;
        json_array_foreach(json_object_get(resp, "Items"), i, item) {
            if ((rc = each(t, item)) != DR_OK)
                break;
        }
        start = follow_pages ? json_incref(json_object_get(resp, "LastEvaluatedKey")) : NULL;
        json_decref(resp);
    } while (rc == DR_OK && start);
    json_decref(start);
    return rc;
}

/* Make room for element `count` (zeroed). Capacity doubles from 4 at powers of two, so
 * n appends cost O(n). */
static dr_status grow(void **array, size_t count, size_t size)
{
    if (count == 0 || (count >= 4 && (count & (count - 1)) == 0)) {
        void *grown = dr__reallocarray(*array, count ? count * 2 : 4, size);
        if (!grown)
            return dr__fail(DR_E_NOMEM, "out of memory reading the dashboard");
        *array = grown;
    }
    memset((char *)*array + count * size, 0, size);
    return DR_OK;
}

static dr_status add_author(task *t, const json_t *item)
{
    dr_dashboard *d = t->d;
    dr_author_row *row;
    const char *name = dr__av_get_s(item, "author");
    const char *sk = dr__av_get_s(item, "SK");
    dr_status rc;

    if (!name)
        name = sk && !strncmp(sk, DR_SK_AUTHOR, strlen(DR_SK_AUTHOR)) ? sk + strlen(DR_SK_AUTHOR)
                                                                      : "";
    if ((rc = grow((void **)&d->authors, d->author_count, sizeof *d->authors)) != DR_OK)
        return rc;
    row = &d->authors[d->author_count];
    if ((rc = dr__counts_from_item(item, &row->counts)) != DR_OK)
        return rc;
    if (!(row->name = dr__strdup(name)))
        return dr__fail(DR_E_NOMEM, "out of memory reading authors");
    d->author_count++;
    return DR_OK;
}

static dr_status read_authors(task *t)
{
    json_t *req = json_pack("{s:s, s:s, s:{s:{s:s}, s:{s:s}}}", "TableName", t->c->stats_table,
                            "KeyConditionExpression", "PK = :pk AND begins_with(SK, :sk)",
                            "ExpressionAttributeValues", ":pk", "S", DR_PK_GLOBAL, ":sk", "S",
                            DR_SK_AUTHOR);
    dr_status rc;
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory building the authors query");
    rc = query_all(t->c, req, add_author, t, 1);
    json_decref(req);
    if (rc == DR_OK)
        dr__sort_authors(t->d->authors, t->d->author_count);
    return rc;
}

static dr_status add_top(task *t, const json_t *item)
{
    dr_dashboard *d = t->d;
    dr_top_row *row;
    dr_counts counts;
    const char *pk = dr__av_get_s(item, "PK");
    dr_status rc;

    if (!pk || strncmp(pk, DR_PK_STATS, strlen(DR_PK_STATS)) != 0)
        return dr__fail(DR_E_PROTOCOL, "top performers index holds an item that is not a "
                                       "joke's stats");
    if ((rc = dr__counts_from_item(item, &counts)) != DR_OK)
        return rc;
    if ((rc = grow((void **)&d->top, d->top_count, sizeof *d->top)) != DR_OK)
        return rc;
    row = &d->top[d->top_count++];
    row->total = counts.total;
    row->average_hundredths = dr__average_hundredths(counts.score, counts.total);
    if (!(row->joke_id = dr__strdup(pk + strlen(DR_PK_STATS))) ||
        dr__opt_str_from_item(item, "jokeText", &row->joke_text) ||
        dr__opt_str_from_item(item, "author", &row->author) ||
        dr__opt_str_from_item(item, "lastRatedAt", &row->last_rated_at))
        return dr__fail(DR_E_NOMEM, "out of memory reading top performers");
    return DR_OK;
}

/* Descending order of the index's sort key, across shards. */
static int compare_top(const void *pa, const void *pb)
{
    const dr_top_row *a = pa, *b = pb;
    if (a->average_hundredths != b->average_hundredths)
        return a->average_hundredths > b->average_hundredths ? -1 : 1;
    if (a->total != b->total)
        return a->total > b->total ? -1 : 1;
    return -strcmp(a->joke_id, b->joke_id);
}

static dr_status read_top(task *t)
{
    dr_client *c = t->c;
    dr_dashboard *d = t->d;
    dr_status rc = DR_OK;
    uint32_t k;

    for (k = 0; k < c->global_shards && rc == DR_OK; k++) {
        char partition[48];
        json_t *req;
        if (c->global_shards > 1)
            snprintf(partition, sizeof partition, "%s#%u", DR_GSI_TOP_PERFORMERS, k);
        else
            snprintf(partition, sizeof partition, "%s", DR_GSI_TOP_PERFORMERS);
        req = json_pack("{s:s, s:s, s:s, s:{s:{s:s}}, s:b, s:i}", "TableName", c->stats_table,
                        "IndexName", DR_TOP_INDEX, "KeyConditionExpression", "GSI2PK = :pk",
                        "ExpressionAttributeValues", ":pk", "S", partition, "ScanIndexForward", 0,
                        "Limit", DR_TOP_LIMIT);
        if (!req)
            return dr__fail(DR_E_NOMEM, "out of memory building the top performers query");
        rc = query_all(c, req, add_top, t, 0);
        json_decref(req);
    }
    if (rc == DR_OK && d->top_count > 1)
        qsort(d->top, d->top_count, sizeof *d->top, compare_top);
    while (d->top_count > DR_TOP_LIMIT) {
        dr_top_row *extra = &d->top[--d->top_count];
        dr__free(extra->joke_id);
        dr__opt_str_free(&extra->joke_text);
        dr__opt_str_free(&extra->author);
        dr__opt_str_free(&extra->last_rated_at);
    }
    return rc;
}

static dr_status add_recent(task *t, const json_t *item)
{
    dr_dashboard *d = t->d;
    dr_recent_row *row;
    const char *pk = dr__av_get_s(item, "PK");
    uint64_t rating = 0;
    dr_status rc;

    if (!pk || strncmp(pk, DR_PK_JOKE, strlen(DR_PK_JOKE)) != 0)
        return dr__fail(DR_E_PROTOCOL, "recent ratings index holds an item that is not a "
                                       "rating");
    if (dr__av_get_u64(item, "rating", &rating) != 0 || rating > 5)
        return dr__fail(DR_E_PROTOCOL, "a stored rating is not an integer 1..5");
    if ((rc = grow((void **)&d->recent, d->recent_count, sizeof *d->recent)) != DR_OK)
        return rc;
    row = &d->recent[d->recent_count++];
    row->rating = (int32_t)rating;
    if (!(row->joke_id = dr__strdup(pk + strlen(DR_PK_JOKE))) ||
        dr__opt_str_from_item(item, "jokeText", &row->joke_text) ||
        dr__opt_str_from_item(item, "author", &row->author) ||
        dr__opt_str_from_item(item, "mode", &row->mode) ||
        dr__opt_str_from_item(item, "date", &row->date) ||
        dr__opt_str_from_item(item, "submittedAt", &row->submitted_at))
        return dr__fail(DR_E_NOMEM, "out of memory reading recent ratings");
    return DR_OK;
}

static dr_status read_recent(task *t)
{
    json_t *req = json_pack("{s:s, s:s, s:s, s:{s:{s:s}}, s:b, s:i}", "TableName",
                            t->c->ratings_table, "IndexName", "GSI1", "KeyConditionExpression",
                            "GSI1PK = :pk", "ExpressionAttributeValues", ":pk", "S",
                            DR_GSI_ALL_RATINGS, "ScanIndexForward", 0, "Limit", DR_RECENT_LIMIT);
    dr_status rc;
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory building the recent ratings query");
    rc = query_all(t->c, req, add_recent, t, 0);
    json_decref(req);
    return rc;
}

DR_API dr_status dr_client_dashboard_stats(dr_client *c, dr_dashboard **out)
{
    enum { TASKS = 4 };
    dr_status (*const runs[TASKS])(task *) = {read_global, read_authors, read_top, read_recent};
    dr_dashboard *d;
    task tasks[TASKS];
    pthread_t threads[TASKS];
    int started[TASKS] = {0};
    dr_status rc = DR_OK;
    int i;

    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_dashboard_stats: out is NULL");
    *out = NULL;
    if (!c)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_dashboard_stats: client is NULL");
    if (!(d = dr__calloc(1, sizeof *d)))
        return dr__fail(DR_E_NOMEM, "out of memory creating the dashboard");

    /* Each task writes only its own part of the dashboard. */
    for (i = 0; i < TASKS; i++) {
        memset(&tasks[i], 0, sizeof tasks[i]);
        tasks[i].c = c;
        tasks[i].d = d;
        tasks[i].run = runs[i];
    }
    for (i = 1; i < TASKS; i++)
        started[i] = pthread_create(&threads[i], NULL, task_main, &tasks[i]) == 0;
    task_main(&tasks[0]);
    for (i = 1; i < TASKS; i++) {
        if (started[i])
            pthread_join(threads[i], NULL);
        else
            task_main(&tasks[i]); /* no thread to be had: do it here */
    }
    for (i = 0; i < TASKS; i++) {
        if (tasks[i].rc != DR_OK) {
            rc = dr__fail(tasks[i].rc, "dashboard_stats: %s", tasks[i].message);
            break;
        }
    }
    if (rc != DR_OK) {
        dr_dashboard_free(d);
        return rc;
    }
    *out = d;
    return DR_OK;
}
