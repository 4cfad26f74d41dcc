/* Stream mode against DynamoDB Local: PutItem writes, the aggregator fed through the
 * DynamoDB Streams API, and exactly-once application under redelivery, overlap and
 * crashes; the aggregates must equal those inline mode gives for the same ratings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dadratings.h"
#include "ddb.h"
#include "ddb_json.h"
#include "dr_test.h"

typedef struct pair {
    char ratings[96], stats[96];
    dr_client *client; /* in the pair's mode */
} pair;

typedef struct fixture {
    pair inline_tables, stream_tables;
} fixture;

static void open_pair(pair *p, const char *tag, dr_aggregation_mode mode)
{
    p->client = dr_test_open_tables(p->ratings, p->stats, sizeof p->ratings, tag, mode, 1);
}

static void close_pair(pair *p)
{
    dr_test_close_tables(p->client, p->ratings, p->stats);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    open_pair(&f->inline_tables, "inl", DR_AGGREGATION_INLINE);
    open_pair(&f->stream_tables, "str", DR_AGGREGATION_STREAM);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    close_pair(&f->inline_tables);
    close_pair(&f->stream_tables);
    free(f);
    return 0;
}

/* The same deterministic ratings for both modes. */
#define JOKES 6
static const char *const joke_authors[JOKES] = {"Ann", "Ann", "Bob", "Bob", "Cid", "Unknown"};

static void write_ratings(dr_client *c, int count, unsigned seed)
{
    int i;
    for (i = 0; i < count; i++) {
        char id[16];
        int joke = (int)(rand_r(&seed) % JOKES), stars = (int)(rand_r(&seed) % 5) + 1;
        dr_rating *r = NULL;
        dr_stats *s = NULL;
        snprintf(id, sizeof id, "j%d", joke);
        assert_int_equal(dr_rating_new(&r, id, stars), DR_OK);
        assert_int_equal(dr_rating_set_author(r, joke_authors[joke]), DR_OK);
        assert_int_equal(dr_rating_set_joke_text(r, "a joke"), DR_OK);
        if (dr_client_write_rating(c, r, &s) != DR_OK)
            fail_msg("write_rating: %s", dr_last_error_message());
        dr_stats_free(s);
        dr_rating_free(r);
    }
}

/* Poll until two rounds in a row find nothing. */
static uint64_t follow_until_idle(dr_client *c)
{
    dr_follower *f = NULL;
    uint64_t total = 0, seen = 0;
    int idle = 0;
    assert_int_equal(dr_follower_new(&f, c), DR_OK);
    while (idle < 2) {
        if (dr_follower_poll(f, &seen) != DR_OK)
            fail_msg("follower: %s", dr_last_error_message());
        total += seen;
        idle = seen ? 0 : idle + 1;
    }
    dr_follower_free(f);
    return total;
}

