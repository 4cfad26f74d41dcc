/* Shared credentials and config files (~/.aws/credentials, ~/.aws/config), read as the
 * AWS SDKs read them: `[name]` sections in the credentials file, `[profile name]` (and
 * `[default]`) in the config file, and the credentials file winning for a profile that
 * both define. The files are re-read on every resolution, so an edited file is picked
 * up at the next refresh. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "credentials_provider.h"
#include "env.h"
#include "error.h"
#include "ini.h"

/* Real shared files are a few kilobytes; a bigger one is not what it claims to be. */
#define DR_PROFILE_FILE_MAX ((size_t)1024 * 1024)

typedef enum file_kind { CREDENTIALS_FILE, CONFIG_FILE } file_kind;

const char *dr__profile_name(const char *configured)
{
    const char *env;
    if (configured && *configured)
        return configured;
    env = dr__env("AWS_PROFILE");
    return env ? env : "default";
}

/* The file's path from `env_name` or `~/.aws/<name>`, with a leading "~/" expanded as
 * the SDKs do. `display` is what messages show (the path as configured). */
static dr_status file_path(file_kind kind, dr_buf *path, const char **display)
{
    const char *env_name = kind == CREDENTIALS_FILE ? "AWS_SHARED_CREDENTIALS_FILE"
                                                    : "AWS_CONFIG_FILE";
    const char *configured = dr__env(env_name);
    const char *home = dr__env("HOME");

    *display = configured ? configured
                          : (kind == CREDENTIALS_FILE ? "~/.aws/credentials" : "~/.aws/config");
    if (strncmp(*display, "~/", 2) == 0) {
        if (!home)
            return dr__fail(DR_E_CREDENTIALS, "HOME not set, cannot find %s", *display);
        dr__buf_printf(path, "%s%s", home, *display + 1);
    } else {
        dr__buf_puts(path, *display);
    }
    return dr__buf_ok(path);
}

/* Read a whole file. DR_E_NOT_FOUND (unrecorded message) when it does not exist. */
static dr_status read_file(const char *path, const char *display, dr_buf *out)
{
    char chunk[4096];
    size_t n;
    dr_status rc;
    FILE *f;

    dr__buf_mark_secret(out); /* the file holds secrets: growth must not leave copies */
    f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT || errno == ENOTDIR
                   ? dr__fail(DR_E_NOT_FOUND, "%s does not exist", display)
                   : dr__fail(DR_E_CREDENTIALS, "cannot open %s: %s", display, strerror(errno));
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && out->len + n <= DR_PROFILE_FILE_MAX &&
           !out->failed)
        dr__buf_append(out, chunk, n);
    dr__wipe(chunk, sizeof chunk); /* the file holds secrets */
    if (out->failed)
        rc = dr__buf_ok(out);
    else if (n > 0)
        rc = dr__fail(DR_E_CREDENTIALS, "%s is larger than %zu bytes", display,
                      DR_PROFILE_FILE_MAX);
    else if (ferror(f))
        rc = dr__fail(DR_E_CREDENTIALS, "cannot read %s", display);
    else
        rc = dr__buf_ok(out);
    fclose(f);
    return rc;
}

/* What one lookup in one file collects. Values point into the file's text. */
typedef struct profile_lookup {
    file_kind kind;
    const char *profile;
    int found;                 /* the profile's section exists */
    dr_ini_span access_key_id, secret_access_key, session_token;
    size_t n_settings; /* other keys wanted (dr__profile_settings) and their values */
    const char *const *setting_names;
    dr_ini_span *settings;
} profile_lookup;

/* `[name]` in the credentials file; `[profile name]` in the config file, where the
 * default profile may also be written `[default]`. */
static int section_is_profile(const profile_lookup *l, dr_ini_span section)
{
    static const char prefix[] = "profile";
    size_t plen = sizeof prefix - 1;
    dr_ini_span rest;

    if (l->kind == CREDENTIALS_FILE)
        return dr__ini_span_eq(section, l->profile);
    if (strcmp(l->profile, "default") == 0 && dr__ini_span_eq(section, "default"))
        return 1;
    if (section.len <= plen || memcmp(section.ptr, prefix, plen) != 0 ||
        (section.ptr[plen] != ' ' && section.ptr[plen] != '\t'))
        return 0;
    rest.ptr = section.ptr + plen;
    rest.len = section.len - plen;
    while (rest.len && (rest.ptr[0] == ' ' || rest.ptr[0] == '\t')) {
        rest.ptr++;
        rest.len--;
    }
    return dr__ini_span_eq(rest, l->profile);
}

static int collect_property(dr_ini_span section, dr_ini_span key, dr_ini_span value,
                            void *payload)
{
    profile_lookup *l = payload;
    size_t i;
    if (!section_is_profile(l, section))
        return 0;
    l->found = 1;
    for (i = 0; i < l->n_settings; i++)
        if (dr__ini_span_caseeq(key, l->setting_names[i]))
            l->settings[i] = value;
    if (dr__ini_span_caseeq(key, "aws_access_key_id"))
        l->access_key_id = value;
    else if (dr__ini_span_caseeq(key, "aws_secret_access_key"))
        l->secret_access_key = value;
    else if (dr__ini_span_caseeq(key, "aws_session_token"))
        l->session_token = value;
    return 0;
}

