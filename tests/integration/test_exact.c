/* Regression tests for the ways the review found to make the aggregates wrong: a lost
 * rating reported as success (H1), un-counts on the wrong GLOBAL shard or author (H2),
 * uniqueJokes counted twice (M1), an invalid grouped transaction (L6) and a stream
 * write whose answer was lost (L4). Each failed before its fix.
 *
 * DynamoDB Local cannot throttle inside a transaction, so the H1 tests answer
 * TransactWriteItems from a loopback fake speaking DynamoDB's JSON protocol; every
 * other test runs against DynamoDB Local. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "client.h"
#include "commit.h"
#include "ddb.h"
#include "dr_test.h"
#include "fault_proxy_ctl.h"
#include "mini_http.h"

/* ---- H1: what a cancelled transaction means ------------------------------------ */

static json_t *reasons_of(const char *codes_json)
{
    json_t *codes = json_loads(codes_json, 0, NULL), *reasons = json_array(), *code;
    size_t i;
    json_array_foreach(codes, i, code)
        json_array_append_new(reasons, json_pack("{s:O}", "Code", code));
    json_decref(codes);
    return reasons;
}

static dr_cancel_verdict classify(const char *codes, size_t guards, size_t versioned,
                                  size_t *guard)
{
    json_t *reasons = reasons_of(codes);
    dr_txn_shape shape;
    dr_cancel_verdict v;
    shape.guards = guards;
    shape.versioned = versioned;
    shape.versioned_count = versioned == DR_NOT_VERSIONED ? 0 : 1;
    v = dr__cancel_classify(reasons, shape, guard);
    json_decref(reasons);
    return v;
}

/* A bulk commit of three jokes: [rating, marker] guards, three stats items, GLOBAL. */
static dr_cancel_verdict classify_bulk(const char *codes)
{
    json_t *reasons = reasons_of(codes);
    dr_txn_shape shape = {2, 2, 3};
    dr_cancel_verdict v = dr__cancel_classify(reasons, shape, NULL);
    json_decref(reasons);
    return v;
}

static void test_cancellation_classifier(void **state)
{
    size_t guard = 99;
    (void)state;
    /* Any of the versioned stats items changed: read again; the counters item cannot fail
     * a condition (an ADD), so its failure is an error, as is one past the range. */
    assert_int_equal(classify_bulk("[\"None\",\"None\",\"None\",\"None\","
                                   "\"ConditionalCheckFailed\",\"None\"]"),
                     DR_CANCEL_CONTENDED);
    assert_int_equal(classify_bulk("[\"None\",\"None\",\"ConditionalCheckFailed\","
                                   "\"None\",\"None\",\"None\"]"),
                     DR_CANCEL_CONTENDED);
    assert_int_equal(classify_bulk("[\"None\",\"None\",\"None\",\"None\",\"None\","
                                   "\"ConditionalCheckFailed\"]"),
                     DR_CANCEL_ERROR);
    assert_int_equal(classify_bulk("[\"None\",\"ConditionalCheckFailed\",\"None\","
                                   "\"ConditionalCheckFailed\",\"None\",\"None\"]"),
                     DR_CANCEL_COMMITTED_BEFORE);
    /* A stream write with a key: [rating, marker]. */
    assert_int_equal(classify("[\"ThrottlingError\",\"None\"]", 2, DR_NOT_VERSIONED, NULL),
                     DR_CANCEL_THROTTLED);
    assert_int_equal(classify("[\"None\",\"ProvisionedThroughputExceeded\"]", 2,
                              DR_NOT_VERSIONED, NULL), DR_CANCEL_THROTTLED);
    assert_int_equal(classify("[\"TransactionConflict\",\"None\"]", 2, DR_NOT_VERSIONED, NULL),
                     DR_CANCEL_CONTENDED);
    assert_int_equal(classify("[\"ValidationError\",\"None\"]", 2, DR_NOT_VERSIONED, NULL),
                     DR_CANCEL_ERROR);
    assert_int_equal(classify("[\"None\",\"ConditionalCheckFailed\"]", 2, DR_NOT_VERSIONED,
                              &guard), DR_CANCEL_COMMITTED_BEFORE);
    assert_int_equal(guard, 1);
    /* An inline commit: [rating, marker, stats, global, author]. */
    assert_int_equal(classify("[\"None\",\"None\",\"ConditionalCheckFailed\",\"None\",\"None\"]",
                              2, 2, NULL), DR_CANCEL_CONTENDED);
    assert_int_equal(classify("[\"None\",\"None\",\"None\",\"ConditionalCheckFailed\",\"None\"]",
                              2, 2, NULL), DR_CANCEL_ERROR);
    assert_int_equal(classify("[\"ConditionalCheckFailed\",\"None\",\"TransactionConflict\"]", 2,
                              2, &guard), DR_CANCEL_COMMITTED_BEFORE);
    assert_int_equal(guard, 0);
    assert_int_equal(classify("[\"None\",\"None\",\"ThrottlingError\",\"ValidationError\"]", 2,
                              2, NULL), DR_CANCEL_ERROR);
    assert_int_equal(classify("[]", 2, 2, NULL), DR_CANCEL_ERROR);
    assert_int_equal(classify("[\"None\",\"None\"]", 2, 2, NULL), DR_CANCEL_ERROR);
}

