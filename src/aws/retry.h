/* Retry policy of the AWS SDKs' "standard" mode, in its two published versions:
 *
 *  - classic (the default): at most 3 attempts; before attempt n+1 sleep
 *    random(0,1) * min(base * 2^(n-1), 20 s), "full jitter", with base 100 ms, or 500 ms
 *    after throttling (as the JavaScript SDK v3); a retry costs 5 tokens of a 500-token
 *    quota, 10 after a timeout or connection failure;
 *  - 2026 (the SDKs' updated behaviour, chosen like them with AWS_NEW_RETRIES_2026=true,
 *    announced to become their default in November 2026): DynamoDB gets 4 attempts, a
 *    25 ms base for transient errors and 1 s for throttling; a throttling retry costs 5
 *    tokens and any other 14.
 *
 * In both, a server's retry-after hint, when longer, wins (capped at 20 s); a success
 * refunds what its retries cost, or 1 token when it needed none; an empty bucket stops
 * retries, so a failing endpoint is not hammered.
 */
#ifndef DR_RETRY_H
#define DR_RETRY_H

#include <stdint.h>

#include "dadratings.h"

#define DR_RETRY_MAX_BACKOFF_MS 20000u
#define DR_RETRY_QUOTA_INITIAL 500u
#define DR_RETRY_NO_RETRY_INCREMENT 1u

typedef struct dr_retry_policy {
    const char *name;
    uint32_t max_attempts;     /* default when the configuration sets none */
    uint32_t base_ms;          /* transient errors */
    uint32_t throttle_base_ms; /* throttling errors */
    uint32_t cost;             /* quota tokens per retry of a transient error */
    uint32_t timeout_cost;     /* ... of a timeout or connection failure */
    uint32_t throttle_cost;    /* ... of a throttling error */
} dr_retry_policy;

extern const dr_retry_policy dr__retry_standard;
extern const dr_retry_policy dr__retry_standard_2026;

/* The policy the AWS SDKs would use in this environment (AWS_NEW_RETRIES_2026). */
const dr_retry_policy *dr__retry_policy_from_env(void);

typedef struct dr_retry_quota dr_retry_quota;

dr_status dr__retry_quota_new(dr_retry_quota **out, const dr_retry_policy *policy);
void dr__retry_quota_free(dr_retry_quota *quota);

/* Take the cost of one retry after `code`; returns the cost taken, or 0 when the quota
 * cannot pay (then do not retry). */
uint32_t dr__retry_quota_acquire(dr_retry_quota *quota, dr_status code);
/* A request succeeded after retries costing `spent` tokens (0: first attempt). */
void dr__retry_quota_release(dr_retry_quota *quota, uint32_t spent);
#ifdef DR_TESTING
/* Test builds only: tokens left. */
uint32_t dr__retry_quota_available(dr_retry_quota *quota);
#endif

/* Whether the transport retries a failure with this status. */
int dr__retry_is_retryable(dr_status code);

/* Delay before attempt `next_attempt` (2 = first retry) in ms. `random01` in [0,1)
 * makes it testable; `hint_ms` is a server retry-after hint or 0. */
uint32_t dr__retry_backoff_ms(const dr_retry_policy *policy, uint32_t next_attempt,
                              dr_status code, double random01, uint32_t hint_ms);

/* A uniformly distributed double in [0,1), thread-safe, not for cryptography. */
double dr__random01(void);

#endif
