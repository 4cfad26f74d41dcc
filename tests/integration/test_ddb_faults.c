/* The transport's retry rules, proved end to end: a dr_fault_proxy in front of
 * DynamoDB Local injects one fault kind per case, and every case counts the attempts
 * twice, once with the client's counters (dr_client_counter) and once with what the
 * proxy received (dr_test_proxy_stats).
 *
 * What the cases prove (issue 4, "Done when" 2):
 *  - each retryable fault (throttling, throughput exceeded, HTTP 500, HTTP 503,
 *    connection reset, a response slower than the request timeout, a corrupted CRC32)
 *    is retried and then succeeds: attempts = faults + 1;
 *  - exhausted retries return the LAST attempt's error after exactly max_attempts;
 *  - non-retryable errors (validation, a real ConditionalCheckFailed, a real
 *    TransactionCanceled) are sent once;
 *  - the backoff really sleeps, within the full-jitter bounds;
 *  - a clock-skew rejection adopts the server's clock once and signs again;
 *  - the retry quota (500 tokens, 5 per retry in the classic policy, which CMake pins
 *    with AWS_RETRY_MODE=legacy) stops retries after exactly 100, shared
 *    by 8 threads; then calls fail after one attempt with DR_E_RETRY_QUOTA, and
 *    successes earn the tokens back;
 *  - a corrupted body is caught by the CRC32 check and counted;
 *  - a reset on a reused keep-alive connection is replayed once by libcurl itself,
 *    outside the retry policy (documented, not hidden).
 *
 * One table and one proxy for the whole group; every case gets a fresh client (fresh
 * counters, quota and clock offset) whose connection is warmed by one clean GetItem
 * before the faults start, as a long-lived client's would be (the cold-connection reset
 * cases excepted). Runtime about 15 s, most of it the backoff sleeps and the delays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include <cmocka.h>

#include "client.h"
#include "ddb.h"
#include "ddb_json.h"
#include "dr_test.h"
#include "fault_proxy_ctl.h"
#include "retry.h"

/* The "delay" cases use a 1 s request timeout, so that a delayed answer costs about a
 * second per attempt; the proxy holds it 1.3 s. Every other case uses 5 s: an attempt
 * that timed out on a loaded machine (sanitizers, parallel ctest) would add an attempt
 * the case does not expect. */
#define SHORT_TIMEOUT_MS 1000u
#define REQUEST_TIMEOUT_MS 5000u
#define CONNECT_TIMEOUT_MS 1000u
#define DELAY_FAULT_MS 1300

typedef struct group_state {
    dr_client *direct; /* straight to DynamoDB Local: table setup and checks */
    dr_test_proxy proxy;
    char table[128];
} group_state;

static group_state g;

/* ---------------------------------------------------------------------------- */
/* Helpers                                                                      */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The "retrying in N ms" lines the transport logs, so a test can check each backoff
 * against its full-jitter ceiling. Written by the thread making the call. */
typedef struct log_capture {
    pthread_mutex_t lock;
    uint32_t delays[16];
    size_t n_delays;
    int skew_warnings;
} log_capture;

static void capture_log(dr_log_level level, const char *message, void *payload)
{
    log_capture *lc = payload;
    const char *p = strstr(message, "retrying in ");
    pthread_mutex_lock(&lc->lock);
    if (p && lc->n_delays < sizeof lc->delays / sizeof lc->delays[0])
        lc->delays[lc->n_delays++] = (uint32_t)strtoul(p + strlen("retrying in "), NULL, 10);
    if (level == DR_LOG_WARN && strstr(message, "clock skew"))
        lc->skew_warnings++;
    pthread_mutex_unlock(&lc->lock);
}

/* A client on `endpoint`; max_attempts 0 = the default (3). */
static dr_client *make_client(const char *endpoint, uint32_t max_attempts, uint32_t timeout_ms,
                              log_capture *lc)
{
    dr_config *cfg = NULL;
    dr_client *client = NULL;
    assert_int_equal(dr_config_new(&cfg), DR_OK);
    assert_int_equal(dr_config_set_region(cfg, "us-east-1"), DR_OK);
    assert_int_equal(dr_config_set_endpoint(cfg, endpoint), DR_OK);
    assert_int_equal(dr_config_set_credentials(cfg, "AKIDLOCALTEST", "local-test-secret", NULL),
                     DR_OK);
    assert_int_equal(dr_config_set_request_timeout_ms(cfg, timeout_ms), DR_OK);
    assert_int_equal(dr_config_set_connect_timeout_ms(cfg, CONNECT_TIMEOUT_MS), DR_OK);
    assert_int_equal(dr_config_set_max_attempts(cfg, max_attempts), DR_OK);
    if (lc)
        assert_int_equal(dr_config_set_log(cfg, capture_log, DR_LOG_INFO, lc), DR_OK);
    if (dr_client_new(&client, cfg) != DR_OK)
        fail_msg("dr_client_new: %s", dr_last_error_message());
    dr_config_free(cfg);
    return client;
}