/* The fake: TransactWriteItems is cancelled with `codes` for the first `failures`
 * calls, then succeeds; GetItem finds nothing. */
typedef struct fake_ddb {
    const char *codes;
    int failures;
    int transactions;
} fake_ddb;

static void answer_ddb(const mini_http_request *req, int *status, char *body, size_t cap,
                       void *payload)
{
    fake_ddb *f = payload;
    if (strstr(req->headers, "DynamoDB_20120810.TransactWriteItems")) {
        json_t *reasons, *answer;
        char *text;
        if (f->transactions++ >= f->failures) {
            *status = 200;
            snprintf(body, cap, "{}");
            return;
        }
        reasons = reasons_of(f->codes);
        answer = json_pack("{s:s, s:s, s:o}", "__type",
                           "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                           "Message", "Transaction cancelled, please refer cancellation "
                                      "reasons for specific reasons", "CancellationReasons",
                           reasons);
        text = json_dumps(answer, JSON_COMPACT);
        *status = 400;
        snprintf(body, cap, "%s", text);
        free(text);
        json_decref(answer);
    } else {
        *status = 200;
        snprintf(body, cap, "{}"); /* GetItem: no stats yet */
    }
}

static dr_status stream_write_with_key(const char *endpoint, dr_stats **out)
{
    dr_config *cfg = NULL;
    dr_client *c = dr_test_client(endpoint, NULL, NULL, &cfg);
    dr_rating *r = NULL;
    dr_status rc;
    dr_client_free(c);
    assert_int_equal(dr_config_set_aggregation_mode(cfg, DR_AGGREGATION_STREAM), DR_OK);
    assert_int_equal(dr_client_new(&c, cfg), DR_OK);
    assert_int_equal(dr_rating_new(&r, "j", 5), DR_OK);
    assert_int_equal(dr_rating_set_idempotency_key(r, "order-42"), DR_OK);
    rc = dr_client_write_rating(c, r, out);
    dr_rating_free(r);
    dr_client_free(c);
    dr_config_free(cfg);
    return rc;
}

/* One stream write with a key against the fake, whose transactions are cancelled with
 * `codes` `failures` times; *transactions receives how many it saw. */
static dr_status scripted_write(mini_http *s, const char *codes, int failures,
                                int *transactions, dr_stats **out)
{
    fake_ddb f;
    dr_status rc;
    memset(&f, 0, sizeof f);
    f.codes = codes;
    f.failures = failures;
    mini_http_handle(s, "POST", "/", answer_ddb, &f);
    rc = stream_write_with_key(mini_http_url(s), out);
    *transactions = f.transactions;
    return rc;
}