/* Load one file and look the profile up in it. `text` keeps the file's bytes alive
 * for the spans in `l`; the caller frees it with dr__buf_free_secret. A missing file
 * is not an error: l->found stays 0. */
static dr_status lookup_in_file(file_kind kind, const char *profile, dr_buf *text,
                                profile_lookup *l, const char **display, size_t n_settings,
                                const char *const *setting_names, dr_ini_span *settings)
{
    dr_buf path = DR_BUF_INIT;
    dr_status rc;

    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->profile = profile;
    l->n_settings = n_settings;
    l->setting_names = setting_names;
    l->settings = settings;
    rc = file_path(kind, &path, display);
    if (rc == DR_OK)
        rc = read_file(dr__buf_cstr(&path), *display, text);
    dr__buf_free(&path);
    if (rc == DR_E_NOT_FOUND)
        return DR_OK;
    if (rc != DR_OK)
        return rc;
    dr__ini_parse(dr__buf_cstr(text), text->len, collect_property, l);
    return DR_OK;
}

static char *span_dup(dr_ini_span s)
{
    return s.len ? dr__strndup(s.ptr, s.len) : NULL;
}

static dr_status credentials_from_lookup(const profile_lookup *l, const char *display,
                                         dr_credentials **out)
{
    char *akid = span_dup(l->access_key_id);
    char *secret = span_dup(l->secret_access_key);
    char *token = span_dup(l->session_token);
    dr_status rc = DR_OK;

    if ((l->access_key_id.len && !akid) || (l->secret_access_key.len && !secret) ||
        (l->session_token.len && !token))
        rc = dr__fail(DR_E_NOMEM, "out of memory reading %s", display);
    else if (!secret)
        rc = dr__fail(DR_E_CREDENTIALS, "aws_access_key_id but no aws_secret_access_key in %s",
                      display);
    else if (!(*out = dr__credentials_new(akid, secret, token, 0)))
        rc = dr__fail(DR_E_NOMEM, "out of memory copying credentials");
    dr__free(akid);
    dr__free_secret(secret);
    dr__free_secret(token);
    return rc;
}

dr_status dr__credentials_from_profile(const char *profile, dr_credentials **out)
{
    dr_buf creds_text = DR_BUF_INIT, config_text = DR_BUF_INIT;
    profile_lookup creds, config;
    const char *creds_display = "~/.aws/credentials", *config_display = "~/.aws/config";
    dr_status rc;

    *out = NULL;
    rc = lookup_in_file(CREDENTIALS_FILE, profile, &creds_text, &creds, &creds_display, 0,
                        NULL, NULL);
    if (rc == DR_OK)
        rc = lookup_in_file(CONFIG_FILE, profile, &config_text, &config, &config_display, 0,
                            NULL, NULL);
    /* The key set is taken whole from one file, never mixed: a stale session token in
     * one file must not be paired with fresh keys from the other. */
    if (rc != DR_OK) {
        /* keep the file error */
    } else if (creds.access_key_id.len)
        rc = credentials_from_lookup(&creds, creds_display, out);
    else if (config.access_key_id.len)
        rc = credentials_from_lookup(&config, config_display, out);
    else if (creds.found || config.found)
        rc = dr__fail(DR_E_CREDENTIALS, "no aws_access_key_id in %s or %s", creds_display,
                      config_display);
    else
        rc = dr__fail(DR_E_CREDENTIALS, "not found in %s or %s", creds_display, config_display);
    dr__buf_free_secret(&creds_text);
    dr__buf_free_secret(&config_text);
    return rc;
}

dr_status dr__profile_settings(const char *profile, size_t n, const char *const names[],
                               char *values[])
{
    dr_ini_span spans[DR_PROFILE_SETTINGS_MAX];
    dr_buf text = DR_BUF_INIT;
    profile_lookup config;
    const char *display;
    dr_status rc;
    size_t i;

    for (i = 0; i < n; i++)
        values[i] = NULL;
    if (n > DR_PROFILE_SETTINGS_MAX)
        return dr__fail(DR_E_INTERNAL, "dr__profile_settings: %zu settings, at most %d", n,
                        DR_PROFILE_SETTINGS_MAX);
    memset(spans, 0, sizeof spans);
    rc = lookup_in_file(CONFIG_FILE, profile, &text, &config, &display, n, names, spans);
    for (i = 0; rc == DR_OK && i < n; i++)
        if (spans[i].len && !(values[i] = span_dup(spans[i])))
            rc = dr__fail(DR_E_NOMEM, "out of memory reading %s", display);
    if (rc != DR_OK)
        for (i = 0; i < n; i++) {
            dr__free(values[i]);
            values[i] = NULL;
        }
    dr__buf_free_secret(&text);
    return rc;
}

dr_status dr__profile_region(const char *profile, char **out)
{
    static const char *const name[] = {"region"};
    return dr__profile_settings(profile, 1, name, out);
}
