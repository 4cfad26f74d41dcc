/* The chaos run shared by tests/integration/test_chaos.c and bench/soak_chaos.c: the
 * whole write -> aggregate -> read pipeline through dr_fault_proxy, then an exact check.
 *
 * One run:
 *  1. a fresh pair of tables on DynamoDB Local (DR_TEST_ENDPOINT), created directly;
 *  2. two proxies in front of it: one for the writers (throttle, a throttled transaction
 *     cancellation, 500, reset, forward-then-reset, delay and forward-then-delay past the
 *     writers' 2 s request timeout, corrupt-crc), one for the follower (the same without
 *     the delays, which only slow a follower with dr_follow's 10 s timeout, at half the
 *     rate), each kind at rate/kinds of the requests;
 *  3. `threads` threads write `ratings` ratings with idempotency keys, in inline mode,
 *     stream mode, or mixed (even threads inline, odd threads stream, same tables); a
 *     write that fails is retried by the caller with the same key up to 10 times;
 *  4. meanwhile a follower child process, tools/dr_follow (options.follow_bin) with
 *     --global-shards set to the writers' count, is started and killed with SIGKILL at
 *     random moments;
 *  5. ratings are changed and deleted directly in the ratings table (author, stars, both,
 *     deletions, and each "solo" joke's only rating deleted and the joke rated again);
 *  6. the follower drains the stream (--until-idle, through faults, then once without);
 *  7. a scan without faults checks everything exactly (see dr_chaos_run).
 *
 * No cmocka here: the soak program uses it too. */
#ifndef DR_TEST_CHAOS_H
#define DR_TEST_CHAOS_H

#include <stdint.h>

typedef enum { DR_CHAOS_INLINE, DR_CHAOS_STREAM, DR_CHAOS_MIXED } dr_chaos_mode;

typedef struct {
    dr_chaos_mode mode;
    uint32_t shards;        /* GLOBAL shards, 1..64 */
    double fault_rate;      /* fraction of requests faulted, 0..0.9 */
    int ratings;            /* ratings written in the write phase */
    int threads;            /* writer threads, 1..64 */
    unsigned seed;
    const char *follow_bin; /* tools/dr_follow */
} dr_chaos_options;

typedef struct {
    long attempted;      /* ratings the callers tried to write (write phase + re-ratings) */
    long succeeded;      /* ... whose write finally returned DR_OK */
    long stored;         /* rating items found by the final scan */
    long lost;           /* succeeded, not deleted by the run, and not stored */
    long duplicated;     /* ratings stored more than once */
    long unacknowledged; /* failed for the caller, yet stored (allowed: outcome unknown) */
    long mismatches;     /* aggregate, index, read_stats and dashboard disagreements */
    long follower_kills;
    long modified, deleted;
    double seconds;
} dr_chaos_summary;

/* One run as above. Prints every disagreement (the first 30 in full) and one summary
 * line. Returns 0 when every check held, 1 when one did not, -1 when the run could not be
 * carried out (DynamoDB Local, the proxy, a follower that never drained; reason printed).
 * Cleans up its proxies, children and tables in every case. */
int dr_chaos_run(const dr_chaos_options *options, dr_chaos_summary *summary);

/* Async-signal-safe: writers take no further rating; the run goes on with the changes,
 * the drain and the check of what was written (the soak's SIGINT/SIGTERM). */
void dr_chaos_stop_writing(void);

#endif
