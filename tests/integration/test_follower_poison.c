/* A stream record the aggregator cannot apply (a stored rating of 7, a MODIFY without
 * an old image) against DynamoDB Local: the follower parks it as a dead letter after
 * DR_FOLLOWER_MAX_DELIVERIES deliveries, moves its checkpoint past it and applies every
 * record after it exactly once; the dead letters are listed and requeued through the
 * API and through dr_follow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dadratings.h"
#include "ddb.h"
#include "ddb_json.h"
#include "dr_test.h"

typedef struct fixture {
    char ratings[96], stats[96];
    dr_client *client; /* stream mode */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->client = dr_test_open_tables(f->ratings, f->stats, sizeof f->ratings, "poi",
                                    DR_AGGREGATION_STREAM, 1);
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

static void rate(dr_client *c, const char *joke, int stars)
{
    dr_rating *r = NULL;
    assert_int_equal(dr_rating_new(&r, joke, stars), DR_OK);
    if (dr_client_write_rating(c, r, NULL) != DR_OK)
        fail_msg("write_rating %s: %s", joke, dr_last_error_message());
    dr_rating_free(r);
}

/* A rating item written past the library, as a buggy writer or a manual edit would:
 * `rating` is whatever decimal `stars` says. */
static void put_raw_rating(dr_client *c, const char *table, const char *joke, const char *sk,
                           const char *stars)
{
    char pk[64];
    json_t *req;
    snprintf(pk, sizeof pk, "JOKE#%s", joke);
    req = json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}", "TableName", table,
                    "Item", "PK", "S", pk, "SK", "S", sk, "rating", "N", stars, "author", "S",
                    "Ann", "submittedAt", "S", "2026-12-01T10:00:00.000Z");
    assert_non_null(req);
    if (dr__ddb_call(c, "PutItem", req, NULL, NULL) != DR_OK)
        fail_msg("PutItem: %s", dr_last_error_message());
    json_decref(req);
}

static uint64_t total_of(dr_client *c, const char *joke)
{
    dr_stats *s = NULL;
    uint64_t n;
    if (dr_client_read_stats(c, joke, &s) != DR_OK)
        fail_msg("read_stats %s: %s", joke, dr_last_error_message());
    n = dr_stats_total_ratings(s);
    dr_stats_free(s);
    return n;
}

/* Poll until a round reads nothing; fails the test after `max_rounds`. Returns the
 * number of rounds that failed. */
static int poll_until_idle(dr_follower *fl, int max_rounds)
{
    int rounds, failed = 0;
    for (rounds = 0; rounds < max_rounds; rounds++) {
        uint64_t seen = 0;
        dr_status rc = dr_follower_poll(fl, &seen);
        if (rc != DR_OK)
            failed++;
        else if (seen == 0)
            return failed;
    }
    fail_msg("the follower did not get past the stream in %d rounds", max_rounds);
    return failed;
}

/* dr_follow with `args` (NULL-terminated) on the fixture's tables; stdout and stderr go
 * to the files named. Returns the exit status. */
