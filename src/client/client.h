/* The client behind dr_client: everything resolved at creation, shared read-only by
 * every thread, plus the few mutable parts that carry their own synchronisation
 * (connection pool, credentials chain, retry quota, counters). */
#ifndef DR_CLIENT_H
#define DR_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>

#include "config.h"
#include "credentials_chain.h"
#include "http.h"

struct dr_retry_quota;
struct dr_retry_policy;
struct dr_sigv4_signer;
struct dr_dashboard;

/* The dashboard cache (src/ratings/dashboard_cache.c), used when dashboard_max_age_ms is
 * set: the latest dashboard, and the fetch in flight that concurrent callers wait for. */
typedef struct dr_dashboard_cache {
    pthread_mutex_t lock;
    pthread_cond_t fetched;
    struct dr_dashboard *latest;   /* the cache's reference, or NULL */
    uint64_t latest_ms;            /* when its fetch started (dr__monotonic_ms) */
    int in_flight;
    uint64_t fetches;              /* fetches finished */
    dr_status failed;              /* the last finished fetch's status ... */
    char failed_message[256];      /* ... and its message (no secrets: a service error) */
    void (*release)(struct dr_dashboard *); /* dr_dashboard_free, set with `latest` */
} dr_dashboard_cache;

struct dr_client {
    char *region;
    char *endpoint;          /* scheme://host[:port] without a trailing slash */
    char *host_header;       /* host[:port] as signed */
    char *streams_endpoint;  /* the DynamoDB Streams API: the same when overridden */
    char *streams_host_header;
    char *sts_endpoint;      /* for the credential providers that assume roles */
    char *profile;           /* as configured (NULL: AWS_PROFILE, then "default") */
    dr_endpoint_resolver portal_endpoints; /* the SSO portal's, for the chain */
    const char *signing_region; /* `region`, or the endpoint's own ("local": us-east-1) */
    const char *streams_signing_region;
    char *ratings_table;
    char *stats_table;
    uint32_t connect_timeout_ms;
    uint32_t request_timeout_ms;
    uint32_t max_attempts;
    const struct dr_retry_policy *retry_policy;
    uint32_t global_shards;
    uint32_t dashboard_max_age_ms; /* 0: no cache */
    dr_aggregation_mode mode;
    dr_logger log;

    dr_http_pool *pool;
    dr_credentials_chain *credentials;
    struct dr_sigv4_signer *signer; /* caches derived signing keys */
    struct dr_retry_quota *quota;
    atomic_int_least64_t clock_skew_s; /* server time minus local time, for signing */
    atomic_uint_least64_t counters[DR_COUNTER_TRANSACTION_CONFLICTS + 1];
    atomic_int schema_state; /* dr_schema_state (src/schema.h), found out once */
    dr_dashboard_cache dashboard_cache;
};

static inline void dr__count(dr_client *client, dr_counter which, uint64_t n)
{
    atomic_fetch_add_explicit(&client->counters[which], n, memory_order_relaxed);
}

#endif
