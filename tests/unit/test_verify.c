/* The pure parts of dr_client_verify() (src/migrate/tally.c): the source's ratings added
 * up per joke, per author and overall; its top 8 in the dashboard's order; each
 * difference between two sets of figures as one line, counted. And dr__ddb_batch_get
 * (src/dynamodb/ddb_batch.c), which verify reads joke stats items with, against a
 * loopback DynamoDB: 100 keys a request, unprocessed keys asked for again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "ddb_batch.h"
#include "client.h"
#include "dadratings.h"
#include "ddb_json.h"
#include "keys.h"
#include "mini_http.h"
#include "retry.h"
#include "tally.h"

/* The lines a sink received, joined by '\n'. */
typedef struct lines {
    char text[8192];
    size_t len;
} lines;

static void collect(void *ctx, const char *message)
{
    lines *l = ctx;
    int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%s\n", message);
    assert_true(n > 0 && (size_t)n < sizeof l->text - l->len);
    l->len += (size_t)n;
}

static void add(dr_tally *t, const char *joke, const char *author, int32_t stars, int times)
{
    while (times-- > 0)
        assert_int_equal(dr__tally_add(t, joke, author, stars), DR_OK);
}

static void assert_counts(const dr_counts *c, uint64_t total, uint64_t score, uint64_t c1,
                          uint64_t c2, uint64_t c3, uint64_t c4, uint64_t c5)
{
    assert_non_null(c);
    assert_int_equal(c->total, total);
    assert_int_equal(c->score, score);
    assert_int_equal(c->count[0], c1);
    assert_int_equal(c->count[1], c2);
    assert_int_equal(c->count[2], c3);
    assert_int_equal(c->count[3], c4);
    assert_int_equal(c->count[4], c5);
}

static void test_tally_adds_up_per_joke_author_and_overall(void **state)
{
    dr_tally t = DR_TALLY_INIT;
    const dr_tally_entry **sorted = NULL;
    (void)state;

    add(&t, "j1", "Dad", 5, 2);
    add(&t, "j1", "Mum", 1, 1);
    add(&t, "j2", NULL, 4, 3); /* no author: counted as the write path counts it */
    assert_int_equal(dr__tally_add(&t, "j3", "Dad", 0), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__tally_add(&t, "j3", "Dad", 6), DR_E_INVALID_ARGUMENT);

    assert_counts(dr__tally_find(&t.jokes, "j1"), 3, 11, 1, 0, 0, 0, 2);
    assert_counts(dr__tally_find(&t.jokes, "j2"), 3, 12, 0, 0, 0, 3, 0);
    assert_null(dr__tally_find(&t.jokes, "j3"));
    assert_counts(dr__tally_find(&t.authors, "Dad"), 2, 10, 0, 0, 0, 0, 2);
    assert_counts(dr__tally_find(&t.authors, "Mum"), 1, 1, 1, 0, 0, 0, 0);
    assert_counts(dr__tally_find(&t.authors, DR_DEFAULT_AUTHOR), 3, 12, 0, 0, 0, 3, 0);
    assert_counts(&t.global, 6, 23, 1, 0, 0, 3, 2);
    assert_int_equal(t.jokes.count, 2); /* uniqueJokes */
    assert_int_equal(t.authors.count, 3);

    assert_int_equal(dr__tally_sorted(&t.authors, &sorted), DR_OK);
    assert_string_equal(sorted[0]->name, "Dad");
    assert_string_equal(sorted[1]->name, "Mum");
    assert_string_equal(sorted[2]->name, DR_DEFAULT_AUTHOR);
    dr__free(sorted);
    dr__tally_free(&t);

    assert_int_equal(dr__tally_sorted(&t.jokes, &sorted), DR_OK); /* empty */
    assert_null(sorted);
    assert_null(dr__tally_find(&t.jokes, "j1"));
}