static int run_follow(const fixture *f, const char *out_path, const char *err_path,
                      const char *const *args)
{
    const char *bin = getenv("DR_FOLLOW_BIN");
    char *argv[8];
    pid_t pid;
    int status = 0, i;
    assert_non_null(bin);
    argv[0] = strdup(bin);
    for (i = 0; args[i] && i < 6; i++)
        argv[i + 1] = strdup(args[i]);
    argv[i + 1] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(126);
        setenv("AWS_ENDPOINT_URL_DYNAMODB", dr_test_endpoint(), 1);
        setenv("AWS_REGION", "us-east-1", 1);
        setenv("AWS_ACCESS_KEY_ID", "AKIDLOCALTEST", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "local-test-secret", 1);
        setenv("DYNAMODB_RATINGS_TABLE", f->ratings, 1);
        setenv("DYNAMODB_STATS_TABLE", f->stats, 1);
        execv(bin, argv);
        _exit(127);
    }
    for (i = 0; argv[i]; i++)
        free(argv[i]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Create the file a mkstemp template names. */
static void make_temp(char *template_path)
{
    int fd = mkstemp(template_path);
    assert_true(fd >= 0);
    close(fd);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *text = calloc(1, 1 << 20);
    size_t n;
    assert_non_null(fp);
    assert_non_null(text);
    n = fread(text, 1, (1 << 20) - 1, fp);
    text[n] = '\0';
    fclose(fp);
    return text;
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* The stats table's item with this key, or NULL. New reference. */
static json_t *get_item(dr_client *c, const char *table, const char *pk, const char *sk)
{
    json_t *req = json_pack("{s:s, s:{s:{s:s}, s:{s:s}}, s:b}", "TableName", table, "Key", "PK",
                            "S", pk, "SK", "S", sk, "ConsistentRead", 1);
    json_t *resp = NULL, *item;
    assert_int_equal(dr__ddb_call(c, "GetItem", req, &resp, NULL), DR_OK);
    json_decref(req);
    item = json_incref(json_object_get(resp, "Item"));
    json_decref(resp);
    return item;
}

/* Sequence numbers are decimal strings: longer is later, else compare digits. */
static int sequence_after(const char *a, const char *b)
{
    return a && (strlen(a) != strlen(b) ? strlen(a) > strlen(b) : strcmp(a, b) > 0);
}

/* The follower's checkpoint item of the table's only shard (a Scan: the test does not
 * know the stream ARN's spelling). New reference. */
static json_t *only_checkpoint(dr_client *c, const char *stats)
{
    json_t *all = dr_test_scan_all(c, stats), *item, *found = NULL;
    size_t i;
    json_array_foreach(all, i, item) {
        const char *pk = dr__av_get_s(item, "PK");
        if (pk && !strncmp(pk, "CHECKPOINT#", 11)) {
            assert_null(found); /* one shard */
            found = json_incref(item);
        }
    }
    json_decref(all);
    assert_non_null(found);
    return found;
}

/* The review's reproduction: before, a stored rating 7, after1, after2; dr_follow
 * --until-idle. Before the fix every round failed on the 7 and dr_follow exited 1 with
 * after1 and after2 never counted. */
static void test_dr_follow_parks_a_poison_record_and_applies_the_rest(void **state)
{
    fixture *f = *state;
    static const char *const until_idle[] = {"--until-idle", NULL};
    static const char *const list[] = {"--dead-letters", NULL};
    static const char *const list_json[] = {"--dead-letters", "--json", NULL};
    char out[] = "/tmp/dr-poison-out-XXXXXX", err[] = "/tmp/dr-poison-err-XXXXXX";
    char dl_pk[160], dl_sk[256];
    dr_follower *fl = NULL;
    dr_dead_letters *dl = NULL;
    json_t *record, *item, *checkpoint, *parsed;
    const char *seq;
    char *text, *json = NULL;
    int status;

    make_temp(out);
    make_temp(err);
    rate(f->client, "before", 4);
    put_raw_rating(f->client, f->ratings, "bad", "RATING#2026-12-01T10:00:00.000Z#seven", "7");
    rate(f->client, "after1", 5);
    rate(f->client, "after2", 3);

    status = run_follow(f, out, err, until_idle);
    /* The records after the poison one are counted (on main: before 1, after1 0, after2 0,
     * and dr_follow exits 1 after failing 5 rounds on the same record). */
    assert_int_equal(total_of(f->client, "before"), 1);
    assert_int_equal(total_of(f->client, "after1"), 1);
    assert_int_equal(total_of(f->client, "after2"), 1);
    assert_int_equal(total_of(f->client, "bad"), 0);
    assert_int_equal(status, 0);
    text = slurp(err);
    /* Logged at ERROR with identifiers and reason, not the record. */
    assert_non_null(strstr(text, "parked as a dead letter after 5 failed deliveries"));
    assert_non_null(strstr(text, "rating is not an integer 1..5"));
    assert_null(strstr(text, "\"NewImage\""));
    free(text);
    text = slurp(out);
    assert_non_null(strstr(text, "1 dead-lettered"));
    free(text);

    /* The dead letter through the API. */
    assert_int_equal(dr_follower_new(&fl, f->client), DR_OK);
    assert_int_equal(dr_follower_list_dead_letters(fl, &dl), DR_OK);
    assert_int_equal(dr_dead_letters_count(dl), 1);
    seq = dr_dead_letters_sequence_number(dl, 0);
    assert_non_null(seq);
    assert_true(strlen(dr_dead_letters_shard_id(dl, 0)) > 0);
    assert_int_equal(dr_dead_letters_attempts(dl, 0), DR_FOLLOWER_MAX_DELIVERIES);
    assert_non_null(strstr(dr_dead_letters_reason(dl, 0), "rating is not an integer 1..5"));
    assert_non_null(strstr(dr_dead_letters_reason(dl, 0), seq));
    assert_int_equal(strlen(dr_dead_letters_parked_at(dl, 0)), 24);
    assert_null(dr_dead_letters_shard_id(dl, 1));
    record = json_loads(dr_dead_letters_record_json(dl, 0), 0, NULL);
    assert_non_null(record);
    assert_string_equal(json_string_value(json_object_get(record, "eventName")), "INSERT");
    assert_string_equal(dr__av_get_s(json_object_get(json_object_get(record, "dynamodb"), "Keys"),
                                     "PK"),
                        "JOKE#bad");
    assert_string_equal(
        dr__av_get_n(json_object_get(json_object_get(record, "dynamodb"), "NewImage"), "rating"),
        "7");
    json_decref(record);

    /* The item itself: its key in the data model's style, every field. */
    snprintf(dl_pk, sizeof dl_pk, "DEADLETTER#%s", f->ratings);
    snprintf(dl_sk, sizeof dl_sk, "%s#%s", dr_dead_letters_shard_id(dl, 0), seq);
    item = get_item(f->client, f->stats, dl_pk, dl_sk);
    assert_non_null(item);
    assert_string_equal(dr__av_get_s(item, "sequenceNumber"), seq);
    assert_string_equal(dr__av_get_s(item, "shardId"), dr_dead_letters_shard_id(dl, 0));
    assert_string_equal(dr__av_get_n(item, "attempts"), "5");
    assert_non_null(dr__av_get_s(item, "streamArn"));
    assert_non_null(dr__av_get_s(item, "record"));
    json_decref(item);

    /* The checkpoint is past it: at the last record (after2), no failure pending. */
    checkpoint = only_checkpoint(f->client, f->stats);
    assert_true(sequence_after(dr__av_get_s(checkpoint, "sequenceNumber"), seq));
    assert_null(dr__av_get_s(checkpoint, "failingSequenceNumber"));
    json_decref(checkpoint);

    /* The JSON rendering. */
    assert_int_equal(dr_dead_letters_to_json(dl, &json), DR_OK);
    parsed = json_loads(json, 0, NULL);
    assert_int_equal(json_array_size(parsed), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(parsed, 0),
                                                          "sequenceNumber")),
                        seq);
    assert_true(json_is_object(json_object_get(json_array_get(parsed, 0), "record")));
    json_decref(parsed);
    dr_free(json);

    /* Listing through the tool: one line, and the same JSON. */
    assert_int_equal(run_follow(f, out, err, list), 0);
    text = slurp(out);
    assert_int_equal(count_lines(text), 1);
    assert_non_null(strstr(text, seq));
    assert_non_null(strstr(text, "attempts=5"));
    assert_non_null(strstr(text, "rating is not an integer 1..5"));
    free(text);
    assert_int_equal(run_follow(f, out, err, list_json), 0);
    text = slurp(out);
    parsed = json_loads(text, 0, NULL);
    assert_int_equal(json_array_size(parsed), 1);
    json_decref(parsed);
    free(text);

    /* A second run has nothing left to do: the checkpoint holds. */
    assert_int_equal(run_follow(f, out, err, until_idle), 0);
    assert_int_equal(total_of(f->client, "after1"), 1);
    dr_dead_letters_free(dl);
    dr_follower_free(fl);
    unlink(out);
    unlink(err);
}

