/* The three operations against DynamoDB Local, every field checked against values the
 * test computes itself from the ratings it wrote (and from a scan of the ratings
 * table), never from the stats table it is checking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <time.h>

#include <cmocka.h>

#include "dadratings.h"
#include "ddb_json.h"
#include "dr_test.h"
#include "fault_proxy_ctl.h"

/* ---- the test's own model of what must be stored ------------------------- */

#define MAX_JOKES 64
#define MAX_AUTHORS 8

typedef dr_test_tally tally;

typedef struct model {
    char joke_ids[MAX_JOKES][32];
    const char *joke_author[MAX_JOKES];
    tally jokes[MAX_JOKES];
    int joke_count;
    char authors[MAX_AUTHORS][32];
    tally by_author[MAX_AUTHORS];
    int author_count;
    tally global;
    pthread_mutex_t lock;
} model;

static int author_index(model *m, const char *author)
{
    int i;
    for (i = 0; i < m->author_count; i++)
        if (!strcmp(m->authors[i], author))
            return i;
    snprintf(m->authors[m->author_count], sizeof m->authors[0], "%s", author);
    return m->author_count++;
}

static void model_record(model *m, int joke, int stars)
{
    pthread_mutex_lock(&m->lock);
    dr_test_tally_add(&m->jokes[joke], stars);
    dr_test_tally_add(&m->by_author[author_index(m, m->joke_author[joke])], stars);
    dr_test_tally_add(&m->global, stars);
    pthread_mutex_unlock(&m->lock);
}

/* ---- fixture: fresh tables per test ---------------------------------------- */

typedef struct fixture {
    dr_client *client;
    char ratings[96], stats[96];
    model m;
} fixture;

static dr_client *client_for(fixture *f, const char *endpoint, uint32_t timeout_ms)
{
    dr_config *cfg = NULL;
    dr_client *c = dr_test_client(endpoint, f->ratings, f->stats, &cfg);
    if (timeout_ms) {
        dr_client_free(c);
        assert_int_equal(dr_config_set_request_timeout_ms(cfg, timeout_ms), DR_OK);
        assert_int_equal(dr_client_new(&c, cfg), DR_OK);
    }
    dr_config_free(cfg);
    return c;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->m.lock, NULL);
    f->client = dr_test_open_tables(f->ratings, f->stats, sizeof f->ratings, "ops",
                                    DR_AGGREGATION_INLINE, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    dr_test_close_tables(f->client, f->ratings, f->stats);
    pthread_mutex_destroy(&f->m.lock);
    free(f);
    return 0;
}

static dr_stats *write_one(dr_client *c, const char *joke, int stars, const char *author,
                           const char *text, const char *key)
{
    dr_rating *r = NULL;
    dr_stats *s = NULL;
    assert_int_equal(dr_rating_new(&r, joke, stars), DR_OK);
    if (author)
        assert_int_equal(dr_rating_set_author(r, author), DR_OK);
    if (text)
        assert_int_equal(dr_rating_set_joke_text(r, text), DR_OK);
    if (key)
        assert_int_equal(dr_rating_set_idempotency_key(r, key), DR_OK);
    if (dr_client_write_rating(c, r, &s) != DR_OK)
        fail_msg("write_rating %s: %s", joke, dr_last_error_message());
    dr_rating_free(r);
    return s;
}

static void assert_stats_match(const dr_stats *s, const char *joke, const tally *t)
{
    int k;
    assert_string_equal(dr_stats_joke_id(s), joke);
    assert_true(dr_stats_total_ratings(s) == t->total);
    assert_true(dr_stats_total_score(s) == t->score);
    for (k = 1; k <= 5; k++)
        assert_true(dr_stats_count(s, k) == t->count[k - 1]);
    assert_true(dr_stats_average(s) == dr_test_js_average(t->score, t->total));
}

/* The newest submittedAt of a joke's rating items, from a scan of the ratings table. */
static void newest_rating_time(fixture *f, const char *joke, char *out, size_t cap)
{
    json_t *items = dr_test_scan_all(f->client, f->ratings), *item;
    char pk[64];
    size_t i;
    snprintf(pk, sizeof pk, "JOKE#%s", joke);
    out[0] = '\0';
    json_array_foreach(items, i, item) {
        const char *at = dr__av_get_s(item, "submittedAt");
        const char *ipk = dr__av_get_s(item, "PK");
        const char *sk = dr__av_get_s(item, "SK");
        if (ipk && at && sk && !strcmp(ipk, pk) && !strncmp(sk, "RATING#", 7) &&
            strcmp(at, out) > 0)
            snprintf(out, cap, "%s", at);
    }
    json_decref(items);
}