typedef struct counters {
    uint64_t requests, attempts, retries, throttled, service, network, checksum, client;
} counters;

static counters read_counters(const dr_client *c)
{
    counters k;
    assert_int_equal(dr_client_counter(c, DR_COUNTER_REQUESTS, &k.requests), DR_OK);
    assert_int_equal(dr_client_counter(c, DR_COUNTER_ATTEMPTS, &k.attempts), DR_OK);
    assert_int_equal(dr_client_counter(c, DR_COUNTER_RETRIES, &k.retries), DR_OK);
    assert_int_equal(dr_client_counter(c, DR_COUNTER_ERRORS_THROTTLED, &k.throttled), DR_OK);
    assert_int_equal(dr_client_counter(c, DR_COUNTER_ERRORS_SERVICE, &k.service), DR_OK);
    assert_int_equal(dr_client_counter(c, DR_COUNTER_ERRORS_NETWORK, &k.network), DR_OK);
    assert_int_equal(dr_client_counter(c, DR_COUNTER_ERRORS_CHECKSUM, &k.checksum), DR_OK);
    assert_int_equal(dr_client_counter(c, DR_COUNTER_ERRORS_CLIENT, &k.client), DR_OK);
    return k;
}

static counters counters_since(const dr_client *c, const counters *before)
{
    counters now = read_counters(c), d;
    d.requests = now.requests - before->requests;
    d.attempts = now.attempts - before->attempts;
    d.retries = now.retries - before->retries;
    d.throttled = now.throttled - before->throttled;
    d.service = now.service - before->service;
    d.network = now.network - before->network;
    d.checksum = now.checksum - before->checksum;
    d.client = now.client - before->client;
    return d;
}

static void set_rules(const char *const *rules)
{
    if (dr_test_proxy_set_rules(&g.proxy, rules) != 0)
        fail_msg("the proxy rejected the rules starting with %s", rules && rules[0] ? rules[0] : "(none)");
    assert_int_equal(dr_test_proxy_reset_stats(&g.proxy), 0);
}

static void set_rule(const char *rule)
{
    const char *const rules[] = {rule, NULL};
    set_rules(rule ? rules : NULL);
}

static dr_test_proxy_counts proxy_counts(void)
{
    dr_test_proxy_counts pc;
    assert_int_equal(dr_test_proxy_stats(&g.proxy, &pc), 0);
    return pc;
}

static json_t *key(const char *pk, const char *sk)
{
    json_t *k = json_object();
    dr__item_set(k, "PK", dr__av_s(pk));
    dr__item_set(k, "SK", dr__av_s(sk));
    return k;
}

/* GetItem of the item the group setup wrote; checks the item on success. */
static dr_status get_item(dr_client *c, dr_ddb_error *err)
{
    json_t *req = json_pack("{s:s, s:o}", "TableName", g.table, "Key", key("JOKE#fault", "META"));
    json_t *resp = NULL;
    dr_status rc = dr__ddb_call(c, "GetItem", req, &resp, err);
    json_decref(req);
    if (rc == DR_OK) {
        const char *text = dr__av_get_s(json_object_get(resp, "Item"), "text");
        if (!text || strcmp(text, "I only know 25 letters of the alphabet. I don't know y."))
            fail_msg("GetItem returned the wrong item");
    }
    json_decref(resp);
    return rc;
}

/* A fresh client on the proxy, its connection warmed by one clean call unless `cold`;
 * proxy statistics start from zero for what follows. */
static dr_client *proxied_client(uint32_t max_attempts, uint32_t timeout_ms, log_capture *lc,
                                 int cold)
{
    dr_client *c = make_client(g.proxy.endpoint, max_attempts, timeout_ms, lc);
    set_rule(NULL);
    if (!cold && get_item(c, NULL) != DR_OK)
        fail_msg("warm-up GetItem: %s", dr_last_error_message());
    assert_int_equal(dr_test_proxy_reset_stats(&g.proxy), 0);
    if (lc) {
        pthread_mutex_lock(&lc->lock);
        lc->n_delays = 0;
        lc->skew_warnings = 0;
        pthread_mutex_unlock(&lc->lock);
    }
    return c;
}