static void test_stream_write_cancelled_is_never_success(void **state)
{
    mini_http *s = mini_http_start();
    dr_stats *st = NULL;
    int sent = 0;
    (void)state;
    assert_non_null(s);

    /* Throttled inside the cancellation three times: retried, then stored. */
    assert_int_equal(scripted_write(s, "[\"ThrottlingError\",\"None\"]", 3, &sent, &st), DR_OK);
    assert_int_equal(sent, 4);
    assert_int_equal(dr_stats_total_ratings(st), 1);
    assert_int_equal(dr_stats_pending(st), 1);
    dr_stats_free(st);

    /* Always throttled: an error after the commit engine's attempts, never DR_OK. */
    assert_int_equal(scripted_write(s, "[\"None\",\"ProvisionedThroughputExceeded\"]", 1000,
                                    &sent, &st), DR_E_THROTTLED);
    assert_null(st);
    assert_int_equal(sent, DR_COMMIT_MAX_ATTEMPTS);

    /* A validation error: returned at once. */
    assert_int_equal(scripted_write(s, "[\"ValidationError\",\"None\"]", 1000, &sent, &st),
                     DR_E_TRANSACTION_CANCELED);
    assert_int_equal(sent, 1);

    /* The key's marker exists: stored before, the stats as stored, not pending. */
    assert_int_equal(scripted_write(s, "[\"None\",\"ConditionalCheckFailed\"]", 1000, &sent,
                                    &st), DR_OK);
    assert_int_equal(sent, 1);
    assert_int_equal(dr_stats_total_ratings(st), 0);
    assert_int_equal(dr_stats_pending(st), 0);
    dr_stats_free(st);
    mini_http_stop(s);
}

/* ---- against DynamoDB Local ---------------------------------------------------- */

typedef struct tables {
    char ratings[128], stats[128];
    dr_client *client;
} tables;

static void open_tables(tables *t, const char *tag, dr_aggregation_mode mode, uint32_t shards)
{
    t->client = dr_test_open_tables(t->ratings, t->stats, sizeof t->ratings, tag, mode, shards);
}

static void close_tables(tables *t)
{
    if (t->client)
        dr_test_close_tables(t->client, t->ratings, t->stats);
    t->client = NULL;
}

static int teardown(void **state)
{
    close_tables(*state);
    free(*state);
    return 0;
}

static int setup(void **state)
{
    *state = calloc(1, sizeof(tables));
    return *state ? 0 : -1;
}

static void rate(dr_client *c, const char *joke, int stars, const char *author)
{
    dr_rating *r = NULL;
    assert_int_equal(dr_rating_new(&r, joke, stars), DR_OK);
    if (author)
        assert_int_equal(dr_rating_set_author(r, author), DR_OK);
    if (dr_client_write_rating(c, r, NULL) != DR_OK)
        fail_msg("write_rating %s: %s", joke, dr_last_error_message());
    dr_rating_free(r);
}

/* Every rating item of the ratings table (not markers). */
static json_t *rating_items(tables *t)
{
    json_t *all = dr_test_scan_all(t->client, t->ratings), *out = json_array(), *item;
    size_t i;
    json_array_foreach(all, i, item) {
        const char *sk = json_string_value(json_object_get(json_object_get(item, "SK"), "S"));
        if (sk && !strncmp(sk, "RATING#", 7))
            json_array_append(out, item);
    }
    json_decref(all);
    return out;
}

/* A stream record as DynamoDB Streams delivers it for `item` (NULL image: absent). */
static json_t *record(const char *event, const json_t *old_image, const json_t *new_image,
                      int sequence)
{
    const json_t *image = new_image ? new_image : old_image;
    char seq[32];
    json_t *ddb = json_pack("{s:{s:O, s:O}}", "Keys", "PK", json_object_get(image, "PK"), "SK",
                            json_object_get(image, "SK"));
    snprintf(seq, sizeof seq, "%021d", sequence);
    json_object_set_new(ddb, "SequenceNumber", json_string(seq));
    if (old_image)
        json_object_set_new(ddb, "OldImage", json_deep_copy(old_image));
    if (new_image)
        json_object_set_new(ddb, "NewImage", json_deep_copy(new_image));
    return json_pack("{s:s, s:s, s:o}", "eventID", seq, "eventName", event, "dynamodb", ddb);
}

