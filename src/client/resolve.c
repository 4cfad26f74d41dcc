#include "resolve.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* The default endpoint's settings, each from the environment, else the profile. */
enum { USE_FIPS, USE_DUAL_STACK, ACCOUNT_ID_MODE, ACCOUNT_ID, N_ENDPOINT_SETTINGS };
static const char *const setting_env[N_ENDPOINT_SETTINGS] = {
    "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_ACCOUNT_ID_ENDPOINT_MODE",
    "AWS_ACCOUNT_ID"};
static const char *const setting_profile[N_ENDPOINT_SETTINGS] = {
    "use_fips_endpoint", "use_dualstack_endpoint", "account_id_endpoint_mode",
    "aws_account_id"};

/* "true" or "false" in any case, as the SDKs read these settings; unset is false. */
static dr_status parse_switch(const char *value, const char *source, int *out)
{
    *out = value && strcasecmp(value, "true") == 0;
    if (value && !*out && strcasecmp(value, "false") != 0)
        return dr__fail(DR_E_CONFIG, "%s must be true or false, not \"%.32s\"", source, value);
    return DR_OK;
}

/* Unset is preferred, the SDKs' default. */
static dr_status parse_account_id_mode(const char *value, const char *source,
                                       dr_account_id_mode *out)
{
    *out = DR_ACCOUNT_ID_MODE_PREFERRED;
    if (!value || strcasecmp(value, "preferred") == 0)
        return DR_OK;
    if (strcasecmp(value, "required") == 0)
        *out = DR_ACCOUNT_ID_MODE_REQUIRED;
    else if (strcasecmp(value, "disabled") == 0)
        *out = DR_ACCOUNT_ID_MODE_DISABLED;
    else
        return dr__fail(DR_E_CONFIG, "%s must be preferred, required or disabled, not "
                                     "\"%.32s\"", source, value);
    return DR_OK;
}

static const char *service_name(dr_endpoint_service service)
{
    switch (service) {
    case DR_ENDPOINT_STREAMS:
        return "DynamoDB Streams";
    case DR_ENDPOINT_STS:
        return "STS";
    case DR_ENDPOINT_SSO_PORTAL:
        return "SSO";
    default:
        return "DynamoDB";
    }
}

/* The endpoint the rule set gives for `region` with the FIPS, dual-stack and account-ID
 * settings of the environment and `profile`, and `override` (a configured endpoint URL,
 * or NULL) as its Endpoint parameter: an override is returned as given, unless FIPS or
 * dual-stack is also asked for, which the rule sets refuse as the SDKs do. */
static dr_status rule_set_endpoint(const char *region, const char *profile,
                                   dr_endpoint_service service, const char *override,
                                   dr_endpoint_result *out)
{
    const char *name = dr__profile_name(profile);
    char *from_profile[N_ENDPOINT_SETTINGS];
    const char *value[N_ENDPOINT_SETTINGS];
    char source[N_ENDPOINT_SETTINGS][160];
    dr_endpoint_params params;
    const char *error;
    dr_status rc;
    size_t i;

    /* A config file that cannot be read counts as empty, as in botocore: the region and
     * credentials chains report it where it matters. */
    rc = dr__profile_settings(name, N_ENDPOINT_SETTINGS, setting_profile, from_profile);
    if (rc == DR_E_NOMEM)
        return rc;
    for (i = 0; i < N_ENDPOINT_SETTINGS; i++) {
        value[i] = dr__env(setting_env[i]);
        snprintf(source[i], sizeof source[i], "%s", setting_env[i]);
        if (!value[i] && from_profile[i]) {
            value[i] = from_profile[i];
            snprintf(source[i], sizeof source[i], "`%s` in profile \"%.64s\"",
                     setting_profile[i], name);
        }
    }
    memset(&params, 0, sizeof params);
    params.region = region;
    params.endpoint = override;
    params.account_id = value[ACCOUNT_ID];
    rc = parse_switch(value[USE_FIPS], source[USE_FIPS], &params.use_fips);
    if (rc == DR_OK)
        rc = parse_switch(value[USE_DUAL_STACK], source[USE_DUAL_STACK], &params.use_dual_stack);
    if (rc == DR_OK)
        rc = parse_account_id_mode(value[ACCOUNT_ID_MODE], source[ACCOUNT_ID_MODE],
                                   &params.account_id_mode);
    /* DynamoDB Local serves the Streams API on the same port; the Streams rule set has no
     * "local" region. */
    if (service == DR_ENDPOINT_STREAMS && strcmp(region, "local") == 0)
        service = DR_ENDPOINT_DYNAMODB;
    if (rc == DR_OK && (error = dr__endpoint_resolve(service, &params, out)) != NULL)
        rc = override ? dr__fail(DR_E_CONFIG, "%s endpoint %.200s: %s", service_name(service),
                                 override, error)
                      : dr__fail(DR_E_CONFIG, "%s endpoint of region %s: %s",
                                 service_name(service), region, error);
    for (i = 0; i < N_ENDPOINT_SETTINGS; i++)
        dr__free(from_profile[i]);
    return rc;
}

/* The endpoint configured for `service`, or NULL. The Streams API has settings of its own
 * and otherwise shares DynamoDB's, as DynamoDB Local serves both. */
static dr_status configured_override(const char *configured, const char *profile,
                                     dr_endpoint_service service, char **out)
{
    dr_endpoint_query q;
    memset(&q, 0, sizeof q);
    q.service_id = "dynamodb";
    if (service == DR_ENDPOINT_STREAMS) {
        q.service_id = "dynamodb streams";
        q.fallback_service_id = "dynamodb";
    } else if (service == DR_ENDPOINT_STS) {
        q.service_id = "sts";
    } else if (service == DR_ENDPOINT_SSO_PORTAL) {
        q.service_id = "sso";
    }
    q.profile = profile;
    q.configured = configured;
    return dr__configured_endpoint(&q, out);
}

dr_status dr__resolve_endpoint(const char *configured, const char *region, const char *profile,
                               dr_endpoint_service service, char **endpoint_out,
                               char **host_out, const char **signing_region_out)
{
    char *override;
    const char *url;
    dr_endpoint_result resolved;
    dr_url_parts parts;
    dr_buf endpoint = DR_BUF_INIT, host = DR_BUF_INIT;
    dr_status rc;

    if ((rc = configured_override(configured, profile, service, &override)) != DR_OK)
        return rc;
    *signing_region_out = region;
    rc = rule_set_endpoint(region, profile, service, override, &resolved);
    dr__free(override);
    if (rc != DR_OK)
        return rc;
    url = resolved.url;
    if (resolved.signing_region)
        *signing_region_out = resolved.signing_region;
    rc = dr__url_parse(url, &parts);
    if (rc != DR_OK)
        return dr__fail_context(DR_E_CONFIG, "endpoint");
    if (strcmp(parts.scheme, "http") == 0 && !dr__host_is_loopback(parts.host))
        return dr__fail(DR_E_CONFIG,
                        "endpoint: plain http is only allowed to loopback hosts, not %s",
                        parts.host);
    if (strcmp(parts.path, "/") != 0)
        return dr__fail(DR_E_CONFIG, "endpoint: a path is not supported (%s)", parts.path);
    dr__url_host_header(&parts, &host);
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
