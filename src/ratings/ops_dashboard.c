/* dashboard_stats: four independent reads issued concurrently, whatever the number of
 * ratings:
 *   1. the GLOBAL counters: one BatchGetItem of every shard (one key when unsharded)
 *      and of the schema marker;
 *   2. the per-author counters: Query PK = GLOBAL, SK begins_with AUTHOR#, paged (its
 *      size grows with the number of authors, never with the number of ratings);
 *   3. the top performers: Query of the sparse top index, best first, Limit 8 (one
 *      query per shard of that index, in sequence, when sharded);
 *   4. the recent ratings: Query of the ratings table's GSI1, newest first, Limit 20.
 * Each runs on its own thread (the caller's thread runs the first); the client is
 * shared, as it may be.
 *
 * Read 3 needs the schema: until a client has seen the marker, its first call reads 1
 * before starting the others. On a table in the original layout (no marker), 3 pages
 * through GSI1's TOP_PERFORMERS partition instead (exact, one request per 1 MB page) and
 * counts the jokes the original aggregator left out of uniqueJokes. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "ddb.h"
#include "ddb_batch.h"
#include "ddb_json.h"
#include "error.h"
#include "keys.h"
#include "ops.h"
#include "retry.h"
#include "schema.h"
#include "timeutil.h"

/* One read's outcome; the error message is thread-local, so a worker copies it. */
typedef struct task {
    dr_client *c;
    dr_dashboard *d;
    dr_status rc;
    char message[512];
    dr_status (*run)(struct task *);
    int schema; /* dr_schema_state the top-performers read uses */
    /* Figures this task had to clamp: how many items, and the first one's name. */
    uint32_t inconsistent;
    char first_inconsistent[160];
    /* read_global: the marker seen, and uniqueJokes summed over shards */
    int marker_complete;
    int64_t unique_sum;
    /* the slow top-performers read: stats items not counted in uniqueJokes */
    uint64_t uncounted;
} task;

static void *task_main(void *arg)
{
    task *t = arg;
    t->rc = t->run(t);
    if (t->rc != DR_OK)
        snprintf(t->message, sizeof t->message, "%s", dr_last_error_message());
    return NULL;
}

static void note_inconsistent(task *t, const char *what, const char *name)
{
    if (!t->inconsistent++)
        snprintf(t->first_inconsistent, sizeof t->first_inconsistent, "%s%s", what, name);
}

static dr_status append_key(json_t *keys, const char *pk, const char *sk)
{
    /* json_object_set_new() releases its value on failure too: nothing leaks. */
    json_t *key = json_object();
    if (!key || json_object_set_new(key, DR_ATTR_PK, dr__av_s(pk)) != 0 ||
        json_object_set_new(key, DR_ATTR_SK, dr__av_s(sk)) != 0) {
        json_decref(key);
        return dr__fail(DR_E_NOMEM, "out of memory building BatchGetItem keys");
    }
    if (json_array_append_new(keys, key) != 0)
        return dr__fail(DR_E_NOMEM, "out of memory building BatchGetItem keys");
    return DR_OK;
}

/* What read_global adds up, item by item. */
typedef struct global_tally {
    task *t;
    dr_scounts sum;
} global_tally;

static dr_status add_global_item(void *ctx, json_t *item)
{
    global_tally *g = ctx;
    int64_t unique = 0;
    dr_status rc;
    if (dr__schema_is_marker(item)) {
        g->t->marker_complete = dr__schema_marker_complete(item);
        return DR_OK;
    }
    if ((rc = dr__scounts_add_item(&g->sum, item)) != DR_OK)
        return rc;
    if (dr__av_get_i64(item, DR_ATTR_UNIQUE_JOKES, &unique) == -2 ||
        dr__i64_add(&g->t->unique_sum, unique) != 0)
        return dr__fail(DR_E_PROTOCOL, "stored uniqueJokes is not an integer within int64, or "
                                       "their sum is not");
    return DR_OK;
}