/* ---- 1. every field of the three shapes ------------------------------------ */

static void test_every_field_of_the_three_shapes(void **state)
{
    static const struct {
        const char *joke, *author, *text;
        int stars[6];
    } plan[] = {
        {"pun-1", "Ann", "Why did the chicken join a band? Drumsticks.", {5, 5, 4, 0}},
        {"pun-2", "Ann", NULL, {3, 0}},
        {"pun-3", "Bob", "I used to hate facial hair, but then it grew on me.", {1, 2, 2, 5, 0}},
        {"pun-4", NULL, "What do you call a fake noodle? An impasta.", {4, 4, 4, 0}},
    };
    fixture *f = *state;
    model *m = &f->m;
    dr_dashboard *d = NULL;
    dr_stats *s = NULL;
    char newest[40], *json = NULL;
    size_t i, k;
    int a;

    for (i = 0; i < 4; i++) {
        snprintf(m->joke_ids[i], sizeof m->joke_ids[0], "%s", plan[i].joke);
        m->joke_author[i] = plan[i].author ? plan[i].author : "Unknown";
        for (k = 0; plan[i].stars[k]; k++) {
            s = write_one(f->client, plan[i].joke, plan[i].stars[k], plan[i].author,
                          plan[i].text, NULL);
            model_record(m, (int)i, plan[i].stars[k]);
            /* The submit's result includes the rating just written. */
            assert_stats_match(s, plan[i].joke, &m->jokes[i]);
            dr_stats_free(s);
        }
    }
    m->joke_count = 4;

    /* read_stats: every field, lastRatedAt from the ratings table itself. */
    for (i = 0; i < 4; i++) {
        assert_int_equal(dr_client_read_stats(f->client, plan[i].joke, &s), DR_OK);
        assert_stats_match(s, plan[i].joke, &m->jokes[i]);
        newest_rating_time(f, plan[i].joke, newest, sizeof newest);
        assert_string_equal(dr_stats_last_rated_at(s), newest);
        dr_stats_free(s);
    }
    /* An unrated joke: zeros, and the JavaScript shape for it. */
    assert_int_equal(dr_client_read_stats(f->client, "never-rated", &s), DR_OK);
    assert_int_equal(dr_stats_total_ratings(s), 0);
    assert_null(dr_stats_last_rated_at(s));
    assert_int_equal(dr_stats_to_json(s, &json), DR_OK);
    assert_string_equal(json, "{\"counts\":{\"1\":0,\"2\":0,\"3\":0,\"4\":0,\"5\":0},"
                              "\"totalRatings\":0,\"average\":0,\"ratings\":[],"
                              "\"jokeId\":\"never-rated\"}");
    dr_free(json);
    dr_stats_free(s);

    /* dashboard_stats: totals, distribution, authors, top performers, recent. */
    assert_int_equal(dr_client_dashboard_stats(f->client, &d), DR_OK);
    assert_true(dr_dashboard_overall_ratings(d) == m->global.total);
    assert_true(dr_dashboard_overall_average(d) == dr_test_js_average(m->global.score, m->global.total));
    assert_int_equal(dr_dashboard_unique_jokes(d), 4);
    for (k = 1; k <= 5; k++)
        assert_true(dr_dashboard_rating_count(d, (int32_t)k) == m->global.count[k - 1]);
    assert_int_equal(dr_dashboard_author_count(d), (size_t)m->author_count);
    for (i = 0; i < dr_dashboard_author_count(d); i++) {
        const char *name = dr_dashboard_author_name(d, i);
        a = author_index(m, name);
        assert_true(a < m->author_count);
        assert_true(dr_dashboard_author_total_ratings(d, i) == m->by_author[a].total);
        assert_true(dr_dashboard_author_average(d, i) ==
                    dr_test_js_average(m->by_author[a].score, m->by_author[a].total));
        for (k = 1; k <= 5; k++)
            assert_true(dr_dashboard_author_rating_count(d, i, (int32_t)k) ==
                        m->by_author[a].count[k - 1]);
        if (i > 0)
            assert_true(dr_dashboard_author_total_ratings(d, i - 1) >=
                        dr_dashboard_author_total_ratings(d, i));
    }
    /* Qualifying (>= 3 ratings): pun-1 (4.67), pun-4 (4), pun-3 (2.5); pun-2 has one. */
    assert_int_equal(dr_dashboard_top_count(d), 3);
    assert_string_equal(dr_dashboard_top_joke_id(d, 0), "pun-1");
    assert_string_equal(dr_dashboard_top_joke_id(d, 1), "pun-4");
    assert_string_equal(dr_dashboard_top_joke_id(d, 2), "pun-3");
    assert_true(dr_dashboard_top_average(d, 0) == dr_test_js_average(14, 3));
    assert_true(dr_dashboard_top_total_ratings(d, 2) == 4);
    assert_string_equal(dr_dashboard_top_author(d, 1), "Unknown");
    assert_string_equal(dr_dashboard_top_joke_text(d, 1), plan[3].text);
    newest_rating_time(f, "pun-3", newest, sizeof newest);
    assert_string_equal(dr_dashboard_top_last_rated_at(d, 2), newest);
    /* 11 ratings were written: all of them are among the newest 20, newest first. */
    assert_int_equal(dr_dashboard_recent_count(d), 11);
    for (i = 1; i < dr_dashboard_recent_count(d); i++)
        assert_true(strcmp(dr_dashboard_recent_submitted_at(d, i - 1),
                           dr_dashboard_recent_submitted_at(d, i)) >= 0);
    assert_string_equal(dr_dashboard_recent_joke_id(d, 0), "pun-4");
    assert_int_equal(dr_dashboard_recent_rating(d, 0), 4);
    assert_string_equal(dr_dashboard_recent_mode(d, 0), "live");
    assert_string_equal(dr_dashboard_recent_author(d, 0), "Unknown");
    assert_int_equal(strlen(dr_dashboard_recent_date(d, 0)), 10);
    assert_int_equal(dr_dashboard_to_json(d, &json), DR_OK);
    assert_non_null(strstr(json, "\"uniqueJokes\":4"));
    assert_non_null(strstr(json, "{\"author\":\"Ann\",\"totalRatings\":4,\"average\":4.25}"));
    dr_free(json);
    dr_dashboard_free(d);
}