/* Apply `records` as one batch, none failing; adds what it applied and found applied
 * before. */
static void apply_batch(dr_client *c, const json_t *records, size_t *applied,
                        size_t *duplicates)
{
    json_t *batch = json_pack("{s:O}", "Records", records);
    char *text = json_dumps(batch, JSON_COMPACT);
    dr_batch_result *r = NULL;
    assert_int_equal(dr_client_apply_stream_batch(c, text, strlen(text), &r), DR_OK);
    if (dr_batch_result_failed_count(r))
        fail_msg("%zu records failed, first %s: %s", dr_batch_result_failed_count(r),
                 dr_batch_result_failed_sequence_number(r, 0), dr_last_error_message());
    *applied += dr_batch_result_applied(r);
    *duplicates += dr_batch_result_duplicates(r);
    dr_batch_result_free(r);
    free(text);
    json_decref(batch);
}

static void apply_all(dr_client *c, json_t *records, size_t expect_applied)
{
    size_t applied = 0, duplicates = 0;
    apply_batch(c, records, &applied, &duplicates);
    assert_int_equal(applied, expect_applied);
}

static json_t *with_attrs(const json_t *item, int stars, const char *author)
{
    json_t *copy = json_deep_copy(item);
    char n[4];
    snprintf(n, sizeof n, "%d", stars);
    json_object_set_new(copy, "rating", json_pack("{s:s}", "N", n));
    if (author)
        json_object_set_new(copy, "author", json_pack("{s:s}", "S", author));
    return copy;
}

/* Every counter of every GLOBAL shard and author item is >= 0, and the dashboard reads. */
static void assert_counters_sane(tables *t, uint64_t expect_total)
{
    json_t *all = dr_test_scan_all(t->client, t->stats), *item;
    dr_dashboard *d = NULL;
    size_t i;
    json_array_foreach(all, i, item) {
        const char *pk = json_string_value(json_object_get(json_object_get(item, "PK"), "S"));
        const char *name;
        json_t *value;
        if (strncmp(pk, "GLOBAL", 6) != 0)
            continue;
        json_object_foreach(item, name, value) {
            const char *n = json_string_value(json_object_get(value, "N"));
            if (n && n[0] == '-')
                fail_msg("%s %s: %s = %s", pk,
                         json_string_value(json_object_get(json_object_get(item, "SK"), "S")),
                         name, n);
        }
    }
    json_decref(all);
    if (dr_client_dashboard_stats(t->client, &d) != DR_OK)
        fail_msg("dashboard_stats: %s", dr_last_error_message());
    assert_int_equal(dr_dashboard_overall_ratings(d), expect_total);
    dr_dashboard_free(d);
}

/* H2: with 8 GLOBAL shards, removing 8 ratings of 8 jokes un-counts each on the shard
 * that counted it. A random shard left some at -1 or -2, and the dashboard failed. */
static void test_sharded_removals_uncount_where_counted(void **state)
{
    tables *t = *state;
    json_t *items, *records = json_array(), *item;
    char joke[16];
    size_t i;
    open_tables(t, "exact-shard", DR_AGGREGATION_INLINE, 8);
    for (i = 0; i < 8; i++) {
        snprintf(joke, sizeof joke, "sj%zu", i);
        rate(t->client, joke, 5, NULL);
    }
    items = rating_items(t);
    assert_int_equal(json_array_size(items), 8);
    json_array_foreach(items, i, item)
        json_array_append_new(records, record("REMOVE", item, NULL, (int)i + 1));
    apply_all(t->client, records, 8);
    assert_counters_sane(t, 0);
    json_decref(records);
    json_decref(items);
}

static uint64_t author_total(dr_client *c, const char *author, int star)
{
    dr_dashboard *d = NULL;
    uint64_t v = 0;
    size_t i;
    if (dr_client_dashboard_stats(c, &d) != DR_OK)
        fail_msg("dashboard_stats: %s", dr_last_error_message());
    for (i = 0; i < dr_dashboard_author_count(d); i++)
        if (!strcmp(dr_dashboard_author_name(d, i), author))
            v = star ? dr_dashboard_author_rating_count(d, i, star)
                     : dr_dashboard_author_total_ratings(d, i);
    dr_dashboard_free(d);
    return v;
}