static dr_status read_global(task *t)
{
    dr_client *c = t->c;
    json_t *keys = json_array();
    global_tally g;
    dr_status rc = DR_OK;
    uint32_t k;

    memset(&g, 0, sizeof g);
    g.t = t;
    if (!keys)
        return dr__fail(DR_E_NOMEM, "out of memory building BatchGetItem keys");
    rc = append_key(keys, DR_PK_SCHEMA, DR_SK_SCHEMA);
    for (k = 0; k < c->global_shards && rc == DR_OK; k++) {
        char pk[32];
        dr__global_shard_pk(k, pk);
        rc = append_key(keys, pk, DR_SK_AGGREGATE);
    }
    if (rc == DR_OK)
        rc = dr__ddb_batch_get(c, c->stats_table, keys, 1, add_global_item, &g);
    json_decref(keys);
    if (rc == DR_OK && dr__counts_sanitize(&g.sum, &t->d->global))
        note_inconsistent(t, DR_PK_GLOBAL " counters summed over every shard", "");
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
    dr_scounts sum;
    const char *name = dr__av_get_s(item, DR_ATTR_AUTHOR);
    const char *from_key = dr__key_rest(dr__av_get_s(item, DR_ATTR_SK), DR_SK_AUTHOR);
    dr_status rc;

    if (!name)
        name = from_key ? from_key : "";
    memset(&sum, 0, sizeof sum);
    if ((rc = dr__scounts_add_item(&sum, item)) != DR_OK)
        return rc;
    if ((rc = grow((void **)&d->authors, d->author_count, sizeof *d->authors)) != DR_OK)
        return rc;
    row = &d->authors[d->author_count];
    if (dr__counts_sanitize(&sum, &row->counts))
        note_inconsistent(t, "author item " DR_PK_GLOBAL "/" DR_SK_AUTHOR, name);
    if (!(row->name = dr__strdup(name)))
        return dr__fail(DR_E_NOMEM, "out of memory reading authors");
    d->author_count++;
    return DR_OK;
}

