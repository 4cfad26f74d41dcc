/* Issue 5: dashboard_stats sends the same number of requests at 100 and at 10,000
 * ratings (counted by the client's own counters) and its memory stays flat.
 *
 * Every byte the library allocates goes through a counting allocator installed with
 * dr_set_allocator() as the very first library call, and jansson's through
 * json_set_alloc_funcs() (the test is the host, so it may hook jansson). The figure
 * compared is the peak of live bytes above the level before the call, i.e. what one
 * dashboard_stats call needs at its high-water mark.
 *
 * The first 100 ratings are written through dr_client_write_rating (inline mode) by one
 * thread. The next 9,880 are BULK-LOADED by default: rating items with BatchWriteItem,
 * then the joke, GLOBAL and author stats items PUT AS COMPUTED BY THIS TEST from its own
 * tallies to match those rating items (the aggregation path is tested elsewhere; here it
 * would take minutes on a loaded machine: 15-80 writes/s measured through 16 threads).
 * DR_TEST_SCALE_VIA_WRITES=1 writes them through write_rating with 16 threads instead.
 * The last 20 go through write_rating again, one thread, so the newest 20 are known
 * exactly and each returned result must equal the test's tally: the bulk-loaded items
 * are consistent enough for the library to keep aggregating on top of them.
 * Every dashboard field is checked at both sizes against the test's tallies.
 * DR_TEST_SCALE_RATINGS lowers the final size (e.g. for a quick run under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include <cmocka.h>
#include <jansson.h>

#include "dadratings.h"
#include "ddb.h"
#include "ddb_json.h"
#include "dr_test.h"

/* ---- a counting allocator ------------------------------------------------------ */

/* A header before each block remembers its size; 16 bytes keep max_align_t alignment. */
#define HDR 16

static atomic_llong g_live, g_peak;

static void note(long long delta)
{
    long long now = atomic_fetch_add(&g_live, delta) + delta;
    long long peak = atomic_load(&g_peak);
    while (now > peak && !atomic_compare_exchange_weak(&g_peak, &peak, now))
        ;
}

static void *count_malloc(size_t n)
{
    unsigned char *p = malloc(n + HDR);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    note((long long)n);
    return p + HDR;
}

static void count_free(void *ptr)
{
    unsigned char *p;
    size_t n;
    if (!ptr)
        return;
    p = (unsigned char *)ptr - HDR;
    memcpy(&n, p, sizeof n);
    note(-(long long)n);
    free(p);
}

static void *count_realloc(void *ptr, size_t n)
{
    unsigned char *p, *q;
    size_t old;
    if (!ptr)
        return count_malloc(n);
    p = (unsigned char *)ptr - HDR;
    memcpy(&old, p, sizeof old);
    if (!(q = realloc(p, n + HDR)))
        return NULL;
    memcpy(q, &n, sizeof n);
    note((long long)n - (long long)old);
    return q + HDR;
}

/* ---- the test's own tallies ---------------------------------------------------- */

/* The sequential writes rate the first SEQ_JOKES; the 16 threads spread over all
 * JOKES, as 16 writers on 12 jokes mostly wait on each other's optimistic retries. */
#define JOKES 48
#define SEQ_JOKES 12
#define AUTHORS 4
#define RECENT 20
#define TOP 8

static const char *const author_names[AUTHORS] = {"Ann", "Bob", "Cid", "Dee"};

typedef dr_test_tally tally;

typedef struct written {
    int joke, stars, daily;
    char submitted_at[32];
} written;

typedef struct model {
    char ids[JOKES][16];
    char texts[JOKES][64]; /* the same length for every joke: sizes comparable */
    tally jokes[JOKES], authors[AUTHORS], global;
    char last_rated[JOKES][32];
    written recent[RECENT]; /* the newest RECENT, oldest first */
    pthread_mutex_t lock;
} model;