static dr_client *warm_client(uint32_t max_attempts, log_capture *lc)
{
    return proxied_client(max_attempts, REQUEST_TIMEOUT_MS, lc, 0);
}

/* ---------------------------------------------------------------------------- */
/* Group setup: one table, one item, one proxy                                  */

static int group_setup(void **state)
{
    const char *endpoint = dr_test_endpoint();
    json_t *item, *req;
    (void)state;

    memset(&g, 0, sizeof g);
    g.direct = dr_test_client(NULL, NULL, NULL, NULL);
    dr_test_unique_name(g.table, sizeof g.table, "ddbfaults");
    dr_test_create_simple_table(g.direct, g.table);
    item = key("JOKE#fault", "META");
    dr__item_set(item, "text", dr__av_s("I only know 25 letters of the alphabet. I don't know y."));
    req = json_pack("{s:s, s:o}", "TableName", g.table, "Item", item);
    if (dr__ddb_call(g.direct, "PutItem", req, NULL, NULL) != DR_OK)
        fail_msg("PutItem: %s", dr_last_error_message());
    json_decref(req);

    /* The proxy wants host:port, the harness gives a URL. */
    if (strncmp(endpoint, "http://", 7) != 0)
        fail_msg("DR_TEST_ENDPOINT must be http://host:port, not %s", endpoint);
    if (dr_test_proxy_start(endpoint + 7, NULL, &g.proxy) != 0)
        fail_msg("could not start dr_fault_proxy (is DR_FAULT_PROXY set?)");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    dr_test_proxy_stop(&g.proxy);
    if (g.direct) {
        dr_test_delete_table(g.direct, g.table);
        dr_client_free(g.direct);
    }
    return 0;
}

/* ---------------------------------------------------------------------------- */
/* Retryable faults: count=1 and count=2, then success                          */

typedef struct retry_case {
    const char *rule;       /* without target/count */
    const char *fault;      /* the proxy's name for the action */
    dr_counter counter;     /* the client error counter the fault lands in */
    int cold;               /* first attempt on a new connection (see the reset cases) */
    uint32_t timeout_ms;
} retry_case;

static uint64_t pick(const counters *k, dr_counter which)
{
    switch (which) {
    case DR_COUNTER_ERRORS_THROTTLED: return k->throttled;
    case DR_COUNTER_ERRORS_SERVICE: return k->service;
    case DR_COUNTER_ERRORS_NETWORK: return k->network;
    case DR_COUNTER_ERRORS_CHECKSUM: return k->checksum;
    case DR_COUNTER_ERRORS_CLIENT: return k->client;
    default: return UINT64_MAX;
    }
}

