/* Drop-in on the original deployment: tables created exactly as the original terraform
 * declares them (stats table with GSI1 only, GSI1SK a number) and items written exactly
 * as the original aggregator writes them (its three UpdateCommands ported to DynamoDB
 * JSON: GSI1 keys on every joke, an average from a racy read, rounded; no statsVersion,
 * no uniqueJokes). dashboard_stats must return the true top 8 and exact uniqueJokes
 * there, on a mixed table, after dr_client_upgrade_tables() (fast path, same result),
 * after an upgrade stopped half-way and run again; sharded on such a table it must say
 * to upgrade. Also: negative GLOBAL shard / author values, as older versions left
 * them, must not fail the dashboard, and an allocation failure building the GLOBAL keys
 * must be DR_E_NOMEM, never low totals. All checked against the test's own model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <math.h>

#include "dadratings.h"
#include "ddb.h"
#include "ddb_json.h"
#include "dr_test.h"
#include "schema.h"

#define MAX_JOKES 24

typedef struct joke {
    char id[32];
    dr_test_tally tally;
} joke;

typedef struct fixture {
    dr_client *client;
    char ratings[96], stats[96];
    joke jokes[MAX_JOKES];
    int joke_count;
    dr_test_tally global;
    int clock;
} fixture;

/* ---- the original deployment ------------------------------------------------------ */

static json_t *attr(const char *name, const char *type)
{
    return json_pack("{s:s, s:s}", "AttributeName", name, "AttributeType", type);
}

static json_t *gsi(const char *name, const char *hash, const char *range)
{
    return json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:{s:s}}", "IndexName", name,
                     "KeySchema", "AttributeName", hash, "KeyType", "HASH", "AttributeName",
                     range, "KeyType", "RANGE", "Projection", "ProjectionType", "ALL");
}

static void create_table(dr_client *c, json_t *req)
{
    const char *name = json_string_value(json_object_get(req, "TableName"));
    assert_non_null(req);
    if (dr__ddb_call(c, "CreateTable", req, NULL, NULL) != DR_OK)
        fail_msg("CreateTable %s: %s", name, dr_last_error_message());
    if (dr__table_wait_active(c, name, 60000) != DR_OK)
        fail_msg("waiting for %s: %s", name, dr_last_error_message());
    json_decref(req);
}

/* The terraform's aws_dynamodb_table.joke_ratings and .joke_stats, as CreateTable. */
static void create_original_tables(dr_client *c, const char *ratings, const char *stats)
{
    create_table(c, json_pack("{s:s, s:s, s:[o, o, o, o, o, o], s:[{s:s, s:s}, {s:s, s:s}], "
                              "s:[o, o], s:{s:b, s:s}}",
                              "TableName", ratings, "BillingMode", "PAY_PER_REQUEST",
                              "AttributeDefinitions", attr("PK", "S"), attr("SK", "S"),
                              attr("GSI1PK", "S"), attr("GSI1SK", "S"), attr("GSI2PK", "S"),
                              attr("GSI2SK", "S"), "KeySchema", "AttributeName", "PK",
                              "KeyType", "HASH", "AttributeName", "SK", "KeyType", "RANGE",
                              "GlobalSecondaryIndexes", gsi("GSI1", "GSI1PK", "GSI1SK"),
                              gsi("GSI2", "GSI2PK", "GSI2SK"), "StreamSpecification",
                              "StreamEnabled", 1, "StreamViewType", "NEW_AND_OLD_IMAGES"));
    create_table(c, json_pack("{s:s, s:s, s:[o, o, o, o], s:[{s:s, s:s}, {s:s, s:s}], s:[o]}",
                              "TableName", stats, "BillingMode", "PAY_PER_REQUEST",
                              "AttributeDefinitions", attr("PK", "S"), attr("SK", "S"),
                              attr("GSI1PK", "S"), attr("GSI1SK", "N"), "KeySchema",
                              "AttributeName", "PK", "KeyType", "HASH", "AttributeName", "SK",
                              "KeyType", "RANGE", "GlobalSecondaryIndexes",
                              gsi("GSI1", "GSI1PK", "GSI1SK")));
}