static void record(model *m, int joke, int stars, const char *last_rated_at)
{
    tally *ts[3];
    int i;
    pthread_mutex_lock(&m->lock);
    ts[0] = &m->jokes[joke];
    ts[1] = &m->authors[joke % AUTHORS];
    ts[2] = &m->global;
    for (i = 0; i < 3; i++) {
        ts[i]->total++;
        ts[i]->score += (uint64_t)stars;
        ts[i]->count[stars - 1]++;
    }
    /* write_rating returns max(stored lastRatedAt, this rating's time): the max of what
     * the writes returned is the joke's newest rating. */
    if (strcmp(last_rated_at, m->last_rated[joke]) > 0)
        snprintf(m->last_rated[joke], sizeof m->last_rated[0], "%s", last_rated_at);
    pthread_mutex_unlock(&m->lock);
}

/* ---- writes -------------------------------------------------------------------- */

typedef struct fixture {
    dr_client *client;
    char ratings[96], stats[96];
    model m;
} fixture;

static dr_status write_rating(fixture *f, int joke, int stars, int daily, int check)
{
    dr_rating *r = NULL;
    dr_stats *s = NULL;
    dr_status rc = dr_rating_new(&r, f->m.ids[joke], stars);
    if (rc == DR_OK)
        rc = dr_rating_set_author(r, author_names[joke % AUTHORS]);
    if (rc == DR_OK)
        rc = dr_rating_set_joke_text(r, f->m.texts[joke]);
    if (rc == DR_OK && daily)
        rc = dr_rating_set_mode(r, "daily");
    if (rc == DR_OK && daily)
        rc = dr_rating_set_date(r, "2024-02-29");
    if (rc == DR_OK)
        rc = dr_client_write_rating(f->client, r, &s);
    if (rc == DR_OK)
        record(&f->m, joke, stars, dr_stats_last_rated_at(s));
    if (rc == DR_OK && check) { /* one writer: the result is the whole tally */
        const tally *t = &f->m.jokes[joke];
        int k;
        assert_true(dr_stats_total_ratings(s) == t->total);
        assert_true(dr_stats_total_score(s) == t->score);
        for (k = 1; k <= 5; k++)
            assert_true(dr_stats_count(s, k) == t->count[k - 1]);
    }
    dr_stats_free(s);
    dr_rating_free(r);
    return rc;
}

/* One thread, `n` writes; the last RECENT of them are remembered in order. Each write
 * is a whole transaction (milliseconds), and a 2 ms pause keeps submittedAt strictly
 * increasing, so the newest 20 have one order. */
static void write_sequential(fixture *f, int n, unsigned *seed)
{
    int i;
    for (i = 0; i < n; i++) {
        int joke = (int)(rand_r(seed) % SEQ_JOKES), stars = (int)(rand_r(seed) % 5) + 1;
        int daily = (int)(rand_r(seed) % 3) == 0;
        struct timespec pause = {0, 2000000L};
        if (write_rating(f, joke, stars, daily, 1) != DR_OK)
            fail_msg("write_rating: %s", dr_last_error_message());
        if (n - i <= RECENT) {
            written *w = &f->m.recent[RECENT - (n - i)];
            w->joke = joke;
            w->stars = stars;
            w->daily = daily;
            memcpy(w->submitted_at, f->m.last_rated[joke], sizeof w->submitted_at);
        }
        nanosleep(&pause, NULL);
    }
}

/* One random rating (a third with a text), for dr_test_run_threads. */
static dr_status write_random(void *ctx, int thread, int call, unsigned *seed)
{
    int joke = (int)(rand_r(seed) % JOKES), stars = (int)(rand_r(seed) % 5) + 1;
    (void)thread;
    (void)call;
    return write_rating(ctx, joke, stars, (int)(rand_r(seed) % 3) == 0, 0);
}

/* ---- the bulk alternative: items written directly ---------------------------------- */

/* BatchWriteItem of `puts` (PutRequest objects) into `table`, 25 at a time, sending
 * unprocessed items again. */