static void test_retryable_faults_then_succeed(void **state)
{
    static const retry_case cases[] = {
        {"throttle", "throttle", DR_COUNTER_ERRORS_THROTTLED, 0, REQUEST_TIMEOUT_MS},
        {"throughput", "throughput", DR_COUNTER_ERRORS_THROTTLED, 0, REQUEST_TIMEOUT_MS},
        {"error500", "error500", DR_COUNTER_ERRORS_SERVICE, 0, REQUEST_TIMEOUT_MS},
        {"error503", "error503", DR_COUNTER_ERRORS_SERVICE, 0, REQUEST_TIMEOUT_MS},
        {"reset", "reset", DR_COUNTER_ERRORS_NETWORK, 1, REQUEST_TIMEOUT_MS},
        {"delay:ms=" /* DELAY_FAULT_MS */ "1300", "delay", DR_COUNTER_ERRORS_NETWORK, 0,
         SHORT_TIMEOUT_MS},
        {"corrupt-crc", "corrupt-crc", DR_COUNTER_ERRORS_CHECKSUM, 0, REQUEST_TIMEOUT_MS},
    };
    size_t i;
    long faults;
    (void)state;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (faults = 1; faults <= 2; faults++) {
            const retry_case *rc = &cases[i];
            dr_client *c = proxied_client(0, rc->timeout_ms, NULL, rc->cold);
            counters before = read_counters(c), d;
            dr_test_proxy_counts pc;
            char rule[96];
            dr_status st;

            snprintf(rule, sizeof rule, "%s%starget=GetItem,count=%ld", rc->rule,
                     strchr(rc->rule, ':') ? "," : ":", faults);
            set_rule(rule);
            st = get_item(c, NULL);
            if (st != DR_OK)
                fail_msg("%s: expected success after %ld faults, got %s: %s", rule, faults,
                         dr_strerror(st), dr_last_error_message());
            d = counters_since(c, &before);
            pc = proxy_counts();
            print_message("%-45s attempts=%llu retries=%llu proxy requests=%ld forwarded=%ld\n",
                          rule, (unsigned long long)d.attempts, (unsigned long long)d.retries,
                          pc.requests, pc.forwarded);
            /* The client's view. */
            assert_int_equal(d.requests, 1);
            assert_int_equal(d.attempts, (uint64_t)faults + 1);
            assert_int_equal(d.retries, (uint64_t)faults);
            assert_int_equal(pick(&d, rc->counter), (uint64_t)faults);
            assert_int_equal(d.throttled + d.service + d.network + d.checksum + d.client,
                             (uint64_t)faults);
            /* The proxy's view: every attempt arrived, exactly `faults` were faulted. */
            assert_int_equal(dr_test_proxy_fault_count(&pc, rc->fault), faults);
            assert_int_equal(dr_test_proxy_target_count(&pc, "GetItem"), faults + 1);
            assert_int_equal(pc.requests, faults + 1);
            if (!strcmp(rc->fault, "delay")) {
                /* The client gave up on each delayed request before the proxy would
                 * have forwarded it: only the successful attempt reached DynamoDB.
                 * Wait for the last delay to end so the proxy has decided. */
                sleep_ms(DELAY_FAULT_MS);
                pc = proxy_counts();
                assert_int_equal(pc.abandoned, faults);
                assert_int_equal(pc.forwarded, 1);
            } else if (!strcmp(rc->fault, "corrupt-crc")) {
                assert_int_equal(pc.forwarded, faults + 1); /* corrupted on the way back */
            } else {
                assert_int_equal(pc.forwarded, 1);
            }
            dr_client_free(c);
        }
    }
}

/* A reset on a REUSED keep-alive connection before any byte of the answer: libcurl
 * itself sends the request once more on a new connection, unseen by the retry policy
 * (no backoff, no quota, no attempt counted), because that is what an idle connection
 * closed by the server looks like. ddb.c requires every write to be replay-safe for
 * this reason. The proxy sees every fault; the client counts one attempt fewer. The
 * cold-connection cases above show the policy's own count when libcurl stays out. */
static void test_reset_on_reused_connection(void **state)
{
    long faults;
    (void)state;
    for (faults = 1; faults <= 2; faults++) {
        dr_client *c = warm_client(0, NULL);
        counters before = read_counters(c), d;
        dr_test_proxy_counts pc;
        char rule[64];

        snprintf(rule, sizeof rule, "reset:target=GetItem,count=%ld", faults);
        set_rule(rule);
        assert_int_equal(get_item(c, NULL), DR_OK);
        d = counters_since(c, &before);
        pc = proxy_counts();
        print_message("warm %-40s attempts=%llu retries=%llu proxy requests=%ld\n", rule,
                      (unsigned long long)d.attempts, (unsigned long long)d.retries,
                      pc.requests);
        assert_int_equal(dr_test_proxy_fault_count(&pc, "reset"), faults);
        assert_int_equal(pc.requests, faults + 1);
        assert_int_equal(pc.forwarded, 1);
        /* libcurl absorbs at most the first reset (the replayed request goes out on a
         * new connection, which it never replays on); the policy retries the rest. */
        assert_true(d.attempts == (uint64_t)faults || d.attempts == (uint64_t)faults + 1);
        assert_int_equal(d.retries, d.attempts - 1);
        assert_int_equal(d.network, d.attempts - 1);
        dr_client_free(c);
    }
}

/* ---------------------------------------------------------------------------- */
/* Exhaustion: the last error after exactly max_attempts                        */