/* ---- 2. concurrency: 16 threads x 500 writes --------------------------------- */

/* One random rating by its joke's author, recorded in the model once stored; for
 * dr_test_run_threads. */
static dr_status write_random(void *ctx, int thread, int call, unsigned *seed)
{
    fixture *f = ctx;
    int joke = (int)(rand_r(seed) % 10);
    int stars = (int)(rand_r(seed) % 5) + 1;
    dr_rating *r = NULL;
    dr_status rc = dr_rating_new(&r, f->m.joke_ids[joke], stars);
    (void)thread;
    (void)call;
    if (rc == DR_OK)
        rc = dr_rating_set_author(r, f->m.joke_author[joke]);
    if (rc == DR_OK)
        rc = dr_client_write_rating(f->client, r, NULL);
    dr_rating_free(r);
    if (rc == DR_OK)
        model_record(&f->m, joke, stars);
    return rc;
}

static void test_concurrent_writes_are_exact(void **state)
{
    static const char *const authors[] = {"Ann", "Bob", "Cid", "Dee"};
    enum { THREADS = 16 };
    fixture *f = *state;
    model *m = &f->m;
    const char *env = getenv("DR_TEST_WRITES_PER_THREAD"); /* fewer under TSan */
    int per_thread = env ? atoi(env) : 500;
    dr_dashboard *d = NULL;
    int i, k;
    uint64_t conflicts = 0;

    for (i = 0; i < 10; i++) {
        snprintf(m->joke_ids[i], sizeof m->joke_ids[0], "joke-%02d", i);
        m->joke_author[i] = authors[i % 4];
    }
    m->joke_count = 10;
    dr_test_run_threads(THREADS, THREADS * per_thread, write_random, f, 1234u);
    assert_true(m->global.total == (uint64_t)(THREADS * per_thread));

    for (i = 0; i < 10; i++) {
        dr_stats *s = NULL;
        assert_int_equal(dr_client_read_stats(f->client, m->joke_ids[i], &s), DR_OK);
        assert_stats_match(s, m->joke_ids[i], &m->jokes[i]);
        dr_stats_free(s);
    }
    assert_int_equal(dr_client_dashboard_stats(f->client, &d), DR_OK);
    assert_true(dr_dashboard_overall_ratings(d) == m->global.total);
    assert_int_equal(dr_dashboard_unique_jokes(d), 10);
    for (k = 1; k <= 5; k++)
        assert_true(dr_dashboard_rating_count(d, k) == m->global.count[k - 1]);
    assert_int_equal(dr_dashboard_author_count(d), 4);
    for (i = 0; i < 4; i++) {
        int a = author_index(m, dr_dashboard_author_name(d, (size_t)i));
        assert_true(dr_dashboard_author_total_ratings(d, (size_t)i) == m->by_author[a].total);
        for (k = 1; k <= 5; k++)
            assert_true(dr_dashboard_author_rating_count(d, (size_t)i, k) ==
                        m->by_author[a].count[k - 1]);
    }
    dr_dashboard_free(d);

    /* The stored index average (GSI1SK) equals totalScore/totalRatings once writes stop. */
    {
        json_t *items = dr_test_scan_all(f->client, f->stats), *item;
        size_t n;
        int checked = 0;
        json_array_foreach(items, n, item) {
            uint64_t total = 0, score = 0;
            const char *avg = dr__av_get_n(item, "GSI1SK");
            char expected[32];
            if (!avg)
                continue;
            assert_int_equal(dr__av_get_u64(item, "totalRatings", &total), 0);
            assert_int_equal(dr__av_get_u64(item, "totalScore", &score), 0);
            snprintf(expected, sizeof expected, "%g", dr_test_js_average(score, total));
            assert_string_equal(avg, expected);
            checked++;
        }
        json_decref(items);
        assert_true(checked >= 1);
    }
    dr_client_counter(f->client, DR_COUNTER_TRANSACTION_CONFLICTS, &conflicts);
    print_message("%d writes by 16 threads exact; %llu transaction conflicts retried\n",
                  THREADS * per_thread, (unsigned long long)conflicts);
}