static void update(dr_client *c, json_t *req)
{
    assert_non_null(req);
    if (dr__ddb_call(c, "UpdateItem", req, NULL, NULL) != DR_OK)
        fail_msg("UpdateItem: %s", dr_last_error_message());
    json_decref(req);
}

/* JavaScript's String(Math.round(x * 100) / 100), as the DocumentClient sends it. */
static void js_round2(double x, char out[32])
{
    size_t n;
    snprintf(out, 32, "%.2f", round(x * 100) / 100);
    n = strlen(out);
    while (n && out[n - 1] == '0')
        out[--n] = '\0';
    if (n && out[n - 1] == '.')
        out[--n] = '\0';
}

/* lambda/ratings-aggregator updateJokeStats + updateGlobalStats + updateAuthorStats for
 * one INSERT. With `stale`, the average comes from a read that missed the previous
 * rating (two invocations racing on one joke): the item's GSI1SK is then wrong. */
static void original_aggregate(fixture *f, joke *j, int rating, const char *author,
                               const char *text, int stale)
{
    dr_client *c = f->client;
    char pk[64], count_field[16], avg[32], at[48], expr[512], author_sk[96];
    json_t *req, *resp = NULL, *item;
    uint64_t total = 0, score = 0;

    snprintf(pk, sizeof pk, "STATS#%s", j->id);
    snprintf(count_field, sizeof count_field, "count%d", rating);
    snprintf(at, sizeof at, "2026-11-25T10:%02d:%02d.000Z", f->clock / 60, f->clock % 60);
    f->clock++;
    req = json_pack("{s:s, s:{s:{s:s}, s:{s:s}}}", "TableName", f->stats, "Key", "PK", "S", pk,
                    "SK", "S", "AGGREGATE");
    assert_int_equal(dr__ddb_call(c, "GetItem", req, &resp, NULL), DR_OK);
    json_decref(req);
    item = json_object_get(resp, "Item");
    (void)dr__av_get_u64(item, "totalRatings", &total);
    (void)dr__av_get_u64(item, "totalScore", &score);
    json_decref(resp);
    if (stale && total > 0) {
        total -= 1; /* the racing invocation's read: one rating fewer, the other's star */
        score -= 1;
    }
    js_round2((double)(score + (uint64_t)rating) / (double)(total + 1), avg);

    snprintf(expr, sizeof expr,
             "SET totalRatings = if_not_exists(totalRatings, :zero) + :one, "
             "totalScore = if_not_exists(totalScore, :zero) + :rating, "
             "%s = if_not_exists(%s, :zero) + :one, lastRatedAt = :submittedAt, "
             "author = if_not_exists(author, :author), "
             "jokeText = if_not_exists(jokeText, :jokeText), GSI1PK = :topPerformers, "
             "GSI1SK = :average",
             count_field, count_field);
    update(c, json_pack("{s:s, s:{s:{s:s}, s:{s:s}}, s:s, s:{s:{s:s}, s:{s:s}, s:{s:I}, "
                        "s:{s:s}, s:{s:s}, s:o, s:{s:s}, s:{s:s}}}",
                        "TableName", f->stats, "Key", "PK", "S", pk, "SK", "S", "AGGREGATE",
                        "UpdateExpression", expr, "ExpressionAttributeValues", ":zero", "N",
                        "0", ":one", "N", "1", ":rating", "N", (json_int_t)rating,
                        ":submittedAt", "S", at, ":author", "S", author, ":jokeText",
                        text ? json_pack("{s:s}", "S", text) : json_pack("{s:b}", "NULL", 1),
                        ":topPerformers", "S", "TOP_PERFORMERS", ":average", "N", avg));
    snprintf(expr, sizeof expr,
             "SET totalRatings = if_not_exists(totalRatings, :zero) + :one, "
             "totalScore = if_not_exists(totalScore, :zero) + :rating, "
             "%s = if_not_exists(%s, :zero) + :one",
             count_field, count_field);
    update(c, json_pack("{s:s, s:{s:{s:s}, s:{s:s}}, s:s, s:{s:{s:s}, s:{s:s}, s:{s:I}}}",
                        "TableName", f->stats, "Key", "PK", "S", "GLOBAL", "SK", "S",
                        "AGGREGATE", "UpdateExpression", expr, "ExpressionAttributeValues",
                        ":zero", "N", "0", ":one", "N", "1", ":rating", "N", (json_int_t)rating));
    snprintf(author_sk, sizeof author_sk, "AUTHOR#%s", author);
    snprintf(expr, sizeof expr,
             "SET totalRatings = if_not_exists(totalRatings, :zero) + :one, "
             "totalScore = if_not_exists(totalScore, :zero) + :rating, "
             "%s = if_not_exists(%s, :zero) + :one, author = :author",
             count_field, count_field);
    update(c, json_pack("{s:s, s:{s:{s:s}, s:{s:s}}, s:s, s:{s:{s:s}, s:{s:s}, s:{s:I}, "
                        "s:{s:s}}}",
                        "TableName", f->stats, "Key", "PK", "S", "GLOBAL", "SK", "S", author_sk,
                        "UpdateExpression", expr, "ExpressionAttributeValues", ":zero", "N",
                        "0", ":one", "N", "1", ":rating", "N", (json_int_t)rating, ":author",
                        "S", author));
    dr_test_tally_add(&j->tally, rating);
    dr_test_tally_add(&f->global, rating);
}