static void batch_put(dr_client *c, const char *table, json_t *puts)
{
    size_t from = 0, n = json_array_size(puts);
    while (from < n) {
        json_t *chunk = json_array(), *req, *resp = NULL, *left;
        size_t i;
        for (i = from; i < n && i < from + 25; i++)
            json_array_append(chunk, json_array_get(puts, i));
        from = i;
        while (json_array_size(chunk)) {
            req = json_pack("{s:{s:O}}", "RequestItems", table, chunk);
            if (dr__ddb_call(c, "BatchWriteItem", req, &resp, NULL) != DR_OK)
                fail_msg("BatchWriteItem: %s", dr_last_error_message());
            json_decref(req);
            left = json_object_get(json_object_get(resp, "UnprocessedItems"), table);
            json_decref(chunk);
            chunk = json_is_array(left) ? json_incref(left) : json_array();
            json_decref(resp);
        }
        json_decref(chunk);
    }
    json_decref(puts);
}

static json_t *put_request(json_t *item)
{
    return json_pack("{s:{s:o}}", "PutRequest", "Item", item);
}

static void set_counters(json_t *item, const tally *t)
{
    static const char *const names[] = {"count1", "count2", "count3", "count4", "count5"};
    int k;
    dr__item_set(item, "totalRatings", dr__av_n_u64(t->total));
    dr__item_set(item, "totalScore", dr__av_n_u64(t->score));
    for (k = 0; k < 5; k++)
        dr__item_set(item, names[k], dr__av_n_u64(t->count[k]));
}

/* `n` rating items as write_rating stores them in inline mode (older than every rating
 * written so far, so the newest 20 stay the API-written ones), then every aggregate
 * item as the test computes it from its tallies of all ratings. */
static void bulk_load(fixture *f, int n)
{
    model *m = &f->m;
    json_t *ratings = json_array(), *stats = json_array(), *item;
    unsigned seed = 777;
    uint64_t unique = 0;
    int i, a;

    for (i = 0; i < n; i++) {
        int joke = (int)(rand_r(&seed) % JOKES), stars = (int)(rand_r(&seed) % 5) + 1;
        char at[32], pk[32], sk[64], gsi2[32];
        snprintf(at, sizeof at, "2020-01-01T%02d:%02d:%02d.%03dZ", i / 3600000,
                 i / 60000 % 60, i / 1000 % 60, i % 1000);
        snprintf(pk, sizeof pk, "JOKE#%s", m->ids[joke]);
        snprintf(sk, sizeof sk, "RATING#%s#bulk-%06d", at, i);
        snprintf(gsi2, sizeof gsi2, "AUTHOR#%s", author_names[joke % AUTHORS]);
        item = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                         "PK", dr__av_s(pk), "SK", dr__av_s(sk), "rating",
                         dr__av_n_u64((uint64_t)stars), "jokeText", dr__av_s(m->texts[joke]),
                         "author", dr__av_s(author_names[joke % AUTHORS]), "mode",
                         dr__av_s("live"), "date", dr__av_s("2020-01-01"), "submittedAt",
                         dr__av_s(at), "GSI1PK", dr__av_s("ALL_RATINGS"), "GSI1SK",
                         dr__av_s(at), "GSI2PK", dr__av_s(gsi2), "GSI2SK", dr__av_s(at),
                         "aggregation", dr__av_s("inline"));
        assert_non_null(item);
        json_array_append_new(ratings, put_request(item));
        record(m, joke, stars, at);
    }
    batch_put(f->client, f->ratings, ratings);

    for (i = 0; i < JOKES; i++) {
        const tally *t = &m->jokes[i];
        char pk[32];
        if (!t->total)
            continue;
        unique++;
        snprintf(pk, sizeof pk, "STATS#%s", m->ids[i]);
        item = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "PK", dr__av_s(pk), "SK",
                         dr__av_s("AGGREGATE"), "lastRatedAt", dr__av_s(m->last_rated[i]),
                         "author", dr__av_s(author_names[i % AUTHORS]), "jokeText",
                         dr__av_s(m->texts[i]), "statsVersion", dr__av_n_u64(t->total));
        set_counters(item, t);
        if (t->total >= 3) { /* the sparse index keys, as docs/data-model.md lays out */
            double avg = dr_test_js_average(t->score, t->total);
            unsigned h = (unsigned)(avg * 100 + 0.5);
            char avg_text[16], rank[96];
            snprintf(avg_text, sizeof avg_text, "%g", avg);
            snprintf(rank, sizeof rank, "%03u#%020llu#%s", h, (unsigned long long)t->total,
                     m->ids[i]);
            dr__item_set(item, "GSI1PK", dr__av_s("TOP_PERFORMERS"));
            dr__item_set(item, "GSI1SK", dr__av_n_str(avg_text));
            dr__item_set(item, "GSI2PK", dr__av_s("TOP_PERFORMERS"));
            dr__item_set(item, "GSI2SK", dr__av_s(rank));
        }
        json_array_append_new(stats, put_request(item));
    }
    item = json_pack("{s:o, s:o, s:o}", "PK", dr__av_s("GLOBAL"), "SK", dr__av_s("AGGREGATE"),
                     "uniqueJokes", dr__av_n_u64(unique));
    set_counters(item, &m->global);
    json_array_append_new(stats, put_request(item));
    for (a = 0; a < AUTHORS; a++) {
        char sk[32];
        snprintf(sk, sizeof sk, "AUTHOR#%s", author_names[a]);
        item = json_pack("{s:o, s:o, s:o}", "PK", dr__av_s("GLOBAL"), "SK", dr__av_s(sk),
                         "author", dr__av_s(author_names[a]));
        set_counters(item, &m->authors[a]);
        json_array_append_new(stats, put_request(item));
    }
    batch_put(f->client, f->stats, stats);
}