/* Field by field: every joke's stats and the dashboard's aggregates. */
static void assert_same_aggregates(dr_client *a, dr_client *b)
{
    dr_dashboard *da = NULL, *db = NULL;
    size_t i;
    int j, k;
    for (j = 0; j < JOKES; j++) {
        char id[16];
        dr_stats *sa = NULL, *sb = NULL;
        snprintf(id, sizeof id, "j%d", j);
        assert_int_equal(dr_client_read_stats(a, id, &sa), DR_OK);
        assert_int_equal(dr_client_read_stats(b, id, &sb), DR_OK);
        assert_true(dr_stats_total_ratings(sa) == dr_stats_total_ratings(sb));
        assert_true(dr_stats_total_score(sa) == dr_stats_total_score(sb));
        for (k = 1; k <= 5; k++)
            assert_true(dr_stats_count(sa, k) == dr_stats_count(sb, k));
        assert_true(dr_stats_average(sa) == dr_stats_average(sb));
        dr_stats_free(sa);
        dr_stats_free(sb);
    }
    assert_int_equal(dr_client_dashboard_stats(a, &da), DR_OK);
    assert_int_equal(dr_client_dashboard_stats(b, &db), DR_OK);
    assert_true(dr_dashboard_overall_ratings(da) == dr_dashboard_overall_ratings(db));
    assert_true(dr_dashboard_overall_average(da) == dr_dashboard_overall_average(db));
    assert_true(dr_dashboard_unique_jokes(da) == dr_dashboard_unique_jokes(db));
    for (k = 1; k <= 5; k++)
        assert_true(dr_dashboard_rating_count(da, k) == dr_dashboard_rating_count(db, k));
    assert_int_equal(dr_dashboard_author_count(da), dr_dashboard_author_count(db));
    for (i = 0; i < dr_dashboard_author_count(da); i++) {
        assert_string_equal(dr_dashboard_author_name(da, i), dr_dashboard_author_name(db, i));
        assert_true(dr_dashboard_author_total_ratings(da, i) ==
                    dr_dashboard_author_total_ratings(db, i));
        for (k = 1; k <= 5; k++)
            assert_true(dr_dashboard_author_rating_count(da, i, k) ==
                        dr_dashboard_author_rating_count(db, i, k));
    }
    assert_int_equal(dr_dashboard_top_count(da), dr_dashboard_top_count(db));
    for (i = 0; i < dr_dashboard_top_count(da); i++) {
        assert_string_equal(dr_dashboard_top_joke_id(da, i), dr_dashboard_top_joke_id(db, i));
        assert_true(dr_dashboard_top_average(da, i) == dr_dashboard_top_average(db, i));
    }
    dr_dashboard_free(da);
    dr_dashboard_free(db);
}

static void test_stream_mode_equals_inline_mode(void **state)
{
    fixture *f = *state;
    dr_rating *r = NULL;
    dr_stats *s = NULL;

    write_ratings(f->inline_tables.client, 60, 7);
    write_ratings(f->stream_tables.client, 60, 7);
    assert_int_equal(follow_until_idle(f->stream_tables.client), 60);
    assert_same_aggregates(f->inline_tables.client, f->stream_tables.client);

    /* A stream-mode write returns what is stored plus itself, flagged pending. */
    assert_int_equal(dr_rating_new(&r, "j0", 5), DR_OK);
    assert_int_equal(dr_client_read_stats(f->stream_tables.client, "j0", &s), DR_OK);
    {
        uint64_t before = dr_stats_total_ratings(s);
        dr_stats_free(s);
        assert_int_equal(dr_client_write_rating(f->stream_tables.client, r, &s), DR_OK);
        assert_true(dr_stats_total_ratings(s) == before + 1);
        assert_int_equal(dr_stats_pending(s), 1);
    }
    dr_stats_free(s);
    dr_rating_free(r);
}

/* The raw GetRecords batches of the stream, as the Streams API gives them. */
static json_t *read_all_records(dr_client *c)
{
    json_t *req = json_pack("{s:s}", "TableName", c->ratings_table), *resp = NULL, *all;
    const char *arn;
    json_t *shards, *sh;
    size_t i;
    assert_int_equal(dr__ddb_call(c, "DescribeTable", req, &resp, NULL), DR_OK);
    json_decref(req);
    arn = json_string_value(json_object_get(json_object_get(resp, "Table"), "LatestStreamArn"));
    req = json_pack("{s:s}", "StreamArn", arn);
    json_decref(resp);
    assert_int_equal(dr__ddb_call_service(c, DR_SERVICE_STREAMS, "DescribeStream", req, &resp, NULL),
                     DR_OK);
    shards = json_incref(json_object_get(json_object_get(resp, "StreamDescription"), "Shards"));
    json_decref(resp);
    all = json_array();
    json_array_foreach(shards, i, sh) {
        json_t *it_req = json_pack("{s:s, s:O, s:s}", "StreamArn", json_string_value(json_object_get(req, "StreamArn")),
                                   "ShardId", json_object_get(sh, "ShardId"), "ShardIteratorType",
                                   "TRIM_HORIZON");
        json_t *it_resp = NULL, *rec_resp = NULL, *rec_req;
        assert_int_equal(dr__ddb_call_service(c, DR_SERVICE_STREAMS, "GetShardIterator", it_req,
                                              &it_resp, NULL), DR_OK);
        rec_req = json_pack("{s:O}", "ShardIterator", json_object_get(it_resp, "ShardIterator"));
        assert_int_equal(dr__ddb_call_service(c, DR_SERVICE_STREAMS, "GetRecords", rec_req,
                                              &rec_resp, NULL), DR_OK);
        json_array_extend(all, json_object_get(rec_resp, "Records"));
        json_decref(rec_resp);
        json_decref(rec_req);
        json_decref(it_resp);
        json_decref(it_req);
    }
    json_decref(shards);
    json_decref(req);
    return all;
}

