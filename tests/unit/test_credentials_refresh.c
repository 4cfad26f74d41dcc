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
#define LIFETIME_S (12 * sandbox_time_scale())
#define WINDOW_S (10 * sandbox_time_scale())
#define RUN_S (12 * sandbox_time_scale())

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

static void test_refresh_under_load(void **state)
{
    static flaky_source src; /* zeroed; outlives the server thread */
    dr_credentials_options opts = {0};
    dr_credentials_chain *chain = NULL;
    mini_http *s = mini_http_start();
    long calls = 0;
    int requests, served;
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
    calls = sandbox_sign_under_load(chain, THREADS, RUN_S);
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
