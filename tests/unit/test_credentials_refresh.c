/* Refresh under load: eight threads take credentials from one chain (and sign with
 * them) in a loop while short-lived credentials from a loopback IMDS expire and are
 * refreshed, with every other refresh attempt failing. Every call must succeed with
 * unexpired credentials, only one refresh may run at a time, and nothing may race
 * (label `threads`: run under -DDR_TSAN=ON and valgrind). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "creds_sandbox.h"
#include "credentials_chain.h"
#include "mini_http.h"
#include "sigv4.h"

#define THREADS 8
/* Credentials live LIFETIME_S; refresh starts WINDOW_S before expiry: due every 2 s, with
 * 10 s for a failed attempt and a successful one. All three are multiplied by
 * DR_TEST_TIME_SCALE (default 1): under valgrind, where the threads run one at a time and
 * a metadata round trip was measured at up to 10 s on an overloaded machine, the test stage
 * sets 3. */
#define LIFETIME_S (12 * time_scale())
#define WINDOW_S (10 * time_scale())
#define RUN_S (12 * time_scale())

static int time_scale(void)
{
    const char *v = getenv("DR_TEST_TIME_SCALE");
    int scale = v ? atoi(v) : 1;
    return scale >= 1 && scale <= 20 ? scale : 1;
}

typedef struct flaky_source {
    creds_source creds;
    atomic_int requests;
} flaky_source;

/* Every second request fails with 500. */
static void flaky_handler(const mini_http_request *req, int *status, char *body, size_t cap,
                          void *payload)
{
    flaky_source *src = payload;
    if (atomic_fetch_add(&src->requests, 1) % 2 == 1) {
        *status = 500;
        snprintf(body, cap, "{}");
    } else {
        creds_source_handler(req, status, body, cap, &src->creds);
    }
}

typedef struct worker {
    pthread_t thread;
    dr_credentials_chain *chain;
    dr_sigv4_signer *signer;
    long calls, failures, expired, sign_failures;
    char first_error[1024];
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    time_t end = time(NULL) + RUN_S;
    while (time(NULL) < end) {
        dr_http_request req = DR_HTTP_REQUEST_INIT;
        dr_sigv4_params p = {0};
        dr_credentials *c = NULL;
        int64_t before = (int64_t)time(NULL);
        dr_status rc = dr__credentials_chain_get(w->chain, &c);
        w->calls++;
        if (rc != DR_OK) {
            if (!w->failures++)
                snprintf(w->first_error, sizeof w->first_error, "%s", dr_last_error_message());
            continue;
        }
        if (c->expires_at <= before)
            w->expired++;
        req.method = "POST";
        req.url = "https://dynamodb.us-east-1.amazonaws.com/";
        req.body = "{}";
        req.body_len = 2;
        p.creds = c;
        p.region = "us-east-1";
        p.service = "dynamodb";
        p.unix_time = before;
        if (dr__http_request_set_header(&req, "host", "dynamodb.us-east-1.amazonaws.com") !=
                DR_OK ||
            dr__sigv4_sign_http(w->signer, &p, &req) != DR_OK)
            w->sign_failures++;
        dr__http_request_free(&req);
        dr__credentials_release(c);
    }
    return NULL;
}

static void test_refresh_under_load(void **state)
{
    static flaky_source src; /* zeroed; outlives the server thread */
    static worker workers[THREADS];
    dr_credentials_options opts = {0};
    dr_credentials_chain *chain = NULL;
    dr_sigv4_signer *signer = NULL;
    mini_http *s = mini_http_start();
    long calls = 0;
    int i, requests, served;
    (void)state;

    assert_non_null(s);
    src.creds.access_key_prefix = "ASIALOAD";
    src.creds.lifetime_s = LIFETIME_S;
    sandbox_script_imds(s, &src.creds);
    mini_http_handle(s, "GET", "/latest/meta-data/iam/security-credentials/test-role",
                     flaky_handler, &src);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", mini_http_url(s), 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    dr__credentials_set_refresh_timing(WINDOW_S, 0);

    /* Generous: valgrind runs the eight threads one at a time, and this test is about
     * refresh under contention, not about metadata timeouts. */
    opts.metadata_timeout_ms = 8000;
    assert_int_equal(dr__credentials_chain_new(&chain, &opts), DR_OK);
    assert_int_equal(dr__sigv4_signer_new(&signer), DR_OK);
    for (i = 0; i < THREADS; i++) {
        workers[i].chain = chain;
        workers[i].signer = signer;
        assert_int_equal(pthread_create(&workers[i].thread, NULL, work, &workers[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(workers[i].thread, NULL), 0);
        if (workers[i].failures)
            fail_msg("thread %d: %ld of %ld calls failed, first: %s", i, workers[i].failures,
                     workers[i].calls, workers[i].first_error);
        if (workers[i].expired || workers[i].sign_failures)
            fail_msg("thread %d: %ld calls got expired credentials, %ld signings failed", i,
                     workers[i].expired, workers[i].sign_failures);
        calls += workers[i].calls;
    }
    requests = atomic_load(&src.requests);
    served = atomic_load(&src.creds.served);
    print_message("%ld calls, %d credential requests (every second one failing), "
                  "%d credentials served\n", calls, requests, served);
    /* Refreshes happened, a failed one among them: at least the first fetch, one failing
     * refresh and one that succeeded. (Unloaded, about six in RUN_S; under valgrind on a
     * busy machine, where threads run one at a time, as few as one cycle fits.) */
    if (served < 2 || requests < 3)
        fail_msg("no failed-then-successful refresh in %d s", RUN_S);
    /* One refresher at a time: credentials fall due every LIFETIME_S - WINDOW_S
     * seconds and a due refresh takes at most two requests (one failing). Eight threads
     * each refreshing would ask several times more often. */
    if (requests > 3 * RUN_S + 4)
        fail_msg("%d credential requests in %d s: more than one refresher at a time", requests,
                 RUN_S);
    /* Not one request per call: readers reuse the current credentials. */
    if (calls <= 10L * requests)
        fail_msg("%ld calls for %d credential requests: calls do not reuse credentials", calls,
                 requests);

    dr__sigv4_signer_free(signer);
    dr__credentials_chain_free(chain);
    mini_http_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refresh_under_load, sandbox_setup,
                                        sandbox_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
