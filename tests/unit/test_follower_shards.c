/* The follower's poll loop with two shards, against a loopback fake of the DynamoDB and
 * DynamoDB Streams APIs (DynamoDB Local gives a table's stream one shard only, so it
 * cannot show this). Shard A holds a record that cannot be applied, shard B a valid one:
 * B must be served in the same round, A's record parked after
 * DR_FOLLOWER_MAX_DELIVERIES deliveries, and never moved past while its dead-letter
 * item cannot be written. And a cancelled transaction counts against the record only
 * when its reason is the record's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>

#include "dadratings.h"
#include "mini_http.h"

#define IMAGE(joke, id, stars)                                                                \
    "{\"PK\":{\"S\":\"JOKE#" joke "\"},\"SK\":{\"S\":\"RATING#2026-12-01T10:00:00.000Z#" id     \
    "\"},\"rating\":{\"N\":\"" stars "\"},\"author\":{\"S\":\"Ann\"},"                          \
    "\"submittedAt\":{\"S\":\"2026-12-01T10:00:00.000Z\"}}"
#define INSERT(seq, joke, id, stars)                                                          \
    "{\"eventID\":\"e" seq "\",\"eventName\":\"INSERT\",\"dynamodb\":{\"Keys\":{\"PK\":{\"S\":" \
    "\"JOKE#" joke "\"},\"SK\":{\"S\":\"RATING#2026-12-01T10:00:00.000Z#" id "\"}},"            \
    "\"NewImage\":" IMAGE(joke, id, stars) ",\"SequenceNumber\":\"" seq "\"}}"

typedef struct fake {
    pthread_mutex_t lock;
    int fail_dead_letter_puts; /* answer PutItem of a DEADLETTER# item with HTTP 500 */
    int only_b;                /* the stream has shard B only */
    const char *cancel_reason; /* non-NULL: cancel every transaction with this reason */
    int get_records_b;         /* GetRecords calls on shard B */
    int transactions;          /* TransactWriteItems calls (records applied) */
    int dead_letter_puts_ok;
    char last_checkpoint_a[4096]; /* body of the latest checkpoint PutItem of shard A */
} fake;

static int has(const char *headers, const char *target)
{
    char line[128];
    snprintf(line, sizeof line, "X-Amz-Target: %s\r", target);
    return strstr(headers, line) != NULL;
}

static void answer(const mini_http_request *req, int *status, char *body, size_t cap,
                   void *payload)
{
    fake *f = payload;
    const char *h = req->headers;
    const char *in = req->body ? req->body : "";
    *status = 200;
    pthread_mutex_lock(&f->lock);
    if (has(h, "DynamoDB_20120810.DescribeTable")) {
        snprintf(body, cap, "{\"Table\":{\"LatestStreamArn\":\"arn:aws:dynamodb:us-east-1:"
                            "000000000000:table/fake-ratings/stream/2026-12-01T00:00:00.000\"}}");
    } else if (has(h, "DynamoDBStreams_20120810.DescribeStream")) {
        snprintf(body, cap, "{\"StreamDescription\":{\"Shards\":[%s{\"ShardId\":\"shard-B\"}]}}",
                 f->only_b ? "" : "{\"ShardId\":\"shard-A\"},");
    } else if (has(h, "DynamoDBStreams_20120810.GetShardIterator")) {
        snprintf(body, cap, "{\"ShardIterator\":\"%s\"}",
                 strstr(in, "shard-A") ? "it-A" : "it-B");
    } else if (has(h, "DynamoDBStreams_20120810.GetRecords")) {
        if (strstr(in, "\"it-A\""))
            snprintf(body, cap, "{\"Records\":[" INSERT("100", "a", "x", "7") "," INSERT(
                                    "101", "a", "y", "4") "],\"NextShardIterator\":\"it-A2\"}");
        else if (strstr(in, "\"it-B\""))
            f->get_records_b++,
                snprintf(body, cap, "{\"Records\":[" INSERT("200", "b", "z", "5") "],"
                                    "\"NextShardIterator\":\"it-B2\"}");
        else /* it-A2, it-B2: nothing new yet */
            snprintf(body, cap, "{\"Records\":[],\"NextShardIterator\":\"%s\"}",
                     strstr(in, "it-A2") ? "it-A2" : "it-B2");
    } else if (has(h, "DynamoDB_20120810.PutItem") && strstr(in, "DEADLETTER#")) {
        if (f->fail_dead_letter_puts) {
            *status = 500;
            snprintf(body, cap, "{\"__type\":\"InternalFailure\"}");
        } else {
            f->dead_letter_puts_ok++;
            snprintf(body, cap, "{}");
        }
    } else if (has(h, "DynamoDB_20120810.PutItem")) {
        if (strstr(in, "SHARD#shard-A"))
            snprintf(f->last_checkpoint_a, sizeof f->last_checkpoint_a, "%s", in);
        snprintf(body, cap, "{}");
    } else if (has(h, "DynamoDB_20120810.GetItem")) {
        snprintf(body, cap, "{}"); /* no checkpoint, no stats yet */
    } else if (has(h, "DynamoDB_20120810.TransactWriteItems") && f->cancel_reason) {
        *status = 400;
        snprintf(body, cap,
                 "{\"__type\":\"com.amazonaws.dynamodb.v20120810#TransactionCanceledException\","
                 "\"Message\":\"Transaction cancelled, please refer cancellation reasons for "
                 "specific reasons [None, %s, None, None]\",\"CancellationReasons\":["
                 "{\"Code\":\"None\"},{\"Code\":\"%s\"},{\"Code\":\"None\"},"
                 "{\"Code\":\"None\"}]}",
                 f->cancel_reason, f->cancel_reason);
    } else if (has(h, "DynamoDB_20120810.TransactWriteItems")) {
        f->transactions++;
        snprintf(body, cap, "{}");
    } else {
        *status = 400;
        snprintf(body, cap, "{\"__type\":\"com.amazon.coral.validate#ValidationException\","
                            "\"message\":\"unexpected request\"}");
    }
    pthread_mutex_unlock(&f->lock);
}

