#include "config.h"

#include <string.h>

#include "alloc.h"
#include "error.h"
#include "http.h"

DR_API dr_status dr_config_new(dr_config **out)
{
    dr_config *c;
    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_config_new: out is NULL");
    *out = NULL;
    c = dr__calloc(1, sizeof *c);
    if (!c)
        return dr__fail(DR_E_NOMEM, "out of memory creating a configuration");
    c->mode = DR_AGGREGATION_INLINE;
    *out = c;
    return DR_OK;
}

DR_API void dr_config_free(dr_config *c)
{
    if (!c)
        return;
    dr__free(c->region);
    dr__free(c->endpoint);
    dr__free(c->access_key_id);
    dr__free_secret(c->secret_access_key);
    dr__free_secret(c->session_token);
    dr__free(c->profile);
    dr__free(c->ratings_table);
    dr__free(c->stats_table);
    dr__free(c);
}

/* Replace *slot with a copy of value (NULL unsets); on OOM nothing changes. */
static dr_status set_string(char **slot, const char *value, int secret)
{
    char *copy = NULL;
    if (value && !(copy = dr__strdup(value)))
        return dr__fail(DR_E_NOMEM, "out of memory copying a configuration value");
    if (secret)
        dr__free_secret(*slot);
    else
        dr__free(*slot);
    *slot = copy;
    return DR_OK;
}

#define REQUIRE_CONFIG(c, fn)                                                             \
    do {                                                                                  \
        if (!(c))                                                                         \
            return dr__fail(DR_E_INVALID_ARGUMENT, fn ": config is NULL");                \
    } while (0)

DR_API dr_status dr_config_set_region(dr_config *c, const char *region)
{
    REQUIRE_CONFIG(c, "dr_config_set_region");
    if (region && !dr__region_is_valid(region))
        return dr__fail(DR_E_INVALID_ARGUMENT,
                        "region: 1..%d characters, only a-z, 0-9 and '-' are allowed",
                        DR_REGION_MAX);
    return set_string(&c->region, region, 0);
}

DR_API dr_status dr_config_set_endpoint(dr_config *c, const char *url)
{
    dr_url_parts parts;
    dr_status rc;
    REQUIRE_CONFIG(c, "dr_config_set_endpoint");
    if (url) {
        if ((rc = dr__url_parse(url, &parts)) != DR_OK)
            return dr__fail_context(rc, "endpoint");
        if (strcmp(parts.scheme, "http") == 0 && !dr__host_is_loopback(parts.host))
            return dr__fail(DR_E_INVALID_ARGUMENT,
                            "endpoint: plain http is only allowed to loopback hosts");
    }
    return set_string(&c->endpoint, url, 0);
}

DR_API dr_status dr_config_set_credentials(dr_config *c, const char *access_key_id,
                                           const char *secret_access_key,
                                           const char *session_token)
{
    char *id = NULL, *secret = NULL, *token = NULL;
    REQUIRE_CONFIG(c, "dr_config_set_credentials");
    if (!access_key_id != !secret_access_key)
        return dr__fail(DR_E_INVALID_ARGUMENT,
                        "credentials: access key id and secret access key go together");
    if (access_key_id && (!*access_key_id || !*secret_access_key))
        return dr__fail(DR_E_INVALID_ARGUMENT, "credentials: keys must not be empty");
    if (!access_key_id && session_token)
        return dr__fail(DR_E_INVALID_ARGUMENT, "credentials: a session token needs keys");
    if (access_key_id) {
        id = dr__strdup(access_key_id);
        secret = dr__strdup(secret_access_key);
        token = session_token ? dr__strdup(session_token) : NULL;
        if (!id || !secret || (session_token && !token)) {
            dr__free(id);
            dr__free_secret(secret);
            dr__free_secret(token);
            return dr__fail(DR_E_NOMEM, "out of memory copying credentials");
        }
    }
    dr__free(c->access_key_id);
    dr__free_secret(c->secret_access_key);
    dr__free_secret(c->session_token);
    c->access_key_id = id;
    c->secret_access_key = secret;
    c->session_token = token;
    return DR_OK;
}

DR_API dr_status dr_config_set_profile(dr_config *c, const char *profile)
{
    REQUIRE_CONFIG(c, "dr_config_set_profile");
    if (profile && (!*profile || strlen(profile) > 128 || strpbrk(profile, "[]\r\n")))
        return dr__fail(DR_E_INVALID_ARGUMENT, "profile: must be 1..128 characters without "
                                               "brackets or line breaks");
    return set_string(&c->profile, profile, 0);
}

