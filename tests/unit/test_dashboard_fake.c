/* read_global's UnprocessedKeys loop (review L7) against a loopback DynamoDB that never
 * processes the GLOBAL keys (DynamoDB Local never leaves keys unprocessed): the loop
 * must wait the retry module's backoff between rounds and give up after a bounded
 * number of them with DR_E_THROTTLED, where it used to ask again at once, forever. The
 * client's policy is swapped for one with a 1 ms base so the test is quick; the waits
 * themselves are not timed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client.h"
#include "dadratings.h"
#include "mini_http.h"
#include "retry.h"

/* Far above the library's bound: an unbounded loop ends here with DR_OK. */
#define FAKE_GIVE_UP 50

static int g_batch_requests;

static void handler(const mini_http_request *req, int *status, char *body, size_t cap,
                    void *payload)
{
    (void)payload;
    *status = 200;
    if (!strstr(req->headers, "BatchGetItem")) {
        snprintf(body, cap, "{\"Items\":[]}");
        return;
    }
    if (++g_batch_requests >= FAKE_GIVE_UP) {
        snprintf(body, cap, "{\"Responses\":{\"stats\":[]}}");
        return;
    }
    snprintf(body, cap,
             "{\"Responses\":{\"stats\":[]},\"UnprocessedKeys\":{\"stats\":{\"Keys\":"
             "[{\"PK\":{\"S\":\"GLOBAL\"},\"SK\":{\"S\":\"AGGREGATE\"}}]}}}");
}

static void test_unprocessed_keys_back_off_and_give_up(void **state)
{
    static dr_retry_policy quick;
    mini_http *s = mini_http_start();
    dr_config *cfg = NULL;
    dr_client *c = NULL;
    dr_dashboard *d = NULL;
    dr_status rc;
    (void)state;

    assert_non_null(s);
    mini_http_handle(s, "POST", "/", handler, NULL);
    assert_int_equal(dr_config_new(&cfg), DR_OK);
    assert_int_equal(dr_config_set_region(cfg, "us-east-1"), DR_OK);
    assert_int_equal(dr_config_set_endpoint(cfg, mini_http_url(s)), DR_OK);
    assert_int_equal(dr_config_set_credentials(cfg, "AKIDFAKE", "fake-secret", NULL), DR_OK);
    assert_int_equal(dr_config_set_stats_table(cfg, "stats"), DR_OK);
    assert_int_equal(dr_client_new(&c, cfg), DR_OK);
    quick = *c->retry_policy;
    quick.base_ms = quick.throttle_base_ms = 1;
    c->retry_policy = &quick;

    rc = dr_client_dashboard_stats(c, &d);
    print_message("%d BatchGetItem requests: %s\n", g_batch_requests, dr_last_error_message());
    assert_int_equal(rc, DR_E_THROTTLED);
    assert_null(d);
    assert_non_null(strstr(dr_last_error_message(), "unprocessed"));
    assert_int_equal(g_batch_requests, 10);

    dr_client_free(c);
    dr_config_free(cfg);
    mini_http_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unprocessed_keys_back_off_and_give_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
