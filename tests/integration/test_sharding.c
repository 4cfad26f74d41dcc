/* Write sharding (docs/scaling.md): with dr_config_set_global_shards(cfg, 4) the GLOBAL
 * counters spread over GLOBAL, GLOBAL#1..#3 and the top-performers index over
 * TOP_PERFORMERS#0..#3; dashboard_stats must sum and merge them back exactly, in the
 * documented number of requests (1 BatchGetItem + authors + 4 top queries + recent = 7).
 * Checked in inline mode under 16 writer threads and in stream mode through the
 * follower, against the test's own tallies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>

#include "dadratings.h"
#include "ddb_json.h"
#include "dr_test.h"

#define SHARDS 4
#define JOKES 10
#define AUTHORS 3
#define THREADS 16

static const char *const author_names[AUTHORS] = {"Ann", "Bob", "Cid"};

typedef dr_test_tally tally;

typedef struct fixture {
    dr_client *client;
    char ratings[96], stats[96];
    char ids[JOKES][16];
    tally jokes[JOKES], authors[AUTHORS], global;
    pthread_mutex_t lock;
} fixture;

static void open_tables(fixture *f, dr_aggregation_mode mode)
{
    int i;
    pthread_mutex_init(&f->lock, NULL);
    for (i = 0; i < JOKES; i++)
        snprintf(f->ids[i], sizeof f->ids[0], "shard-%02d", i);
    f->client = dr_test_open_tables(f->ratings, f->stats, sizeof f->ratings, "shard", mode,
                                    SHARDS);
}

static int setup_inline(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    open_tables(f, DR_AGGREGATION_INLINE);
    *state = f;
    return 0;
}

static int setup_stream(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    open_tables(f, DR_AGGREGATION_STREAM);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    dr_test_close_tables(f->client, f->ratings, f->stats);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return 0;
}

/* One random rating by its joke's author, tallied once stored; for dr_test_run_threads. */
static dr_status write_random(void *ctx, int thread, int call, unsigned *seed)
{
    fixture *f = ctx;
    int joke = (int)(rand_r(seed) % JOKES), stars = (int)(rand_r(seed) % 5) + 1;
    dr_rating *r = NULL;
    dr_status rc = dr_rating_new(&r, f->ids[joke], stars);
    (void)thread;
    (void)call;
    if (rc == DR_OK)
        rc = dr_rating_set_author(r, author_names[joke % AUTHORS]);
    if (rc == DR_OK)
        rc = dr_client_write_rating(f->client, r, NULL);
    dr_rating_free(r);
    if (rc == DR_OK) {
        pthread_mutex_lock(&f->lock);
        dr_test_tally_add(&f->jokes[joke], stars);
        dr_test_tally_add(&f->authors[joke % AUTHORS], stars);
        dr_test_tally_add(&f->global, stars);
        pthread_mutex_unlock(&f->lock);
    }
    return rc;
}

static void write_with_threads(fixture *f, int per_thread)
{
    dr_test_run_threads(THREADS, THREADS * per_thread, write_random, f, 17u);
    assert_true(f->global.total == (uint64_t)(THREADS * per_thread));
}

static const fixture *g_sort;

static int compare_expected(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    double x = dr_test_js_average(g_sort->jokes[a].score, g_sort->jokes[a].total);
    double y = dr_test_js_average(g_sort->jokes[b].score, g_sort->jokes[b].total);
    if (x != y)
        return x > y ? -1 : 1;
    if (g_sort->jokes[a].total != g_sort->jokes[b].total)
        return g_sort->jokes[a].total > g_sort->jokes[b].total ? -1 : 1;
    return -strcmp(g_sort->ids[a], g_sort->ids[b]);
}