static dr_status read_authors(task *t)
{
    json_t *req = json_pack("{s:s, s:s, s:{s:{s:s}, s:{s:s}}}", "TableName", t->c->stats_table,
                            "KeyConditionExpression",
                            DR_ATTR_PK " = :pk AND begins_with(" DR_ATTR_SK ", :sk)",
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

static void top_row_free(dr_top_row *row)
{
    dr__free(row->joke_id);
    dr__opt_str_free(&row->joke_text);
    dr__opt_str_free(&row->author);
    dr__opt_str_free(&row->last_rated_at);
    memset(row, 0, sizeof *row);
}

/* A joke's stats item as a top-performer candidate: its id and exact average. 0 when it
 * qualifies (>= 3 ratings), 1 when it does not or its counters are unreadable (noted). */
static int top_candidate(task *t, const json_t *item, dr_top_row *row)
{
    /* add_top() checked the key (check_stats_pk) */
    const char *id = dr__joke_id_of_stats_pk(dr__av_get_s(item, DR_ATTR_PK));
    dr_counts counts;
    memset(row, 0, sizeof *row);
    memcpy(&row->joke_id, &id, sizeof id); /* borrowed until top_row_own() copies it */
    if (dr__counts_from_item(item, &counts) != DR_OK) {
        note_inconsistent(t, "stats item " DR_PK_STATS, row->joke_id);
        return 1;
    }
    if (counts.total < DR_TOP_MIN_RATINGS)
        return 1;
    if (counts.score < counts.total ||
        (counts.total <= UINT64_MAX / 5 && counts.score > counts.total * 5))
        note_inconsistent(t, "stats item " DR_PK_STATS, row->joke_id);
    row->total = counts.total;
    row->average_hundredths = dr__average_hundredths(counts.score, counts.total);
    return 0;
}

/* Fill `row` (whose id is borrowed from the item) with owned copies. */
static dr_status top_row_own(const json_t *item, dr_top_row *row)
{
    if (!(row->joke_id = dr__strdup(row->joke_id)) ||
        dr__opt_str_from_item(item, DR_ATTR_JOKE_TEXT, &row->joke_text) ||
        dr__opt_str_from_item(item, DR_ATTR_AUTHOR, &row->author) ||
        dr__opt_str_from_item(item, DR_ATTR_LAST_RATED_AT, &row->last_rated_at)) {
        top_row_free(row);
        return dr__fail(DR_E_NOMEM, "out of memory reading top performers");
    }
    return DR_OK;
}

static dr_status check_stats_pk(const json_t *item)
{
    if (!dr__joke_id_of_stats_pk(dr__av_get_s(item, DR_ATTR_PK)))
        return dr__fail(DR_E_PROTOCOL, "top performers index holds an item that is not a "
                                       "joke's stats");
    return DR_OK;
}

static dr_status add_top(task *t, const json_t *item)
{
    dr_dashboard *d = t->d;
    dr_top_row row;
    dr_status rc;

    if ((rc = check_stats_pk(item)) != DR_OK)
        return rc;
    if (top_candidate(t, item, &row))
        return DR_OK;
    if ((rc = grow((void **)&d->top, d->top_count, sizeof *d->top)) != DR_OK)
        return rc;
    if ((rc = top_row_own(item, &row)) != DR_OK)
        return rc;
    d->top[d->top_count++] = row;
    return DR_OK;
}

/* The original layout: every joke's stats item is in GSI1's TOP_PERFORMERS partition
 * (the original aggregator writes the keys on every rating; this library writes them
 * from 3 ratings on when unsharded). Its GSI1SK averages can be stale (the original's
 * read-then-write race) and are rounded, so each item's exact average is computed from
 * its counters, and the best 8 are kept in order: memory is one page plus 8 rows. */
static dr_status add_top_original(task *t, const json_t *item)
{
    dr_dashboard *d = t->d;
    dr_top_row row;
    size_t at;
    dr_status rc;

    if ((rc = check_stats_pk(item)) != DR_OK)
        return rc;
    if (!json_object_get(item, DR_ATTR_STATS_VERSION))
        t->uncounted++; /* counted in uniqueJokes if and only if it carries statsVersion */
    if (top_candidate(t, item, &row))
        return DR_OK;
    if (d->top_count == DR_TOP_LIMIT &&
        dr__compare_top_rows(&row, &d->top[DR_TOP_LIMIT - 1]) >= 0)
        return DR_OK;
    if ((rc = top_row_own(item, &row)) != DR_OK)
        return rc;
    if (d->top_count == DR_TOP_LIMIT)
        top_row_free(&d->top[--d->top_count]);
    for (at = d->top_count; at > 0 && dr__compare_top_rows(&row, &d->top[at - 1]) < 0; at--)
        d->top[at] = d->top[at - 1];
    d->top[at] = row;
    d->top_count++;
    return DR_OK;
}

static dr_status read_top_original(task *t)
{
    dr_client *c = t->c;
    json_t *req;
    dr_status rc;

    if (c->global_shards > 1)
        return dr__fail(DR_E_CONFIG,
                        "stats table %s has no complete top-performers index (%s; no schema "
                        "marker), and with %u global shards the library writes no "
                        DR_INDEX_GSI1 " keys to read instead: run dr_client_upgrade_tables() once",
                        c->stats_table, DR_TOP_INDEX, (unsigned)c->global_shards);
    if (!(t->d->top = dr__calloc(DR_TOP_LIMIT, sizeof *t->d->top)))
        return dr__fail(DR_E_NOMEM, "out of memory reading top performers");
    /* Only what ranking, counting and the result need. */
    req = json_pack("{s:s, s:s, s:s, s:{s:{s:s}}}", "TableName", c->stats_table, "IndexName",
                    DR_INDEX_GSI1, "KeyConditionExpression", DR_ATTR_GSI1PK " = :pk",
                    "ExpressionAttributeValues", ":pk", "S", DR_GSI_TOP_PERFORMERS);
    if (req && dr__ddb_project(req, dr__top_read_attr, DR_TOP_READ_ATTRS) != 0) {
        json_decref(req);
        req = NULL;
    }
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory building the top performers query");
    rc = query_all(c, req, add_top_original, t, 1);
    json_decref(req);
    return rc;
}

static dr_status read_top(task *t)
{
    dr_client *c = t->c;
    dr_dashboard *d = t->d;
    dr_status rc = DR_OK;
    uint32_t k;

    if (t->schema != DR_SCHEMA_COMPLETE)
        return read_top_original(t);
    for (k = 0; k < c->global_shards && rc == DR_OK; k++) {
        char partition[48];
        json_t *req;
        dr__top_shard_partition(c->global_shards, k, partition);
        req = json_pack("{s:s, s:s, s:s, s:{s:{s:s}}, s:b, s:i}", "TableName", c->stats_table,
                        "IndexName", DR_TOP_INDEX, "KeyConditionExpression",
                        DR_ATTR_GSI2PK " = :pk", "ExpressionAttributeValues", ":pk", "S",
                        partition, "ScanIndexForward", 0, "Limit", DR_TOP_LIMIT);
        if (req && dr__ddb_project(req, dr__top_read_attr, DR_TOP_READ_ATTRS) != 0) {
            json_decref(req);
            req = NULL;
        }
        if (!req)
            return dr__fail(DR_E_NOMEM, "out of memory building the top performers query");
        rc = query_all(c, req, add_top, t, 0);
        json_decref(req);
    }
    if (rc == DR_OK && d->top_count > 1)
        qsort(d->top, d->top_count, sizeof *d->top, dr__compare_top_rows);
    while (d->top_count > DR_TOP_LIMIT)
        top_row_free(&d->top[--d->top_count]);
    return rc;
}

static dr_status add_recent(task *t, const json_t *item)
{
    dr_dashboard *d = t->d;
    dr_recent_row *row;
    const char *joke_id = dr__key_rest(dr__av_get_s(item, DR_ATTR_PK), DR_PK_JOKE);
    uint64_t rating = 0;
    dr_status rc;

    if (!joke_id)
        return dr__fail(DR_E_PROTOCOL, "recent ratings index holds an item that is not a "
                                       DR_ATTR_RATING);
    if (dr__av_get_u64(item, DR_ATTR_RATING, &rating) != 0 || rating > 5)
        return dr__fail(DR_E_PROTOCOL, "a stored rating is not an integer 1..5");
    if ((rc = grow((void **)&d->recent, d->recent_count, sizeof *d->recent)) != DR_OK)
        return rc;
    row = &d->recent[d->recent_count++];
    row->rating = (int32_t)rating;
    if (!(row->joke_id = dr__strdup(joke_id)) ||
        dr__opt_str_from_item(item, DR_ATTR_JOKE_TEXT, &row->joke_text) ||
        dr__opt_str_from_item(item, DR_ATTR_AUTHOR, &row->author) ||
        dr__opt_str_from_item(item, DR_ATTR_MODE, &row->mode) ||
        dr__opt_str_from_item(item, DR_ATTR_DATE, &row->date) ||
        dr__opt_str_from_item(item, DR_ATTR_SUBMITTED_AT, &row->submitted_at))
        return dr__fail(DR_E_NOMEM, "out of memory reading recent ratings");
    return DR_OK;
}

static dr_status read_recent(task *t)
{
    json_t *req = json_pack("{s:s, s:s, s:s, s:{s:{s:s}}, s:b, s:i}", "TableName",
                            t->c->ratings_table, "IndexName", DR_INDEX_GSI1,
                            "KeyConditionExpression", DR_ATTR_GSI1PK " = :pk",
                            "ExpressionAttributeValues", ":pk", "S", DR_GSI_ALL_RATINGS,
                            "ScanIndexForward", 0, "Limit", DR_RECENT_LIMIT);
    dr_status rc;
    if (req && dr__ddb_project(req, dr__recent_read_attr, DR_RECENT_READ_ATTRS) != 0) {
        json_decref(req);
        req = NULL;
    }
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory building the recent ratings query");
    rc = query_all(t->c, req, add_recent, t, 0);
    json_decref(req);
    return rc;
}

/* The layout this client reads, after read_global saw `marker_complete`. The first
 * client to find the original layout says so once. */
static int settle_schema(dr_client *c, int marker_complete)
{
    int expected = DR_SCHEMA_UNKNOWN;
    if (marker_complete) {
        atomic_store(&c->schema_state, DR_SCHEMA_COMPLETE);
        return DR_SCHEMA_COMPLETE;
    }
    if (atomic_compare_exchange_strong(&c->schema_state, &expected, DR_SCHEMA_ORIGINAL))
        dr__logf(&c->log, DR_LOG_INFO,
                 "stats table %s is in the original layout (no complete %s index, no schema "
                 "marker): dashboard_stats reads every joke's stats item through " DR_INDEX_GSI1
                 " (one request per 1 MB); run dr_client_upgrade_tables() once "
                 "to read a fixed number of requests",
                 c->stats_table, DR_TOP_INDEX);
    return atomic_load(&c->schema_state);
}

/* One fetch: the four reads, concurrently. */
static dr_status fetch_dashboard(dr_client *c, dr_dashboard **out)
{
    enum { TASKS = 4 };
    dr_status (*const runs[TASKS])(task *) = {read_global, read_authors, read_top, read_recent};
    dr_dashboard *d;
    task tasks[TASKS];
    pthread_t threads[TASKS];
    int started[TASKS] = {0};
    int schema, global_done = 0;
    dr_status rc = DR_OK;
    uint32_t inconsistent = 0;
    int64_t unique;
    int i;

    *out = NULL;
    if (!(d = dr__calloc(1, sizeof *d)))
        return dr__fail(DR_E_NOMEM, "out of memory creating the dashboard");
    d->fetched_ms = dr__monotonic_ms();

    /* Each task writes only its own part of the dashboard and of its task. */
    for (i = 0; i < TASKS; i++) {
        memset(&tasks[i], 0, sizeof tasks[i]);
        tasks[i].c = c;
        tasks[i].d = d;
        tasks[i].run = runs[i];
    }
    schema = atomic_load(&c->schema_state);
    if (schema == DR_SCHEMA_UNKNOWN) {
        /* The top performers' read depends on the marker: read it first, once. */
        task_main(&tasks[0]);
        global_done = 1;
        if (tasks[0].rc == DR_OK)
            schema = settle_schema(c, tasks[0].marker_complete);
    }
    tasks[2].schema = schema;
    if (!global_done || tasks[0].rc == DR_OK) {
        for (i = 1; i < TASKS; i++)
            started[i] = pthread_create(&threads[i], NULL, task_main, &tasks[i]) == 0;
        if (!global_done)
            task_main(&tasks[0]);
        for (i = 1; i < TASKS; i++) {
            if (started[i])
                pthread_join(threads[i], NULL);
            else
                task_main(&tasks[i]); /* no thread to be had: do it here */
        }
        /* An upgrade seen now serves the next call; this one was exact anyway. */
        if (tasks[0].rc == DR_OK && tasks[0].marker_complete)
            settle_schema(c, 1);
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

    /* uniqueJokes: the shards' sum, plus the stats items no writer counted yet. */
    unique = tasks[0].unique_sum;
    if (tasks[2].uncounted > (uint64_t)INT64_MAX ||
        dr__i64_add(&unique, (int64_t)tasks[2].uncounted) != 0 || unique < 0) {
        note_inconsistent(&tasks[0], DR_PK_GLOBAL " uniqueJokes summed over every shard", "");
        unique = unique < 0 ? 0 : unique;
    }
    d->unique_jokes = (uint64_t)unique;
    for (i = 0; i < TASKS; i++) {
        if (tasks[i].inconsistent && !inconsistent)
            dr__logf(&c->log, DR_LOG_WARN,
                     "dashboard_stats: stored figures no ratings can produce in %s (%s): "
                     "clamped to sane values; see dr_dashboard_inconsistent()",
                     c->stats_table, tasks[i].first_inconsistent);
        inconsistent += tasks[i].inconsistent;
    }
    d->inconsistent = inconsistent;
    *out = d;
    return DR_OK;
}

/* ---- the cache (dr_config_set_dashboard_max_age_ms) -------------------------------- */

/* Under the cache's lock: another holder of `d` (the caller it is returned to). */
static dr_dashboard *share(dr_dashboard *d)
{
    atomic_fetch_add(&d->extra_refs, 1);
    return d;
}

/* The latest dashboard while it is young enough; else one fetch, which the callers that
 * arrive meanwhile wait for and share, its error included. */
static dr_status cached_dashboard(dr_client *c, dr_dashboard **out)
{
    dr_dashboard_cache *k = &c->dashboard_cache;
    dr_dashboard *d = NULL, *stale = NULL;
    dr_status rc;

    pthread_mutex_lock(&k->lock);
    for (;;) {
        uint64_t fetches = k->fetches;
        if (k->latest && dr__monotonic_ms() - k->latest_ms <= c->dashboard_max_age_ms) {
            *out = share(k->latest);
            pthread_mutex_unlock(&k->lock);
            return DR_OK;
        }
        if (!k->in_flight)
            break;
        while (k->in_flight && k->fetches == fetches)
            pthread_cond_wait(&k->fetched, &k->lock);
        if (k->fetches != fetches && k->failed != DR_OK) {
            char message[sizeof k->failed_message];
            rc = k->failed;
            memcpy(message, k->failed_message, sizeof message);
            pthread_mutex_unlock(&k->lock);
            return dr__fail(rc, "%s", message);
        }
    }
    k->in_flight = 1;
    pthread_mutex_unlock(&k->lock);

    rc = fetch_dashboard(c, &d);

    pthread_mutex_lock(&k->lock);
    k->in_flight = 0;
    k->fetches++;
    k->failed = rc;
    if (rc == DR_OK) {
        stale = k->latest;
        k->latest = d;
        k->latest_ms = d->fetched_ms;
        k->release = dr_dashboard_free;
        *out = share(d);
    } else {
        snprintf(k->failed_message, sizeof k->failed_message, "%s", dr_last_error_message());
    }
    pthread_cond_broadcast(&k->fetched);
    pthread_mutex_unlock(&k->lock);
    dr_dashboard_free(stale); /* outside the lock: callers may still hold it */
    return rc;
}

DR_API dr_status dr_client_dashboard_stats(dr_client *c, dr_dashboard **out)
{
    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_dashboard_stats: out is NULL");
    *out = NULL;
    if (!c)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_dashboard_stats: client is NULL");
    return c->dashboard_max_age_ms ? cached_dashboard(c, out) : fetch_dashboard(c, out);
}
