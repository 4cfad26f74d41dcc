/* Shared helpers for integration tests: the DynamoDB Local endpoint the harness
 * started (DR_TEST_ENDPOINT), clients pointed at it, unique table names, and raw
 * table management through the library's own transport. */
#ifndef DR_TEST_H
#define DR_TEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dadratings.h"

/* The endpoint, or a cmocka failure with a message saying how to run the tests. */
const char *dr_test_endpoint(void);

/* A client on `endpoint` (NULL: dr_test_endpoint()) with test credentials, region
 * us-east-1, and the given tables (NULL: defaults). Fails the test on error. */
dr_client *dr_test_client(const char *endpoint, const char *ratings_table,
                          const char *stats_table, dr_config **config_out);

/* A fresh pair of uniquely named tables, "<tag>-r-..." and "<tag>-s-..." (written into
 * `ratings` and `stats`, each `cap` bytes), created as create_tables makes them, and a
 * client on them in `mode` with `shards` GLOBAL shards. Fails the test on error. */
dr_client *dr_test_open_tables(char *ratings, char *stats, size_t cap, const char *tag,
                               dr_aggregation_mode mode, uint32_t shards);
/* Delete both tables and free the client. */
void dr_test_close_tables(dr_client *client, const char *ratings, const char *stats);

/* "<prefix>-<pid>-<counter>-<time>": distinct across tests running in parallel. */
void dr_test_unique_name(char *out, size_t cap, const char *prefix);

/* Create a table keyed PK (S) + SK (S), wait until ACTIVE. */
void dr_test_create_simple_table(dr_client *client, const char *name);
void dr_test_delete_table(dr_client *client, const char *name);

/* The tests' own model of what must be stored: counters kept by the test from the
 * ratings it wrote, never read back from the stats table it checks. */
typedef struct dr_test_tally {
    uint64_t total, score, count[5];
} dr_test_tally;

void dr_test_tally_add(dr_test_tally *t, int stars);

/* JavaScript's Number((score / total).toFixed(2)), computed independently of the
 * library: the double's exact decimal expansion, rounded half up by hand. */
double dr_test_js_average(uint64_t score, uint64_t total);

/* One call of a dr_test_run_threads run: call number `call` (from 0) of thread `thread`,
 * with the thread's own rand_r state in `seed`. DR_OK, or the failure's status (its
 * message is this thread's dr_last_error_message()). */
typedef dr_status (*dr_test_call_fn)(void *ctx, int thread, int call, unsigned *seed);

/* `calls` calls of `fn` spread evenly over `threads` threads (at most 64) started together,
 * thread i seeded with `seed` + i. Prints each failing thread's count and first message and
 * fails the test if any call failed. Returns the wall time in seconds. */
double dr_test_run_threads(int threads, int calls, dr_test_call_fn fn, void *ctx,
                           unsigned seed);

/* Every item of a table (strongly consistent Scan with paging). New reference: a JSON
 * array. dr_test_scan_all fails the test on an error; dr_test_scan_table (for code
 * without cmocka, such as the soak) returns NULL, the reason in dr_last_error_message(). */
json_t *dr_test_scan_all(dr_client *client, const char *table);
json_t *dr_test_scan_table(dr_client *client, const char *table);

#endif