/* Two poison records inside one batch, good records around and between them, several of
 * one joke: every good record counts exactly once, each poison record is parked. */
static void test_poison_records_in_the_middle_of_a_batch(void **state)
{
    fixture *f = *state;
    dr_follower *fl = NULL;
    dr_dead_letters *dl = NULL;
    dr_dashboard *d = NULL;
    int failed_rounds;

    rate(f->client, "m1", 5);
    rate(f->client, "m2", 4);
    put_raw_rating(f->client, f->ratings, "m1", "RATING#2026-12-01T10:00:00.000Z#zero", "0");
    rate(f->client, "m1", 3);
    rate(f->client, "m3", 2);
    put_raw_rating(f->client, f->ratings, "m2", "RATING#2026-12-01T10:00:00.000Z#frac", "4.5");
    rate(f->client, "m1", 1);
    rate(f->client, "m2", 2);

    assert_int_equal(dr_follower_new(&fl, f->client), DR_OK);
    failed_rounds = poll_until_idle(fl, 20);
    /* Four failed deliveries of each before the fifth parks it. */
    assert_int_equal(failed_rounds, 2 * (DR_FOLLOWER_MAX_DELIVERIES - 1));
    assert_int_equal(dr_follower_dead_lettered(fl), 2);
    assert_int_equal(total_of(f->client, "m1"), 3);
    assert_int_equal(total_of(f->client, "m2"), 2);
    assert_int_equal(total_of(f->client, "m3"), 1);
    assert_int_equal(dr_client_dashboard_stats(f->client, &d), DR_OK);
    assert_int_equal(dr_dashboard_overall_ratings(d), 6);
    assert_int_equal(dr_dashboard_rating_count(d, 1) + dr_dashboard_rating_count(d, 2) +
                         dr_dashboard_rating_count(d, 3) + dr_dashboard_rating_count(d, 4) +
                         dr_dashboard_rating_count(d, 5),
                     6);
    dr_dashboard_free(d);

    assert_int_equal(dr_follower_list_dead_letters(fl, &dl), DR_OK);
    assert_int_equal(dr_dead_letters_count(dl), 2);
    /* In sequence-number order within the shard: the 0 first, then the 4.5. */
    assert_non_null(strstr(dr_dead_letters_record_json(dl, 0), "#zero"));
    assert_non_null(strstr(dr_dead_letters_record_json(dl, 1), "#frac"));
    dr_dead_letters_free(dl);

    /* A new follower (a restart) reads nothing again. */
    dr_follower_free(fl);
    assert_int_equal(dr_follower_new(&fl, f->client), DR_OK);
    assert_int_equal(poll_until_idle(fl, 2), 0);
    assert_int_equal(dr_follower_dead_lettered(fl), 0);
    assert_int_equal(total_of(f->client, "m1"), 3);
    dr_follower_free(fl);
}

