/* Retry policy of the AWS SDKs' "standard" mode:
 *  - at most max_attempts attempts (default 3);
 *  - before attempt n+1, sleep random(0,1) * min(base * 2^(n-1), 20 s), "full jitter",
 *    where base is 100 ms, or 500 ms after throttling (as the JavaScript SDK v3);
 *    a server's retry-after hint, when longer, wins (still capped at 20 s);
 *  - a retry quota (token bucket of 500): a retry costs 5 tokens, 10 after a timeout or
 *    connection failure; a success refunds what its retries cost, or 1 token when it
 *    needed none. An empty bucket stops retries, so a failing endpoint is not hammered.
 */
#ifndef DR_RETRY_H
#define DR_RETRY_H

#include <stdint.h>

#include "dadratings.h"

#define DR_RETRY_MAX_BACKOFF_MS 20000u
#define DR_RETRY_BASE_MS 100u
#define DR_RETRY_THROTTLE_BASE_MS 500u
#define DR_RETRY_QUOTA_INITIAL 500u
#define DR_RETRY_COST 5u
#define DR_RETRY_TIMEOUT_COST 10u
#define DR_RETRY_NO_RETRY_INCREMENT 1u

typedef struct dr_retry_quota dr_retry_quota;

dr_status dr__retry_quota_new(dr_retry_quota **out);
void dr__retry_quota_free(dr_retry_quota *quota);

/* Take the cost of one retry after `code`; returns the cost taken, or 0 when the quota
 * cannot pay (then do not retry). */
uint32_t dr__retry_quota_acquire(dr_retry_quota *quota, dr_status code);
/* A request succeeded after retries costing `spent` tokens (0: first attempt). */
void dr__retry_quota_release(dr_retry_quota *quota, uint32_t spent);
/* Tokens left; for tests and logs. */
uint32_t dr__retry_quota_available(dr_retry_quota *quota);

/* Whether the transport retries a failure with this status. */
int dr__retry_is_retryable(dr_status code);

/* Delay before attempt `next_attempt` (2 = first retry) in ms. `random01` in [0,1)
 * makes it testable; `hint_ms` is a server retry-after hint or 0. */
uint32_t dr__retry_backoff_ms(uint32_t next_attempt, dr_status code, double random01,
                              uint32_t hint_ms);

/* A uniformly distributed double in [0,1), thread-safe, not for cryptography. */
double dr__random01(void);

#endif