static void library_rate(fixture *f, joke *j, int rating)
{
    dr_rating *r = NULL;
    assert_int_equal(dr_rating_new(&r, j->id, rating), DR_OK);
    assert_int_equal(dr_rating_set_author(r, "Lib"), DR_OK);
    if (dr_client_write_rating(f->client, r, NULL) != DR_OK)
        fail_msg("write_rating %s: %s", j->id, dr_last_error_message());
    dr_rating_free(r);
    dr_test_tally_add(&j->tally, rating);
    dr_test_tally_add(&f->global, rating);
}

static joke *add_joke(fixture *f, const char *id)
{
    joke *j = &f->jokes[f->joke_count++];
    assert_true(f->joke_count <= MAX_JOKES);
    snprintf(j->id, sizeof j->id, "%s", id);
    return j;
}

/* Every joke's ratings, as a list of stars; `stale_last` makes the last rating's
 * GSI1SK come from a racy read. */
static void original_joke(fixture *f, const char *id, const char *stars, int stale_last)
{
    joke *j = add_joke(f, id);
    size_t i, n = strlen(stars);
    for (i = 0; i < n; i++)
        original_aggregate(f, j, stars[i] - '0', i % 2 ? "Ann" : "Bob",
                           i % 3 ? "Why did the chicken..." : NULL, stale_last && i == n - 1);
}

static joke *find(fixture *f, const char *id)
{
    int i;
    for (i = 0; i < f->joke_count; i++)
        if (!strcmp(f->jokes[i].id, id))
            return &f->jokes[i];
    return add_joke(f, id);
}

/* Ties at the 8th place (four jokes at 3.00 with 3 ratings for two places), jokes
 * below 3 ratings with the best averages, a joke whose GSI1SK says 5 while it stands
 * at 2.33 (stale), equal averages with more ratings. */