/* Two poison records in a row: dr_follow --until-idle fails 4 rounds on each, but a round
 * that parks one is progress, so it gets past both and exits 0. */
static void test_dr_follow_gets_past_consecutive_poison_records(void **state)
{
    fixture *f = *state;
    static const char *const until_idle[] = {"--until-idle", NULL};
    char out[] = "/tmp/dr-poison2-out-XXXXXX", err[] = "/tmp/dr-poison2-err-XXXXXX";
    char *text;

    make_temp(out);
    make_temp(err);
    put_raw_rating(f->client, f->ratings, "p", "RATING#2026-12-01T10:00:00.000Z#p1", "7");
    put_raw_rating(f->client, f->ratings, "p", "RATING#2026-12-01T10:00:00.000Z#p2", "-1");
    rate(f->client, "p-after", 2);
    assert_int_equal(run_follow(f, out, err, until_idle), 0);
    text = slurp(out);
    assert_non_null(strstr(text, "2 dead-lettered"));
    free(text);
    assert_int_equal(total_of(f->client, "p-after"), 1);
    unlink(out);
    unlink(err);
}

/* The failure count lives in the checkpoint: a follower restarted after every failed
 * round still parks the record after DR_FOLLOWER_MAX_DELIVERIES deliveries. */
static void test_failed_deliveries_survive_restarts(void **state)
{
    fixture *f = *state;
    int round;
    put_raw_rating(f->client, f->ratings, "r", "RATING#2026-12-01T10:00:00.000Z#six", "6");
    rate(f->client, "r2", 5);
    for (round = 1; round <= DR_FOLLOWER_MAX_DELIVERIES; round++) {
        dr_follower *fl = NULL;
        uint64_t seen = 0;
        dr_status rc;
        assert_int_equal(dr_follower_new(&fl, f->client), DR_OK);
        rc = dr_follower_poll(fl, &seen);
        if (round < DR_FOLLOWER_MAX_DELIVERIES) {
            assert_int_equal(rc, DR_E_INVALID_ARGUMENT);
            assert_non_null(strstr(dr_last_error_message(), "rating is not an integer"));
            assert_int_equal(total_of(f->client, "r2"), 0);
        } else {
            assert_int_equal(rc, DR_OK);
            assert_int_equal(dr_follower_dead_lettered(fl), 1);
            assert_int_equal(total_of(f->client, "r2"), 1);
        }
        dr_follower_free(fl);
    }
}

