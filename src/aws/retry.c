#include "retry.h"

#include <pthread.h>
#include <stdlib.h>
#include <strings.h>
#include <stdatomic.h>
#include <time.h>

#include "alloc.h"
#include "env.h"
#include "error.h"

const dr_retry_policy dr__retry_standard = {
    "standard (classic)", 3, 100, 500, DR_RETRY_MAX_BACKOFF_MS, DR_RETRY_QUOTA_INITIAL, 5, 10, 5};
const dr_retry_policy dr__retry_standard_2026 = {
    "standard (2026)", 4, 25, 1000, DR_RETRY_MAX_BACKOFF_MS, DR_RETRY_QUOTA_INITIAL, 14, 14, 5};
const dr_retry_policy dr__retry_standard_2026_generic = {
    "standard (2026, general)", 3, 50, 1000, DR_RETRY_MAX_BACKOFF_MS, DR_RETRY_QUOTA_INITIAL,
    14, 14, 5};

/* The SDKs' ways back to the behaviour before November 2026: AWS_RETRY_MODE=legacy is the
 * one they document after the rollout; AWS_NEW_RETRIES_2026=false is the opt-in flag of
 * the months before, kept so that a deployment that pinned it keeps what it pinned. */
const dr_retry_policy *dr__retry_policy_from_env(void)
{
    const char *mode = dr__env("AWS_RETRY_MODE");
    const char *flag = dr__env("AWS_NEW_RETRIES_2026");
    if ((mode && !strcasecmp(mode, "legacy")) || (flag && !strcasecmp(flag, "false")))
        return &dr__retry_standard;
    return &dr__retry_standard_2026;
}

struct dr_retry_quota {
    atomic_uint tokens;
    const dr_retry_policy *policy;
};

dr_status dr__retry_quota_new(dr_retry_quota **out, const dr_retry_policy *policy)
{
    dr_retry_quota *q = dr__malloc(sizeof *q);
    *out = NULL;
    if (!q)
        return dr__fail(DR_E_NOMEM, "out of memory creating the retry quota");
    atomic_init(&q->tokens, policy->quota_tokens);
    q->policy = policy;
    *out = q;
    return DR_OK;
}

void dr__retry_quota_free(dr_retry_quota *q)
{
    dr__free(q);
}

uint32_t dr__retry_quota_acquire(dr_retry_quota *q, dr_status code)
{
    uint32_t cost = code == DR_E_THROTTLED                          ? q->policy->throttle_cost
                    : (code == DR_E_TIMEOUT || code == DR_E_NETWORK) ? q->policy->timeout_cost
                                                                     : q->policy->cost;
    unsigned have = atomic_load(&q->tokens);
    do {
        if (have < cost)
            return 0;
    } while (!atomic_compare_exchange_weak(&q->tokens, &have, have - cost));
    return cost;
}

void dr__retry_quota_release(dr_retry_quota *q, uint32_t last_cost)
{
    unsigned add = last_cost ? last_cost : DR_RETRY_NO_RETRY_INCREMENT;
    unsigned size = q->policy->quota_tokens;
    unsigned have = atomic_load(&q->tokens), next;
    do {
        next = have + add > size ? size : have + add;
        if (next == have)
            return;
    } while (!atomic_compare_exchange_weak(&q->tokens, &have, next));
}

#ifdef DR_TESTING
uint32_t dr__retry_quota_available(dr_retry_quota *q)
{
    return atomic_load(&q->tokens);
}
#endif

int dr__retry_is_retryable(dr_status code)
{
    switch (code) {
    case DR_E_THROTTLED:
    case DR_E_SERVICE:
    case DR_E_CHECKSUM:
    case DR_E_NETWORK:
    case DR_E_TIMEOUT:
        return 1;
    default:
        return 0;
    }
}

dr_retry_verdict dr__retry_refresh(dr_retry_quota *q, dr_retry_token *token, uint32_t attempt,
                                   uint32_t max_attempts, dr_status code, double random01,
                                   uint32_t hint_ms, uint32_t *delay_ms)
{
    uint32_t cost;

    *delay_ms = 0;
    if (!dr__retry_is_retryable(code))
        return DR_RETRY_NOT_RETRYABLE;
    if (attempt >= max_attempts)
        return DR_RETRY_MAX_ATTEMPTS;
    if (!(cost = dr__retry_quota_acquire(q, code)))
        return DR_RETRY_QUOTA_EXCEEDED;
    /* Only the last retry's cost comes back on success (SEP 2.0 and 2.1): a request that
     * needed several retries leaves the quota poorer, as a sign of trouble should. */
    token->last_cost = cost;
    *delay_ms = dr__retry_backoff_ms(q->policy, attempt + 1, code, random01, hint_ms);
    return DR_RETRY_GO;
}

void dr__retry_record_success(dr_retry_quota *q, const dr_retry_token *token)
{
    dr__retry_quota_release(q, token->last_cost);
}

uint32_t dr__retry_backoff_ms(const dr_retry_policy *policy, uint32_t next_attempt,
                              dr_status code, double random01, uint32_t hint_ms)
{
    uint64_t base = code == DR_E_THROTTLED ? policy->throttle_base_ms : policy->base_ms;
    uint32_t exponent = next_attempt >= 2 ? next_attempt - 2 : 0;
    uint64_t ceiling = exponent >= 32 ? policy->max_backoff_ms : base << exponent;
    uint32_t delay, latest;

    if (ceiling > policy->max_backoff_ms)
        ceiling = policy->max_backoff_ms;
    if (!(random01 >= 0)) /* NaN too */
        random01 = 0;
    if (random01 > 1)
        random01 = 1;
    delay = (uint32_t)(random01 * (double)ceiling);
    /* The server may ask for longer, within 5 s of the backoff (SEP 2.1), never shorter. */
    latest = delay + DR_RETRY_AFTER_MAX_EXTRA_MS;
    if (hint_ms > delay)
        delay = hint_ms < latest ? hint_ms : latest;
    return delay;
}

/* xorshift64*, one state per thread, seeded from the clock and the state's address. */
double dr__random01(void)
{
    static _Thread_local uint64_t state;
    if (!state) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
                (uint64_t)(uintptr_t)&state;
        if (!state)
            state = 0x9e3779b97f4a7c15ull;
    }
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (double)((state * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}