static void apply(dr_client *c, json_t *records, size_t from, size_t to, size_t *applied,
                  size_t *duplicates)
{
    json_t *slice = json_array();
    dr_batch_result *r = NULL;
    char *body;
    size_t i;
    for (i = from; i < to; i++)
        json_array_append(slice, json_array_get(records, i));
    body = json_dumps(slice, JSON_COMPACT);
    assert_int_equal(dr_client_apply_stream_batch(c, body, strlen(body), &r), DR_OK);
    assert_int_equal(dr_batch_result_failed_count(r), 0);
    *applied += dr_batch_result_applied(r);
    *duplicates += dr_batch_result_duplicates(r);
    dr_batch_result_free(r);
    free(body);
    json_decref(slice);
}

static void test_redelivered_and_overlapping_batches_count_once(void **state)
{
    fixture *f = *state;
    json_t *records;
    size_t n, applied = 0, duplicates = 0;
    uint64_t before = 0, after = 0;

    write_ratings(f->inline_tables.client, 40, 11);
    write_ratings(f->stream_tables.client, 40, 11);
    records = read_all_records(f->stream_tables.client);
    n = json_array_size(records);
    assert_int_equal(n, 40);
    /* A joke's INSERTs in one batch share a transaction: fewer than the GetItem and the
     * transaction that each record alone would cost. */
    dr_client_counter(f->stream_tables.client, DR_COUNTER_REQUESTS, &before);
    apply(f->stream_tables.client, records, 0, 15, &applied, &duplicates);     /* a first part */
    dr_client_counter(f->stream_tables.client, DR_COUNTER_REQUESTS, &after);
    print_message("15 records (%d jokes) applied with %llu requests\n", JOKES,
                  (unsigned long long)(after - before));
    assert_true(after - before < 2 * 15);
    /* Groups holding records applied before and new ones: the new ones still count. */
    apply(f->stream_tables.client, records, 5, n, &applied, &duplicates);
    apply(f->stream_tables.client, records, 0, n, &applied, &duplicates);      /* again */
    apply(f->stream_tables.client, records, 10, 30, &applied, &duplicates);    /* overlap */
    apply(f->stream_tables.client, records, 25, n, &applied, &duplicates);
    assert_int_equal(applied, 40);
    assert_int_equal(duplicates, 10 + 40 + 20 + 15);
    assert_same_aggregates(f->inline_tables.client, f->stream_tables.client);
    json_decref(records);
}

/* dr_follow killed with SIGKILL right after its k-th record was applied (before the
 * batch's checkpoint), then restarted: the aggregates are still exact. */
