/* IAM Identity Center (SSO) credentials, as the AWS SDKs resolve them from a profile
 * (docs/credentials.md): the access token `aws sso login` cached, then the portal's
 * GetRoleCredentials for the profile's account and role. The token is only read: no
 * interactive login, and no refresh through the SSO OIDC service. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "alloc.h"
#include "credentials_provider.h"
#include "env.h"
#include "error.h"
#include "file.h"
#include "http.h"
#include "sigv4.h"

/* A cached token file is a few hundred bytes; a bigger one is not a token cache. */
#define DR_SSO_CACHE_MAX ((size_t)64 * 1024)
/* The portal is a public AWS endpoint, not a link-local one: when the chain gives no
 * timeout, allow what an internet round trip needs. */
#define DR_SSO_DEFAULT_TIMEOUT_MS 5000u

/* Where the profile's SSO settings come from, once checked. */
typedef struct sso_settings {
    const char *session;    /* the sso-session name; NULL for the legacy form */
    const char *start_url;
    const char *region;
    const char *account_id;
    const char *role_name;
} sso_settings;

static const char *value_of(const dr_profile_section *section, const char *name)
{
    const dr_profile_property *p = dr__profile_property(section, name);
    return p && p->value.len ? dr__buf_cstr(&p->value) : NULL;
}

/* The sso-session form: the session gives start URL and region; a profile that also sets
 * them must agree, as the SDKs require. */
static dr_status session_settings(const dr_profile_set *set, const dr_profile_section *profile,
                                  sso_settings *s)
{
    const dr_profile_section *session = dr__profile_find(&set->sso_sessions, s->session);
    const char *profile_url = value_of(profile, "sso_start_url");
    const char *profile_region = value_of(profile, "sso_region");

    if (!session)
        return dr__fail(DR_E_CREDENTIALS, "sso_session %s names no [sso-session %s] section",
                        s->session, s->session);
    s->start_url = value_of(session, "sso_start_url");
    s->region = value_of(session, "sso_region");
    if (!s->start_url || !s->region)
        return dr__fail(DR_E_CREDENTIALS, "[sso-session %s] lacks %s", s->session,
                        !s->start_url ? "sso_start_url" : "sso_region");
    if (profile_url && strcmp(profile_url, s->start_url) != 0)
        return dr__fail(DR_E_CREDENTIALS, "sso_start_url of the profile does not match "
                        "sso_start_url of [sso-session %s]", s->session);
    if (profile_region && strcmp(profile_region, s->region) != 0)
        return dr__fail(DR_E_CREDENTIALS, "sso_region of the profile does not match "
                        "sso_region of [sso-session %s]", s->session);
    return DR_OK;
}

static dr_status read_settings(const dr_profile_set *set, const dr_profile_section *profile,
                               sso_settings *s)
{
    dr_status rc;
    memset(s, 0, sizeof *s);
    s->session = value_of(profile, "sso_session");
    s->account_id = value_of(profile, "sso_account_id");
    s->role_name = value_of(profile, "sso_role_name");
    if (s->session) {
        if ((rc = session_settings(set, profile, s)) != DR_OK)
            return rc;
        if (!s->account_id && !s->role_name)
            return dr__fail(DR_E_CREDENTIALS, "the profile uses sso-session %s for a bearer "
                            "token only: it has no sso_account_id and sso_role_name",
                            s->session);
    } else {
        s->start_url = value_of(profile, "sso_start_url");
        s->region = value_of(profile, "sso_region");
        if (!s->start_url || !s->region)
            return dr__fail(DR_E_CREDENTIALS, "the profile has no sso_session and lacks %s",
                            !s->start_url ? "sso_start_url" : "sso_region");
    }
    if (!s->account_id || !s->role_name)
        return dr__fail(DR_E_CREDENTIALS, "the SSO profile lacks %s",
                        !s->account_id ? "sso_account_id" : "sso_role_name");
    /* The region becomes part of the portal's host name. */
    if (!dr__region_is_valid(s->region))
        return dr__fail(DR_E_CREDENTIALS, "sso_region %.64s is not a region name", s->region);
    return DR_OK;
}

/* Lower-case hex SHA-1 of `text`: the cache file's name, as the SDKs and the CLI name it. */
static dr_status sha1_hex(const char *text, char hex[41])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0, i;
    if (!EVP_Digest(text, strlen(text), md, &len, EVP_sha1(), NULL) || len != 20)
        return dr__fail(DR_E_INTERNAL, "SHA-1 is not available from OpenSSL");
    for (i = 0; i < len; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[40] = '\0';
    return DR_OK;
}