static void expect_exhausted(const char *const *rules, uint32_t max_attempts, dr_status want,
                             const char *want_type)
{
    dr_client *c = warm_client(max_attempts, NULL);
    uint32_t n = max_attempts ? max_attempts : 3;
    counters before = read_counters(c), d;
    dr_ddb_error err = DR_DDB_ERROR_INIT;
    dr_test_proxy_counts pc;
    dr_status st;

    set_rules(rules);
    st = get_item(c, &err);
    d = counters_since(c, &before);
    pc = proxy_counts();
    print_message("%-45s -> %s (%s) after %llu attempts, proxy %ld\n", rules[0],
                  dr_strerror(st), err.type, (unsigned long long)d.attempts, pc.requests);
    assert_int_equal(st, want);
    assert_string_equal(err.type, want_type);
    assert_int_equal(dr_last_error_code(), want);
    assert_int_equal(d.attempts, n);
    assert_int_equal(d.retries, n - 1);
    assert_int_equal(pc.requests, (long)n);
    assert_int_equal(dr_test_proxy_target_count(&pc, "GetItem"), (long)n);
    dr__ddb_error_clear(&err);
    dr_client_free(c);
}

static void test_exhaustion_returns_last_error(void **state)
{
    static const char *const throttle[] = {"throttle:target=GetItem", NULL};
    static const char *const error500[] = {"error500:target=GetItem", NULL};
    static const char *const error503[] = {"error503:target=GetItem", NULL};
    /* Different errors per attempt: the result is the last one, not the first. */
    static const char *const s500_then_throttle[] = {"error500:target=GetItem,count=2",
                                                     "throttle:target=GetItem", NULL};
    static const char *const throttle_then_500[] = {"throttle:target=GetItem,count=2",
                                                    "error500:target=GetItem", NULL};
    (void)state;

    expect_exhausted(throttle, 0, DR_E_THROTTLED, "ThrottlingException");
    expect_exhausted(error500, 0, DR_E_SERVICE, "InternalFailure");
    expect_exhausted(s500_then_throttle, 0, DR_E_THROTTLED, "ThrottlingException");
    expect_exhausted(throttle_then_500, 0, DR_E_SERVICE, "InternalFailure");
    expect_exhausted(error503, 5, DR_E_SERVICE, "ServiceUnavailableException");
    expect_exhausted(error500, 1, DR_E_SERVICE, "InternalFailure");
}

static void test_corrupt_crc_detected_and_counted(void **state)
{
    dr_client *c = warm_client(0, NULL);
    counters before = read_counters(c), d;
    dr_test_proxy_counts pc;
    (void)state;

    set_rule("corrupt-crc:target=GetItem");
    assert_int_equal(get_item(c, NULL), DR_E_CHECKSUM);
    assert_non_null(strstr(dr_last_error_message(), "CRC32 mismatch"));
    d = counters_since(c, &before);
    pc = proxy_counts();
    assert_int_equal(d.attempts, 3);
    assert_int_equal(d.checksum, 3);
    assert_int_equal(d.service + d.throttled + d.network + d.client, 0);
    assert_int_equal(dr_test_proxy_fault_count(&pc, "corrupt-crc"), 3);
    /* The corrupted body was valid JSON of the right length: only the CRC caught it. */
    assert_int_equal(pc.forwarded, 3);
    dr_client_free(c);
}

/* ---------------------------------------------------------------------------- */
/* Non-retryable errors: one attempt                                            */