static void run_follow(pair *p, long crash_after, int expect_killed)
{
    const char *bin = getenv("DR_FOLLOW_BIN");
    pid_t pid;
    int status = 0;
    char crash[24];
    assert_non_null(bin);
    snprintf(crash, sizeof crash, "%ld", crash_after);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("AWS_ENDPOINT_URL_DYNAMODB", dr_test_endpoint(), 1);
        setenv("AWS_REGION", "us-east-1", 1);
        setenv("AWS_ACCESS_KEY_ID", "AKIDLOCALTEST", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "local-test-secret", 1);
        setenv("DYNAMODB_RATINGS_TABLE", p->ratings, 1);
        setenv("DYNAMODB_STATS_TABLE", p->stats, 1);
        if (crash_after > 0)
            execl(bin, bin, "--until-idle", "--crash-after-applied", crash, (char *)NULL);
        else
            execl(bin, bin, "--until-idle", (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (expect_killed) {
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
    } else {
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
}

static void test_follower_killed_mid_batch_resumes_exactly(void **state)
{
    static const long crash_points[] = {1, 7, 19};
    fixture *f = *state;
    size_t i;

    /* 300 records of 6 jokes take several transactions (about 89 markers each beside
     * the jokes, the GLOBAL shard and the authors), so that each crash lands after a
     * later transaction than the last: each run finds the transactions committed before
     * as applied (duplicates), applies the next one and is killed before any checkpoint
     * of that batch. */
    write_ratings(f->inline_tables.client, 300, 23);
    write_ratings(f->stream_tables.client, 300, 23);
    for (i = 0; i < sizeof crash_points / sizeof *crash_points; i++)
        run_follow(&f->stream_tables, crash_points[i], 1);
    run_follow(&f->stream_tables, 0, 0);
    assert_same_aggregates(f->inline_tables.client, f->stream_tables.client);
}

static void test_inline_and_stream_writes_mixed(void **state)
{
    fixture *f = *state;
    dr_config *cfg = NULL;
    dr_client *inline_on_stream_tables;

    /* Reference: all 40 inline. Mixed: 20 inline and 20 stream into one table pair. */
    write_ratings(f->inline_tables.client, 20, 31);
    write_ratings(f->inline_tables.client, 20, 37);
    inline_on_stream_tables = dr_test_client(NULL, f->stream_tables.ratings,
                                             f->stream_tables.stats, &cfg);
    dr_config_free(cfg);
    write_ratings(inline_on_stream_tables, 20, 31);
    write_ratings(f->stream_tables.client, 20, 37);
    assert_int_equal(follow_until_idle(f->stream_tables.client), 40); /* 20 skipped */
    assert_same_aggregates(f->inline_tables.client, f->stream_tables.client);
    dr_client_free(inline_on_stream_tables);
}

/* MODIFY moves a rating; a user's REMOVE un-counts it; a TTL REMOVE changes nothing;
 * a record that cannot be applied is reported with the ones after it. */
static void test_modify_remove_ttl_and_failures(void **state)
{
    fixture *f = *state;
    dr_client *c = f->stream_tables.client;
    dr_batch_result *r = NULL;
    dr_stats *s = NULL;
    char *json = NULL;
    char a4[512], a2[512], b5[512], bad[512], batch[8192];

#define IMAGE_FMT                                                                          \
    "{\"PK\":{\"S\":\"JOKE#m\"},\"SK\":{\"S\":\"RATING#2026-11-25T10:00:00.000Z#%s\"},"       \
    "\"rating\":{\"N\":\"%s\"},\"author\":{\"S\":\"Ann\"},"                                 \
    "\"submittedAt\":{\"S\":\"2026-11-25T10:00:00.000Z\"}}"
    snprintf(a4, sizeof a4, IMAGE_FMT, "a", "4");
    snprintf(a2, sizeof a2, IMAGE_FMT, "a", "2");
    snprintf(b5, sizeof b5, IMAGE_FMT, "b", "5");
    snprintf(bad, sizeof bad, IMAGE_FMT, "c", "7");
#undef IMAGE_FMT
#define KEYS(id) "\"Keys\":{\"PK\":{\"S\":\"JOKE#m\"},\"SK\":{\"S\":\"RATING#2026-11-25T10:00:00.000Z#" id "\"}}"
    snprintf(batch, sizeof batch,
             "{\"Records\":["
             "{\"eventID\":\"1\",\"eventName\":\"INSERT\",\"dynamodb\":{" KEYS("a") ",\"NewImage\":%s,\"SequenceNumber\":\"101\"}},"
             "{\"eventID\":\"2\",\"eventName\":\"INSERT\",\"dynamodb\":{" KEYS("b") ",\"NewImage\":%s,\"SequenceNumber\":\"102\"}},"
             "{\"eventID\":\"3\",\"eventName\":\"MODIFY\",\"dynamodb\":{" KEYS("a") ",\"OldImage\":%s,\"NewImage\":%s,\"SequenceNumber\":\"103\"}},"
             "{\"eventID\":\"4\",\"eventName\":\"REMOVE\",\"userIdentity\":{\"type\":\"Service\",\"principalId\":\"dynamodb.amazonaws.com\"},"
             "\"dynamodb\":{" KEYS("b") ",\"OldImage\":%s,\"SequenceNumber\":\"104\"}}"
             "]}", a4, b5, a4, a2, b5);
    assert_int_equal(dr_client_apply_stream_batch(c, batch, strlen(batch), &r), DR_OK);
    assert_int_equal(dr_batch_result_applied(r), 3);
    assert_int_equal(dr_batch_result_skipped(r), 1); /* the TTL removal */
    dr_batch_result_free(r);
    assert_int_equal(dr_client_read_stats(c, "m", &s), DR_OK);
    assert_int_equal(dr_stats_total_ratings(s), 2); /* the TTL removal kept b */
    assert_int_equal(dr_stats_count(s, 2), 1);      /* a moved from 4 to 2 */
    assert_int_equal(dr_stats_count(s, 4), 0);
    assert_int_equal(dr_stats_count(s, 5), 1);
    assert_int_equal(dr_stats_total_score(s), 7);
    dr_stats_free(s);

    /* A user removes b; a malformed record follows; then a valid one. */
    snprintf(batch, sizeof batch,
             "{\"Records\":["
             "{\"eventID\":\"5\",\"eventName\":\"REMOVE\",\"userIdentity\":null,\"dynamodb\":{" KEYS("b") ",\"OldImage\":%s,\"SequenceNumber\":\"105\"}},"
             "{\"eventID\":\"6\",\"eventName\":\"INSERT\",\"dynamodb\":{" KEYS("c") ",\"NewImage\":%s,\"SequenceNumber\":\"106\"}},"
             "{\"eventID\":\"7\",\"eventName\":\"INSERT\",\"dynamodb\":{" KEYS("a") ",\"NewImage\":%s,\"SequenceNumber\":\"107\"}}"
             "]}", b5, bad, a4);
#undef KEYS
    assert_int_equal(dr_client_apply_stream_batch(c, batch, strlen(batch), &r), DR_OK);
    assert_int_equal(dr_batch_result_applied(r), 1);
    assert_int_equal(dr_batch_result_failed_count(r), 2);
    assert_string_equal(dr_batch_result_failed_sequence_number(r, 0), "106");
    assert_string_equal(dr_batch_result_failed_sequence_number(r, 1), "107");
    assert_int_equal(dr_batch_result_to_json(r, &json), DR_OK);
    assert_string_equal(json, "{\"batchItemFailures\":[{\"itemIdentifier\":\"106\"},"
                              "{\"itemIdentifier\":\"107\"}]}");
    dr_free(json);
    dr_batch_result_free(r);
    assert_int_equal(dr_client_read_stats(c, "m", &s), DR_OK);
    assert_int_equal(dr_stats_total_ratings(s), 1);
    assert_int_equal(dr_stats_total_score(s), 2);
    dr_stats_free(s);

    /* Not a batch at all. */
    assert_int_equal(dr_client_apply_stream_batch(c, "{\"hello\":1}", 11, &r),
                     DR_E_INVALID_ARGUMENT);
    assert_null(r);
    assert_int_equal(dr_client_apply_stream_batch(c, "not json", 8, &r), DR_E_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stream_mode_equals_inline_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redelivered_and_overlapping_batches_count_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_follower_killed_mid_batch_resumes_exactly, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_inline_and_stream_writes_mixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modify_remove_ttl_and_failures, setup, teardown),
    };
    return cmocka_run_group_tests_name("stream", tests, NULL, NULL);
}