/* ---- 3. idempotency ------------------------------------------------------------ */

static void test_idempotency_key_counts_once(void **state)
{
    fixture *f = *state;
    dr_stats *s;
    int i;
    for (i = 0; i < 3; i++) {
        s = write_one(f->client, "idem", 4, "Ann", NULL, "submit-42");
        assert_int_equal(dr_stats_total_ratings(s), 1);
        dr_stats_free(s);
    }
    s = write_one(f->client, "idem", 2, "Ann", NULL, "submit-43");
    assert_int_equal(dr_stats_total_ratings(s), 2);
    assert_int_equal(dr_stats_total_score(s), 6);
    dr_stats_free(s);
    {
        json_t *items = dr_test_scan_all(f->client, f->ratings), *item;
        size_t n;
        int ratings = 0;
        json_array_foreach(items, n, item) {
            if (!strncmp(dr__av_get_s(item, "SK"), "RATING#", 7))
                ratings++;
        }
        json_decref(items);
        assert_int_equal(ratings, 2);
    }
}

/* The first attempt reaches DynamoDB and commits, then the connection is reset before
 * the answer arrives; the transport retries the same request with the same
 * ClientRequestToken, and DynamoDB applies it once. */
static void test_retry_after_a_lost_answer_counts_once(void **state)
{
    fixture *f = *state;
    const char *rules[] = {"forward-then-reset:count=1,target=TransactWriteItems", NULL};
    dr_test_proxy proxy;
    dr_test_proxy_counts counts;
    dr_client *via_proxy;
    dr_stats *s;
    char upstream[64];

    snprintf(upstream, sizeof upstream, "%s", dr_test_endpoint() + strlen("http://"));
    assert_int_equal(dr_test_proxy_start(upstream, rules, &proxy), 0);
    via_proxy = client_for(f, proxy.endpoint, 2000);

    s = write_one(via_proxy, "lost-answer", 5, "Bob", NULL, NULL);
    /* The transaction reached DynamoDB twice: the attempt whose answer was lost, and
     * the retry (by libcurl on a reused connection, or by the library's own policy). */
    assert_int_equal(dr_test_proxy_stats(&proxy, &counts), 0);
    assert_int_equal(dr_test_proxy_fault_count(&counts, "forward-then-reset"), 1);
    assert_int_equal(dr_test_proxy_target_count(&counts, "TransactWriteItems"), 2);
    assert_int_equal(dr_stats_total_ratings(s), 1);
    dr_stats_free(s);
    assert_int_equal(dr_client_read_stats(f->client, "lost-answer", &s), DR_OK);
    assert_int_equal(dr_stats_total_ratings(s), 1);
    assert_int_equal(dr_stats_total_score(s), 5);
    dr_stats_free(s);

    dr_client_free(via_proxy);
    dr_test_proxy_stop(&proxy);
}