static void seed_original(fixture *f)
{
    original_joke(f, "j00", "555", 0);
    original_joke(f, "j01", "5555", 0);
    original_joke(f, "j02", "55", 0);
    original_joke(f, "j03", "444", 0);
    original_joke(f, "j04", "444", 0);
    original_joke(f, "j05", "444", 0);
    original_joke(f, "j06", "333", 0);
    original_joke(f, "j07", "333", 0);
    original_joke(f, "j08", "333", 0);
    original_joke(f, "j09", "333", 0);
    original_joke(f, "j10", "15", 0);
    original_aggregate(f, find(f, "j10"), 1, "Bob", NULL, 1); /* GSI1SK stale: 3 */
    original_joke(f, "j11", "5", 0);
    original_joke(f, "j12", "22222", 0);
    original_joke(f, "j13", "455", 0);
}

static int setup_original(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    dr_test_unique_name(f->ratings, sizeof f->ratings, "dropin-r");
    dr_test_unique_name(f->stats, sizeof f->stats, "dropin-s");
    f->client = dr_test_client(NULL, f->ratings, f->stats, NULL);
    create_original_tables(f->client, f->ratings, f->stats);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    dr_test_close_tables(f->client, f->ratings, f->stats);
    free(f);
    return 0;
}

/* ---- the model's dashboard -------------------------------------------------------- */

static const fixture *g_sort;

static uint32_t hundredths(const dr_test_tally *t)
{
    return (uint32_t)llround(dr_test_js_average(t->score, t->total) * 100);
}

static int by_rank(const void *pa, const void *pb)
{
    const joke *a = &g_sort->jokes[*(const int *)pa], *b = &g_sort->jokes[*(const int *)pb];
    uint32_t ha = hundredths(&a->tally), hb = hundredths(&b->tally);
    if (ha != hb)
        return ha > hb ? -1 : 1;
    if (a->tally.total != b->tally.total)
        return a->tally.total > b->tally.total ? -1 : 1;
    return -strcmp(a->id, b->id);
}

/* A fresh client on the fixture's tables, so the layout is found out anew. */
static dr_client *fresh_client(fixture *f, uint32_t shards)
{
    dr_config *cfg = NULL;
    dr_client *c = NULL;
    dr_client_free(dr_test_client(NULL, f->ratings, f->stats, &cfg));
    assert_int_equal(dr_config_set_global_shards(cfg, shards), DR_OK);
    assert_int_equal(dr_client_new(&c, cfg), DR_OK);
    dr_config_free(cfg);
    return c;
}

/* dashboard_stats on `c` against the model: totals, uniqueJokes, the true top 8. Returns
 * the requests it took. */
static uint64_t check_dashboard(fixture *f, dr_client *c)
{
    dr_dashboard *d = NULL;
    int order[MAX_JOKES], n = 0, i, unique = 0;
    uint64_t before = 0, after = 0;

    assert_int_equal(dr_client_counter(c, DR_COUNTER_REQUESTS, &before), DR_OK);
    if (dr_client_dashboard_stats(c, &d) != DR_OK)
        fail_msg("dashboard_stats: %s", dr_last_error_message());
    assert_int_equal(dr_client_counter(c, DR_COUNTER_REQUESTS, &after), DR_OK);
    for (i = 0; i < f->joke_count; i++) {
        unique += f->jokes[i].tally.total > 0;
        if (f->jokes[i].tally.total >= 3)
            order[n++] = i;
    }
    g_sort = f;
    qsort(order, (size_t)n, sizeof order[0], by_rank);
    if (n > 8)
        n = 8;
    assert_true(dr_dashboard_overall_ratings(d) == f->global.total);
    assert_true(dr_dashboard_overall_average(d) ==
                dr_test_js_average(f->global.score, f->global.total));
    if (dr_dashboard_unique_jokes(d) != (uint64_t)unique)
        fail_msg("uniqueJokes %llu, the model says %d",
                 (unsigned long long)dr_dashboard_unique_jokes(d), unique);
    assert_int_equal(dr_dashboard_inconsistent(d), 0);
    assert_int_equal(dr_dashboard_top_count(d), (size_t)n);
    for (i = 0; i < n; i++) {
        const joke *j = &f->jokes[order[i]];
        if (strcmp(dr_dashboard_top_joke_id(d, (size_t)i), j->id) != 0)
            fail_msg("top %d is %s, the model says %s", i, dr_dashboard_top_joke_id(d, (size_t)i),
                     j->id);
        assert_true(dr_dashboard_top_total_ratings(d, (size_t)i) == j->tally.total);
        assert_true(dr_dashboard_top_average(d, (size_t)i) ==
                    dr_test_js_average(j->tally.score, j->tally.total));
    }
    dr_dashboard_free(d);
    return after - before;
}

