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
    /* A longer retry-after hint wins, still capped. */
    assert_int_equal(dr__retry_backoff_ms(&dr__retry_standard, 2, DR_E_THROTTLED, 0.1, 3000), 3000);
    assert_int_equal(dr__retry_backoff_ms(&dr__retry_standard, 2, DR_E_THROTTLED, 0.1, 90000), 20000);
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

/* The SDKs' 2026 behaviour, chosen by AWS_NEW_RETRIES_2026=true as the SDKs do. */
static void test_policy_2026(void **state)
{
    const dr_retry_policy *p;
    dr_retry_quota *q = NULL;
    (void)state;
    unsetenv("AWS_NEW_RETRIES_2026");
    assert_ptr_equal(dr__retry_policy_from_env(), &dr__retry_standard);
    setenv("AWS_NEW_RETRIES_2026", "true", 1);
    p = dr__retry_policy_from_env();
    assert_ptr_equal(p, &dr__retry_standard_2026);
    unsetenv("AWS_NEW_RETRIES_2026");
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
