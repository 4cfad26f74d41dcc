#include "resolve.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "config.h"
#include "configured_endpoint.h"
#include "credentials_provider.h"
#include "env.h"
#include "error.h"
#include "http.h"
#include "sigv4.h"

/* The first non-empty value of an explicit setting and environment variables. */
static const char *first_set(const char *configured, const char *env1, const char *env2)
{
    if (configured)
        return configured;
    if (env1 && dr__env(env1))
        return dr__env(env1);
    return env2 ? dr__env(env2) : NULL;
}

static dr_status copy_region(const char *region, const char *source, char **out)
{
    if (!dr__region_is_valid(region))
        return dr__fail(DR_E_CONFIG, "region from %s is invalid: only a-z, 0-9 and '-' "
                                     "are allowed, 1..%d characters", source, DR_REGION_MAX);
    *out = dr__strdup(region);
    return *out ? DR_OK : dr__fail(DR_E_NOMEM, "out of memory");
}

dr_status dr__resolve_region(const char *configured, const char *profile, char **out)
{
    const char *name = dr__profile_name(profile);
    char *from_profile = NULL;
    dr_status rc;

    *out = NULL;
    if (configured)
        return copy_region(configured, "the configuration", out);
    if (dr__env("AWS_REGION"))
        return copy_region(dr__env("AWS_REGION"), "AWS_REGION", out);
    if (dr__env("AWS_DEFAULT_REGION"))
        return copy_region(dr__env("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION", out);
    rc = dr__profile_region(name, &from_profile);
    if (rc == DR_E_NOMEM)
        return rc;
    if (rc == DR_OK && from_profile) {
        rc = copy_region(from_profile, "the shared config file", out);
        dr__free(from_profile);
        return rc;
    }
    if (rc != DR_OK)
        return dr__fail_context(DR_E_CONFIG, "no region: set one in the configuration, "
                                "AWS_REGION, AWS_DEFAULT_REGION or `region` in profile "
                                "\"%.64s\" of the shared config file, which could not be "
                                "read", name);
    return dr__fail(DR_E_CONFIG, "no region: set one in the configuration, AWS_REGION, "
                    "AWS_DEFAULT_REGION or `region` in profile \"%.64s\" of the shared "
                    "config file (AWS_CONFIG_FILE, default ~/.aws/config)", name);
}

/* The endpoint configured for the API on `service_host`, or NULL. The Streams API has
 * settings of its own and otherwise shares DynamoDB's, as DynamoDB Local serves both. */
static dr_status configured_override(const char *configured, const char *profile,
                                     const char *service_host, char **out)
{
    dr_endpoint_query q;
    memset(&q, 0, sizeof q);
    q.service_id = "dynamodb";
    if (strcmp(service_host, "streams.dynamodb") == 0) {
        q.service_id = "dynamodb streams";
        q.fallback_service_id = "dynamodb";
    }
    q.profile = profile;
    q.configured = configured;
    return dr__configured_endpoint(&q, out);
}

dr_status dr__resolve_endpoint(const char *configured, const char *region, const char *profile,
                               const char *service_host, char **endpoint_out, char **host_out)
{
    char *url;
    dr_url_parts parts;
    dr_buf endpoint = DR_BUF_INIT, host = DR_BUF_INIT;
    dr_status rc;
    int ipv6;

    if ((rc = configured_override(configured, profile, service_host, &url)) != DR_OK)
        return rc;
    if (url) {
        rc = dr__url_parse(url, &parts);
        dr__free(url);
        if (rc != DR_OK)
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
        snprintf(parts.host, sizeof parts.host, "%s.%s.amazonaws.com", service_host, region);
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

dr_status dr__resolve_table(const char *configured, const char *env, const char *fallback,
                            const char *what, char **out)
{
    const char *name = first_set(configured, env, NULL);
    dr_status rc;
    if (!name)
        name = fallback;
    if ((rc = dr__validate_table_name(what, name)) != DR_OK)
        return dr__fail_context(DR_E_CONFIG, "%s", env);
    *out = dr__strdup(name);
    return *out ? DR_OK : dr__fail(DR_E_NOMEM, "out of memory");
}