/* ---- 4. the true top 8 ------------------------------------------------------- */

typedef struct expected_top {
    char id[32];
    uint64_t total, score;
} expected_top;

static int compare_expected(const void *pa, const void *pb)
{
    const expected_top *a = pa, *b = pb;
    double x = dr_test_js_average(a->score, a->total), y = dr_test_js_average(b->score, b->total);
    if (x != y)
        return x > y ? -1 : 1;
    if (a->total != b->total)
        return a->total > b->total ? -1 : 1;
    return -strcmp(a->id, b->id); /* documented tie rule: joke id, descending bytes */
}

static void test_top_performers_are_the_true_top_8(void **state)
{
    /* 18 jokes with 1-2 perfect ratings (best averages, not qualifying) and 12 with 3+,
     * including ties at the cut between 8th and 9th place. */
    static const int qualifying[12][6] = {
        {5, 5, 4, 0}, {5, 4, 4, 0}, {4, 4, 4, 0}, {5, 5, 5, 3, 0}, {3, 3, 3, 0},
        {4, 4, 4, 4, 0}, {2, 3, 4, 0}, {4, 4, 4, 0}, {1, 1, 1, 0}, {5, 3, 4, 0},
        {4, 4, 4, 0}, {5, 5, 5, 0}};
    fixture *f = *state;
    expected_top expected[12];
    dr_dashboard *d = NULL;
    char id[32];
    int i, k;

    for (i = 0; i < 18; i++) {
        snprintf(id, sizeof id, "few-%02d", i);
        dr_stats_free(write_one(f->client, id, 5, "Ann", NULL, NULL));
        if (i % 2)
            dr_stats_free(write_one(f->client, id, 5, "Ann", NULL, NULL));
    }
    for (i = 0; i < 12; i++) {
        snprintf(expected[i].id, sizeof expected[i].id, "many-%02d", i);
        expected[i].total = expected[i].score = 0;
        for (k = 0; qualifying[i][k]; k++) {
            dr_stats_free(write_one(f->client, expected[i].id, qualifying[i][k], "Bob", NULL, NULL));
            expected[i].total++;
            expected[i].score += (uint64_t)qualifying[i][k];
        }
    }
    qsort(expected, 12, sizeof *expected, compare_expected);

    assert_int_equal(dr_client_dashboard_stats(f->client, &d), DR_OK);
    assert_int_equal(dr_dashboard_unique_jokes(d), 30);
    assert_int_equal(dr_dashboard_top_count(d), 8);
    for (i = 0; i < 8; i++) {
        assert_string_equal(dr_dashboard_top_joke_id(d, (size_t)i), expected[i].id);
        assert_true(dr_dashboard_top_total_ratings(d, (size_t)i) == expected[i].total);
        assert_true(dr_dashboard_top_average(d, (size_t)i) ==
                    dr_test_js_average(expected[i].score, expected[i].total));
    }
    dr_dashboard_free(d);
}

/* ---- 6. bad input changes nothing ---------------------------------------------- */

