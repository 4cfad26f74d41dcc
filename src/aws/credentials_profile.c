/* Credentials and settings from the shared config and credentials files, looked up in
 * the profiles both define once merged (profile_file.h), as the AWS SDKs do. The files
 * are re-read on every resolution, so an edited file is picked up at the next refresh. */
#include <string.h>

#include "alloc.h"
#include "credentials_provider.h"
#include "env.h"
#include "error.h"
#include "profile_file.h"

const char *dr__profile_name(const char *configured)
{
    const char *env;
    if (configured && *configured)
        return configured;
    env = dr__env("AWS_PROFILE");
    return env ? env : "default";
}

/* `name` of `profile` if it came from the file `origin`, else NULL. */
static const char *value_from(const dr_profile_section *profile, const char *name,
                              dr_profile_file_kind origin)
{
    const dr_profile_property *p = dr__profile_property(profile, name);
    return p && p->origin == origin ? dr__buf_cstr(&p->value) : NULL;
}

/* A profile without keys that names another source: SSO (sso_session or sso_start_url),
 * else credential_process, in the Go SDK's order. 0 if it names neither. The account id
 * of the profile (aws_account_id) stands in when the process gives none, as in the Rust
 * SDK. */
static int from_other_source(const dr_profile_set *set, const char *name,
                             const dr_profile_section *section, dr_credentials **out,
                             dr_status *rc)
{
    const dr_profile_property *process = dr__profile_property(section, "credential_process");
    const dr_profile_property *account = dr__profile_property(section, "aws_account_id");
    dr_provider_context ctx = {name, "", 0};

    if (dr__profile_property(section, "sso_session") ||
        dr__profile_property(section, "sso_start_url")) {
        *rc = dr__credentials_from_sso(&ctx, set, section, out);
        return 1;
    }
    if (!process || !process->value.len)
        return 0;
    *rc = dr__credentials_from_process(&ctx, dr__buf_cstr(&process->value), out);
    if (*rc == DR_OK && !(*out)->account_id && account &&
        (*rc = dr__credentials_set_account_id(*out, dr__buf_cstr(&account->value))) != DR_OK) {
        dr__credentials_release(*out);
        *out = NULL;
    }
    return 1;
}

dr_status dr__credentials_from_profile(const char *profile, dr_credentials **out)
{
    dr_profile_set set = DR_PROFILE_SET_INIT;
    const dr_profile_section *section;
    const dr_profile_property *akid;
    const char *secret, *token, *creds_display, *config_display;
    dr_status rc;

    *out = NULL;
    rc = dr__profile_set_load(&set);
    if (rc != DR_OK) {
        dr__profile_set_free(&set);
        return rc == DR_E_NOMEM ? rc : dr__fail_context(DR_E_CREDENTIALS, "shared files");
    }
    creds_display = dr__profile_file_display(DR_PROFILE_CREDENTIALS_FILE);
    config_display = dr__profile_file_display(DR_PROFILE_CONFIG_FILE);
    section = dr__profile_find(&set.profiles, profile);
    akid = dr__profile_property(section, "aws_access_key_id");
    /* The key set is taken whole from the file that gave the key id, never mixed: a stale
     * session token in one file must not be paired with fresh keys from the other. */
    secret = akid ? value_from(section, "aws_secret_access_key", akid->origin) : NULL;
    token = akid ? value_from(section, "aws_session_token", akid->origin) : NULL;
    if (!section)
        rc = dr__fail(DR_E_CREDENTIALS, "not found in %s or %s", creds_display, config_display);
    else if (!akid && from_other_source(&set, profile, section, out, &rc))
        ; /* rc and *out set */
    else if (!akid || !akid->value.len)
        rc = dr__fail(DR_E_CREDENTIALS, "no aws_access_key_id in %s or %s", creds_display,
                      config_display);
    else if (!secret || !*secret)
        rc = dr__fail(DR_E_CREDENTIALS, "aws_access_key_id but no aws_secret_access_key in %s",
                      akid->origin == DR_PROFILE_CREDENTIALS_FILE ? creds_display
                                                                  : config_display);
    else if (!(*out = dr__credentials_new(dr__buf_cstr(&akid->value), secret,
                                          token && *token ? token : NULL, 0)))
        rc = dr__fail(DR_E_NOMEM, "out of memory copying credentials");
    dr__profile_set_free(&set);
    return rc;
}

dr_status dr__profile_settings(const char *profile, size_t n, const char *const names[],
                               char *values[])
{
    dr_profile_set set = DR_PROFILE_SET_INIT;
    const dr_profile_section *section;
    dr_status rc;
    size_t i;

    for (i = 0; i < n; i++)
        values[i] = NULL;
    rc = dr__profile_set_load(&set);
    section = dr__profile_find(&set.profiles, profile);
    for (i = 0; rc == DR_OK && i < n; i++) {
        const dr_profile_property *p = dr__profile_property(section, names[i]);
        if (p && p->value.len && !(values[i] = dr__strdup(dr__buf_cstr(&p->value))))
            rc = dr__fail(DR_E_NOMEM, "out of memory reading the shared files");
    }
    if (rc != DR_OK)
        for (i = 0; i < n; i++) {
            dr__free(values[i]);
            values[i] = NULL;
        }
    dr__profile_set_free(&set);
    return rc;
}

dr_status dr__profile_region(const char *profile, char **out)
{
    static const char *const name[] = {"region"};
    return dr__profile_settings(profile, 1, name, out);
}