static int stats_table_has_gsi2(fixture *f)
{
    json_t *req = json_pack("{s:s}", "TableName", f->stats), *resp = NULL, *index;
    size_t i;
    int found = 0;
    assert_int_equal(dr__ddb_call(f->client, "DescribeTable", req, &resp, NULL), DR_OK);
    json_array_foreach(json_object_get(json_object_get(resp, "Table"), "GlobalSecondaryIndexes"),
                       i, index)
        found |= !strcmp(json_string_value(json_object_get(index, "IndexName")), "GSI2");
    json_decref(req);
    json_decref(resp);
    return found;
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_original_layout_exact(void **state)
{
    fixture *f = *state;
    dr_client *c;
    uint64_t requests;
    seed_original(f);
    c = fresh_client(f, 1);
    requests = check_dashboard(f, c);
    print_message("original layout, %d jokes: %llu requests\n", f->joke_count,
                  (unsigned long long)requests);
    check_dashboard(f, c); /* the cached layout gives the same */
    dr_client_free(c);
}

static int count_updated;
static int stop_after;

static int progress(dr_upgrade_phase phase, uint64_t scanned, uint64_t updated,
                    uint64_t estimate, void *payload)
{
    (void)estimate;
    (void)payload;
    if (phase == DR_UPGRADE_BACKFILL)
        count_updated = (int)updated;
    return stop_after && phase == DR_UPGRADE_BACKFILL && scanned >= (uint64_t)stop_after;
}

/* Jokes last rated by the original aggregator and by the library, then the upgrade. */
static void test_mixed_then_upgrade(void **state)
{
    fixture *f = *state;
    dr_client *c;
    uint64_t requests;
    seed_original(f);
    library_rate(f, find(f, "lib-a"), 5); /* new jokes, the library only */
    library_rate(f, find(f, "lib-a"), 5);
    library_rate(f, find(f, "lib-a"), 5);
    library_rate(f, find(f, "lib-b"), 4);
    library_rate(f, find(f, "j06"), 5); /* an original joke, then the library */
    library_rate(f, find(f, "j02"), 4); /* reaches 3 ratings through the library */
    library_rate(f, find(f, "j11"), 5); /* 2 ratings: still out */
    original_aggregate(f, find(f, "lib-b"), 5, "Lib", NULL, 0); /* and back */
    check_dashboard(f, f->client);

    count_updated = 0;
    stop_after = 0;
    if (dr_client_upgrade_tables(f->client, 0, progress, NULL) != DR_OK)
        fail_msg("upgrade: %s", dr_last_error_message());
    assert_true(stats_table_has_gsi2(f));
    assert_true(count_updated > 0);
    requests = check_dashboard(f, f->client); /* the upgrading client knows */
    assert_true(requests == 4);
    c = fresh_client(f, 1); /* a new one reads the marker */
    check_dashboard(f, c);
    assert_true(check_dashboard(f, c) == 4);
    /* Run again: nothing left to do. */
    assert_int_equal(dr_client_upgrade_tables(c, 0, progress, NULL), DR_OK);
    assert_int_equal(count_updated, 0);
    library_rate(f, find(f, "j07"), 5); /* the library keeps the index after it */
    check_dashboard(f, c);
    dr_client_free(c);
}

/* An upgrade stopped after 5 items: the dashboard stays exact half-way, and the rerun
 * converges to the same result as an uninterrupted one. */
static void test_upgrade_interrupted(void **state)
{
    fixture *f = *state;
    dr_client *c;
    seed_original(f);
    stop_after = 5;
    assert_int_equal(dr_client_upgrade_tables(f->client, 0, progress, NULL), DR_OK);
    assert_int_equal(count_updated, 5);
    stop_after = 0;
    c = fresh_client(f, 1);
    check_dashboard(f, c); /* no marker yet: the exact slow path over a half-done table */
    library_rate(f, find(f, "j03"), 5);
    check_dashboard(f, c);
    assert_int_equal(dr_client_upgrade_tables(c, 0, progress, NULL), DR_OK);
    assert_true(count_updated > 0);
    assert_true(check_dashboard(f, c) == 4);
    dr_client_free(c);
}

static void test_original_sharded_asks_for_upgrade(void **state)
{
    fixture *f = *state;
    dr_client *c;
    dr_dashboard *d = NULL;
    seed_original(f);
    c = fresh_client(f, 4);
    assert_int_equal(dr_client_dashboard_stats(c, &d), DR_E_CONFIG);
    assert_null(d);
    assert_non_null(strstr(dr_last_error_message(), "dr_client_upgrade_tables"));
    dr_client_free(c);
}

/* ---- older versions' negative values ---------------------------------------------- */

static void put_counters(fixture *f, const char *pk, const char *sk, const char *total,
                         const char *score, const char *c5, const char *c1, const char *unique)
{
    json_t *item = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "PK",
                             "S", pk, "SK", "S", sk, "totalRatings", "N", total, "totalScore",
                             "N", score, "count5", "N", c5, "count1", "N", c1);
    json_t *req;
    if (unique)
        json_object_set_new(item, "uniqueJokes", json_pack("{s:s}", "N", unique));
    if (!strncmp(sk, "AUTHOR#", 7))
        json_object_set_new(item, "author", json_pack("{s:s}", "S", sk + 7));
    req = json_pack("{s:s, s:o}", "TableName", f->stats, "Item", item);
    assert_int_equal(dr__ddb_call(f->client, "PutItem", req, NULL, NULL), DR_OK);
    json_decref(req);
}