dr_status dr__validate_table_name(const char *what, const char *name)
{
    size_t i, n = strlen(name);
    if (n < 3 || n > 255)
        return dr__fail(DR_E_INVALID_ARGUMENT, "%s: table names are 3..255 characters", what);
    for (i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
            return dr__fail(DR_E_INVALID_ARGUMENT,
                            "%s: table names use only A-Z, a-z, 0-9, '_', '-' and '.'", what);
    }
    return DR_OK;
}

DR_API dr_status dr_config_set_ratings_table(dr_config *c, const char *table)
{
    dr_status rc;
    REQUIRE_CONFIG(c, "dr_config_set_ratings_table");
    if (table && (rc = dr__validate_table_name("ratings table", table)) != DR_OK)
        return rc;
    return set_string(&c->ratings_table, table, 0);
}

DR_API dr_status dr_config_set_stats_table(dr_config *c, const char *table)
{
    dr_status rc;
    REQUIRE_CONFIG(c, "dr_config_set_stats_table");
    if (table && (rc = dr__validate_table_name("stats table", table)) != DR_OK)
        return rc;
    return set_string(&c->stats_table, table, 0);
}

DR_API dr_status dr_config_set_connect_timeout_ms(dr_config *c, uint32_t ms)
{
    REQUIRE_CONFIG(c, "dr_config_set_connect_timeout_ms");
    c->connect_timeout_ms = ms;
    return DR_OK;
}

DR_API dr_status dr_config_set_request_timeout_ms(dr_config *c, uint32_t ms)
{
    REQUIRE_CONFIG(c, "dr_config_set_request_timeout_ms");
    c->request_timeout_ms = ms;
    return DR_OK;
}

DR_API dr_status dr_config_set_max_attempts(dr_config *c, uint32_t attempts)
{
    REQUIRE_CONFIG(c, "dr_config_set_max_attempts");
    if (attempts > DR_MAX_ATTEMPTS_LIMIT)
        return dr__fail(DR_E_INVALID_ARGUMENT, "max attempts: must be 0..%u",
                        DR_MAX_ATTEMPTS_LIMIT);
    c->max_attempts = attempts;
    return DR_OK;
}

DR_API dr_status dr_config_set_aggregation_mode(dr_config *c, dr_aggregation_mode mode)
{
    REQUIRE_CONFIG(c, "dr_config_set_aggregation_mode");
    if (mode != DR_AGGREGATION_INLINE && mode != DR_AGGREGATION_STREAM)
        return dr__fail(DR_E_INVALID_ARGUMENT, "aggregation mode: unknown value %d",
                        (int)mode);
    c->mode = mode;
    return DR_OK;
}

DR_API dr_status dr_config_set_global_shards(dr_config *c, uint32_t shards)
{
    REQUIRE_CONFIG(c, "dr_config_set_global_shards");
    if (shards < 1 || shards > DR_MAX_GLOBAL_SHARDS)
        return dr__fail(DR_E_INVALID_ARGUMENT, "global shards: must be 1..%u",
                        DR_MAX_GLOBAL_SHARDS);
    c->global_shards = shards;
    return DR_OK;
}

DR_API dr_status dr_config_set_dashboard_max_age_ms(dr_config *c, uint32_t max_age_ms)
{
    REQUIRE_CONFIG(c, "dr_config_set_dashboard_max_age_ms");
    if (max_age_ms > DR_MAX_DASHBOARD_AGE_MS)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dashboard max age: must be 0..%u ms",
                        DR_MAX_DASHBOARD_AGE_MS);
    c->dashboard_max_age_ms = max_age_ms;
    return DR_OK;
}

DR_API dr_status dr_config_set_log(dr_config *c, dr_log_fn fn, dr_log_level max_level,
                                   void *payload)
{
    REQUIRE_CONFIG(c, "dr_config_set_log");
    if (fn && (max_level < DR_LOG_ERROR || max_level > DR_LOG_DEBUG))
        return dr__fail(DR_E_INVALID_ARGUMENT, "log level: unknown value %d", (int)max_level);
    c->log.fn = fn;
    c->log.level = max_level;
    c->log.payload = payload;
    return DR_OK;
}