/* H2: a MODIFY that changes the author moves the rating between authors; one that
 * changes only the author is not skipped, so a later REMOVE un-counts the right one. */
static void test_author_change_moves_the_rating(void **state)
{
    tables *t = *state;
    json_t *items, *records = json_array(), *ann5, *anne1, *bob3, *cy3;
    open_tables(t, "exact-author", DR_AGGREGATION_INLINE, 1);
    rate(t->client, "am", 5, "Ann");
    rate(t->client, "bm", 3, "Bob");
    items = rating_items(t);
    assert_int_equal(json_array_size(items), 2);
    ann5 = json_array_get(items, 0);
    bob3 = json_array_get(items, 1);
    if (!strcmp(json_string_value(json_object_get(json_object_get(ann5, "author"), "S")),
                "Bob")) { /* scan order is the table's */
        json_t *tmp = ann5;
        ann5 = bob3;
        bob3 = tmp;
    }
    anne1 = with_attrs(ann5, 1, "Anne");
    cy3 = with_attrs(bob3, 3, "Cy");
    json_array_append_new(records, record("MODIFY", ann5, anne1, 1)); /* stars and author */
    json_array_append_new(records, record("MODIFY", bob3, cy3, 2));   /* author only */
    apply_all(t->client, records, 2);
    assert_int_equal(author_total(t->client, "Ann", 0), 0);
    assert_int_equal(author_total(t->client, "Anne", 0), 1);
    assert_int_equal(author_total(t->client, "Anne", 1), 1);
    assert_int_equal(author_total(t->client, "Bob", 0), 0);
    assert_int_equal(author_total(t->client, "Cy", 3), 1);
    assert_counters_sane(t, 2);

    json_array_clear(records);
    json_array_append_new(records, record("REMOVE", cy3, NULL, 3));
    apply_all(t->client, records, 1);
    assert_int_equal(author_total(t->client, "Cy", 0), 0);
    assert_counters_sane(t, 1);
    json_decref(anne1);
    json_decref(cy3);
    json_decref(records);
    json_decref(items);
}

static uint64_t unique_jokes(dr_client *c)
{
    dr_dashboard *d = NULL;
    uint64_t v;
    if (dr_client_dashboard_stats(c, &d) != DR_OK)
        fail_msg("dashboard_stats: %s", dr_last_error_message());
    v = dr_dashboard_unique_jokes(d);
    dr_dashboard_free(d);
    return v;
}

/* M1: a joke whose only rating was removed stays one rated joke when rated again. */
static void test_rerated_joke_counts_once(void **state)
{
    tables *t = *state;
    json_t *items, *records = json_array();
    open_tables(t, "exact-unique", DR_AGGREGATION_INLINE, 1);
    rate(t->client, "uj", 4, NULL);
    assert_int_equal(unique_jokes(t->client), 1);
    items = rating_items(t);
    json_array_append_new(records, record("REMOVE", json_array_get(items, 0), NULL, 1));
    apply_all(t->client, records, 1);
    assert_int_equal(unique_jokes(t->client), 1);
    rate(t->client, "uj", 2, NULL);
    assert_int_equal(unique_jokes(t->client), 1);
    rate(t->client, "other", 2, NULL);
    assert_int_equal(unique_jokes(t->client), 2);
    json_decref(records);
    json_decref(items);
}

/* L6: INSERT(k), a TTL REMOVE(k), INSERT(k) in one batch: the two inserts must not share
 * a transaction, and k counts once. DynamoDB refuses a transaction with two operations on
 * one item (ValidationException); DynamoDB Local applies them in turn instead, so the test
 * counts requests: two for each insert (its read and its transaction), none for a
 * shared transaction and the one-by-one retry it would cause. */