/* ---- the measured call and the exact check --------------------------------------- */

typedef struct measure {
    uint64_t requests;
    long long peak_bytes;     /* the smallest peak of the runs: what a call needs */
    long long peak_bytes_max; /* the largest: incidental spikes included */
} measure;

static uint64_t counter(dr_client *c, dr_counter which)
{
    uint64_t v = 0;
    assert_int_equal(dr_client_counter(c, which, &v), DR_OK);
    return v;
}

typedef struct top_entry {
    int joke;
    double average;
} top_entry;

static model *g_sort_model;

static int compare_top_entries(const void *pa, const void *pb)
{
    const top_entry *a = pa, *b = pb;
    const model *m = g_sort_model;
    if (a->average != b->average)
        return a->average > b->average ? -1 : 1;
    if (m->jokes[a->joke].total != m->jokes[b->joke].total)
        return m->jokes[a->joke].total > m->jokes[b->joke].total ? -1 : 1;
    return -strcmp(m->ids[a->joke], m->ids[b->joke]); /* documented: id, descending */
}

static void assert_dashboard_exact(model *m, const dr_dashboard *d)
{
    top_entry top[JOKES];
    size_t i;
    int k, n = 0;

    assert_true(dr_dashboard_overall_ratings(d) == m->global.total);
    assert_true(dr_dashboard_overall_average(d) == dr_test_js_average(m->global.score, m->global.total));
    for (k = 0; k < JOKES; k++)
        n += m->jokes[k].total > 0;
    assert_int_equal(dr_dashboard_unique_jokes(d), n);
    n = 0;
    for (k = 1; k <= 5; k++)
        assert_true(dr_dashboard_rating_count(d, k) == m->global.count[k - 1]);

    assert_int_equal(dr_dashboard_author_count(d), AUTHORS);
    for (i = 0; i < AUTHORS; i++) {
        const char *name = dr_dashboard_author_name(d, i);
        int a;
        for (a = 0; a < AUTHORS && strcmp(author_names[a], name); a++)
            ;
        assert_true(a < AUTHORS);
        assert_true(dr_dashboard_author_total_ratings(d, i) == m->authors[a].total);
        assert_true(dr_dashboard_author_average(d, i) ==
                    dr_test_js_average(m->authors[a].score, m->authors[a].total));
        for (k = 1; k <= 5; k++)
            assert_true(dr_dashboard_author_rating_count(d, i, k) == m->authors[a].count[k - 1]);
        if (i > 0) /* most ratings first, ties by name */
            assert_true(dr_dashboard_author_total_ratings(d, i - 1) >
                            dr_dashboard_author_total_ratings(d, i) ||
                        (dr_dashboard_author_total_ratings(d, i - 1) ==
                             dr_dashboard_author_total_ratings(d, i) &&
                         strcmp(dr_dashboard_author_name(d, i - 1), name) < 0));
    }

    for (k = 0; k < JOKES; k++) {
        if (m->jokes[k].total < 3)
            continue;
        top[n].joke = k;
        top[n].average = dr_test_js_average(m->jokes[k].score, m->jokes[k].total);
        n++;
    }
    g_sort_model = m;
    qsort(top, (size_t)n, sizeof *top, compare_top_entries);
    assert_int_equal(dr_dashboard_top_count(d), n < TOP ? n : TOP);
    for (i = 0; i < dr_dashboard_top_count(d); i++) {
        int j = top[i].joke;
        assert_string_equal(dr_dashboard_top_joke_id(d, i), m->ids[j]);
        assert_true(dr_dashboard_top_average(d, i) == top[i].average);
        assert_true(dr_dashboard_top_total_ratings(d, i) == m->jokes[j].total);
        assert_string_equal(dr_dashboard_top_joke_text(d, i), m->texts[j]);
        assert_string_equal(dr_dashboard_top_author(d, i), author_names[j % AUTHORS]);
        assert_string_equal(dr_dashboard_top_last_rated_at(d, i), m->last_rated[j]);
    }

    assert_int_equal(dr_dashboard_recent_count(d), RECENT);
    for (i = 0; i < RECENT; i++) {
        const written *w = &m->recent[RECENT - 1 - i]; /* newest first */
        assert_string_equal(dr_dashboard_recent_joke_id(d, i), m->ids[w->joke]);
        assert_int_equal(dr_dashboard_recent_rating(d, i), w->stars);
        assert_string_equal(dr_dashboard_recent_submitted_at(d, i), w->submitted_at);
        assert_string_equal(dr_dashboard_recent_joke_text(d, i), m->texts[w->joke]);
        assert_string_equal(dr_dashboard_recent_author(d, i), author_names[w->joke % AUTHORS]);
        assert_string_equal(dr_dashboard_recent_mode(d, i), w->daily ? "daily" : "live");
        if (w->daily)
            assert_string_equal(dr_dashboard_recent_date(d, i), "2024-02-29");
        else
            assert_memory_equal(dr_dashboard_recent_date(d, i), w->submitted_at, 10);
    }
}