static void test_bad_input_is_rejected_and_writes_nothing(void **state)
{
    static const char *const bad_ids[] = {"", "a#b", "tab\there", "nl\nx", "\x7f",
                                          "\xc2\x85", "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80"};
    fixture *f = *state;
    dr_rating *r = NULL;
    dr_stats *s = (dr_stats *)1;
    char long_id[300], *long_text = malloc(9000);
    json_t *items;
    size_t i;

    for (i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
        assert_int_equal(dr_rating_new(&r, bad_ids[i], 3), DR_E_INVALID_ARGUMENT);
        assert_null(r);
        assert_non_null(strstr(dr_last_error_message(), "jokeId"));
        assert_int_equal(dr_client_read_stats(f->client, bad_ids[i], &s), DR_E_INVALID_ARGUMENT);
        assert_null(s);
    }
    assert_int_equal(dr_rating_new(&r, NULL, 3), DR_E_INVALID_ARGUMENT);
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(dr_rating_new(&r, long_id, 3), DR_E_INVALID_ARGUMENT);
    assert_non_null(strstr(dr_last_error_message(), "jokeId"));
    assert_int_equal(dr_rating_new(&r, "ok", 0), DR_E_INVALID_ARGUMENT);
    assert_non_null(strstr(dr_last_error_message(), "rating"));
    assert_int_equal(dr_rating_new(&r, "ok", 6), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_rating_new(&r, "ok", -2147483647 - 1), DR_E_INVALID_ARGUMENT);

    assert_int_equal(dr_rating_new(&r, "ok", 3), DR_OK);
    assert_int_equal(dr_rating_set_author(r, "Dad#Admin"), DR_E_INVALID_ARGUMENT);
    assert_non_null(strstr(dr_last_error_message(), "author"));
    assert_int_equal(dr_rating_set_author(r, ""), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_rating_set_mode(r, "weekly"), DR_E_INVALID_ARGUMENT);
    assert_non_null(strstr(dr_last_error_message(), "mode"));
    assert_int_equal(dr_rating_set_date(r, "2026-02-30"), DR_E_INVALID_ARGUMENT);
    assert_non_null(strstr(dr_last_error_message(), "date"));
    assert_int_equal(dr_rating_set_date(r, "26-1-1"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_rating_set_date(r, "2026-13-01"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_rating_set_idempotency_key(r, "has space"), DR_E_INVALID_ARGUMENT);
    assert_non_null(strstr(dr_last_error_message(), "idempotency"));
    memset(long_text, 'a', 8999);
    long_text[8999] = '\0';
    assert_int_equal(dr_rating_set_joke_text(r, long_text), DR_E_INVALID_ARGUMENT);
    assert_non_null(strstr(dr_last_error_message(), "jokeText"));
    assert_int_equal(dr_rating_set_joke_text(r, "bad \x01 control"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_rating_set_joke_text(r, "bad utf8 \xe2\x82"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_client_write_rating(f->client, NULL, &s), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_client_write_rating(NULL, r, &s), DR_E_INVALID_ARGUMENT);
    dr_rating_free(r);
    free(long_text);

    items = dr_test_scan_all(f->client, f->ratings);
    assert_int_equal(json_array_size(items), 0);
    json_decref(items);
    /* The stats table holds only the schema marker create_tables wrote. */
    items = dr_test_scan_all(f->client, f->stats);
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(items, 0), "PK"), "S")),
                        "SCHEMA");
    json_decref(items);
}

/* A page of jokes in one call: 100 jokes (some never rated) in one BatchGetItem, in
 * input order, each result what read_stats gives; more than 100 in a request per 100
 * distinct jokes; a joke listed twice gets both places; bad input names its index. */
