/* The AWS SDKs' retry cases (tests/data/retries/, from smithy-kotlin; its README.md says
 * where they come from and what the fields mean), run against the library:
 *  - sep-2.0-standard.json with the classic policy (dr__retry_standard), its backoff base
 *    set to the SEP's 1 s: the JavaScript SDK v3, whose other numbers that policy keeps,
 *    had replaced it with 100 ms / 500 ms;
 *  - sep-2.1-standard.json with the 2026 policies: dr__retry_standard_2026_generic for the
 *    general cases, and for the DynamoDB case the policy a client gets by default
 *    (dr__retry_policy_from_env() with no variable set), which must be the DynamoDB one.
 * Each response goes through the transport's own readers (dr__ddb_response_error for its
 * status, dr__ddb_retry_after_ms for x-amz-retry-after), then dr__retry_refresh decides
 * with the case's random draw (exponential_base); a 200 is dr__retry_record_success. The
 * outcome, the delay and the tokens left must be the case's, after every response. The
 * multi-threaded case is run in every interleaving of its threads (one must match every
 * step) and with real threads (the final quota must match).
 * A missing suite fails: a silent skip would hide that nothing was checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "ddb.h"
#include "retry.h"

/* Cases the library deliberately does not run, with the reason. */
typedef struct unsupported_case {
    const char *name;
    const char *reason;
} unsupported_case;

static const char *const LONG_POLLING =
    "long polling (SQS ReceiveMessage and the like back off even when the quota refuses a "
    "retry): DynamoDB and DynamoDB Streams, the only services this library calls, have no "
    "long-polling operation, so the retry module has no such mode to test";

static const unsupported_case unsupported_cases[] = {
    {"Long-polling backoff after transient error when token bucket empty", LONG_POLLING},
    {"Long-polling backoff after throttling error when token bucket empty", LONG_POLLING},
    {"Long-polling max attempts exceeded must NOT delay", LONG_POLLING},
    {"Long-polling success must NOT delay", LONG_POLLING},
    {"Long-polling non-retryable errors must NOT delay", LONG_POLLING},
};
#define N_UNSUPPORTED (sizeof unsupported_cases / sizeof unsupported_cases[0])

static const char *unsupported_reason(const char *name, size_t *hits)
{
    size_t i;
    for (i = 0; i < N_UNSUPPORTED; i++)
        if (strcmp(unsupported_cases[i].name, name) == 0) {
            hits[i]++;
            return unsupported_cases[i].reason;
        }
    return NULL;
}

static json_t *load_suite(const char *file)
{
    const char *src = getenv("DR_SOURCE_DIR");
    char path[2048];
    json_error_t err;
    json_t *root;
    snprintf(path, sizeof path, "%s/tests/data/retries/%s", src ? src : ".", file);
    root = json_load_file(path, 0, &err);
    if (!root)
        fail_msg("cannot load %s (set DR_SOURCE_DIR): %s", path, err.text);
    return root;
}

/* A given field, or its default when absent. */
static double given_number(const json_t *given, const char *key, double fallback)
{
    const json_t *v = json_object_get(given, key);
    return json_is_number(v) ? json_number_value(v) : fallback;
}

static uint32_t seconds_to_ms(double s)
{
    return (uint32_t)(s * 1000.0 + 0.5);
}

/* What a case runs with: the policy, the attempts and the random draw. */
typedef struct setup {
    dr_retry_policy policy;
    uint32_t max_attempts;
    double random01;
} setup;

static void make_setup(const dr_retry_policy *base, const json_t *given, setup *out)
{
    out->policy = *base;
    out->max_attempts = (uint32_t)given_number(given, "max_attempts", base->max_attempts);
    out->policy.quota_tokens =
        (uint32_t)given_number(given, "initial_retry_tokens", base->quota_tokens);
    out->policy.max_backoff_ms =
        seconds_to_ms(given_number(given, "max_backoff_time", base->max_backoff_ms / 1000.0));
    out->random01 = given_number(given, "exponential_base", 1.0);
}