static void test_same_key_twice_in_a_batch(void **state)
{
    tables *t = *state;
    json_t *image = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "PK", "S",
                              "JOKE#tk", "SK", "S", "RATING#2026-11-25T10:00:00.000Z#k",
                              "rating", "N", "4", "author", "S", "Ann", "submittedAt", "S",
                              "2026-11-25T10:00:00.000Z");
    json_t *records = json_array(), *ttl;
    dr_stats *s = NULL;
    open_tables(t, "exact-ttl", DR_AGGREGATION_STREAM, 1);
    json_array_append_new(records, record("INSERT", NULL, image, 1));
    ttl = record("REMOVE", image, NULL, 2);
    json_object_set_new(ttl, "userIdentity",
                        json_pack("{s:s, s:s}", "type", "Service", "principalId",
                                  "dynamodb.amazonaws.com"));
    json_array_append_new(records, ttl);
    json_array_append_new(records, record("INSERT", NULL, image, 3));
    {
        json_t *batch = json_pack("{s:O}", "Records", records);
        char *text = json_dumps(batch, JSON_COMPACT);
        dr_batch_result *r = NULL;
        uint64_t before = 0, after = 0;
        assert_int_equal(dr_client_counter(t->client, DR_COUNTER_REQUESTS, &before), DR_OK);
        assert_int_equal(dr_client_apply_stream_batch(t->client, text, strlen(text), &r), DR_OK);
        assert_int_equal(dr_client_counter(t->client, DR_COUNTER_REQUESTS, &after), DR_OK);
        assert_int_equal(after - before, 4);
        if (dr_batch_result_failed_count(r))
            fail_msg("%zu records failed: %s", dr_batch_result_failed_count(r),
                     dr_last_error_message());
        assert_int_equal(dr_batch_result_applied(r), 1);
        assert_int_equal(dr_batch_result_duplicates(r), 1);
        dr_batch_result_free(r);
        free(text);
        json_decref(batch);
    }
    assert_int_equal(dr_client_read_stats(t->client, "tk", &s), DR_OK);
    assert_int_equal(dr_stats_total_ratings(s), 1);
    dr_stats_free(s);
    json_decref(records);
    json_decref(image);
}

/* L4: a stream write whose PutItem took effect but whose answer was lost: the transport
 * retries, meets its own item, and still returns the rating, pending. */
static void test_stream_write_with_lost_answer(void **state)
{
    tables *t = *state;
    static const char *const rules[] = {"forward-then-reset:target=PutItem,count=1", NULL};
    const char *up = dr_test_endpoint() + strlen("http://");
    dr_test_proxy p;
    dr_config *cfg = NULL;
    dr_client *c;
    dr_rating *r = NULL;
    dr_stats *s = NULL;
    open_tables(t, "exact-lost", DR_AGGREGATION_STREAM, 1);
    assert_int_equal(dr_test_proxy_start(up, rules, &p), 0);
    c = dr_test_client(p.endpoint, t->ratings, t->stats, &cfg);
    dr_client_free(c);
    assert_int_equal(dr_config_set_aggregation_mode(cfg, DR_AGGREGATION_STREAM), DR_OK);
    assert_int_equal(dr_client_new(&c, cfg), DR_OK);
    assert_int_equal(dr_rating_new(&r, "lost", 3), DR_OK);
    assert_int_equal(dr_client_write_rating(c, r, &s), DR_OK);
    assert_int_equal(dr_stats_total_ratings(s), 1);
    assert_int_equal(dr_stats_pending(s), 1);
    dr_stats_free(s);
    dr_rating_free(r);
    dr_client_free(c);
    dr_config_free(cfg);
    dr_test_proxy_stop(&p);
}

/* ---- a batch of many jokes ------------------------------------------------------ */

#define BATCH_JOKES 100
#define BATCH_AUTHORS 8
#define BATCH_RECORDS 1000

/* What a batch should leave: per joke, per author and overall, by star. */
typedef struct oracle {
    int64_t joke[BATCH_JOKES][5], author[BATCH_AUTHORS][5], all[5];
} oracle;

static const char *const batch_authors[BATCH_AUTHORS] = {"Ann", "Bob", "Cid", "Dee",
                                                         "Eve", "Fay", "Gus", "Hal"};