static void test_non_retryable_sent_once(void **state)
{
    dr_client *c = warm_client(0, NULL);
    dr_ddb_error err = DR_DDB_ERROR_INIT;
    counters before;
    dr_test_proxy_counts pc;
    json_t *req, *item;
    dr_status st;
    (void)state;

    /* Injected ValidationException. */
    before = read_counters(c);
    set_rule("validation:target=GetItem");
    assert_int_equal(get_item(c, &err), DR_E_VALIDATION);
    assert_string_equal(err.type, "ValidationException");
    assert_int_equal(counters_since(c, &before).attempts, 1);
    assert_int_equal(counters_since(c, &before).retries, 0);
    assert_int_equal(counters_since(c, &before).client, 1);
    pc = proxy_counts();
    assert_int_equal(pc.requests, 1);
    assert_int_equal(dr_test_proxy_fault_count(&pc, "validation"), 1);

    /* A real ConditionalCheckFailedException from DynamoDB Local, through the proxy. */
    set_rule(NULL);
    before = read_counters(c);
    item = key("JOKE#fault", "META");
    dr__item_set(item, "text", dr__av_s("overwritten"));
    req = json_pack("{s:s, s:o, s:s}", "TableName", g.table, "Item", item,
                    "ConditionExpression", "attribute_not_exists(PK)");
    st = dr__ddb_call(c, "PutItem", req, NULL, &err);
    json_decref(req);
    assert_int_equal(st, DR_E_CONDITION_FAILED);
    assert_string_equal(err.type, "ConditionalCheckFailedException");
    assert_int_equal(counters_since(c, &before).attempts, 1);
    assert_int_equal(counters_since(c, &before).retries, 0);
    pc = proxy_counts();
    assert_int_equal(dr_test_proxy_target_count(&pc, "PutItem"), 1);
    assert_int_equal(pc.forwarded, 1);

    /* A real TransactionCanceledException: a ConditionCheck that fails cancels the
     * Put beside it. */
    assert_int_equal(dr_test_proxy_reset_stats(&g.proxy), 0);
    before = read_counters(c);
    item = key("JOKE#fault", "TX");
    dr__item_set(item, "n", dr__av_n_u64(1));
    req = json_pack("{s:[{s:{s:s, s:o, s:s}}, {s:{s:s, s:o}}]}", "TransactItems",
                    "ConditionCheck", "TableName", g.table, "Key", key("JOKE#fault", "META"),
                    "ConditionExpression", "attribute_not_exists(PK)",
                    "Put", "TableName", g.table, "Item", item);
    assert_non_null(req);
    st = dr__ddb_call(c, "TransactWriteItems", req, NULL, &err);
    json_decref(req);
    assert_int_equal(st, DR_E_TRANSACTION_CANCELED);
    assert_string_equal(err.type, "TransactionCanceledException");
    assert_true(json_is_array(err.cancellation_reasons));
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(err.cancellation_reasons, 0), "Code")),
        "ConditionalCheckFailed");
    assert_int_equal(counters_since(c, &before).attempts, 1);
    assert_int_equal(counters_since(c, &before).retries, 0);
    pc = proxy_counts();
    assert_int_equal(dr_test_proxy_target_count(&pc, "TransactWriteItems"), 1);

    /* Neither write happened. */
    req = json_pack("{s:s, s:o, s:b}", "TableName", g.table, "Key", key("JOKE#fault", "TX"),
                    "ConsistentRead", 1);
    {
        json_t *resp = NULL;
        assert_int_equal(dr__ddb_call(g.direct, "GetItem", req, &resp, NULL), DR_OK);
        assert_null(json_object_get(resp, "Item"));
        json_decref(resp);
    }
    json_decref(req);
    assert_int_equal(get_item(c, NULL), DR_OK);

    dr__ddb_error_clear(&err);
    dr_client_free(c);
}

/* ---------------------------------------------------------------------------- */
/* Backoff really waits                                                         */

static void test_backoff_waits_within_bounds(void **state)
{
    log_capture lc = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0};
    dr_client *c = warm_client(0, &lc);
    double baseline, elapsed[3], total = 0, logged_total = 0;
    int i;
    (void)state;

    /* A fault-free call for scale. */
    baseline = now_ms();
    assert_int_equal(get_item(c, NULL), DR_OK);
    baseline = now_ms() - baseline;

    for (i = 0; i < 3; i++) {
        double t0;
        set_rule("throttle:target=GetItem,count=2");
        pthread_mutex_lock(&lc.lock);
        lc.n_delays = 0;
        pthread_mutex_unlock(&lc.lock);
        t0 = now_ms();
        assert_int_equal(get_item(c, NULL), DR_OK);
        elapsed[i] = now_ms() - t0;
        pthread_mutex_lock(&lc.lock);
        /* Full jitter after throttling: 0..500 ms, then 0..1000 ms. */
        assert_int_equal(lc.n_delays, 2);
        assert_true(lc.delays[0] < 500);
        assert_true(lc.delays[1] < 1000);
        print_message("throttled twice: slept %u + %u ms, call took %.1f ms (clean call %.1f ms)\n",
                      lc.delays[0], lc.delays[1], elapsed[i], baseline);
        /* The call lasted at least as long as the sleeps it logged, and no longer than
         * the theoretical maximum plus generous slack for three local round trips. */
        assert_true(elapsed[i] + 1.0 >= (double)(lc.delays[0] + lc.delays[1]));
        logged_total += lc.delays[0] + lc.delays[1];
        pthread_mutex_unlock(&lc.lock);
        assert_true(elapsed[i] > 0);
        assert_true(elapsed[i] < 500 + 1000 + 1000);
        total += elapsed[i];
    }
    /* Six full-jitter draws (mean 1.5 s in all) below 50 ms together would mean the
     * sleeps are not happening; by chance that has a probability below 1e-9. */
    assert_true(logged_total >= 50);
    assert_true(total >= 50);
    dr_client_free(c);
}