static dr_client *client_on(mini_http *s)
{
    dr_config *cfg = NULL;
    dr_client *c = NULL;
    assert_int_equal(dr_config_new(&cfg), DR_OK);
    assert_int_equal(dr_config_set_region(cfg, "us-east-1"), DR_OK);
    assert_int_equal(dr_config_set_credentials(cfg, "AKIDFAKE", "fake-secret", NULL), DR_OK);
    assert_int_equal(dr_config_set_endpoint(cfg, mini_http_url(s)), DR_OK);
    assert_int_equal(dr_config_set_max_attempts(cfg, 1), DR_OK);
    assert_int_equal(dr_config_set_ratings_table(cfg, "fake-ratings"), DR_OK);
    assert_int_equal(dr_config_set_stats_table(cfg, "fake-stats"), DR_OK);
    assert_int_equal(dr_client_new(&c, cfg), DR_OK);
    dr_config_free(cfg);
    return c;
}

/* The fake, a client on it and a follower. */
typedef struct harness {
    fake f;
    mini_http *s;
    dr_client *c;
    dr_follower *fl;
} harness;

static void harness_open(harness *h, int only_b, const char *cancel_reason)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->f.lock, NULL);
    h->f.only_b = only_b;
    h->f.cancel_reason = cancel_reason;
    assert_non_null(h->s = mini_http_start());
    mini_http_handle(h->s, "POST", "/", answer, &h->f);
    h->c = client_on(h->s);
    assert_int_equal(dr_follower_new(&h->fl, h->c), DR_OK);
}

static void harness_close(harness *h)
{
    dr_follower_free(h->fl);
    dr_client_free(h->c);
    mini_http_stop(h->s);
    pthread_mutex_destroy(&h->f.lock);
}