/* Several calls: the request count of each, and the smallest peak. The four reads run
 * on threads, so how their buffers overlap varies, and an occasional call peaks ~40 KB
 * higher (seen at both sizes alike); a cost that grew with the number of ratings would
 * raise every call's peak, the smallest included. */
static measure measure_dashboard(fixture *f, const char *label)
{
    enum { RUNS = 5 };
    measure out = {0, -1, 0};
    int run;
    for (run = 0; run < RUNS; run++) {
        dr_dashboard *d = NULL;
        uint64_t before = counter(f->client, DR_COUNTER_REQUESTS), requests;
        long long base = atomic_load(&g_live), peak;
        atomic_store(&g_peak, base);
        if (dr_client_dashboard_stats(f->client, &d) != DR_OK)
            fail_msg("dashboard_stats: %s", dr_last_error_message());
        peak = atomic_load(&g_peak) - base;
        requests = counter(f->client, DR_COUNTER_REQUESTS) - before;
        if (run == 0)
            out.requests = requests;
        assert_true(requests == out.requests); /* the same every time */
        if (getenv("DR_TEST_SCALE_VERBOSE"))
            print_message("  run %d: peak %lld\n", run, peak);
        if (out.peak_bytes < 0 || peak < out.peak_bytes)
            out.peak_bytes = peak;
        if (peak > out.peak_bytes_max)
            out.peak_bytes_max = peak;
        assert_dashboard_exact(&f->m, d);
        dr_dashboard_free(d);
    }
    print_message("%s: %llu ratings, %llu requests per dashboard_stats, peak live bytes "
                  "%lld (largest of %d calls %lld)\n",
                  label, (unsigned long long)f->m.global.total,
                  (unsigned long long)out.requests, out.peak_bytes, RUNS, out.peak_bytes_max);
    return out;
}