static json_t *batch_image(int joke, int key, int stars, int author)
{
    char pk[32], sk[64], ts[32], n[4];
    snprintf(pk, sizeof pk, "JOKE#bj%03d", joke);
    snprintf(ts, sizeof ts, "2026-11-25T10:%02d:%02d.000Z", key / 60 % 60, key % 60);
    snprintf(sk, sizeof sk, "RATING#%s#k%05d", ts, key);
    snprintf(n, sizeof n, "%d", stars);
    return json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "PK", "S", pk, "SK", "S",
                     sk, "rating", "N", n, "author", "S", batch_authors[author], "submittedAt",
                     "S", ts);
}

/* BATCH_RECORDS records over BATCH_JOKES jokes and BATCH_AUTHORS authors: the first 100
 * INSERTs only, then INSERTs with, when `changes`, every tenth record a MODIFY (new
 * stars, and every third one a new author) or a REMOVE of an earlier rating. */
static json_t *many_jokes_batch(oracle *o, int changes)
{
    struct { int joke, stars, author; } live[BATCH_RECORDS];
    json_t *records = json_array();
    unsigned seed = 77;
    int i;
    memset(o, 0, sizeof *o);
    for (i = 0; i < BATCH_RECORDS; i++) {
        int k = (int)(rand_r(&seed) % (unsigned)(i ? i : 1));
        live[i].joke = -1;
        if (changes && i >= 100 && i % 10 == 0 && live[k].joke >= 0) {
            json_t *old = batch_image(live[k].joke, k, live[k].stars, live[k].author);
            o->joke[live[k].joke][live[k].stars - 1]--;
            o->author[live[k].author][live[k].stars - 1]--;
            o->all[live[k].stars - 1]--;
            if (i % 20 == 0) { /* REMOVE */
                json_array_append_new(records, record("REMOVE", old, NULL, i + 1));
                live[k].joke = -1;
            } else { /* MODIFY */
                json_t *new_image;
                live[k].stars = live[k].stars % 5 + 1;
                if (i % 30 == 0)
                    live[k].author = (live[k].author + 1) % BATCH_AUTHORS;
                new_image = batch_image(live[k].joke, k, live[k].stars, live[k].author);
                json_array_append_new(records, record("MODIFY", old, new_image, i + 1));
                json_decref(new_image);
                o->joke[live[k].joke][live[k].stars - 1]++;
                o->author[live[k].author][live[k].stars - 1]++;
                o->all[live[k].stars - 1]++;
            }
            json_decref(old);
            continue;
        }
        live[i].joke = (int)(rand_r(&seed) % BATCH_JOKES);
        live[i].stars = (int)(rand_r(&seed) % 5) + 1;
        live[i].author = (int)(rand_r(&seed) % BATCH_AUTHORS);
        {
            json_t *image = batch_image(live[i].joke, i, live[i].stars, live[i].author);
            json_array_append_new(records, record("INSERT", NULL, image, i + 1));
            json_decref(image);
        }
        o->joke[live[i].joke][live[i].stars - 1]++;
        o->author[live[i].author][live[i].stars - 1]++;
        o->all[live[i].stars - 1]++;
    }
    return records;
}

/* Apply records [from, to) of `records`; the requests it took. */
static uint64_t apply_slice(dr_client *c, const json_t *records, size_t from, size_t to,
                            size_t *applied, size_t *duplicates)
{
    json_t *slice = json_array();
    uint64_t before = 0, after = 0;
    size_t i;
    for (i = from; i < to; i++)
        json_array_append(slice, json_array_get(records, i));
    assert_int_equal(dr_client_counter(c, DR_COUNTER_REQUESTS, &before), DR_OK);
    apply_batch(c, slice, applied, duplicates);
    json_decref(slice);
    assert_int_equal(dr_client_counter(c, DR_COUNTER_REQUESTS, &after), DR_OK);
    return after - before;
}

