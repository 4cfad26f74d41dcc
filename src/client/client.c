#include "client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "retry.h"
#include "sigv4.h"

/* The first non-empty value of an explicit setting and environment variables. */
static const char *first_set(const char *explicit_value, const char *env1, const char *env2)
{
    const char *v;
    if (explicit_value)
        return explicit_value;
    if (env1 && (v = getenv(env1)) && *v)
        return v;
    if (env2 && (v = getenv(env2)) && *v)
        return v;
    return NULL;
}

/* The endpoint of `service_host` ("dynamodb" or "streams.dynamodb") in the client's
 * region, or the override `url`: into *endpoint_out ("scheme://host[:port]") and
 * *host_out (the Host header as signed). */
static dr_status resolve_one_endpoint(const dr_client *c, const char *url,
                                      const char *service_host, char **endpoint_out,
                                      char **host_out)
{
    dr_url_parts parts;
    dr_buf endpoint = DR_BUF_INIT, host = DR_BUF_INIT;
    dr_status rc;
    int ipv6;

    if (url) {
        if ((rc = dr__url_parse(url, &parts)) != DR_OK)
            return dr__fail_context(DR_E_CONFIG, "endpoint");
        if (strcmp(parts.scheme, "http") == 0 && !dr__host_is_loopback(parts.host))
            return dr__fail(DR_E_CONFIG,
                            "endpoint: plain http is only allowed to loopback hosts, not %s",
                            parts.host);
        if (strcmp(parts.path, "/") != 0)
            return dr__fail(DR_E_CONFIG, "endpoint: a path is not supported (%s)", parts.path);
    } else {
        memset(&parts, 0, sizeof parts);
        strcpy(parts.scheme, "https");
        snprintf(parts.host, sizeof parts.host, "%s.%s.amazonaws.com", service_host, c->region);
    }
    ipv6 = strchr(parts.host, ':') != NULL;
    dr__buf_printf(&host, ipv6 ? "[%s]" : "%s", parts.host);
    /* The Host header carries the port only when it is not the scheme's default,
     * exactly as the HTTP client sends it, so the signature matches. */
    if (parts.port && !((parts.port == 80 && strcmp(parts.scheme, "http") == 0) ||
                        (parts.port == 443 && strcmp(parts.scheme, "https") == 0)))
        dr__buf_printf(&host, ":%u", (unsigned)parts.port);
    dr__buf_printf(&endpoint, "%s://%s", parts.scheme, dr__buf_cstr(&host));
    if ((rc = dr__buf_ok(&endpoint)) != DR_OK || (rc = dr__buf_ok(&host)) != DR_OK) {
        dr__buf_free(&endpoint);
        dr__buf_free(&host);
        return rc;
    }
    *endpoint_out = dr__buf_detach(&endpoint);
    *host_out = dr__buf_detach(&host);
    return DR_OK;
}

/* Explicit -> AWS_ENDPOINT_URL_DYNAMODB -> AWS_ENDPOINT_URL -> the regional endpoints.
 * An override serves both APIs, as DynamoDB Local does. */
static dr_status resolve_endpoint(dr_client *c, const char *configured)
{
    const char *url = first_set(configured, "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL");
    dr_status rc = resolve_one_endpoint(c, url, "dynamodb", &c->endpoint, &c->host_header);
    if (rc == DR_OK)
        rc = resolve_one_endpoint(c, url, "streams.dynamodb", &c->streams_endpoint,
                                  &c->streams_host_header);
    return rc;
}

static dr_status resolve_table(char **slot, const char *configured, const char *env,
                               const char *fallback, const char *what)
{
    const char *name = first_set(configured, env, NULL);
    dr_status rc;
    if (!name)
        name = fallback;
    if ((rc = dr__validate_table_name(what, name)) != DR_OK)
        return dr__fail_context(DR_E_CONFIG, "%s", env);
    *slot = dr__strdup(name);
    return *slot ? DR_OK : dr__fail(DR_E_NOMEM, "out of memory");
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
    c->mode = config->mode;
    c->log_fn = config->log_fn;
    c->log_level = config->log_level;
    c->log_payload = config->log_payload;

    creds.access_key_id = config->access_key_id;
    creds.secret_access_key = config->secret_access_key;
    creds.session_token = config->session_token;
    creds.profile = config->profile;
    creds.log_fn = config->log_fn;
    creds.log_level = config->log_level;
    creds.log_payload = config->log_payload;

    if ((rc = dr__region_resolve(config->region, config->profile, &c->region)) != DR_OK ||
        (rc = resolve_endpoint(c, config->endpoint)) != DR_OK ||
        (rc = resolve_table(&c->ratings_table, config->ratings_table,
                            "DYNAMODB_RATINGS_TABLE", DR_DEFAULT_RATINGS_TABLE,
                            "ratings table")) != DR_OK ||
        (rc = resolve_table(&c->stats_table, config->stats_table, "DYNAMODB_STATS_TABLE",
                            DR_DEFAULT_STATS_TABLE, "stats table")) != DR_OK ||
        (rc = dr__http_pool_new(&c->pool)) != DR_OK ||
        (rc = dr__credentials_chain_new(&c->credentials, &creds)) != DR_OK ||
        (rc = dr__sigv4_signer_new(&c->signer)) != DR_OK ||
        (rc = dr__retry_quota_new(&c->quota, c->retry_policy)) != DR_OK) {
        dr_client_free(c);
        return rc;
    }
    dr__log(c, DR_LOG_INFO, "client ready: region %s, endpoint %s, %s retries (%u attempts)",
            c->region, c->endpoint, c->retry_policy->name, c->max_attempts);
    *out = c;
    return DR_OK;
}

DR_API void dr_client_free(dr_client *c)
{
    if (!c)
        return;
    dr__retry_quota_free(c->quota);
    dr__sigv4_signer_free(c->signer);
    dr__credentials_chain_free(c->credentials);
    dr__http_pool_free(c->pool);
    dr__free(c->region);
    dr__free(c->endpoint);
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

void dr__log(const dr_client *c, dr_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (!c || !c->log_fn || level > c->log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->log_fn(level, line, c->log_payload);
}