/* The response as the transport receives it: status, headers, and for an error code the
 * body DynamoDB would send ({"__type": code}). */
static void build_response(const json_t *response, dr_http_response *resp)
{
    const char *code = json_string_value(json_object_get(response, "error_code"));
    const char *name;
    json_t *value;

    resp->status = (long)json_integer_value(json_object_get(response, "status_code"));
    json_object_foreach(json_object_get(response, "headers"), name, value) {
        dr__buf_printf(&resp->headers, "%s: %s\r\n", name, json_string_value(value));
    }
    dr__buf_append(&resp->headers, "", 0);
    if (code)
        dr__buf_printf(&resp->body, "{\"__type\":\"%s\",\"message\":\"suite\"}", code);
}

/* One request in progress: its attempt number and token. */
typedef struct invocation {
    uint32_t attempt;
    dr_retry_token token;
} invocation;

static void invocation_reset(invocation *inv)
{
    const dr_retry_token fresh = DR_RETRY_TOKEN_INIT;
    inv->attempt = 1;
    inv->token = fresh;
}

static const char *verdict_outcome(dr_retry_verdict v)
{
    switch (v) {
    case DR_RETRY_GO: return "retry_request";
    case DR_RETRY_NOT_RETRYABLE: return "fail_request";
    case DR_RETRY_MAX_ATTEMPTS: return "max_attempts_exceeded";
    case DR_RETRY_QUOTA_EXCEEDED: return "retry_quota_exceeded";
    }
    return "?";
}

/* Feed one response of a case to the library; 1 if it did what `expected` says, else 0
 * and why. `check_quota` is off where the tokens left depend on other threads. */
static int step(dr_retry_quota *quota, const setup *su, invocation *inv, const json_t *entry,
                int check_quota, char *why, size_t cap)
{
    const json_t *expected = json_object_get(entry, "expected");
    const char *want = json_string_value(json_object_get(expected, "outcome"));
    const json_t *want_quota = json_object_get(expected, "retry_quota");
    const json_t *want_delay = json_object_get(expected, "delay");
    dr_http_response resp = DR_HTTP_RESPONSE_INIT;
    dr_ddb_error err = DR_DDB_ERROR_INIT;
    const char *got;
    uint32_t delay = 0;
    int ok = 1;

    build_response(json_object_get(entry, "response"), &resp);
    if (resp.status == 200) {
        dr__retry_record_success(quota, &inv->token);
        got = "success";
        invocation_reset(inv);
    } else {
        dr_status code = dr__ddb_response_error("Suite", &resp, &err);
        dr_retry_verdict v =
            dr__retry_refresh(quota, &inv->token, inv->attempt, su->max_attempts, code,
                              su->random01, dr__ddb_retry_after_ms(&resp), &delay);
        got = verdict_outcome(v);
        if (v == DR_RETRY_GO)
            inv->attempt++;
        else
            invocation_reset(inv);
    }
    if (!want || strcmp(got, want) != 0)
        ok = 0, snprintf(why, cap, "HTTP %ld: %s, expected %s", resp.status, got,
                         want ? want : "(none)");
    else if (want_delay && delay != seconds_to_ms(json_number_value(want_delay)))
        ok = 0, snprintf(why, cap, "HTTP %ld: delay %u ms, expected %u", resp.status, delay,
                         seconds_to_ms(json_number_value(want_delay)));
    else if (check_quota && want_quota &&
             dr__retry_quota_available(quota) != (uint32_t)json_integer_value(want_quota))
        ok = 0, snprintf(why, cap, "HTTP %ld: %u tokens left, expected %u", resp.status,
                         dr__retry_quota_available(quota),
                         (unsigned)json_integer_value(want_quota));
    dr__ddb_error_clear(&err);
    dr__http_response_free(&resp);
    return ok;
}