/* A MODIFY without an old image (a stream of view type NEW_IMAGE) cannot be applied:
 * it is parked, and the INSERT after it is still counted. */
static void test_modify_without_old_image_is_parked(void **state)
{
    fixture *f = *state;
    char table[96];
    dr_config *cfg = NULL;
    dr_client *c;
    dr_follower *fl = NULL;
    dr_dead_letters *dl = NULL;
    json_t *req;

    dr_test_unique_name(table, sizeof table, "poi-n");
    dr_test_create_simple_table(f->client, table);
    req = json_pack("{s:s, s:{s:b, s:s}}", "TableName", table, "StreamSpecification",
                    "StreamEnabled", 1, "StreamViewType", "NEW_IMAGE");
    if (dr__ddb_call(f->client, "UpdateTable", req, NULL, NULL) != DR_OK)
        fail_msg("UpdateTable: %s", dr_last_error_message());
    json_decref(req);
    c = dr_test_client(NULL, table, f->stats, &cfg);
    dr_config_free(cfg);

    put_raw_rating(c, table, "nm", "RATING#2026-12-01T10:00:00.000Z#a", "5");
    put_raw_rating(c, table, "nm", "RATING#2026-12-01T10:00:00.000Z#a", "2"); /* MODIFY */
    put_raw_rating(c, table, "nm", "RATING#2026-12-01T10:00:00.000Z#b", "4");

    assert_int_equal(dr_follower_new(&fl, c), DR_OK);
    assert_int_equal(poll_until_idle(fl, 20), DR_FOLLOWER_MAX_DELIVERIES - 1);
    assert_int_equal(dr_follower_dead_lettered(fl), 1);
    assert_int_equal(total_of(c, "nm"), 2); /* a (5, the MODIFY parked) and b */
    assert_int_equal(dr_follower_list_dead_letters(fl, &dl), DR_OK);
    assert_int_equal(dr_dead_letters_count(dl), 1);
    assert_non_null(strstr(dr_dead_letters_reason(dl, 0), "MODIFY without a valid old rating"));
    assert_non_null(strstr(dr_dead_letters_record_json(dl, 0), "\"MODIFY\""));
    dr_dead_letters_free(dl);
    dr_follower_free(fl);
    dr_client_free(c);
    dr_test_delete_table(f->client, table);
}

/* Requeue: a record that still fails stays parked; one whose cause was fixed (here its
 * stored JSON, standing in for a fixed bug) is applied once and its item deleted. */
