#include "configured_endpoint.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "credentials_provider.h"
#include "env.h"
#include "error.h"
#include "profile_file.h"

/* Service ids are the SDKs' short names ("dynamodb streams"); a longer one is a bug. */
#define DR_SERVICE_ID_MAX 64

static dr_ini_span span_of(const char *s)
{
    dr_ini_span span;
    span.ptr = s;
    span.len = s ? strlen(s) : 0;
    return span;
}

/* The SDKs read these switches as "true" in any case; anything else is false. */
static int is_true(const char *value)
{
    return value && strcasecmp(value, "true") == 0;
}

static const char *profile_value(const dr_profile_section *profile, const char *name)
{
    const dr_profile_property *p = dr__profile_property(profile, name);
    return p ? dr__buf_cstr(&p->value) : NULL;
}

/* `prefix` then the service id with spaces as `_`, upper-cased or lower-cased. */
static void service_name(const char *prefix, const char *service_id, int upper, char *out,
                         size_t cap)
{
    size_t i, n = (size_t)snprintf(out, cap, "%s%s", prefix, service_id);
    for (i = strlen(prefix); i < n && i < cap; i++) {
        char c = out[i];
        if (c == ' ')
            c = '_';
        else if (upper && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        else if (!upper && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        out[i] = c;
    }
}

/* Sources 2-5 of dr__configured_endpoint, in order, for each service id in turn. */
static dr_ini_span configured_in(const dr_profile_set *set, const dr_profile_section *profile,
                                 const char *const ids[], size_t n_ids)
{
    char name[DR_SERVICE_ID_MAX + 32];
    const dr_profile_section *services = NULL;
    dr_ini_span url = {NULL, 0};
    size_t i;

    for (i = 0; !url.len && i < n_ids; i++) {
        service_name("AWS_ENDPOINT_URL_", ids[i], 1, name, sizeof name);
        url = span_of(dr__env(name));
    }
    if (!url.len)
        url = span_of(dr__env("AWS_ENDPOINT_URL"));
    if (profile_value(profile, "services"))
        services = dr__profile_find(&set->services, profile_value(profile, "services"));
    for (i = 0; !url.len && i < n_ids; i++) {
        const char *block;
        service_name("", ids[i], 0, name, sizeof name);
        if ((block = profile_value(services, name)) != NULL)
            dr__profile_sub_property(block, "endpoint_url", &url);
    }
    if (!url.len)
        url = span_of(profile_value(profile, "endpoint_url"));
    return url;
}

dr_status dr__configured_endpoint(const dr_endpoint_query *q, char **out)
{
    const char *const ids[2] = {q->service_id, q->fallback_service_id};
    dr_profile_set set = DR_PROFILE_SET_INIT;
    const dr_profile_section *profile;
    dr_ini_span url = {NULL, 0};
    dr_status rc;
    size_t i;

    *out = NULL;
    for (i = 0; i < 2; i++)
        if (ids[i] && strlen(ids[i]) > DR_SERVICE_ID_MAX)
            return dr__fail(DR_E_INTERNAL, "service id longer than %d characters",
                            DR_SERVICE_ID_MAX);
    if (q->configured && *q->configured)
        url = span_of(q->configured);
    else if (!q->ignore_configured && !is_true(dr__env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))) {
        /* The profile is read even when the environment sets the URL: the profile's
         * ignore_configured_endpoint_urls switches the environment's off too. */
        if ((rc = dr__profile_set_load(&set)) != DR_OK) {
            dr__profile_set_free(&set);
            return rc == DR_E_NOMEM ? rc : dr__fail_context(DR_E_CONFIG, "endpoint");
        }
        profile = dr__profile_find(&set.profiles, dr__profile_name(q->profile));
        if (!is_true(profile_value(profile, "ignore_configured_endpoint_urls")))
            url = configured_in(&set, profile, ids, q->fallback_service_id ? 2 : 1);
    }
    rc = DR_OK;
    if (url.len && !(*out = dr__strndup(url.ptr, url.len)))
        rc = dr__fail(DR_E_NOMEM, "out of memory copying the endpoint");
    dr__profile_set_free(&set);
    return rc;
}
