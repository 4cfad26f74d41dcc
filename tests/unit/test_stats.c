/* stats.c's guards against stored figures no ratings can produce: the average of a
 * score above 5 * total (L3: it overflowed uint32_t), signed sums over GLOBAL shards and
 * their clamping for display. Pure functions, no I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "stats.h"

static void test_average_clamped_above_five(void **state)
{
    (void)state;
    /* {"totalRatings":"1","totalScore":"99999999999"}: 10^13 hundredths before. */
    assert_int_equal(dr__average_hundredths(99999999999ULL, 1), 500);
    assert_int_equal(dr__average_hundredths(UINT64_MAX, 1), 500);
    assert_int_equal(dr__average_hundredths(UINT64_MAX, 3), 500);
    assert_int_equal(dr__average_hundredths(6, 1), 500);
    /* Real averages are untouched. */
    assert_int_equal(dr__average_hundredths(5, 1), 500);
    assert_int_equal(dr__average_hundredths(13, 3), 433);
    assert_int_equal(dr__average_hundredths(UINT64_MAX, UINT64_MAX), 100);
    assert_int_equal(dr__average_hundredths(0, 7), 0);
    assert_int_equal(dr__average_hundredths(7, 0), 0);
}

static json_t *item(const char *total, const char *score, const char *c5)
{
    return json_pack("{s:{s:s}, s:{s:s}, s:{s:s}}", "totalRatings", "N", total, "totalScore",
                     "N", score, "count5", "N", c5);
}

static void test_signed_sums(void **state)
{
    dr_scounts sum;
    dr_counts out;
    json_t *a = item("3", "15", "3"), *b = item("-1", "-5", "-1");
    json_t *big = item("9223372036854775807", "0", "0"), *bad = item("1.5", "5", "1");
    int64_t v = 0;
    (void)state;

    memset(&sum, 0, sizeof sum);
    assert_int_equal(dr__scounts_add_item(&sum, a), DR_OK);
    assert_int_equal(dr__scounts_add_item(&sum, b), DR_OK);
    assert_true(sum.total == 2 && sum.score == 10 && sum.count[4] == 2);
    assert_int_equal(dr__counts_sanitize(&sum, &out), 0);
    assert_true(out.total == 2 && out.score == 10 && out.count[4] == 2);
    /* Overflow refused, the sum unchanged. */
    assert_int_equal(dr__scounts_add_item(&sum, big), DR_E_PROTOCOL);
    assert_true(sum.total == 2);
    assert_int_equal(dr__scounts_add_item(&sum, bad), DR_E_PROTOCOL);
    /* int64 bounds parse exactly; one past them does not. */
    json_object_set_new(a, "x", json_pack("{s:s}", "N", "-9223372036854775808"));
    assert_int_equal(dr__av_get_i64(a, "x", &v), 0);
    assert_true(v == INT64_MIN);
    json_object_set_new(a, "x", json_pack("{s:s}", "N", "-9223372036854775809"));
    assert_int_equal(dr__av_get_i64(a, "x", &v), -2);
    json_object_set_new(a, "x", json_pack("{s:s}", "N", "--1"));
    assert_int_equal(dr__av_get_i64(a, "x", &v), -2);
    assert_int_equal(dr__av_get_i64(a, "missing", &v), -1);
    json_decref(a);
    json_decref(b);
    json_decref(big);
    json_decref(bad);
}

static void test_sanitize(void **state)
{
    dr_scounts s;
    dr_counts out;
    (void)state;

    memset(&s, 0, sizeof s); /* below zero: 0 */
    s.total = -1;
    s.score = -5;
    s.count[4] = -1;
    assert_int_equal(dr__counts_sanitize(&s, &out), 1);
    assert_true(out.total == 0 && out.score == 0 && out.count[4] == 0);
    assert_int_equal(dr__average_hundredths(out.score, out.total), 0);

    memset(&s, 0, sizeof s); /* total not the sum of the counts: the counts win */
    s.total = 7;
    s.score = 10;
    s.count[4] = 2;
    assert_int_equal(dr__counts_sanitize(&s, &out), 1);
    assert_true(out.total == 2 && out.score == 10);

    memset(&s, 0, sizeof s); /* score above 5 * total, and below total */
    s.total = 1;
    s.score = 99999999999LL;
    s.count[0] = 1;
    assert_int_equal(dr__counts_sanitize(&s, &out), 1);
    assert_true(out.score == 5);
    s.score = 0;
    assert_int_equal(dr__counts_sanitize(&s, &out), 1);
    assert_true(out.score == 1);
    assert_int_equal(dr__counts_consistent(&out), 1);
    out.score = 6;
    assert_int_equal(dr__counts_consistent(&out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_average_clamped_above_five),
        cmocka_unit_test(test_signed_sums),
        cmocka_unit_test(test_sanitize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