static void test_read_stats_of_many_jokes(void **state)
{
    fixture *f = *state;
    static char ids[160][16];
    const char *list[160];
    dr_stats *out[160];
    uint64_t before = 0, after = 0;
    size_t i;

    for (i = 0; i < 160; i++) {
        snprintf(ids[i], sizeof ids[i], "page-%03zu", i);
        list[i] = ids[159 - i]; /* not the table's order */
        if (i % 3) /* every third joke has no ratings */
            dr_stats_free(write_one(f->client, ids[i], (int)(i % 5) + 1, "Ann", NULL, NULL));
    }
    list[99] = list[3]; /* twice */
    assert_int_equal(dr_client_counter(f->client, DR_COUNTER_REQUESTS, &before), DR_OK);
    if (dr_client_read_stats_many(f->client, list, 100, out) != DR_OK)
        fail_msg("read_stats_many: %s", dr_last_error_message());
    assert_int_equal(dr_client_counter(f->client, DR_COUNTER_REQUESTS, &after), DR_OK);
    assert_int_equal(after - before, 1);
    for (i = 0; i < 100; i++) {
        dr_stats *one = NULL;
        char *a = NULL, *b = NULL;
        assert_int_equal(dr_client_read_stats(f->client, list[i], &one), DR_OK);
        assert_int_equal(dr_stats_to_json(out[i], &a), DR_OK);
        assert_int_equal(dr_stats_to_json(one, &b), DR_OK);
        assert_string_equal(a, b);
        assert_string_equal(dr_stats_joke_id(out[i]), list[i]);
        dr_free(a);
        dr_free(b);
        dr_stats_free(one);
        dr_stats_free(out[i]);
    }

    assert_int_equal(dr_client_counter(f->client, DR_COUNTER_REQUESTS, &before), DR_OK);
    assert_int_equal(dr_client_read_stats_many(f->client, list, 160, out), DR_OK);
    assert_int_equal(dr_client_counter(f->client, DR_COUNTER_REQUESTS, &after), DR_OK);
    assert_int_equal(after - before, 2); /* 159 distinct jokes */
    for (i = 0; i < 160; i++) {
        size_t joke = (size_t)atoi(list[i] + strlen("page-"));
        assert_string_equal(dr_stats_joke_id(out[i]), list[i]);
        assert_true(dr_stats_total_ratings(out[i]) == (joke % 3 ? 1u : 0u));
        dr_stats_free(out[i]);
    }

    /* Bad input: an error naming what is wrong, every out[i] NULL, no request. */
    assert_int_equal(dr_client_counter(f->client, DR_COUNTER_REQUESTS, &before), DR_OK);
    assert_int_equal(dr_client_read_stats_many(f->client, list, 0, out), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_client_read_stats_many(f->client, list, DR_READ_STATS_MAX_JOKES + 1,
                                               out),
                     DR_E_INVALID_ARGUMENT);
    list[7] = "";
    assert_int_equal(dr_client_read_stats_many(f->client, list, 10, out), DR_E_INVALID_ARGUMENT);
    assert_non_null(strstr(dr_last_error_message(), "joke_ids[7]"));
    list[7] = NULL;
    assert_int_equal(dr_client_read_stats_many(f->client, list, 10, out), DR_E_INVALID_ARGUMENT);
    for (i = 0; i < 10; i++)
        assert_null(out[i]);
    assert_int_equal(dr_client_read_stats_many(NULL, list, 1, out), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_client_read_stats_many(f->client, NULL, 1, out), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_client_read_stats_many(f->client, list, 1, NULL), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_client_counter(f->client, DR_COUNTER_REQUESTS, &after), DR_OK);
    assert_int_equal(after - before, 0);
}

/* ---- the dashboard cache ---------------------------------------------------------- */

#define CROWD 64
#define CACHE_MAX_AGE_MS 1000u

typedef struct crowd {
    dr_client *client;
    double until;
    uint64_t expect_ratings;
    long calls, too_old, wrong, failed;
    pthread_mutex_t lock;
} crowd;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Dashboards as fast as they come until `until`; each must be at most the maximum age
 * plus the call's own duration old (a fresh fetch is as old as the fetch), and exact. */
static void *crowd_member(void *arg)
{
    crowd *k = arg;
    long calls = 0, too_old = 0, wrong = 0, failed = 0;
    while (mono_s() < k->until) {
        dr_dashboard *d = NULL;
        double t0 = mono_s(), took_ms, age_ms;
        dr_status rc = dr_client_dashboard_stats(k->client, &d);
        age_ms = (double)dr_dashboard_age_ms(d); /* before the clock stops: age <= took */
        took_ms = (mono_s() - t0) * 1000.0;
        calls++;
        if (rc != DR_OK) {
            failed++;
            continue;
        }
        too_old += age_ms > CACHE_MAX_AGE_MS + took_ms + 1; /* 1: whole milliseconds */
        wrong += dr_dashboard_overall_ratings(d) != k->expect_ratings;
        dr_dashboard_free(d);
    }
    pthread_mutex_lock(&k->lock);
    k->calls += calls;
    k->too_old += too_old;
    k->wrong += wrong;
    k->failed += failed;
    pthread_mutex_unlock(&k->lock);
    return NULL;
}

/* 64 threads calling dashboard_stats for 10 s on a client whose cache holds 1 s: one fetch
 * (4 requests) per second at most, every result at most 1 s old, and exact. Without the
 * cache, a call is a fetch. */