/* Many jokes: the table grows and finds every one; memory is per joke, not per rating. */
static void test_tally_grows(void **state)
{
    enum { JOKES = 5000 };
    dr_tally t = DR_TALLY_INIT;
    const dr_tally_entry **sorted = NULL;
    char id[32];
    int i;
    (void)state;

    for (i = 0; i < JOKES; i++) {
        snprintf(id, sizeof id, "joke-%05d", i);
        add(&t, id, "A", 1 + i % 5, 1 + i % 3);
    }
    add(&t, "joke-00000", "A", 5, 1);
    assert_int_equal(t.jokes.count, JOKES);
    assert_true(t.jokes.cap >= 2 * JOKES);
    for (i = 0; i < JOKES; i++) {
        const dr_counts *c;
        snprintf(id, sizeof id, "joke-%05d", i);
        c = dr__tally_find(&t.jokes, id);
        assert_non_null(c);
        assert_int_equal(c->total, (uint64_t)(1 + i % 3) + (i == 0));
    }
    assert_int_equal(dr__tally_sorted(&t.jokes, &sorted), DR_OK);
    for (i = 1; i < JOKES; i++)
        assert_true(strcmp(sorted[i - 1]->name, sorted[i]->name) < 0);
    dr__free(sorted);
    dr__tally_free(&t);
}

/* Best average in hundredths, then more ratings, then joke id in descending bytes, as
 * the dashboard orders them; jokes under 3 ratings are not ranked. */
static void test_top_8_in_the_dashboards_order(void **state)
{
    static const char *const want[DR_TOP_LIMIT] = {"perfect", "z-4.67", "b-4.67", "a-4.67",
                                                   "many-4.5", "few-4.5", "tie-4.33", "j-4"};
    dr_tally t = DR_TALLY_INIT;
    dr_top_row top[DR_TOP_LIMIT];
    size_t i, n;
    (void)state;

    add(&t, "two-fives", "A", 5, 2); /* 5.00, but only 2 ratings */
    add(&t, "perfect", "A", 5, 3);
    add(&t, "a-4.67", "A", 5, 2);
    add(&t, "a-4.67", "A", 4, 1);
    add(&t, "z-4.67", "A", 5, 2);
    add(&t, "z-4.67", "A", 4, 1);
    add(&t, "b-4.67", "A", 5, 2);
    add(&t, "b-4.67", "A", 4, 1);
    add(&t, "many-4.5", "A", 5, 4);
    add(&t, "many-4.5", "A", 4, 4);
    add(&t, "few-4.5", "A", 5, 2);
    add(&t, "few-4.5", "A", 4, 2);
    /* 13/3 = 4.333...: 433 hundredths, above 4.33 only in the tenth digit */
    add(&t, "tie-4.33", "A", 5, 1);
    add(&t, "tie-4.33", "A", 4, 2);
    add(&t, "j-4", "A", 4, 3);
    add(&t, "k-3.67", "A", 4, 2); /* ninth: falls off */
    add(&t, "k-3.67", "A", 3, 1);
    add(&t, "low", "A", 1, 9);

    n = dr__tally_top(&t, top);
    assert_int_equal(n, DR_TOP_LIMIT);
    for (i = 0; i < n; i++)
        assert_string_equal(top[i].joke_id, want[i]);
    assert_int_equal(top[0].average_hundredths, 500);
    assert_int_equal(top[1].average_hundredths, 467);
    assert_int_equal(top[4].total, 8);
    assert_int_equal(top[6].average_hundredths, 433);
    for (i = 1; i < n; i++) /* the very comparator the dashboard sorts with */
        assert_true(dr__compare_top_rows(&top[i - 1], &top[i]) < 0);
    dr__tally_free(&t);

    add(&t, "one", "A", 3, 3);
    add(&t, "short", "A", 3, 2);
    assert_int_equal(dr__tally_top(&t, top), 1);
    assert_string_equal(top[0].joke_id, "one");
    dr__tally_free(&t);
    assert_int_equal(dr__tally_top(&t, top), 0);
}

static void test_diff_counts_one_line_per_counter(void **state)
{
    dr_counts source = {12, 50, {0, 0, 2, 6, 4}}, stored = source;
    lines l = {"", 0};
    dr_diff_sink sink = {collect, &l, 0};
    (void)state;

    dr__diff_counts(&sink, "joke j17", &source, &stored);
    assert_int_equal(sink.count, 0);
    assert_string_equal(l.text, "");

    stored.count[3] = 5;
    stored.total = 11;
    stored.score = 46;
    dr__diff_counts(&sink, "joke j17", &source, &stored);
    assert_int_equal(sink.count, 3);
    assert_string_equal(l.text, "joke j17: totalRatings is 12 in the source, 11 in the stats "
                                "table\n"
                                "joke j17: totalScore is 50 in the source, 46 in the stats "
                                "table\n"
                                "joke j17: count4 is 6 in the source, 5 in the stats table\n");

    sink.message = NULL; /* counted even without a callback */
    dr__diff_counts(&sink, "global", &source, &stored);
    assert_int_equal(sink.count, 6);
}