static int setup_sharded(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->client = dr_test_open_tables(f->ratings, f->stats, sizeof f->ratings, "dropneg",
                                    DR_AGGREGATION_INLINE, 4);
    *state = f;
    return 0;
}

static void test_negative_shards(void **state)
{
    fixture *f = *state;
    dr_dashboard *d = NULL;
    dr_client *c;

    /* 4 ratings: 3 fives and a one, counted on GLOBAL and GLOBAL#1; a five un-counted on
     * GLOBAL#2 (-1), a one counted on GLOBAL#3 and un-counted on GLOBAL#1. Sum: 3 ratings,
     * 2 fives, 1 one, score 11, 3 jokes. An author un-counted below zero. */
    put_counters(f, "GLOBAL", "AGGREGATE", "3", "15", "3", "0", "2");
    put_counters(f, "GLOBAL#1", "AGGREGATE", "0", "0", "0", "0", "1");
    put_counters(f, "GLOBAL#2", "AGGREGATE", "-1", "-5", "-1", "0", "0");
    put_counters(f, "GLOBAL#3", "AGGREGATE", "1", "1", "0", "1", "0");
    put_counters(f, "GLOBAL", "AUTHOR#Ann", "3", "11", "2", "1", NULL);
    put_counters(f, "GLOBAL", "AUTHOR#Bob", "-1", "-5", "-1", "0", NULL);
    c = fresh_client(f, 4);
    if (dr_client_dashboard_stats(c, &d) != DR_OK)
        fail_msg("dashboard_stats: %s", dr_last_error_message());
    assert_int_equal(dr_dashboard_overall_ratings(d), 3);
    assert_int_equal(dr_dashboard_rating_count(d, 5), 2);
    assert_int_equal(dr_dashboard_rating_count(d, 1), 1);
    assert_true(dr_dashboard_overall_average(d) == dr_test_js_average(11, 3));
    assert_int_equal(dr_dashboard_unique_jokes(d), 3);
    assert_int_equal(dr_dashboard_author_count(d), 2);
    assert_string_equal(dr_dashboard_author_name(d, 0), "Ann");
    assert_int_equal(dr_dashboard_author_total_ratings(d, 1), 0); /* Bob clamped */
    assert_int_equal(dr_dashboard_inconsistent(d), 1);
    dr_dashboard_free(d);

    /* A sum below zero is clamped and reported, the rest of the dashboard stands. */
    put_counters(f, "GLOBAL#2", "AGGREGATE", "-5", "-25", "-5", "0", "-9");
    assert_int_equal(dr_client_dashboard_stats(c, &d), DR_OK);
    assert_int_equal(dr_dashboard_overall_ratings(d), 1); /* count1 1, count5 clamped */
    assert_int_equal(dr_dashboard_unique_jokes(d), 0);
    assert_int_equal(dr_dashboard_inconsistent(d), 3);
    assert_int_equal(dr_dashboard_author_count(d), 2);
    dr_dashboard_free(d);
    dr_client_free(c);
}

