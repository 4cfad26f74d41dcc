/* Credentials and settings from the shared config and credentials files, looked up in
 * the profiles both define once merged (profile_file.h), as the AWS SDKs do. The files
 * are re-read on every resolution, so an edited file is picked up at the next refresh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "credentials_provider.h"
#include "env.h"
#include "error.h"
#include "profile_file.h"
#include "sts.h"

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

/* `name` of `profile`, or NULL when absent or empty. */
static const char *setting(const dr_profile_section *profile, const char *name)
{
    const dr_profile_property *p = dr__profile_property(profile, name);
    return p && p->value.len ? dr__buf_cstr(&p->value) : NULL;
}

/* Source profiles followed before giving up: longer chains are loops in disguise. */
#define DR_ROLE_CHAIN_MAX 8

/* One resolution of a profile's credentials: the merged files and the profiles visited. */
typedef struct profile_walk {
    const dr_provider_context *ctx;
    dr_profile_set set;
    const char *visited[DR_ROLE_CHAIN_MAX];
    size_t depth;
    char *id;     /* the source's name for dr_client_describe */
    size_t id_cap;
} profile_walk;

static dr_status static_keys(const dr_profile_section *profile, dr_credentials **out)
{
    const dr_profile_property *akid = dr__profile_property(profile, "aws_access_key_id");
    /* The key set is taken whole from the file that gave the key id, never mixed: a stale
     * session token in one file must not be paired with fresh keys from the other. */
    const char *secret = value_from(profile, "aws_secret_access_key", akid->origin);
    const char *token = value_from(profile, "aws_session_token", akid->origin);

    if (!secret || !*secret)
        return dr__fail(DR_E_CREDENTIALS, "aws_access_key_id but no aws_secret_access_key in %s",
                        dr__profile_file_display(akid->origin));
    *out = dr__credentials_new(dr__buf_cstr(&akid->value), secret, token && *token ? token : NULL,
                               0);
    if (*out && dr__credentials_set_account_id(*out, setting(profile, "aws_account_id")) != DR_OK) {
        dr__credentials_release(*out);
        *out = NULL;
    }
    return *out ? DR_OK : dr__fail(DR_E_NOMEM, "out of memory copying credentials");
}

static dr_status from_credential_source(const profile_walk *walk, const char *source,
                                        dr_credentials **out)
{
    dr_status rc;
    if (strcmp(source, "Environment") == 0)
        rc = dr__credentials_from_env(out);
    else if (strcmp(source, "Ec2InstanceMetadata") == 0)
        rc = dr__credentials_from_imds(walk->ctx->profile, walk->ctx->timeout_ms, out);
    else if (strcmp(source, "EcsContainer") == 0)
        rc = dr__credentials_from_container(walk->ctx->timeout_ms, out);
    else
        return dr__fail(DR_E_CREDENTIALS, "credential_source %.64s is not Environment, "
                        "Ec2InstanceMetadata or EcsContainer", source);
    /* Named as the role's source, it is not optional: "not set" is a failure here. */
    return rc == DR_E_NOT_FOUND ? dr__fail_context(DR_E_CREDENTIALS, "credential_source %s",
                                                   source)
                                : rc;
}

static dr_status resolve_profile(profile_walk *walk, const char *name, int as_source,
                                 dr_credentials **out);

static dr_status assume_role(profile_walk *walk, const dr_profile_section *profile,
                             dr_credentials **out)
{
    const char *source_profile = setting(profile, "source_profile");
    const char *credential_source = setting(profile, "credential_source");
    const char *token_file = setting(profile, "web_identity_token_file");
    const char *duration = setting(profile, "duration_seconds");
    dr_credentials *base = NULL;
    dr_sts_role role = {0};
    dr_status rc;

    role.role_arn = setting(profile, "role_arn");
    role.session_name = setting(profile, "role_session_name");
    role.external_id = setting(profile, "external_id");
    if (duration) {
        char *end;
        long v = strtol(duration, &end, 10);
        if (*end || v < 900 || v > 43200)
            return dr__fail(DR_E_CREDENTIALS, "profile %.64s: duration_seconds must be 900 to "
                            "43200", profile->name);
        role.duration_s = (int)v;
    }
    if (token_file && !source_profile && !credential_source) {
        snprintf(walk->id, walk->id_cap, "web-identity:%.64s", profile->name);
        return dr__sts_assume_role_with_web_identity(walk->ctx, &role, token_file, out);
    }
    if (source_profile && credential_source)
        return dr__fail(DR_E_CREDENTIALS, "profile %.64s sets both source_profile and "
                        "credential_source", profile->name);
    if (source_profile && strcmp(source_profile, profile->name) == 0 &&
        dr__profile_property(profile, "aws_access_key_id"))
        rc = static_keys(profile, &base); /* a profile may be its own source of keys */
    else if (source_profile)
        rc = resolve_profile(walk, source_profile, 1, &base);
    else if (credential_source)
        rc = from_credential_source(walk, credential_source, &base);
    else
        return dr__fail(DR_E_CREDENTIALS, "profile %.64s has role_arn but neither "
                        "source_profile nor credential_source", profile->name);
    if (rc == DR_OK) {
        rc = dr__sts_assume_role(walk->ctx, &role, base, out);
        snprintf(walk->id, walk->id_cap, "assume-role:%.64s", walk->visited[0]);
    }
    dr__credentials_release(base);
    return rc;
}