/* A case's responses in order, one invocation after another; 1 if all matched. */
static int run_sequence(const setup *su, const json_t *responses, char *why, size_t cap)
{
    dr_retry_quota *quota = NULL;
    invocation inv;
    size_t i;
    int ok = 1;

    assert_int_equal(dr__retry_quota_new(&quota, &su->policy), DR_OK);
    invocation_reset(&inv);
    for (i = 0; ok && i < json_array_size(responses); i++)
        ok = step(quota, su, &inv, json_array_get(responses, i), 1, why, cap);
    dr__retry_quota_free(quota);
    return ok;
}

/* ---- the multi-threaded case --------------------------------------------------------- */

#define MAX_THREADS 4
#define MAX_STEPS 16

/* Run `threads` in the interleaving `order` (a thread index per step) on a fresh quota:
 * 1 if every step matched. */
static int run_interleaving(const setup *su, const json_t *threads, const size_t *order,
                            size_t n, char *why, size_t cap)
{
    dr_retry_quota *quota = NULL;
    invocation inv[MAX_THREADS];
    size_t next[MAX_THREADS] = {0}, i;
    int ok = 1;

    assert_int_equal(dr__retry_quota_new(&quota, &su->policy), DR_OK);
    for (i = 0; i < json_array_size(threads); i++)
        invocation_reset(&inv[i]);
    for (i = 0; ok && i < n; i++) {
        size_t t = order[i];
        ok = step(quota, su, &inv[t], json_array_get(json_array_get(threads, t), next[t]++), 1,
                  why, cap);
    }
    dr__retry_quota_free(quota);
    return ok;
}

/* Try every interleaving that keeps each thread's order; 1 if one matches every step. */
static int any_interleaving(const setup *su, const json_t *threads, size_t *order,
                            size_t depth, size_t n, size_t *left, char *why, size_t cap)
{
    size_t t;
    if (depth == n)
        return run_interleaving(su, threads, order, n, why, cap);
    for (t = 0; t < json_array_size(threads); t++) {
        int found;
        if (!left[t])
            continue;
        left[t]--;
        order[depth] = t;
        found = any_interleaving(su, threads, order, depth + 1, n, left, why, cap);
        left[t]++;
        if (found)
            return 1;
    }
    return 0;
}

typedef struct worker {
    pthread_t thread;
    dr_retry_quota *quota;
    const setup *su;
    const json_t *responses;
    int ok;
    char why[256];
} worker;

static void *work(void *p)
{
    worker *w = p;
    invocation inv;
    size_t i;
    invocation_reset(&inv);
    w->ok = 1;
    for (i = 0; w->ok && i < json_array_size(w->responses); i++)
        w->ok = step(w->quota, w->su, &inv, json_array_get(w->responses, i), 0, w->why,
                     sizeof w->why);
    return NULL;
}

static int run_threads(const setup *su, const json_t *c, char *why, size_t cap)
{
    const json_t *threads = json_object_get(c, "threads");
    size_t order[MAX_STEPS], left[MAX_THREADS], n = 0, t, nthreads = json_array_size(threads);
    worker workers[MAX_THREADS];
    dr_retry_quota *quota = NULL;
    uint32_t want_final = (uint32_t)json_integer_value(json_object_get(c, "expected_final_quota"));
    int ok = 1;

    if (nthreads == 0 || nthreads > MAX_THREADS)
        return snprintf(why, cap, "%zu threads", nthreads), 0;
    for (t = 0; t < nthreads; t++)
        n += left[t] = json_array_size(json_array_get(threads, t));
    if (n > MAX_STEPS)
        return snprintf(why, cap, "%zu steps", n), 0;
    if (!any_interleaving(su, threads, order, 0, n, left, why, cap))
        return 0; /* `why` holds the last interleaving's failure */

    /* Concurrently: the outcomes must still match, and the final quota, which does not
     * depend on the order. */
    assert_int_equal(dr__retry_quota_new(&quota, &su->policy), DR_OK);
    for (t = 0; t < nthreads; t++) {
        workers[t].quota = quota;
        workers[t].su = su;
        workers[t].responses = json_array_get(threads, t);
        assert_int_equal(pthread_create(&workers[t].thread, NULL, work, &workers[t]), 0);
    }
    for (t = 0; t < nthreads; t++) {
        assert_int_equal(pthread_join(workers[t].thread, NULL), 0);
        if (ok && !workers[t].ok)
            ok = 0, snprintf(why, cap, "thread %zu: %s", t, workers[t].why);
    }
    if (ok && dr__retry_quota_available(quota) != want_final)
        ok = 0, snprintf(why, cap, "threads: %u tokens left, expected %u",
                         dr__retry_quota_available(quota), want_final);
    dr__retry_quota_free(quota);
    return ok;
}