/* Say that there is no usable token and how to get one; `why` names the cause. */
static dr_status no_valid_token(const dr_provider_context *ctx, const sso_settings *s,
                                const char *why)
{
    if (s->session)
        return dr__fail(DR_E_CREDENTIALS, "the SSO session %s has no valid token (%s); run "
                        "`aws sso login --sso-session %s`", s->session, why, s->session);
    return dr__fail(DR_E_CREDENTIALS, "the SSO session of %s has no valid token (%s); run "
                    "`aws sso login --profile %s`", s->start_url, why, ctx->profile);
}

/* The cached access token, copied into `token` (a secret buffer). */
static dr_status cached_token(const dr_provider_context *ctx, const sso_settings *s,
                              dr_buf *token)
{
    const char *home = dr__env("HOME");
    dr_buf path = DR_BUF_INIT, text = DR_BUF_SECRET_INIT;
    char hex[41], display[96], why[160];
    const char *access, *expires;
    int64_t expires_at;
    json_t *doc = NULL;
    dr_status rc;

    if ((rc = sha1_hex(s->session ? s->session : s->start_url, hex)) != DR_OK)
        return rc;
    snprintf(display, sizeof display, "~/.aws/sso/cache/%s.json", hex);
    if (!home)
        return no_valid_token(ctx, s, "HOME is not set, so the cache cannot be found");
    dr__buf_printf(&path, "%s/.aws/sso/cache/%s.json", home, hex);
    rc = dr__buf_ok(&path);
    if (rc == DR_OK)
        rc = dr__file_read(dr__buf_cstr(&path), display, DR_SSO_CACHE_MAX, DR_E_CREDENTIALS,
                           &text);
    dr__buf_free(&path);
    if (rc == DR_E_NOT_FOUND) {
        snprintf(why, sizeof why, "%s does not exist", display);
        rc = no_valid_token(ctx, s, why);
    }
    if (rc == DR_OK && !(doc = json_loadb(dr__buf_cstr(&text), text.len, 0, NULL))) {
        snprintf(why, sizeof why, "%s is not JSON", display);
        rc = no_valid_token(ctx, s, why);
    }
    dr__buf_free_secret(&text);
    if (rc != DR_OK)
        return rc;
    access = json_string_value(json_object_get(doc, "accessToken"));
    expires = json_string_value(json_object_get(doc, "expiresAt"));
    if (!access || !*access || !expires) {
        snprintf(why, sizeof why, "%s lacks accessToken or expiresAt", display);
        rc = no_valid_token(ctx, s, why);
    } else if (!dr__parse_iso8601(expires, &expires_at)) {
        snprintf(why, sizeof why, "%s has an invalid expiresAt", display);
        rc = no_valid_token(ctx, s, why);
    } else if ((int64_t)time(NULL) >= expires_at) {
        rc = no_valid_token(ctx, s, "the cached token has expired");
    } else {
        dr__buf_mark_secret(token);
        dr__buf_puts(token, access);
        rc = dr__buf_ok(token);
    }
    json_decref(doc);
    return rc;
}

/* The error type of a portal answer, if it is one that may be shown: the
 * x-amzn-ErrorType header or the body's __type, without a namespace ("...#Unauthorized
 * Exception") or a suffix (":http://..."). */
static void portal_error_type(const dr_http_response *resp, const char *token, char *out,
                              size_t cap)
{
    char header[128] = "";
    const char *type = NULL, *hash;
    json_t *doc = NULL;
    size_t n;

    out[0] = '\0';
    if (dr__http_response_header(resp, "x-amzn-ErrorType", header, sizeof header))
        type = header;
    else if ((doc = json_loadb(dr__buf_cstr(&resp->body), resp->body.len, 0, NULL)))
        type = json_string_value(json_object_get(doc, "__type"));
    if (type) {
        if ((hash = strrchr(type, '#')))
            type = hash + 1;
        n = strcspn(type, ":");
        if (n < cap) {
            memcpy(out, type, n);
            out[n] = '\0';
            if (!dr__is_error_code(out, token, NULL))
                out[0] = '\0';
        }
    }
    json_decref(doc);
}