/* ---------------------------------------------------------------------------- */
/* Clock skew                                                                   */

/* "Signature expired: 20240101T120000Z is now earlier than ..." -> epoch seconds of
 * the X-Amz-Date the client signed with, as the proxy echoed it. */
static int64_t signed_time_from_message(const char *message)
{
    const char *p = strstr(message, "Signature expired: ");
    int y, mo, d, h, mi, s;
    struct tm tm;
    if (!p || sscanf(p + strlen("Signature expired: "), "%4d%2d%2dT%2d%2d%2dZ", &y, &mo, &d,
                     &h, &mi, &s) != 6)
        return -1;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm);
}

static void test_clock_skew_adopted_once(void **state)
{
    log_capture lc = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0};
    dr_client *c = warm_client(0, &lc);
    dr_ddb_error err = DR_DDB_ERROR_INIT;
    counters before = read_counters(c), d;
    dr_test_proxy_counts pc;
    int64_t skew, signed_at;
    double t0;
    (void)state;

    assert_int_equal(atomic_load(&c->clock_skew_s), 0);

    /* The server says it is an hour ahead, once: the client adopts its clock, signs
     * again and succeeds. The re-signed request reached the proxy and was forwarded. */
    set_rule("skew:seconds=3600,target=GetItem,count=1");
    assert_int_equal(get_item(c, NULL), DR_OK);
    d = counters_since(c, &before);
    pc = proxy_counts();
    assert_int_equal(d.attempts, 2);
    assert_int_equal(pc.requests, 2);
    assert_int_equal(dr_test_proxy_fault_count(&pc, "skew"), 1);
    assert_int_equal(pc.forwarded, 1);
    assert_int_equal(lc.skew_warnings, 1);
    assert_int_equal(lc.n_delays, 0); /* no backoff: the fix is known, not a guess */
    skew = atomic_load(&c->clock_skew_s);
    assert_true(skew >= 3600 - 5 && skew <= 3600 + 5);
    /* Not a retry in the quota's eyes. */
    assert_int_equal(dr__retry_quota_available(c->quota), DR_RETRY_QUOTA_INITIAL);
    /* The counters stay consistent: every attempt after the first is a retry. */
    assert_int_equal(d.attempts, d.requests + d.retries);

    /* Later calls keep the offset and go through first time. */
    set_rule(NULL);
    before = read_counters(c);
    assert_int_equal(get_item(c, NULL), DR_OK);
    assert_int_equal(counters_since(c, &before).attempts, 1);
    assert_true(atomic_load(&c->clock_skew_s) >= 3600 - 5);

    /* A server that rejects every signature whatever the clock: the client corrects
     * once per call, then gives up with DR_E_AUTH after exactly two attempts, without
     * backoff and without touching the retry quota; it does not loop. The proxy echoes
     * the X-Amz-Date it received, which shows the request was signed an hour ahead of
     * this machine's clock. */
    set_rule("skew:seconds=3600,target=GetItem");
    before = read_counters(c);
    lc.n_delays = 0;
    t0 = now_ms();
    assert_int_equal(get_item(c, &err), DR_E_AUTH);
    d = counters_since(c, &before);
    pc = proxy_counts();
    assert_string_equal(err.type, "InvalidSignatureException");
    assert_int_equal(d.attempts, 2);
    assert_int_equal(pc.requests, 2);
    assert_int_equal(pc.forwarded, 0);
    assert_int_equal(lc.n_delays, 0);
    assert_true(now_ms() - t0 < 1000);
    assert_int_equal(dr__retry_quota_available(c->quota), DR_RETRY_QUOTA_INITIAL);
    signed_at = signed_time_from_message(err.message);
    assert_true(signed_at > 0);
    print_message("signed at local clock %+lld s (offset %lld s)\n",
                  (long long)(signed_at - (int64_t)time(NULL)),
                  (long long)atomic_load(&c->clock_skew_s));
    assert_true(signed_at - (int64_t)time(NULL) >= 3600 - 10);
    assert_true(signed_at - (int64_t)time(NULL) <= 3600 + 10);

    /* The server's clock moves back (an hour behind this machine): the client follows. */
    set_rule("skew:seconds=-3600,target=GetItem,count=1");
    assert_int_equal(get_item(c, NULL), DR_OK);
    skew = atomic_load(&c->clock_skew_s);
    assert_true(skew <= -3600 + 5 && skew >= -3600 - 5);

    dr__ddb_error_clear(&err);
    dr_client_free(c);
}