static void assert_matches_oracle(dr_client *c, const oracle *o)
{
    dr_dashboard *d = NULL;
    int j, k;
    size_t i;
    for (j = 0; j < BATCH_JOKES; j++) {
        char id[16];
        dr_stats *s = NULL;
        snprintf(id, sizeof id, "bj%03d", j);
        assert_int_equal(dr_client_read_stats(c, id, &s), DR_OK);
        for (k = 0; k < 5; k++)
            assert_int_equal(dr_stats_count(s, k + 1), o->joke[j][k]);
        dr_stats_free(s);
    }
    assert_int_equal(dr_client_dashboard_stats(c, &d), DR_OK);
    for (k = 0; k < 5; k++)
        assert_int_equal(dr_dashboard_rating_count(d, k + 1), o->all[k]);
    for (i = 0; i < dr_dashboard_author_count(d); i++)
        for (j = 0; j < BATCH_AUTHORS; j++)
            if (!strcmp(dr_dashboard_author_name(d, i), batch_authors[j]))
                for (k = 0; k < 5; k++)
                    assert_int_equal(dr_dashboard_author_rating_count(d, i, k + 1),
                                     o->author[j][k]);
    assert_int_equal(dr_dashboard_author_count(d), BATCH_AUTHORS);
    dr_dashboard_free(d);
}

/* A batch is committed in as few transactions as the item limit allows: 100 INSERTs of
 * 100 jokes and 8 authors take two (each a BatchGetItem of the jokes' stats and a
 * TransactWriteItems writing the GLOBAL item once). A redelivered batch is recognised
 * in one read per 100 records, and one applied partly and out of order (every other
 * record first) still counts each record once, for about what a fresh batch costs. */
static void test_batch_commits_many_jokes_together(void **state)
{
    tables *t = *state;
    oracle o;
    json_t *records = many_jokes_batch(&o, 1), *odd = json_array();
    size_t applied = 0, duplicates = 0, n = json_array_size(records), i;
    uint64_t first100, whole, again, part, rest;

    open_tables(t, "exact-batch", DR_AGGREGATION_STREAM, 1);
    first100 = apply_slice(t->client, records, 0, 100, &applied, &duplicates);
    whole = first100 + apply_slice(t->client, records, 100, n, &applied, &duplicates);
    assert_int_equal(applied, n);
    assert_matches_oracle(t->client, &o);
    again = apply_slice(t->client, records, 0, n, &applied, &duplicates);
    assert_int_equal(applied, n);
    assert_int_equal(duplicates, n);
    assert_matches_oracle(t->client, &o);
    close_tables(t);

    json_decref(records);
    records = many_jokes_batch(&o, 0); /* INSERTs only: their order does not matter */
    for (i = 1; i < n; i += 2)
        json_array_append(odd, json_array_get(records, i));
    open_tables(t, "exact-batch-part", DR_AGGREGATION_STREAM, 1);
    applied = duplicates = 0;
    part = apply_slice(t->client, odd, 0, json_array_size(odd), &applied, &duplicates);
    rest = apply_slice(t->client, records, 0, n, &applied, &duplicates);
    assert_int_equal(applied, n);
    assert_int_equal(duplicates, n / 2);
    assert_matches_oracle(t->client, &o);
    print_message("batch of %zu records over %d jokes: the first 100 in %llu requests, all in "
                  "%llu; redelivered: %llu; every other record first: %llu, then the whole "
                  "batch: %llu\n", n, BATCH_JOKES, (unsigned long long)first100,
                  (unsigned long long)whole, (unsigned long long)again,
                  (unsigned long long)part, (unsigned long long)rest);
    assert_true(first100 <= 4); /* two transactions: GLOBAL written twice */
    assert_true(2 * again <= 3 * whole);
    assert_true(2 * rest <= 3 * whole);
    json_decref(odd);
    json_decref(records);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancellation_classifier),
        cmocka_unit_test(test_stream_write_cancelled_is_never_success),
        cmocka_unit_test_setup_teardown(test_sharded_removals_uncount_where_counted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_author_change_moves_the_rating, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rerated_joke_counts_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_key_twice_in_a_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_write_with_lost_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_commits_many_jokes_together, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("exact", tests, NULL, NULL);
}