static void test_diff_joke_against_its_stats_item(void **state)
{
    dr_counts source = {3, 13, {0, 0, 0, 2, 1}};
    lines l = {"", 0};
    dr_diff_sink sink = {collect, &l, 0};
    json_t *item = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "PK", "S",
                             "STATS#j1", "SK", "S", "AGGREGATE", "totalRatings", "N", "3",
                             "totalScore", "N", "13", "count4", "N", "2", "count5", "N", "1");
    (void)state;

    assert_non_null(item);
    dr__diff_joke(&sink, "j1", &source, item);
    assert_int_equal(sink.count, 0);

    json_object_set_new(item, "count5", json_pack("{s:s}", "N", "2"));
    dr__diff_joke(&sink, "j1", &source, item);
    assert_string_equal(l.text, "joke j1: count5 is 1 in the source, 2 in the stats table\n");

    l.len = 0;
    dr__diff_joke(&sink, "j2", &source, NULL);
    assert_string_equal(l.text, "joke j2: no stats item in the stats table, 3 ratings in the "
                                "source\n");

    l.len = 0;
    json_object_set_new(item, "count5", json_pack("{s:s}", "N", "-1"));
    dr__diff_joke(&sink, "j1", &source, item);
    assert_non_null(strstr(l.text, "joke j1: the stats item's counters cannot be read: "));
    assert_int_equal(sink.count, 3);
    json_decref(item);
}

/* A dashboard made to hold what the tally holds, then changed one figure at a time. */
static void test_diff_dashboard(void **state)
{
    static char mum[] = "Mum", dad[] = "Dad", ghost[] = "Ghost", j9[] = "j9";
    dr_tally t = DR_TALLY_INIT;
    dr_author_row authors[3];
    dr_top_row top[DR_TOP_LIMIT];
    dr_dashboard d;
    lines l = {"", 0};
    dr_diff_sink sink = {collect, &l, 0};
    (void)state;

    add(&t, "j1", "Dad", 5, 3);
    add(&t, "j2", "Mum", 4, 3);
    add(&t, "j3", "Mum", 2, 1);
    memset(&d, 0, sizeof d);
    memset(authors, 0, sizeof authors);
    d.global = t.global;
    d.unique_jokes = 3;
    authors[0].name = mum;
    authors[0].counts = *dr__tally_find(&t.authors, "Mum");
    authors[1].name = dad;
    authors[1].counts = *dr__tally_find(&t.authors, "Dad");
    authors[2].name = ghost; /* an author item with nothing counted: no difference */
    d.authors = authors;
    d.author_count = 3;
    d.top_count = dr__tally_top(&t, top);
    d.top = top;
    assert_int_equal(d.top_count, 2);

    dr__diff_dashboard(&sink, &t, &d);
    assert_int_equal(sink.count, 0);

    d.global.count[4] = 4;
    d.unique_jokes = 2;
    authors[1].counts.total = 4;
    authors[2].counts.count[0] = 1;
    d.author_count = 2 + 1;
    d.top_count = 1;
    d.inconsistent = 1;
    dr__diff_dashboard(&sink, &t, &d);
    assert_string_equal(l.text,
                        "stats table: 1 stored items hold figures no ratings can produce (the "
                        "dashboard clamps them; the log names the first)\n"
                        "global: count5 is 3 in the source, 4 in the stats table\n"
                        "uniqueJokes: 3 in the source, 2 in the stats table\n"
                        "author Dad: totalRatings is 3 in the source, 4 in the stats table\n"
                        "author Ghost: count1 is 0 in the source, 1 in the stats table\n"
                        "top 2: j2 in the source, none in the stats table\n");
    assert_int_equal(sink.count, 6);

    /* An author the stats table lacks, and a different joke at a place of the top. */
    l.len = 0;
    sink.count = 0;
    d.global = t.global;
    d.unique_jokes = 3;
    d.inconsistent = 0;
    authors[1].counts = *dr__tally_find(&t.authors, "Dad");
    d.author_count = 1;
    d.top_count = 2;
    top[1].joke_id = j9;
    dr__diff_dashboard(&sink, &t, &d);
    assert_string_equal(l.text, "author Dad: no author item in the stats table, 3 ratings in "
                                "the source\n"
                                "top 2: j2 in the source, j9 in the stats table\n");
    assert_int_equal(sink.count, 2);
    dr__tally_free(&t);
}

