/* Chaos test of the whole pipeline (tests/support/chaos.h): writers in inline, stream and
 * mixed mode, a follower killed at random moments, ratings changed and deleted behind the
 * library's back, every request through dr_fault_proxy at 10% and 30% faults, with one
 * and four GLOBAL shards; then an exact check of every aggregate, index key, read_stats
 * and dashboard_stats figure against the stored ratings, and of every rating whose write
 * returned success (stored exactly once).
 *
 * DR_TEST_CHAOS_RATINGS sets the ratings per run (default 150; scripts/test.sh lowers it
 * for the sanitizer stages). The follower is tools/dr_follow (DR_FOLLOW_BIN), given the
 * writers' shard count with --global-shards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "chaos.h"

#define CHAOS_DEFAULT_RATINGS 150

typedef struct {
    dr_chaos_mode mode;
    uint32_t shards;
    double rate;
    unsigned seed;
} chaos_case;

/* 10% and 30% faults in each mode; one and four GLOBAL shards spread across them. */
static chaos_case cases[] = {
    {DR_CHAOS_INLINE, 1, 0.10, 101}, {DR_CHAOS_STREAM, 4, 0.10, 202},
    {DR_CHAOS_MIXED, 1, 0.10, 303},  {DR_CHAOS_INLINE, 4, 0.30, 404},
    {DR_CHAOS_STREAM, 1, 0.30, 505}, {DR_CHAOS_MIXED, 4, 0.30, 606},
};

static void test_chaos_run(void **state)
{
    const chaos_case *c = *state;
    dr_chaos_options o;
    dr_chaos_summary s;
    const char *n = getenv("DR_TEST_CHAOS_RATINGS");
    int rc;
    memset(&o, 0, sizeof o);
    o.mode = c->mode;
    o.shards = c->shards;
    o.fault_rate = c->rate;
    o.ratings = n && atoi(n) > 0 ? atoi(n) : CHAOS_DEFAULT_RATINGS;
    o.threads = 8;
    o.seed = c->seed;
    o.follow_bin = getenv("DR_FOLLOW_BIN");
    assert_non_null(o.follow_bin);
    rc = dr_chaos_run(&o, &s);
    if (rc < 0)
        fail_msg("the chaos run could not be carried out (see above)");
    if (rc > 0)
        fail_msg("%ld lost, %ld duplicated, %ld aggregate mismatches (see above)", s.lost,
                 s.duplicated, s.mismatches);
    /* The run must have exercised what it claims to. */
    assert_true(s.succeeded > 0);
    assert_true(s.modified > 0);
    assert_true(s.deleted > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_chaos_run, (void *)&cases[0]),
        cmocka_unit_test_prestate(test_chaos_run, (void *)&cases[1]),
        cmocka_unit_test_prestate(test_chaos_run, (void *)&cases[2]),
        cmocka_unit_test_prestate(test_chaos_run, (void *)&cases[3]),
        cmocka_unit_test_prestate(test_chaos_run, (void *)&cases[4]),
        cmocka_unit_test_prestate(test_chaos_run, (void *)&cases[5]),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