/* GET /federation/credentials: the role credentials for the account and role. */
static dr_status get_role_credentials(const dr_provider_context *ctx, const sso_settings *s,
                                      const char *token, dr_http_response *resp)
{
    dr_http_request req = DR_HTTP_REQUEST_INIT;
    dr_buf url = DR_BUF_INIT;
    char type[72], *base = NULL;
    dr_status rc = DR_OK;

    /* The client resolves the portal as it resolves DynamoDB (FIPS, dual-stack, partitions,
     * AWS_ENDPOINT_URL_SSO); unit tests of this layer run without one. */
    if (ctx->endpoints)
        rc = ctx->endpoints->resolve(ctx->endpoints, "sso", s->region, &base);
    if (rc != DR_OK)
        return rc == DR_E_NOMEM ? rc : dr__fail_context(DR_E_CREDENTIALS, "SSO portal endpoint");
    if (base)
        dr__buf_puts(&url, base);
    else
        dr__buf_printf(&url, "https://portal.sso.%s.amazonaws.com", s->region);
    dr__free(base);
    dr__buf_puts(&url, "/federation/credentials?account_id=");
    dr__sigv4_uri_encode(&url, s->account_id, strlen(s->account_id), 0);
    dr__buf_puts(&url, "&role_name=");
    dr__sigv4_uri_encode(&url, s->role_name, strlen(s->role_name), 0);
    rc = dr__buf_ok(&url);
    req.method = "GET";
    req.url = dr__buf_cstr(&url);
    req.connect_timeout_ms = ctx->timeout_ms ? ctx->timeout_ms : DR_SSO_DEFAULT_TIMEOUT_MS;
    req.timeout_ms = req.connect_timeout_ms;
    req.max_response_bytes = DR_METADATA_MAX_RESPONSE;
    dr__buf_mark_secret(&resp->body); /* credentials */
    if (rc == DR_OK)
        rc = dr__http_request_set_header(&req, "x-amz-sso_bearer_token", token);
    if (rc == DR_E_INVALID_ARGUMENT)
        rc = dr__fail(DR_E_CREDENTIALS, "the cached SSO token cannot be sent in a header");
    if (rc == DR_OK)
        rc = dr__http_perform(NULL, &req, resp);
    dr__http_request_free(&req);
    dr__buf_free(&url);
    if (rc == DR_OK && resp->status != 200) {
        portal_error_type(resp, token, type, sizeof type);
        /* The body is not quoted: it may echo the token. */
        rc = dr__fail(DR_E_CREDENTIALS, "SSO portal (GetRoleCredentials) answered HTTP %ld%s%s",
                      resp->status, type[0] ? " " : "", type);
    }
    return rc;
}

static const char *nonempty_string(json_t *obj, const char *name)
{
    const char *v = json_string_value(json_object_get(obj, name));
    return v && *v ? v : NULL;
}

/* {"roleCredentials":{"accessKeyId","secretAccessKey","sessionToken","expiration"}},
 * the expiration in epoch milliseconds. */
static dr_status parse_role_credentials(const dr_buf *body, const char *account_id,
                                        dr_credentials **out)
{
    json_error_t err;
    json_t *doc = json_loadb(dr__buf_cstr(body), body->len, 0, &err);
    json_t *creds = json_object_get(doc, "roleCredentials");
    json_t *expiration = json_object_get(creds, "expiration");
    const char *akid = nonempty_string(creds, "accessKeyId");
    const char *secret = nonempty_string(creds, "secretAccessKey");
    const char *token = nonempty_string(creds, "sessionToken");
    dr_status rc = DR_OK;

    if (!doc)
        rc = dr__fail(DR_E_CREDENTIALS, "SSO portal returned malformed JSON (line %d, "
                      "column %d)", err.line, err.column);
    else if (!akid || !secret || !token || !json_is_integer(expiration) ||
             json_integer_value(expiration) <= 0)
        rc = dr__fail(DR_E_CREDENTIALS, "SSO portal response lacks accessKeyId, "
                      "secretAccessKey, sessionToken or expiration");
    else if (!(*out = dr__credentials_new(akid, secret, token,
                                          json_integer_value(expiration) / 1000)))
        rc = dr__fail(DR_E_NOMEM, "out of memory copying credentials");
    else if ((rc = dr__credentials_set_account_id(*out, account_id)) != DR_OK) {
        dr__credentials_release(*out);
        *out = NULL;
    }
    json_decref(doc);
    return rc;
}

dr_status dr__credentials_from_sso(const dr_provider_context *ctx, const dr_profile_set *set,
                                   const dr_profile_section *profile, dr_credentials **out)
{
    dr_http_response resp = DR_HTTP_RESPONSE_INIT;
    dr_buf token = DR_BUF_SECRET_INIT;
    sso_settings s;
    dr_status rc;

    *out = NULL;
    rc = read_settings(set, profile, &s);
    if (rc == DR_OK)
        rc = cached_token(ctx, &s, &token);
    if (rc == DR_OK)
        rc = get_role_credentials(ctx, &s, dr__buf_cstr(&token), &resp);
    if (rc == DR_OK)
        rc = parse_role_credentials(&resp.body, s.account_id, out);
    dr__buf_free_secret(&token);
    dr__buf_free_secret(&resp.body);
    dr__http_response_free(&resp);
    return rc;
}
