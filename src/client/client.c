#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "resolve.h"
#include "retry.h"
#include "sigv4.h"

/* STS, for roles the credentials chain assumes: resolved here, where the partitions are
 * known, and handed down to the aws layer. */
static dr_status resolve_sts_endpoint(dr_client *c, const char *profile)
{
    char *host = NULL;
    const char *signing_region;
    dr_status rc = dr__resolve_endpoint(NULL, c->region, profile, DR_ENDPOINT_STS,
                                        &c->sts_endpoint, &host, &signing_region);
    dr__free(host);
    return rc;
}

/* dr_endpoint_resolver for the SSO portal of an sso_region, resolved as DynamoDB's is. */
static dr_status resolve_portal_endpoint(const dr_endpoint_resolver *self, const char *service,
                                         const char *region, char **url)
{
    const dr_client *c =
        (const dr_client *)(const void *)((const char *)self - offsetof(dr_client, portal_endpoints));
    char *host = NULL;
    const char *signing_region;
    dr_status rc;

    *url = NULL;
    if (strcmp(service, "sso") != 0)
        return dr__fail(DR_E_INTERNAL, "no endpoint rules for service %s", service);
    rc = dr__resolve_endpoint(NULL, region, c->profile, DR_ENDPOINT_SSO_PORTAL, url, &host,
                              &signing_region);
    dr__free(host);
    return rc;
}

static dr_status new_credentials_chain(dr_client *c, dr_credentials_options *creds)
{
    creds->region = c->region;
    creds->sts_endpoint = c->sts_endpoint;
    c->portal_endpoints.resolve = resolve_portal_endpoint;
    creds->endpoints = &c->portal_endpoints;
    return dr__credentials_chain_new(&c->credentials, creds);
}

DR_API dr_status dr_client_new(dr_client **out, const dr_config *config)
{
    static const dr_config defaults; /* all unset */
    dr_credentials_options creds = {0};
    dr_client *c;
    dr_status rc;

    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_new: out is NULL");
    *out = NULL;
    if (!config)
        config = &defaults;

    c = dr__calloc(1, sizeof *c);
    if (!c)
        return dr__fail(DR_E_NOMEM, "out of memory creating a client");
    c->connect_timeout_ms = config->connect_timeout_ms ? config->connect_timeout_ms
                                                       : DR_DEFAULT_CONNECT_TIMEOUT_MS;
    c->request_timeout_ms = config->request_timeout_ms ? config->request_timeout_ms
                                                       : DR_DEFAULT_REQUEST_TIMEOUT_MS;
    c->retry_policy = dr__retry_policy_from_env();
    c->max_attempts = config->max_attempts ? config->max_attempts : c->retry_policy->max_attempts;
    c->global_shards = config->global_shards ? config->global_shards : 1;
    c->dashboard_max_age_ms = config->dashboard_max_age_ms;
    c->mode = config->mode;
    pthread_mutex_init(&c->dashboard_cache.lock, NULL);
    pthread_cond_init(&c->dashboard_cache.fetched, NULL);
    c->log = config->log;

    creds.access_key_id = config->access_key_id;
    creds.secret_access_key = config->secret_access_key;
    creds.session_token = config->session_token;
    creds.profile = config->profile;
    creds.log = config->log;
    if (config->profile && !(c->profile = dr__strdup(config->profile))) {
        dr_client_free(c);
        return dr__fail(DR_E_NOMEM, "out of memory creating a client");
    }

    if ((rc = dr__resolve_region(config->region, config->profile, &c->region)) != DR_OK ||
        (rc = dr__resolve_endpoint(config->endpoint, c->region, config->profile,
                                   DR_ENDPOINT_DYNAMODB, &c->endpoint, &c->host_header,
                                   &c->signing_region)) != DR_OK ||
        (rc = dr__resolve_endpoint(config->endpoint, c->region, config->profile,
                                   DR_ENDPOINT_STREAMS, &c->streams_endpoint,
                                   &c->streams_host_header,
                                   &c->streams_signing_region)) != DR_OK ||
        (rc = resolve_sts_endpoint(c, config->profile)) != DR_OK ||
        (rc = dr__resolve_table(config->ratings_table, "DYNAMODB_RATINGS_TABLE",
                                DR_DEFAULT_RATINGS_TABLE, "ratings table",
                                &c->ratings_table)) != DR_OK ||
        (rc = dr__resolve_table(config->stats_table, "DYNAMODB_STATS_TABLE",
                                DR_DEFAULT_STATS_TABLE, "stats table",
                                &c->stats_table)) != DR_OK ||
        (rc = dr__http_pool_new(&c->pool)) != DR_OK ||
        (rc = new_credentials_chain(c, &creds)) != DR_OK ||
        (rc = dr__sigv4_signer_new(&c->signer)) != DR_OK ||
        (rc = dr__retry_quota_new(&c->quota, c->retry_policy)) != DR_OK) {
        dr_client_free(c);
        return rc;
    }
    dr__logf(&c->log, DR_LOG_INFO, "client ready: region %s, endpoint %s, %s retries (%u attempts)",
             c->region, c->endpoint, c->retry_policy->name, c->max_attempts);
    *out = c;
    return DR_OK;
}

DR_API void dr_client_free(dr_client *c)
{
    if (!c)
        return;
    if (c->dashboard_cache.latest)
        c->dashboard_cache.release(c->dashboard_cache.latest);
    pthread_cond_destroy(&c->dashboard_cache.fetched);
    pthread_mutex_destroy(&c->dashboard_cache.lock);
    dr__retry_quota_free(c->quota);
    dr__sigv4_signer_free(c->signer);
    dr__credentials_chain_free(c->credentials);
    dr__http_pool_free(c->pool);
    dr__free(c->region);
    dr__free(c->endpoint);
    dr__free(c->sts_endpoint);
    dr__free(c->profile);
    dr__free(c->host_header);
    dr__free(c->streams_endpoint);
    dr__free(c->streams_host_header);
    dr__free(c->ratings_table);
    dr__free(c->stats_table);
    dr__free(c);
}

DR_API dr_status dr_client_counter(const dr_client *c, dr_counter which, uint64_t *out)
{
    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_counter: out is NULL");
    *out = 0;
    if (!c)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_counter: client is NULL");
    if ((unsigned)which > DR_COUNTER_TRANSACTION_CONFLICTS)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_counter: unknown counter %d",
                        (int)which);
    *out = atomic_load_explicit(&c->counters[which], memory_order_relaxed);
    return DR_OK;
}

DR_API dr_status dr_client_describe(const dr_client *c, dr_client_fact fact, char **out)
{
    char source[DR_CREDENTIAL_SOURCE_MAX];
    const char *text;

    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_describe: out is NULL");
    *out = NULL;
    if (!c)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_describe: client is NULL");
    switch (fact) {
    case DR_FACT_REGION: text = c->region; break;
    case DR_FACT_ENDPOINT: text = c->endpoint; break;
    case DR_FACT_STREAMS_ENDPOINT: text = c->streams_endpoint; break;
    case DR_FACT_CREDENTIAL_SOURCE:
        dr__credentials_chain_source(c->credentials, source, sizeof source);
        text = source;
        break;
    default:
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_describe: unknown fact %d", (int)fact);
    }
    *out = dr__strdup(text);
    return *out ? DR_OK : dr__fail(DR_E_NOMEM, "out of memory describing the client");
}