static void test_requeue_dead_letters(void **state)
{
    fixture *f = *state;
    static const char *const requeue[] = {"--requeue-dead-letters", NULL};
    char out[] = "/tmp/dr-requeue-out-XXXXXX", err[] = "/tmp/dr-requeue-err-XXXXXX";
    char pk[160], sk[256], *fixed, *at;
    dr_follower *fl = NULL;
    dr_dead_letters *dl = NULL;
    size_t requeued = 9, still = 9;
    json_t *req;

    make_temp(out);
    make_temp(err);
    put_raw_rating(f->client, f->ratings, "q", "RATING#2026-12-01T10:00:00.000Z#q1", "9");
    put_raw_rating(f->client, f->ratings, "q", "RATING#2026-12-01T10:00:00.000Z#q2", "8");
    assert_int_equal(dr_follower_new(&fl, f->client), DR_OK);
    poll_until_idle(fl, 20);
    assert_int_equal(dr_follower_dead_lettered(fl), 2);

    assert_int_equal(dr_follower_requeue_dead_letters(fl, &requeued, &still), DR_OK);
    assert_int_equal(requeued, 0);
    assert_int_equal(still, 2);
    assert_int_equal(run_follow(f, out, err, requeue), 1);

    /* Repair the first record's stored JSON: rating 9 becomes 3. */
    assert_int_equal(dr_follower_list_dead_letters(fl, &dl), DR_OK);
    assert_int_equal(dr_dead_letters_count(dl), 2);
    fixed = strdup(dr_dead_letters_record_json(dl, 0));
    assert_non_null(at = strstr(fixed, "{\"N\":\"9\"}"));
    at[6] = '3';
    snprintf(pk, sizeof pk, "DEADLETTER#%s", f->ratings);
    snprintf(sk, sizeof sk, "%s#%s", dr_dead_letters_shard_id(dl, 0),
             dr_dead_letters_sequence_number(dl, 0));
    req = json_pack("{s:s, s:{s:{s:s}, s:{s:s}}, s:s, s:{s:s}, s:{s:{s:s}}}", "TableName",
                    f->stats, "Key", "PK", "S", pk, "SK", "S", sk, "UpdateExpression",
                    "SET #r = :r", "ExpressionAttributeNames", "#r", "record",
                    "ExpressionAttributeValues", ":r", "S", fixed);
    assert_non_null(req);
    if (dr__ddb_call(f->client, "UpdateItem", req, NULL, NULL) != DR_OK)
        fail_msg("UpdateItem: %s", dr_last_error_message());
    json_decref(req);
    free(fixed);
    dr_dead_letters_free(dl);

    assert_int_equal(run_follow(f, out, err, requeue), 1); /* the 8 stays */
    {
        char *text = slurp(out);
        assert_non_null(strstr(text, "1 dead letters requeued, 1 still parked"));
        free(text);
    }
    assert_int_equal(total_of(f->client, "q"), 1);
    assert_int_equal(dr_follower_list_dead_letters(fl, &dl), DR_OK);
    assert_int_equal(dr_dead_letters_count(dl), 1);
    assert_non_null(strstr(dr_dead_letters_record_json(dl, 0), "#q2"));
    dr_dead_letters_free(dl);
    assert_int_equal(dr_follower_requeue_dead_letters(fl, &requeued, &still), DR_OK);
    assert_int_equal(requeued, 0);
    assert_int_equal(still, 1);
    assert_int_equal(total_of(f->client, "q"), 1);
    dr_follower_free(fl);
    unlink(out);
    unlink(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dr_follow_parks_a_poison_record_and_applies_the_rest,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_poison_records_in_the_middle_of_a_batch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dr_follow_gets_past_consecutive_poison_records,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_deliveries_survive_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modify_without_old_image_is_parked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requeue_dead_letters, setup, teardown),
    };
    return cmocka_run_group_tests_name("follower_poison", tests, NULL, NULL);
}