/* Totals, authors and the merged top 8 exact; the request count as documented. */
static void assert_dashboard_exact(fixture *f)
{
    dr_dashboard *d = NULL;
    uint64_t before = 0, after = 0;
    int order[JOKES], i, k, n = 0;
    size_t j;

    assert_int_equal(dr_client_counter(f->client, DR_COUNTER_REQUESTS, &before), DR_OK);
    if (dr_client_dashboard_stats(f->client, &d) != DR_OK)
        fail_msg("dashboard_stats: %s", dr_last_error_message());
    assert_int_equal(dr_client_counter(f->client, DR_COUNTER_REQUESTS, &after), DR_OK);
    print_message("dashboard_stats with %d shards: %llu requests\n", SHARDS,
                  (unsigned long long)(after - before));
    assert_true(after - before == 3 + SHARDS);

    assert_true(dr_dashboard_overall_ratings(d) == f->global.total);
    assert_true(dr_dashboard_overall_average(d) == dr_test_js_average(f->global.score, f->global.total));
    for (k = 1; k <= 5; k++)
        assert_true(dr_dashboard_rating_count(d, k) == f->global.count[k - 1]);
    for (i = 0; i < JOKES; i++)
        n += f->jokes[i].total > 0;
    assert_int_equal(dr_dashboard_unique_jokes(d), n);
    assert_int_equal(dr_dashboard_author_count(d), AUTHORS);
    for (j = 0; j < AUTHORS; j++) {
        int a;
        for (a = 0; strcmp(author_names[a], dr_dashboard_author_name(d, j)); a++)
            assert_true(a + 1 < AUTHORS);
        assert_true(dr_dashboard_author_total_ratings(d, j) == f->authors[a].total);
        for (k = 1; k <= 5; k++)
            assert_true(dr_dashboard_author_rating_count(d, j, k) == f->authors[a].count[k - 1]);
    }

    n = 0;
    for (i = 0; i < JOKES; i++)
        if (f->jokes[i].total >= 3)
            order[n++] = i;
    g_sort = f;
    qsort(order, (size_t)n, sizeof *order, compare_expected);
    assert_int_equal(dr_dashboard_top_count(d), n < 8 ? n : 8);
    for (j = 0; j < dr_dashboard_top_count(d); j++) {
        const tally *t = &f->jokes[order[j]];
        assert_string_equal(dr_dashboard_top_joke_id(d, j), f->ids[order[j]]);
        assert_true(dr_dashboard_top_total_ratings(d, j) == t->total);
        assert_true(dr_dashboard_top_average(d, j) == dr_test_js_average(t->score, t->total));
    }
    dr_dashboard_free(d);
}

/* The stored layout: the GLOBAL shards sum to the total, and the top index spans more
 * than one TOP_PERFORMERS#k partition (else the merge would be untested). */
static void assert_layout_sharded(fixture *f, int min_global_shards)
{
    json_t *items = dr_test_scan_all(f->client, f->stats), *item;
    uint64_t sum = 0, unique = 0;
    int shards = 0, partitions[SHARDS] = {0}, used = 0, k;
    size_t i;

    json_array_foreach(items, i, item) {
        const char *pk = dr__av_get_s(item, "PK"), *sk = dr__av_get_s(item, "SK");
        const char *part = dr__av_get_s(item, "GSI2PK");
        uint64_t total = 0, u = 0;
        if (pk && sk && !strcmp(sk, "AGGREGATE") &&
            (!strcmp(pk, "GLOBAL") || !strncmp(pk, "GLOBAL#", 7))) {
            shards++;
            assert_int_equal(dr__av_get_u64(item, "totalRatings", &total), 0);
            sum += total;
            if (dr__av_get_u64(item, "uniqueJokes", &u) == 0)
                unique += u;
        }
        if (part && !strncmp(part, "TOP_PERFORMERS#", 15)) {
            k = atoi(part + 15);
            assert_true(k >= 0 && k < SHARDS);
            partitions[k]++;
            /* GSI1 (the JavaScript services' index) is not written when sharded. */
            assert_null(json_object_get(item, "GSI1PK"));
        }
        assert_true(!part || strcmp(part, "TOP_PERFORMERS") != 0);
    }
    json_decref(items);
    for (k = 0; k < SHARDS; k++)
        used += partitions[k] > 0;
    print_message("%d GLOBAL shard items, top index over %d partitions\n", shards, used);
    assert_true(shards >= min_global_shards && shards <= SHARDS);
    assert_true(sum == f->global.total);
    assert_int_equal(unique, JOKES);
    assert_true(used >= 2);
}

static void test_inline_sharded_dashboard_is_exact(void **state)
{
    fixture *f = *state;
    const char *env = getenv("DR_TEST_SHARDED_WRITES_PER_THREAD"); /* fewer under sanitizers */
    write_with_threads(f, env ? atoi(env) : 50);
    /* 16 x 50 changes over 4 shards picked at random: all 4 are used (with 16 x 10, each
     * shard is still missed with probability (3/4)^160, about 1e-20). */
    assert_layout_sharded(f, SHARDS);
    assert_dashboard_exact(f);
}

static void test_stream_sharded_dashboard_is_exact(void **state)
{
    fixture *f = *state;
    dr_follower *fo = NULL;
    uint64_t seen = 0, total = 0;
    int idle = 0;

    write_with_threads(f, 10);
    assert_int_equal(dr_follower_new(&fo, f->client), DR_OK);
    while (idle < 2) {
        if (dr_follower_poll(fo, &seen) != DR_OK)
            fail_msg("follower: %s", dr_last_error_message());
        total += seen;
        idle = seen ? 0 : idle + 1;
    }
    dr_follower_free(fo);
    assert_true(total == f->global.total);
    assert_layout_sharded(f, 2);
    assert_dashboard_exact(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inline_sharded_dashboard_is_exact, setup_inline,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_sharded_dashboard_is_exact, setup_stream,
                                        teardown),
    };
    return cmocka_run_group_tests_name("sharding", tests, NULL, NULL);
}