/* ---- dr__ddb_batch_get against a loopback DynamoDB --------------------------------- */

static int g_requests, g_max_keys, g_keys_asked;

/* Answers every key with an item holding totalRatings = 1, except that the first request
 * leaves its last key unprocessed. */
static void batch_handler(const mini_http_request *req, int *status, char *body, size_t cap,
                          void *payload)
{
    json_t *in = json_loadb(req->body, req->body_len, 0, NULL), *keys, *items, *out, *key;
    json_t *unprocessed = json_array();
    size_t i, n;
    char *text;
    (void)payload;

    keys = json_object_get(json_object_get(json_object_get(in, "RequestItems"), "stats"),
                           "Keys");
    assert_true(json_is_true(json_object_get(
        json_object_get(json_object_get(in, "RequestItems"), "stats"), "ConsistentRead")));
    n = json_array_size(keys);
    g_keys_asked += (int)n;
    if ((int)n > g_max_keys)
        g_max_keys = (int)n;
    items = json_array();
    json_array_foreach(keys, i, key) {
        if (g_requests == 0 && i == n - 1) {
            json_array_append(unprocessed, key);
            continue;
        }
        json_t *item = json_deep_copy(key);
        json_object_set_new(item, "totalRatings", json_pack("{s:s}", "N", "1"));
        json_array_append_new(items, item);
    }
    g_requests++;
    out = json_pack("{s:{s:o}, s:{s:{s:o}}}", "Responses", "stats", items, "UnprocessedKeys",
                    "stats", "Keys", unprocessed);
    text = json_dumps(out, JSON_COMPACT);
    *status = 200;
    snprintf(body, cap, "%s", text);
    free(text);
    json_decref(out);
    json_decref(in);
}

static dr_status count_item(void *ctx, json_t *item)
{
    int *seen = ctx;
    assert_non_null(dr__joke_id_of_stats_pk(dr__av_get_s(item, "PK")));
    (*seen)++;
    return DR_OK;
}

static void test_batch_get_chunks_and_retries(void **state)
{
    enum { KEYS = 250 };
    static dr_retry_policy quick;
    mini_http *s = mini_http_start();
    dr_config *cfg = NULL;
    dr_client *c = NULL;
    json_t *keys = json_array();
    char id[32];
    int i, seen = 0;
    (void)state;

    assert_non_null(s);
    mini_http_handle(s, "POST", "/", batch_handler, NULL);
    assert_int_equal(dr_config_new(&cfg), DR_OK);
    assert_int_equal(dr_config_set_region(cfg, "us-east-1"), DR_OK);
    assert_int_equal(dr_config_set_endpoint(cfg, mini_http_url(s)), DR_OK);
    assert_int_equal(dr_config_set_credentials(cfg, "AKIDFAKE", "fake-secret", NULL), DR_OK);
    assert_int_equal(dr_client_new(&c, cfg), DR_OK);
    quick = *c->retry_policy;
    quick.base_ms = quick.throttle_base_ms = 1;
    c->retry_policy = &quick;

    for (i = 0; i < KEYS; i++) {
        snprintf(id, sizeof id, "j%d", i);
        json_array_append_new(keys, dr__stats_key(id));
    }
    assert_int_equal(dr__ddb_batch_get(c, "stats", keys, 1, count_item, &seen),
                     DR_OK);
    assert_int_equal(seen, KEYS);
    assert_int_equal(g_max_keys, DR_BATCH_GET_MAX_KEYS);
    assert_int_equal(g_requests, 4); /* 100 (one left), the one again, 100, 50 */
    assert_int_equal(g_keys_asked, KEYS + 1);
    assert_int_equal(mini_http_count(s, "POST", "/"), 4);

    json_decref(keys);
    dr_client_free(c);
    dr_config_free(cfg);
    mini_http_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tally_adds_up_per_joke_author_and_overall),
        cmocka_unit_test(test_tally_grows),
        cmocka_unit_test(test_top_8_in_the_dashboards_order),
        cmocka_unit_test(test_diff_counts_one_line_per_counter),
        cmocka_unit_test(test_diff_joke_against_its_stats_item),
        cmocka_unit_test(test_diff_dashboard),
        cmocka_unit_test(test_batch_get_chunks_and_retries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
