/* Test helper: start, steer and stop dr_fault_proxy (tests/support/fault_proxy.c).
 *
 * The proxy binary's path comes from the environment variable DR_FAULT_PROXY, which
 * tests/CMakeLists.txt sets for the tests that need it:
 *
 *   set_property(TEST my_test APPEND PROPERTY ENVIRONMENT
 *     "DR_FAULT_PROXY=$<TARGET_FILE:dr_fault_proxy>")
 *   target_link_libraries(my_test PRIVATE dr_test_proxy_ctl)
 *
 * Typical use in a cmocka test (stop it in the teardown, so a failed assertion does
 * not leave the proxy running):
 *
 *   static const char *const rules[] = {"throttle:target=PutItem,count=2", NULL};
 *   dr_test_proxy p;
 *   assert_int_equal(dr_test_proxy_start("127.0.0.1:8000", rules, &p), 0);
 *   ... point the client at p.endpoint ("http://127.0.0.1:<port>") ...
 *   dr_test_proxy_counts c;
 *   assert_int_equal(dr_test_proxy_stats(&p, &c), 0);
 *   assert_int_equal(dr_test_proxy_target_count(&c, "PutItem"), 3);  // 2 throttled + 1
 *   dr_test_proxy_stop(&p);
 *
 * Rule syntax: see the top of fault_proxy.c. Safety nets beyond the teardown: every
 * started proxy is also stopped by an atexit() handler, and on Linux the proxy gets
 * SIGTERM if the thread that started it dies (PR_SET_PDEATHSIG), so start it from the
 * test's main thread. Not thread-safe: call from one thread.
 */
#ifndef DR_TEST_FAULT_PROXY_CTL_H
#define DR_TEST_FAULT_PROXY_CTL_H

#include <sys/types.h>

#define DR_TEST_PROXY_MAX_NAMES 64

typedef struct {
    pid_t pid;          /* 0 once stopped */
    int port;           /* the proxy's loopback port */
    char endpoint[64];  /* "http://127.0.0.1:<port>", to hand to the client */
} dr_test_proxy;

typedef struct {
    char name[64];
    long count;
} dr_test_proxy_count;

/* A snapshot of GET /__proxy/stats. Control requests are never counted. */
typedef struct {
    long requests;        /* requests the proxy received (one per client attempt) */
    long forwarded;       /* requests that reached the upstream (took effect) */
    long upstream_errors; /* upstream unreachable or malformed: answered 502 */
    long abandoned;       /* delay rule whose client had gone: not forwarded */
    size_t n_faults;
    dr_test_proxy_count faults[DR_TEST_PROXY_MAX_NAMES];   /* by action name */
    size_t n_targets;
    dr_test_proxy_count targets[DR_TEST_PROXY_MAX_NAMES];  /* by operation name */
} dr_test_proxy_counts;

/* Starts the proxy in front of upstream_host_port ("127.0.0.1:8000") with the rules
 * (NULL-terminated array, may be NULL for none) and waits for its PORT= line.
 * Returns 0, or -1 (reason on stderr) with *out zeroed and no process left behind. */
int dr_test_proxy_start(const char *upstream_host_port, const char *const *rules,
                        dr_test_proxy *out);

/* dr_test_proxy_start() with the proxy's --seed (0: its default), so that runs with
 * rate= rules draw different faults. */
int dr_test_proxy_start_seeded(const char *upstream_host_port, const char *const *rules,
                               unsigned long seed, dr_test_proxy *out);

/* Replaces the rule list (NULL-terminated; NULL or empty = forward everything); rule
 * counters and the random sequence restart. Returns 0, or -1 if the proxy rejected a
 * rule (the old list stays) or could not be reached. */
int dr_test_proxy_set_rules(dr_test_proxy *p, const char *const *rules);

/* Fills *out from the proxy's statistics. Returns 0 or -1. */
int dr_test_proxy_stats(dr_test_proxy *p, dr_test_proxy_counts *out);

/* Zeroes the proxy's statistics. Returns 0 or -1. */
int dr_test_proxy_reset_stats(dr_test_proxy *p);

/* How often a fault fired ("throttle", "reset", ...) / how many requests an operation
 * ("PutItem", "(none)" without X-Amz-Target) made; 0 for a name not seen. */
long dr_test_proxy_fault_count(const dr_test_proxy_counts *c, const char *action);
long dr_test_proxy_target_count(const dr_test_proxy_counts *c, const char *op);

/* SIGTERM, waits up to 5 s, then SIGKILL. Safe to call twice and on a zeroed p. */
void dr_test_proxy_stop(dr_test_proxy *p);

#endif