/* ---- an allocation failure building the GLOBAL keys -------------------------------- */

static atomic_long g_fail_at, g_allocs;

static void *failing_malloc(size_t n)
{
    long at = atomic_load(&g_fail_at);
    if (at > 0 && atomic_fetch_add(&g_allocs, 1) + 1 == at)
        return NULL;
    return malloc(n);
}

static void test_nomem_never_low_totals(void **state)
{
    fixture *f = *state;
    long k;
    put_counters(f, "GLOBAL", "AGGREGATE", "1", "5", "1", "0", "1");
    put_counters(f, "GLOBAL#1", "AGGREGATE", "1", "5", "1", "0", "1");
    put_counters(f, "GLOBAL#2", "AGGREGATE", "1", "5", "1", "0", "1");
    put_counters(f, "GLOBAL#3", "AGGREGATE", "1", "5", "1", "0", "1");
    json_set_alloc_funcs(failing_malloc, free);
    /* A new client's first call reads GLOBAL on the calling thread before anything else:
     * its first allocations build the BatchGetItem keys. */
    for (k = 1; k <= 40; k++) {
        dr_client *c = fresh_client(f, 4);
        dr_dashboard *d = NULL;
        dr_status rc;
        atomic_store(&g_allocs, 0);
        atomic_store(&g_fail_at, k);
        rc = dr_client_dashboard_stats(c, &d);
        atomic_store(&g_fail_at, 0);
        if (rc == DR_OK) {
            if (dr_dashboard_overall_ratings(d) != 4 || dr_dashboard_unique_jokes(d) != 4)
                fail_msg("allocation %ld failed: DR_OK with %llu ratings, %llu jokes (4, 4)", k,
                         (unsigned long long)dr_dashboard_overall_ratings(d),
                         (unsigned long long)dr_dashboard_unique_jokes(d));
        } else if (rc != DR_E_NOMEM) {
            fail_msg("allocation %ld failed: %s (%s)", k, dr_strerror(rc),
                     dr_last_error_message());
        }
        dr_dashboard_free(d);
        dr_client_free(c);
    }
    json_set_alloc_funcs(malloc, free);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_original_layout_exact, setup_original, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_then_upgrade, setup_original, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_interrupted, setup_original, teardown),
        cmocka_unit_test_setup_teardown(test_original_sharded_asks_for_upgrade, setup_original,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_negative_shards, setup_sharded, teardown),
        cmocka_unit_test_setup_teardown(test_nomem_never_low_totals, setup_sharded, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
