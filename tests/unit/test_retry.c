/* The standard retry policy: which errors retry, backoff bounds, the retry quota. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "retry.h"

static void test_retryable_set(void **state)
{
    (void)state;
    assert_true(dr__retry_is_retryable(DR_E_THROTTLED));
    assert_true(dr__retry_is_retryable(DR_E_SERVICE));
    assert_true(dr__retry_is_retryable(DR_E_CHECKSUM));
    assert_true(dr__retry_is_retryable(DR_E_NETWORK));
    assert_true(dr__retry_is_retryable(DR_E_TIMEOUT));
    assert_false(dr__retry_is_retryable(DR_E_VALIDATION));
    assert_false(dr__retry_is_retryable(DR_E_CONDITION_FAILED));
    assert_false(dr__retry_is_retryable(DR_E_TRANSACTION_CANCELED));
    assert_false(dr__retry_is_retryable(DR_E_TRANSACTION_CONFLICT));
    assert_false(dr__retry_is_retryable(DR_E_AUTH));
    assert_false(dr__retry_is_retryable(DR_E_NOT_FOUND));
}

static void test_backoff_bounds(void **state)
{
    (void)state;
    /* Full jitter: 0 .. base * 2^(n-2). */
    assert_int_equal(dr__retry_backoff_ms(&dr__retry_standard, 2, DR_E_SERVICE, 0.0, 0), 0);
    assert_int_equal(dr__retry_backoff_ms(&dr__retry_standard, 2, DR_E_SERVICE, 0.5, 0), 50);
    assert_int_equal(dr__retry_backoff_ms(&dr__retry_standard, 3, DR_E_SERVICE, 0.5, 0), 100);
    assert_int_equal(dr__retry_backoff_ms(&dr__retry_standard, 2, DR_E_THROTTLED, 0.5, 0), 250);
    /* Capped at 20 s however many attempts. */
    assert_true(dr__retry_backoff_ms(&dr__retry_standard, 40, DR_E_SERVICE, 0.999999, 0) <= 20000);
    assert_true(dr__retry_backoff_ms(&dr__retry_standard, 12, DR_E_THROTTLED, 0.999999, 0) >= 19999);
    /* A longer retry-after hint wins, up to 5 s past the backoff (50 ms here); a shorter
     * one does not shorten it. */
    assert_int_equal(dr__retry_backoff_ms(&dr__retry_standard, 2, DR_E_THROTTLED, 0.1, 3000), 3000);
    assert_int_equal(dr__retry_backoff_ms(&dr__retry_standard, 2, DR_E_THROTTLED, 0.1, 90000), 5050);
    assert_int_equal(dr__retry_backoff_ms(&dr__retry_standard, 2, DR_E_THROTTLED, 0.1, 10), 50);
    /* The draw's whole range [0,1] is honoured (the SEPs' cases use 1), nothing outside. */
    assert_int_equal(dr__retry_backoff_ms(&dr__retry_standard, 3, DR_E_SERVICE, 1.0, 0), 200);
    assert_int_equal(dr__retry_backoff_ms(&dr__retry_standard, 3, DR_E_SERVICE, 7.0, 0), 200);
    assert_int_equal(dr__retry_backoff_ms(&dr__retry_standard, 3, DR_E_SERVICE, -1.0, 0), 0);
}

static void test_random_range(void **state)
{
    int i;
    double lo = 1, hi = 0;
    (void)state;
    for (i = 0; i < 10000; i++) {
        double r = dr__random01();
        assert_true(r >= 0 && r < 1);
        if (r < lo) lo = r;
        if (r > hi) hi = r;
    }
    assert_true(lo < 0.01 && hi > 0.99);
}

