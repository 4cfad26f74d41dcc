#include "retry.h"

#include <pthread.h>
#include <stdlib.h>
#include <strings.h>
#include <stdatomic.h>
#include <time.h>

#include "alloc.h"
#include "error.h"

const dr_retry_policy dr__retry_standard = {"standard", 3, 100, 500, 5, 10, 5};
const dr_retry_policy dr__retry_standard_2026 = {"standard (2026)", 4, 25, 1000, 14, 14, 5};

const dr_retry_policy *dr__retry_policy_from_env(void)
{
    const char *v = getenv("AWS_NEW_RETRIES_2026");
    return v && !strcasecmp(v, "true") ? &dr__retry_standard_2026 : &dr__retry_standard;
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
    atomic_init(&q->tokens, DR_RETRY_QUOTA_INITIAL);
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

void dr__retry_quota_release(dr_retry_quota *q, uint32_t spent)
{
    unsigned add = spent ? spent : DR_RETRY_NO_RETRY_INCREMENT;
    unsigned have = atomic_load(&q->tokens), next;
    do {
        next = have + add > DR_RETRY_QUOTA_INITIAL ? DR_RETRY_QUOTA_INITIAL : have + add;
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

uint32_t dr__retry_backoff_ms(const dr_retry_policy *policy, uint32_t next_attempt,
                              dr_status code, double random01, uint32_t hint_ms)
{
    uint64_t base = code == DR_E_THROTTLED ? policy->throttle_base_ms : policy->base_ms;
    uint32_t exponent = next_attempt >= 2 ? next_attempt - 2 : 0;
    uint64_t ceiling = exponent >= 20 ? DR_RETRY_MAX_BACKOFF_MS : base << exponent;
    uint32_t delay;

    if (ceiling > DR_RETRY_MAX_BACKOFF_MS)
        ceiling = DR_RETRY_MAX_BACKOFF_MS;
    if (random01 < 0)
        random01 = 0;
    if (random01 >= 1)
        random01 = 0.999999;
    delay = (uint32_t)(random01 * (double)ceiling);
    if (hint_ms > delay)
        delay = hint_ms > DR_RETRY_MAX_BACKOFF_MS ? DR_RETRY_MAX_BACKOFF_MS : hint_ms;
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