static void test_dashboard_cost_is_flat(void **state)
{
    fixture *f = *state;
    const char *env = getenv("DR_TEST_SCALE_RATINGS");
    int final = env ? atoi(env) : 10000;
    unsigned seed = 99;
    measure small, large;
    double seconds, ratio;
    dr_dashboard *d = NULL;

    assert_true(final >= 100 + 2 * RECENT);
    write_sequential(f, 100, &seed);
    /* A first call fills the connection pool; measured calls then start alike. */
    assert_int_equal(dr_client_dashboard_stats(f->client, &d), DR_OK);
    dr_dashboard_free(d);
    small = measure_dashboard(f, "small");

    if (!getenv("DR_TEST_SCALE_VIA_WRITES")) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        bulk_load(f, final - 100 - RECENT);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        print_message("%d ratings bulk-loaded (aggregates computed by the test) in %.1f s\n",
                      final - 100 - RECENT, (double)(t1.tv_sec - t0.tv_sec) +
                                                (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    } else {
        seconds = dr_test_run_threads(16, final - 100 - RECENT, write_random, f, 4242u);
        print_message("%d ratings written by 16 threads in %.1f s (%.0f/s); %llu requests, "
                  "%llu retries, %llu transaction conflicts so far\n",
                  final - 100 - RECENT, seconds, (final - 100 - RECENT) / seconds,
                  (unsigned long long)counter(f->client, DR_COUNTER_REQUESTS),
                  (unsigned long long)counter(f->client, DR_COUNTER_RETRIES),
                  (unsigned long long)counter(f->client, DR_COUNTER_TRANSACTION_CONFLICTS));
    }
    write_sequential(f, RECENT, &seed);
    assert_true(f->m.global.total == (uint64_t)final);
    large = measure_dashboard(f, "large");

    /* Documented: 4 for an unsharded client with one page of authors (global counters,
     * authors, top performers, recent ratings), whatever the number of ratings. */
    assert_true(small.requests == 4);
    assert_true(large.requests == small.requests);
    /* Authors, top and recent are bounded and equally many at both sizes; only numbers
     * gain digits. 10% covers the varying overlap of the four concurrent reads. */
    ratio = (double)large.peak_bytes / (double)small.peak_bytes;
    print_message("peak bytes: %lld at %d ratings, %lld at %llu (ratio %.3f)\n",
                  small.peak_bytes, 100, large.peak_bytes,
                  (unsigned long long)f->m.global.total, ratio);
    assert_true(ratio > 0.9 && ratio < 1.1);
}

/* ---- fixture and main ------------------------------------------------------------ */

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    int i;
    assert_non_null(f);
    pthread_mutex_init(&f->m.lock, NULL);
    for (i = 0; i < JOKES; i++) {
        snprintf(f->m.ids[i], sizeof f->m.ids[0], "scale-%02d", i);
        snprintf(f->m.texts[i], sizeof f->m.texts[0], "Joke %02d: I'm reading a book on "
                                                      "anti-gravity.", i);
    }
    f->client = dr_test_open_tables(f->ratings, f->stats, sizeof f->ratings, "scale",
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dashboard_cost_is_flat, setup, teardown),
    };
    /* First, before any library call and before any jansson allocation. */
    if (dr_set_allocator(count_malloc, count_realloc, count_free) != DR_OK)
        return 1;
    json_set_alloc_funcs(count_malloc, count_free);
    return cmocka_run_group_tests_name("dashboard_scale", tests, NULL, NULL);
}