static void test_quota(void **state)
{
    dr_retry_quota *q = NULL;
    uint32_t spent = 0, cost;
    int retries = 0;
    (void)state;
    assert_int_equal(dr__retry_quota_new(&q, &dr__retry_standard), DR_OK);
    assert_int_equal(dr__retry_quota_available(q), 500);
    assert_int_equal(dr__retry_quota_acquire(q, DR_E_SERVICE), 5);
    assert_int_equal(dr__retry_quota_acquire(q, DR_E_TIMEOUT), 10);
    assert_int_equal(dr__retry_quota_available(q), 485);
    dr__retry_quota_release(q, 15);
    assert_int_equal(dr__retry_quota_available(q), 500);
    dr__retry_quota_release(q, 0); /* never above the initial 500 */
    assert_int_equal(dr__retry_quota_available(q), 500);
    while ((cost = dr__retry_quota_acquire(q, DR_E_SERVICE)) != 0) {
        spent += cost;
        retries++;
    }
    assert_int_equal(retries, 100);
    assert_int_equal(dr__retry_quota_available(q), 0);
    dr__retry_quota_release(q, 0);
    assert_int_equal(dr__retry_quota_available(q), 1);
    dr__retry_quota_free(q);
}

/* The SDKs' 2026 behaviour is the default since they made it theirs; AWS_RETRY_MODE=legacy
 * (their way back) or AWS_NEW_RETRIES_2026=false (the old opt-in flag) restores the classic. */
static void test_policy_2026(void **state)
{
    static const struct {
        const char *retry_mode, *new_retries;
        const dr_retry_policy *want;
    } cases[] = {
        {NULL, NULL, &dr__retry_standard_2026},
        {NULL, "true", &dr__retry_standard_2026},
        {NULL, "TRUE", &dr__retry_standard_2026},
        {NULL, "", &dr__retry_standard_2026},
        {NULL, "false", &dr__retry_standard},
        {NULL, "False", &dr__retry_standard},
        {"standard", NULL, &dr__retry_standard_2026},
        {"adaptive", NULL, &dr__retry_standard_2026},
        {"legacy", NULL, &dr__retry_standard},
        {"LEGACY", "true", &dr__retry_standard},
        {"", NULL, &dr__retry_standard_2026},
    };
    const dr_retry_policy *p;
    dr_retry_quota *q = NULL;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].retry_mode)
            setenv("AWS_RETRY_MODE", cases[i].retry_mode, 1);
        else
            unsetenv("AWS_RETRY_MODE");
        if (cases[i].new_retries)
            setenv("AWS_NEW_RETRIES_2026", cases[i].new_retries, 1);
        else
            unsetenv("AWS_NEW_RETRIES_2026");
        if (dr__retry_policy_from_env() != cases[i].want)
            fail_msg("AWS_RETRY_MODE=%s AWS_NEW_RETRIES_2026=%s: not %s",
                     cases[i].retry_mode ? cases[i].retry_mode : "(unset)",
                     cases[i].new_retries ? cases[i].new_retries : "(unset)",
                     cases[i].want->name);
    }
    unsetenv("AWS_RETRY_MODE");
    unsetenv("AWS_NEW_RETRIES_2026");
    p = dr__retry_policy_from_env();
    assert_int_equal(p->max_attempts, 4);
    assert_int_equal(dr__retry_backoff_ms(p, 2, DR_E_SERVICE, 0.5, 0), 12);
    assert_int_equal(dr__retry_backoff_ms(p, 2, DR_E_THROTTLED, 0.5, 0), 500);
    assert_int_equal(dr__retry_quota_new(&q, p), DR_OK);
    assert_int_equal(dr__retry_quota_acquire(q, DR_E_THROTTLED), 5);
    assert_int_equal(dr__retry_quota_acquire(q, DR_E_SERVICE), 14);
    assert_int_equal(dr__retry_quota_acquire(q, DR_E_TIMEOUT), 14);
    dr__retry_quota_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retryable_set),
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_random_range),
        cmocka_unit_test(test_quota),
        cmocka_unit_test(test_policy_2026),
    };
    return cmocka_run_group_tests_name("retry", tests, NULL, NULL);
}