static void test_dashboard_cache_holds_a_crowd(void **state)
{
    fixture *f = *state;
    dr_config *cfg = NULL;
    pthread_t threads[CROWD];
    crowd k;
    uint64_t before = 0, after = 0;
    double seconds = 10, started;
    dr_dashboard *d = NULL;
    int i;

    for (i = 0; i < 5; i++)
        dr_stats_free(write_one(f->client, "crowd", i + 1, "Ann", NULL, NULL));
    memset(&k, 0, sizeof k);
    pthread_mutex_init(&k.lock, NULL);
    k.client = dr_test_client(NULL, f->ratings, f->stats, &cfg);
    dr_client_free(k.client);
    assert_int_equal(dr_config_set_dashboard_max_age_ms(cfg, DR_MAX_DASHBOARD_AGE_MS + 1),
                     DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_config_set_dashboard_max_age_ms(cfg, CACHE_MAX_AGE_MS), DR_OK);
    assert_int_equal(dr_client_new(&k.client, cfg), DR_OK);
    k.expect_ratings = 5;
    assert_int_equal(dr_client_counter(k.client, DR_COUNTER_REQUESTS, &before), DR_OK);
    started = mono_s();
    k.until = started + seconds;
    for (i = 0; i < CROWD; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, crowd_member, &k), 0);
    for (i = 0; i < CROWD; i++)
        pthread_join(threads[i], NULL);
    seconds = mono_s() - started;
    assert_int_equal(dr_client_counter(k.client, DR_COUNTER_REQUESTS, &after), DR_OK);
    print_message("dashboard cache %u ms: %d threads, %ld calls in %.1f s, %llu requests "
                  "(%.1f/s)\n", CACHE_MAX_AGE_MS, CROWD, k.calls, seconds,
                  (unsigned long long)(after - before), (double)(after - before) / seconds);
    assert_int_equal(k.failed, 0);
    assert_int_equal(k.too_old, 0);
    assert_int_equal(k.wrong, 0);
    assert_true(k.calls > CROWD);
    /* A fetch is 4 requests, and a new one starts only when the latest is 1 s old. */
    assert_true((double)(after - before) <= 4.0 * (seconds / (CACHE_MAX_AGE_MS / 1000.0) + 1));

    /* A rating shows within the maximum age; the cached result is shared, not copied. */
    dr_stats_free(write_one(f->client, "crowd", 5, "Bob", NULL, NULL));
    started = mono_s();
    do {
        dr_dashboard_free(d);
        assert_int_equal(dr_client_dashboard_stats(k.client, &d), DR_OK);
    } while (dr_dashboard_overall_ratings(d) != 6 && mono_s() - started < 3);
    assert_int_equal(dr_dashboard_overall_ratings(d), 6);
    assert_true(mono_s() - started <= CACHE_MAX_AGE_MS / 1000.0 + 1.0);
    dr_dashboard_free(d);
    dr_client_free(k.client);

    /* Off (the default): every call fetches. */
    assert_int_equal(dr_config_set_dashboard_max_age_ms(cfg, 0), DR_OK);
    assert_int_equal(dr_client_new(&k.client, cfg), DR_OK);
    assert_int_equal(dr_client_counter(k.client, DR_COUNTER_REQUESTS, &before), DR_OK);
    for (i = 0; i < 3; i++) {
        assert_int_equal(dr_client_dashboard_stats(k.client, &d), DR_OK);
        assert_true(dr_dashboard_age_ms(d) < 60000);
        dr_dashboard_free(d);
    }
    assert_int_equal(dr_client_counter(k.client, DR_COUNTER_REQUESTS, &after), DR_OK);
    assert_int_equal(after - before, 12);
    assert_int_equal(dr_dashboard_age_ms(NULL), 0);
    dr_client_free(k.client);
    dr_config_free(cfg);
    pthread_mutex_destroy(&k.lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_field_of_the_three_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_is_rejected_and_writes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_key_counts_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_a_lost_answer_counts_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_top_performers_are_the_true_top_8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_stats_of_many_jokes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dashboard_cache_holds_a_crowd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writes_are_exact, setup, teardown),
    };
    return cmocka_run_group_tests_name("operations", tests, NULL, NULL);
}