/* ---------------------------------------------------------------------------- */
/* Retry quota                                                                  */

#define HAMMER_THREADS 8
#define HAMMER_CALLS 10 /* per thread: 80 calls, enough to drain 500 tokens at 10 a call */

typedef struct hammer_arg {
    dr_client *client;
    int failures;
    int unexpected; /* a status other than the two the quota can produce */
} hammer_arg;

static void *hammer(void *p)
{
    hammer_arg *a = p;
    int i;
    for (i = 0; i < HAMMER_CALLS; i++) {
        dr_status st = get_item(a->client, NULL);
        if (st != DR_OK)
            a->failures++;
        if (st != DR_E_SERVICE && st != DR_E_RETRY_QUOTA)
            a->unexpected++;
    }
    return NULL;
}

static void test_retry_quota_stops_retries(void **state)
{
    dr_client *c = warm_client(0, NULL);
    pthread_t threads[HAMMER_THREADS];
    hammer_arg args[HAMMER_THREADS];
    counters before = read_counters(c), d;
    dr_test_proxy_counts pc;
    dr_status st;
    int i;
    (void)state;

    /* 500 tokens, 5 per retry after a 5xx: exactly 100 retries, shared by all threads,
     * then every call fails after its first attempt. */
    set_rule("error500:target=GetItem");
    for (i = 0; i < HAMMER_THREADS; i++) {
        args[i].client = c;
        args[i].failures = args[i].unexpected = 0;
        assert_int_equal(pthread_create(&threads[i], NULL, hammer, &args[i]), 0);
    }
    for (i = 0; i < HAMMER_THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(args[i].failures, HAMMER_CALLS);
        assert_int_equal(args[i].unexpected, 0);
    }
    d = counters_since(c, &before);
    pc = proxy_counts();
    print_message("%d calls: %llu attempts, %llu retries, quota left %u, proxy %ld requests\n",
                  HAMMER_THREADS * HAMMER_CALLS, (unsigned long long)d.attempts,
                  (unsigned long long)d.retries, dr__retry_quota_available(c->quota),
                  pc.requests);
    assert_int_equal(d.requests, HAMMER_THREADS * HAMMER_CALLS);
    assert_int_equal(d.retries, DR_RETRY_QUOTA_INITIAL / dr__retry_standard.cost); /* 100 */
    assert_int_equal(d.attempts, d.requests + d.retries);                 /* 180 */
    assert_int_equal(dr__retry_quota_available(c->quota), 0);
    assert_int_equal(pc.requests, (long)d.attempts);
    assert_int_equal(dr_test_proxy_fault_count(&pc, "error500"), (long)d.attempts);

    /* Drained: the next failing call is sent once and says why it was not retried. */
    before = read_counters(c);
    st = get_item(c, NULL);
    d = counters_since(c, &before);
    assert_int_equal(d.attempts, 1);
    assert_int_equal(d.retries, 0);
    assert_int_equal(st, DR_E_RETRY_QUOTA);
    assert_non_null(strstr(dr_last_error_message(), "InternalFailure"));

    /* Recovery: a success without retries refunds one token; five of them pay for one
     * retry again, which a success then refunds in full. */
    set_rule(NULL);
    for (i = 0; i < 5; i++)
        assert_int_equal(get_item(c, NULL), DR_OK);
    assert_int_equal(dr__retry_quota_available(c->quota), 5);
    set_rule("error500:target=GetItem,count=1");
    before = read_counters(c);
    assert_int_equal(get_item(c, NULL), DR_OK);
    d = counters_since(c, &before);
    assert_int_equal(d.attempts, 2);
    assert_int_equal(d.retries, 1);
    assert_int_equal(dr__retry_quota_available(c->quota), 5);
    dr_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retryable_faults_then_succeed),
        cmocka_unit_test(test_reset_on_reused_connection),
        cmocka_unit_test(test_exhaustion_returns_last_error),
        cmocka_unit_test(test_corrupt_crc_detected_and_counted),
        cmocka_unit_test(test_non_retryable_sent_once),
        cmocka_unit_test(test_backoff_waits_within_bounds),
        cmocka_unit_test(test_clock_skew_adopted_once),
        cmocka_unit_test(test_retry_quota_stops_retries),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
