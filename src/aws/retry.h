/* Retry policy of the AWS SDKs' "standard" mode, in its two published versions:
 *
 *  - 2026 (retries 2.1, the default: the SDKs made it theirs on 10 November 2026):
 *    DynamoDB (and DynamoDB Streams) gets 4 attempts, a 25 ms backoff base for transient
 *    errors (50 ms for other services) and 1 s for throttling; a throttling retry costs 5
 *    tokens of a 500-token quota and any other 14;
 *  - classic (retries 2.0, as the JavaScript SDK v3 had it before; AWS_RETRY_MODE=legacy or
 *    AWS_NEW_RETRIES_2026=false): 3 attempts, base 100 ms, or 500 ms after throttling; a
 *    retry costs 5 tokens, 10 after a timeout or connection failure.
 *
 * In both, before attempt n+1 the client sleeps random(0,1) * min(base * 2^(n-1), 20 s)
 * ("full jitter"); a server's x-amz-retry-after hint moves the delay within
 * [t, t + 5 s], t that backoff; a success refunds the cost of the request's last retry,
 * or 1 token when it needed none; an empty quota stops retries, so a failing endpoint is
 * not hammered. docs/retries.md has the sources.
 */
#ifndef DR_RETRY_H
#define DR_RETRY_H

#include <stdint.h>

#include "dadratings.h"

#define DR_RETRY_MAX_BACKOFF_MS 20000u
#define DR_RETRY_QUOTA_INITIAL 500u
#define DR_RETRY_NO_RETRY_INCREMENT 1u
/* How far past the computed backoff a server's x-amz-retry-after may push a delay. */
#define DR_RETRY_AFTER_MAX_EXTRA_MS 5000u

typedef struct dr_retry_policy {
    const char *name;
    uint32_t max_attempts;     /* default when the configuration sets none */
    uint32_t base_ms;          /* backoff base, transient errors */
    uint32_t throttle_base_ms; /* ... throttling errors */
    uint32_t max_backoff_ms;   /* the backoff's ceiling before jitter */
    uint32_t quota_tokens;     /* the quota's size, and what it starts with */
    uint32_t cost;             /* quota tokens per retry of a transient error */
    uint32_t timeout_cost;     /* ... of a timeout or connection failure */
    uint32_t throttle_cost;    /* ... of a throttling error */
} dr_retry_policy;

extern const dr_retry_policy dr__retry_standard;
/* 2026, as the SDKs tune it for DynamoDB and DynamoDB Streams: what this library uses. */
extern const dr_retry_policy dr__retry_standard_2026;
/* 2026 for any other service (the SEP's general numbers: 3 attempts, 50 ms). */
extern const dr_retry_policy dr__retry_standard_2026_generic;

/* The policy for this environment: the 2026 one unless AWS_RETRY_MODE=legacy or
 * AWS_NEW_RETRIES_2026=false asks for the classic one. */
const dr_retry_policy *dr__retry_policy_from_env(void);

typedef struct dr_retry_quota dr_retry_quota;

dr_status dr__retry_quota_new(dr_retry_quota **out, const dr_retry_policy *policy);
void dr__retry_quota_free(dr_retry_quota *quota);

/* Take the cost of one retry after `code`; returns the cost taken, or 0 when the quota
 * cannot pay (then do not retry). */
uint32_t dr__retry_quota_acquire(dr_retry_quota *quota, dr_status code);
/* A request succeeded: give back `last_cost`, what its last retry took, or the no-retry
 * increment when it had none (0). Never above the quota's size. */
void dr__retry_quota_release(dr_retry_quota *quota, uint32_t last_cost);
#ifdef DR_TESTING
/* Test builds only: tokens left. */
uint32_t dr__retry_quota_available(dr_retry_quota *quota);
#endif

/* One request's standing with the quota, from its first attempt to its end. */
typedef struct dr_retry_token {
    uint32_t last_cost; /* what the latest retry took from the quota; 0 before any */
} dr_retry_token;

#define DR_RETRY_TOKEN_INIT {0}

typedef enum dr_retry_verdict {
    DR_RETRY_GO = 0,             /* retry after the delay */
    DR_RETRY_NOT_RETRYABLE,      /* the error is final */
    DR_RETRY_MAX_ATTEMPTS,       /* the attempts are used up */
    DR_RETRY_QUOTA_EXCEEDED      /* the quota cannot pay for another retry */
} dr_retry_verdict;

/* Attempt `attempt` (1 = the first) failed with `code`: decide, in the SEP's order
 * (retryable, attempts left, quota), whether to try again. On DR_RETRY_GO the quota has
 * paid for the retry and *delay_ms is the backoff (`random01` the jitter draw in [0,1],
 * `hint_ms` the server's x-amz-retry-after or 0). */
dr_retry_verdict dr__retry_refresh(dr_retry_quota *quota, dr_retry_token *token,
                                   uint32_t attempt, uint32_t max_attempts, dr_status code,
                                   double random01, uint32_t hint_ms, uint32_t *delay_ms);
/* The request succeeded: refund its last retry's cost (or the no-retry increment). */
void dr__retry_record_success(dr_retry_quota *quota, const dr_retry_token *token);

/* Whether the transport retries a failure with this status. */
int dr__retry_is_retryable(dr_status code);

/* Delay before attempt `next_attempt` (2 = first retry) in ms. `random01` in [0,1]
 * makes it testable; `hint_ms` is a server retry-after hint or 0. */
uint32_t dr__retry_backoff_ms(const dr_retry_policy *policy, uint32_t next_attempt,
                              dr_status code, double random01, uint32_t hint_ms);

/* A uniformly distributed double in [0,1), thread-safe, not for cryptography. */
double dr__random01(void);

#endif