/* ---- the suites -------------------------------------------------------------------- */

/* The policy a case runs with; NULL for a service the library has no policy for. */
typedef const dr_retry_policy *(*policy_for_fn)(const json_t *given);

static const dr_retry_policy *policy_2_0(const json_t *given)
{
    /* The SEP's backoff: random * 2^(n-1) seconds, whatever the error. */
    static dr_retry_policy sep;
    (void)given;
    sep = dr__retry_standard;
    sep.base_ms = sep.throttle_base_ms = 1000;
    return &sep;
}

static const dr_retry_policy *policy_2_1(const json_t *given)
{
    const char *service = json_string_value(json_object_get(given, "service"));
    if (!service)
        return &dr__retry_standard_2026_generic;
    if (strcmp(service, "dynamodb") == 0) {
        unsetenv("AWS_RETRY_MODE");
        unsetenv("AWS_NEW_RETRIES_2026");
        return dr__retry_policy_from_env(); /* the default must be DynamoDB's 2026 policy */
    }
    return NULL;
}

static void run_suite(const char *file, policy_for_fn policy_for, size_t want_cases)
{
    json_t *root = load_suite(file), *cases;
    size_t hits[N_UNSUPPORTED] = {0};
    size_t n = 0, passed = 0, failed = 0, unsupported = 0, i;
    const char *group;

    json_object_foreach(json_object_get(root, "groups"), group, cases) {
        size_t k;
        for (k = 0; k < json_array_size(cases); k++) {
            const json_t *c = json_array_get(cases, k);
            const char *name = json_string_value(json_object_get(c, "name"));
            const json_t *given = json_object_get(c, "given");
            const char *reason = unsupported_reason(name ? name : "", hits);
            const dr_retry_policy *base;
            char why[256] = "";
            setup su;
            int ok;

            n++;
            if (reason) {
                unsupported++;
                print_message("unsupported: %s: %s\n", name, reason);
                continue;
            }
            if (!(base = policy_for(given))) {
                failed++;
                print_message("FAIL %s / %s: no policy for this service\n", group, name);
                continue;
            }
            make_setup(base, given, &su);
            ok = json_object_get(c, "threads")
                     ? run_threads(&su, c, why, sizeof why)
                     : run_sequence(&su, json_object_get(c, "responses"), why, sizeof why);
            if (ok) {
                passed++;
            } else {
                failed++;
                print_message("FAIL %s / %s: %s\n", group, name, why);
            }
        }
    }
    printf("%s: %zu cases, %zu passed, %zu failed, %zu unsupported\n", file, n, passed, failed,
           unsupported);
    json_decref(root);
    /* A table entry that matches no case is stale, and so is a suite of another size. */
    for (i = 0; i < N_UNSUPPORTED; i++)
        if (strstr(file, "2.1") && hits[i] != 1)
            fail_msg("unsupported-case entry \"%s\" matched %zu cases",
                     unsupported_cases[i].name, hits[i]);
    assert_int_equal(n, want_cases);
    assert_int_equal(failed, 0);
}

static void test_sep_2_0(void **state)
{
    (void)state;
    run_suite("sep-2.0-standard.json", policy_2_0, 6);
}

static void test_sep_2_1(void **state)
{
    (void)state;
    run_suite("sep-2.1-standard.json", policy_2_1, 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sep_2_0),
        cmocka_unit_test(test_sep_2_1),
    };
    return cmocka_run_group_tests_name("retry_suite", tests, NULL, NULL);
}