static void test_a_failing_shard_does_not_starve_the_next(void **state)
{
    harness h;
    fake *fk = &h.f;
    dr_follower *fl;
    uint64_t seen = 0;
    dr_status rc;
    int round;
    (void)state;

    harness_open(&h, 0, NULL);
    fl = h.fl;

    /* Round 1: A fails, B is still read and its record applied; A's error is reported. */
    rc = dr_follower_poll(fl, &seen);
    pthread_mutex_lock(&fk->lock);
    assert_int_equal(fk->get_records_b, 1);
    assert_int_equal(fk->transactions, 1); /* B's record (A's good one waits behind the 7) */
    pthread_mutex_unlock(&fk->lock);
    assert_int_equal(rc, DR_E_INVALID_ARGUMENT);
    assert_non_null(strstr(dr_last_error_message(), "shard shard-A"));
    assert_non_null(strstr(dr_last_error_message(), "delivery 1 of 5"));
    assert_int_equal(seen, 3);

    /* The dead-letter item cannot be written: rounds go on failing, the checkpoint of A
     * never names the poison record, nothing is counted as dead-lettered. */
    pthread_mutex_lock(&fk->lock);
    fk->fail_dead_letter_puts = 1;
    pthread_mutex_unlock(&fk->lock);
    for (round = 2; round <= DR_FOLLOWER_MAX_DELIVERIES + 2; round++)
        assert_int_not_equal(dr_follower_poll(fl, &seen), DR_OK);
    assert_int_equal(dr_follower_dead_lettered(fl), 0);
    pthread_mutex_lock(&fk->lock);
    assert_null(strstr(fk->last_checkpoint_a, "\"sequenceNumber\":{\"S\":\"100\"}"));
    assert_non_null(strstr(fk->last_checkpoint_a, "\"failingSequenceNumber\":{\"S\":\"100\"}"));
    assert_int_equal(fk->transactions, 1);
    fk->fail_dead_letter_puts = 0;
    pthread_mutex_unlock(&fk->lock);

    /* The store works again: parked, checkpoint past it, the record after it applied. */
    assert_int_equal(dr_follower_poll(fl, &seen), DR_OK);
    assert_int_equal(dr_follower_dead_lettered(fl), 1);
    pthread_mutex_lock(&fk->lock);
    assert_int_equal(fk->dead_letter_puts_ok, 1);
    assert_int_equal(fk->transactions, 2);
    assert_non_null(strstr(fk->last_checkpoint_a, "\"sequenceNumber\":{\"S\":\"101\"}"));
    assert_null(strstr(fk->last_checkpoint_a, "failingSequenceNumber"));
    pthread_mutex_unlock(&fk->lock);
    assert_int_equal(dr_follower_poll(fl, &seen), DR_OK);
    assert_int_equal(seen, 0);

    harness_close(&h);
}

/* A transaction DynamoDB cancels for a reason of the record (ValidationError) is parked
 * after DR_FOLLOWER_MAX_DELIVERIES; one cancelled by throttling is never parked (the
 * commit engine retries it and reports DR_E_THROTTLED once it gives up). */
static void run_cancelled(const char *reason, int expect_parked)
{
    dr_status expect = expect_parked ? DR_E_TRANSACTION_CANCELED : DR_E_THROTTLED;
    harness h;
    dr_follower *fl;
    uint64_t seen = 0;
    int round;

    harness_open(&h, 1, reason);
    fl = h.fl;
    for (round = 1; round < DR_FOLLOWER_MAX_DELIVERIES; round++) {
        assert_int_equal(dr_follower_poll(fl, &seen), expect);
        if (expect_parked)
            assert_non_null(strstr(dr_last_error_message(), reason));
    }
    if (expect_parked) {
        assert_int_equal(dr_follower_poll(fl, &seen), DR_OK);
        assert_int_equal(dr_follower_dead_lettered(fl), 1);
    } else {
        for (round = 0; round < 3; round++)
            assert_int_equal(dr_follower_poll(fl, &seen), DR_E_THROTTLED);
        assert_int_equal(dr_follower_dead_lettered(fl), 0);
        pthread_mutex_lock(&h.f.lock);
        assert_int_equal(h.f.dead_letter_puts_ok, 0);
        pthread_mutex_unlock(&h.f.lock);
    }
    harness_close(&h);
}

static void test_cancelled_by_validation_is_parked(void **state)
{
    (void)state;
    run_cancelled("ValidationError", 1);
}

static void test_cancelled_by_throttling_is_never_parked(void **state)
{
    (void)state;
    run_cancelled("ThrottlingError", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_failing_shard_does_not_starve_the_next),
        cmocka_unit_test(test_cancelled_by_validation_is_parked),
        cmocka_unit_test(test_cancelled_by_throttling_is_never_parked),
    };
    return cmocka_run_group_tests_name("follower_shards", tests, NULL, NULL);
}
