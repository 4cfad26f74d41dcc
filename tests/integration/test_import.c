/* The import engine against DynamoDB Local (issue 13), from a local copy of the old
 * tree: every rating once with its original submittedAt, a joke's ratings in several
 * transactions, unreadable entries reported and skipped, a rerun and an app's dual write
 * counted once, the checkpoint and --resume, a dry run that writes nothing. The counts
 * checked are the test's own tally of what it put in the tree. (The 20,000-rating run with
 * kills, from s3rver, is test_import_big.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "dr_test.h"

#define BUCKET "old-bucket"
#define PREFIX "ratings"
/* More than one bulk transaction's worth (48) in one joke and one object. */
#define BIG_JOKE_RATINGS 130

typedef struct fixture {
    char root[256];
    char ratings[128], stats[128];
    dr_client *client;
    dr_test_tally big, small, daily, all;
    size_t valid, malformed, messages;
} fixture;

static void mkdirs(const char *path)
{
    char tmp[512];
    char *p;
    snprintf(tmp, sizeof tmp, "%s", path);
    for (p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0700);
            *p = '/';
        }
    mkdir(tmp, 0700);
}

static void put_file(fixture *f, const char *rel, const char *body)
{
    char path[512], dir[512];
    FILE *fp;
    char *slash;
    snprintf(path, sizeof path, "%s/%s", f->root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    *slash = '\0';
    mkdirs(dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(body, fp);
    fclose(fp);
}

static void on_message(void *ctx, const char *message)
{
    fixture *f = ctx;
    f->messages++;
    assert_non_null(strstr(message, "live/"));
}

/* The tree: joke "big" with 130 ratings in one array (two of them unreadable), three
 * single-rating objects of joke "small", a daily object of joke "day", a note the layout
 * does not match. */
static void make_tree(fixture *f)
{
    json_t *arr = json_array();
    char *text, body[512], rel[64];
    int i;

    for (i = 0; i < BIG_JOKE_RATINGS; i++) {
        int stars = 1 + (i * 7) % 5;
        char at[32];
        snprintf(at, sizeof at, "2025-03-%02dT10:%02d:00.000Z", 1 + i % 28, i % 60);
        if (i == 17) {
            json_array_append_new(arr, json_pack("{s:i}", "rating", 9));
            continue;
        }
        if (i == 64) {
            json_array_append_new(arr, json_pack("{s:s}", "rating", "lots"));
            continue;
        }
        json_array_append_new(arr, json_pack("{s:i, s:s, s:s, s:s}", "rating", stars, "joke",
                                             "Why did the chicken", "author", "Dad",
                                             "submittedAt", at));
        dr_test_tally_add(&f->big, stars);
        dr_test_tally_add(&f->all, stars);
        f->valid++;
    }
    f->malformed += 2;
    text = json_dumps(arr, 0);
    put_file(f, "live/big/all.json", text);
    free(text);
    json_decref(arr);
    for (i = 0; i < 3; i++) {
        snprintf(body, sizeof body,
                 "{\"rating\":\"%d\",\"author\":\"Mum\",\"submittedAt\":\"2025-04-0%dT08:00:00.000Z\"}",
                 3 + i % 3, i + 1);
        snprintf(rel, sizeof rel, "live/small/r%d.json", i);
        put_file(f, rel, body);
        dr_test_tally_add(&f->small, 3 + i % 3);
        dr_test_tally_add(&f->all, 3 + i % 3);
        f->valid++;
    }
    put_file(f, "daily/2025-05-01/day/x.json",
             "{\"entries\":[{\"rating\":5,\"author\":\"Mum\",\"mode\":\"daily\"}]}");
    dr_test_tally_add(&f->daily, 5);
    dr_test_tally_add(&f->all, 5);
    f->valid++;
    put_file(f, "README.txt", "not a rating");
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char name[64];
    dr_test_unique_name(name, sizeof name, "import");
    snprintf(f->root, sizeof f->root, "%s/%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             name);
    mkdirs(f->root);
    make_tree(f);
    f->client = dr_test_open_tables(f->ratings, f->stats, sizeof f->ratings, "imp",
                                    DR_AGGREGATION_INLINE, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[600];
    dr_test_close_tables(f->client, f->ratings, f->stats);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->root);
    free(f);
    return 0;
}

static dr_import_options *options(fixture *f)
{
    dr_import_options *o;
    assert_int_equal(dr_import_options_new(&o, f->root), DR_OK);
    assert_int_equal(dr_import_options_set_copy_of(o, BUCKET, PREFIX), DR_OK);
    assert_int_equal(dr_import_options_set_callbacks(o, NULL, on_message, f), DR_OK);
    return o;
}

static dr_import_report *run_import(fixture *f, dr_import_options *o)
{
    dr_import_report *r = NULL;
    if (dr_client_import(f->client, o, &r) != DR_OK)
        fail_msg("dr_client_import: %s", dr_last_error_message());
    return r;
}

static void assert_stats(fixture *f, const char *joke, const dr_test_tally *t)
{
    dr_stats *s;
    int star;
    assert_int_equal(dr_client_read_stats(f->client, joke, &s), DR_OK);
    assert_int_equal(dr_stats_total_ratings(s), t->total);
    assert_int_equal(dr_stats_total_score(s), t->score);
    for (star = 1; star <= 5; star++)
        assert_int_equal(dr_stats_count(s, star), t->count[star - 1]);
    dr_stats_free(s);
}

static void assert_all(fixture *f)
{
    dr_dashboard *d;
    assert_stats(f, "big", &f->big);
    assert_stats(f, "small", &f->small);
    assert_stats(f, "day", &f->daily);
    assert_int_equal(dr_client_dashboard_stats(f->client, &d), DR_OK);
    assert_int_equal(dr_dashboard_overall_ratings(d), f->all.total);
    assert_int_equal(dr_dashboard_unique_jokes(d), 3);
    dr_dashboard_free(d);
}

/* One rating item and one marker per rating; a rating item keeps its submittedAt in its
 * key and is marked as aggregated inline, so a stream aggregator skips it. */
static void assert_items(fixture *f)
{
    json_t *items = dr_test_scan_all(f->client, f->ratings), *item;
    size_t i, ratings = 0, markers = 0, dated = 0;
    json_array_foreach(items, i, item) {
        const char *sk = json_string_value(json_object_get(json_object_get(item, "SK"), "S"));
        const char *mark =
            json_string_value(json_object_get(json_object_get(item, "aggregation"), "S"));
        if (!strncmp(sk, "RATING#", 7)) {
            ratings++;
            assert_string_equal(mark, "inline");
            dated += !strncmp(sk, "RATING#2025-04-01T08:00:00.000Z#", 32);
        } else if (!strncmp(sk, "IDEMPOTENCY#s3v1:", 17)) {
            markers++;
        }
    }
    assert_int_equal(ratings, f->valid);
    assert_int_equal(markers, f->valid);
    assert_int_equal(dated, 1);
    json_decref(items);
}

static void test_import_twice_counts_once(void **state)
{
    fixture *f = *state;
    dr_import_options *o = options(f);
    dr_import_report *r = run_import(f, o);
    dr_stats *s;

    assert_int_equal(dr_import_report_get(r, DR_IMPORT_OBJECTS), 5);
    assert_int_equal(dr_import_report_get(r, DR_IMPORT_OBJECTS_SKIPPED), 1);
    assert_int_equal(dr_import_report_get(r, DR_IMPORT_ENTRIES), f->valid);
    assert_int_equal(dr_import_report_get(r, DR_IMPORT_WRITTEN), f->valid);
    assert_int_equal(dr_import_report_get(r, DR_IMPORT_ALREADY_PRESENT), 0);
    assert_int_equal(dr_import_report_get(r, DR_IMPORT_REJECTED), f->malformed);
    assert_int_equal(f->messages, f->malformed);
    dr_import_report_free(r);
    assert_all(f);
    /* The original submittedAt: the newest of the joke's ratings is its lastRatedAt. */
    assert_int_equal(dr_client_read_stats(f->client, "small", &s), DR_OK);
    assert_string_equal(dr_stats_last_rated_at(s), "2025-04-03T08:00:00.000Z");
    dr_stats_free(s);

    assert_items(f);

    r = run_import(f, o);
    assert_int_equal(dr_import_report_get(r, DR_IMPORT_WRITTEN), 0);
    assert_int_equal(dr_import_report_get(r, DR_IMPORT_ALREADY_PRESENT), f->valid);
    dr_import_report_free(r);
    assert_all(f);
    dr_import_options_free(o);
}

/* The app writes a rating to S3 and, with the same identity and submittedAt, to the
 * library: the import finds it present and it counts once. */
static void test_dual_write_counts_once(void **state)
{
    fixture *f = *state;
    dr_import_options *o = options(f);
    char identity[DR_IMPORT_IDENTITY_LEN + 1];
    dr_import_report *r;
    dr_rating *rating;

    assert_int_equal(dr_import_identity(BUCKET, PREFIX "/live/small/r1.json", 0, identity),
                     DR_OK);
    assert_int_equal(dr_rating_new(&rating, "small", 4), DR_OK);
    assert_int_equal(dr_rating_set_author(rating, "Mum"), DR_OK);
    assert_int_equal(dr_rating_set_submitted_at(rating, "2025-04-02T08:00:00.000Z"), DR_OK);
    assert_int_equal(dr_rating_set_idempotency_key(rating, identity), DR_OK);
    assert_int_equal(dr_client_write_rating(f->client, rating, NULL), DR_OK);
    dr_rating_free(rating);

    r = run_import(f, o);
    assert_int_equal(dr_import_report_get(r, DR_IMPORT_WRITTEN), f->valid - 1);
    assert_int_equal(dr_import_report_get(r, DR_IMPORT_ALREADY_PRESENT), 1);
    dr_import_report_free(r);
    assert_all(f);
    dr_import_options_free(o);
}

/* One key per page: the checkpoint follows each page, and --resume reads only what
 * comes after it. */
static void test_resume_after_checkpoint(void **state)
{
    fixture *f = *state;
    dr_import_options *o = options(f);
    dr_import_report *r;

    assert_int_equal(dr_import_options_set_page_size(o, 1), DR_OK);
    r = run_import(f, o);
    dr_import_report_free(r);
    put_file(f, "live/small/r9.json", "{\"rating\":1,\"author\":\"Mum\"}");
    dr_test_tally_add(&f->small, 1);
    dr_test_tally_add(&f->all, 1);
    assert_int_equal(dr_import_options_set_resume(o, 1), DR_OK);
    r = run_import(f, o);
    assert_int_equal(dr_import_report_get(r, DR_IMPORT_OBJECTS), 1);
    assert_int_equal(dr_import_report_get(r, DR_IMPORT_WRITTEN), 1);
    dr_import_report_free(r);
    assert_all(f);
    dr_import_options_free(o);
}

static void test_dry_run_writes_nothing(void **state)
{
    fixture *f = *state;
    dr_import_options *o = options(f);
    dr_import_report *r;
    json_t *items;

    assert_int_equal(dr_import_options_set_dry_run(o, 1), DR_OK);
    r = run_import(f, o);
    assert_int_equal(dr_import_report_get(r, DR_IMPORT_ENTRIES), f->valid);
    assert_int_equal(dr_import_report_get(r, DR_IMPORT_REJECTED), f->malformed);
    assert_int_equal(dr_import_report_get(r, DR_IMPORT_WRITTEN), 0);
    dr_import_report_free(r);
    items = dr_test_scan_all(f->client, f->ratings);
    assert_int_equal(json_array_size(items), 0);
    json_decref(items);
    items = dr_test_scan_all(f->client, f->stats);
    assert_true(json_array_size(items) <= 1); /* the schema marker at most */
    json_decref(items);
    dr_import_options_free(o);
}

static void test_bad_options(void **state)
{
    fixture *f = *state;
    dr_import_options *o = options(f);
    dr_import_report *r = NULL;

    assert_int_equal(dr_import_options_set_concurrency(o, 0), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_import_options_set_page_size(o, 1001), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_import_options_set_layout(o, "{nothing}/x"), DR_OK);
    assert_int_equal(dr_client_import(f->client, o, &r), DR_E_INVALID_ARGUMENT);
    assert_null(r);
    dr_import_options_free(o);
    assert_int_equal(dr_import_options_new(&o, f->root), DR_OK);
    dr_import_options_free(o);
    assert_int_equal(dr_import_options_new(&o, "/nonexistent/dir/for/import"), DR_OK);
    assert_int_equal(dr_client_import(f->client, o, &r), DR_E_NOT_FOUND);
    dr_import_options_free(o);
    assert_int_equal(dr_import_options_new(&o, ""), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_client_import(NULL, NULL, NULL), DR_E_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_twice_counts_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dual_write_counts_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_after_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