/* The credentials profile `name` gives. `as_source`: it is another profile's
 * source_profile, where static keys win over its own role (the SDKs' rule, which lets a
 * role chain end). */
static dr_status resolve_profile(profile_walk *walk, const char *name, int as_source,
                                 dr_credentials **out)
{
    const dr_profile_section *profile = dr__profile_find(&walk->set.profiles, name);
    const char *process;
    size_t i;

    for (i = 0; i < walk->depth; i++)
        if (strcmp(walk->visited[i], name) == 0)
            return dr__fail(DR_E_CREDENTIALS, "source_profile loop through profile %.64s",
                            name);
    if (walk->depth == DR_ROLE_CHAIN_MAX)
        return dr__fail(DR_E_CREDENTIALS, "more than %d profiles in a source_profile chain",
                        DR_ROLE_CHAIN_MAX);
    /* The default profile may be absent; one the user named, or a source_profile, not. */
    if (!profile && walk->depth == 0)
        return dr__fail(walk->ctx->profile_named ? DR_E_CREDENTIALS : DR_E_NOT_FOUND,
                        "not found in %s or %s",
                        dr__profile_file_display(DR_PROFILE_CREDENTIALS_FILE),
                        dr__profile_file_display(DR_PROFILE_CONFIG_FILE));
    if (!profile)
        return dr__fail(DR_E_CREDENTIALS, "source_profile %.64s not found in %s or %s", name,
                        dr__profile_file_display(DR_PROFILE_CREDENTIALS_FILE),
                        dr__profile_file_display(DR_PROFILE_CONFIG_FILE));
    walk->visited[walk->depth++] = profile->name;

    if (setting(profile, "role_arn") &&
        !(as_source && dr__profile_property(profile, "aws_access_key_id")))
        return assume_role(walk, profile, out);
    if (setting(profile, "web_identity_token_file"))
        return dr__fail(DR_E_CREDENTIALS, "profile %.64s sets web_identity_token_file "
                        "but no role_arn", profile->name);
    /* Static keys win over SSO and credential_process (the Go and Rust SDKs' order). */
    if (dr__profile_property(profile, "aws_access_key_id")) {
        snprintf(walk->id, walk->id_cap, "profile:%.64s", profile->name);
        return static_keys(profile, out);
    }
    if (setting(profile, "sso_session") || setting(profile, "sso_start_url")) {
        snprintf(walk->id, walk->id_cap, "sso:%.64s", profile->name);
        return dr__credentials_from_sso(walk->ctx, &walk->set, profile, out);
    }
    if ((process = setting(profile, "credential_process"))) {
        dr_status rc = dr__credentials_from_process(walk->ctx, process, out);
        snprintf(walk->id, walk->id_cap, "process:%.64s", profile->name);
        /* The profile's account id stands in when the process names none (as in the
         * Rust SDK). */
        if (rc == DR_OK && !(*out)->account_id &&
            (rc = dr__credentials_set_account_id(*out, setting(profile, "aws_account_id"))) !=
                DR_OK) {
            dr__credentials_release(*out);
            *out = NULL;
        }
        return rc;
    }
    /* Settings without credentials (a region, IMDS settings) let the chain go on, as in the
     * SDKs; a source_profile must give credentials. */
    if (walk->depth == 1)
        return dr__fail(DR_E_NOT_FOUND, "no aws_access_key_id, role_arn, credential_process "
                        "or sso settings");
    return dr__fail(DR_E_CREDENTIALS, "source_profile %.64s has no credentials", profile->name);
}

dr_status dr__credentials_from_profile(const dr_provider_context *ctx, dr_credentials **out,
                                       char *id, size_t id_cap)
{
    profile_walk walk = {0};
    dr_status rc;

    *out = NULL;
    walk.ctx = ctx;
    walk.id = id;
    walk.id_cap = id_cap;
    rc = dr__profile_set_load(&walk.set);
    if (rc == DR_OK)
        rc = resolve_profile(&walk, ctx->profile, 0, out);
    else if (rc != DR_E_NOMEM)
        rc = dr__fail_context(DR_E_CREDENTIALS, "shared files");
    dr__profile_set_free(&walk.set);
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
