/* EC2 instance metadata credentials, IMDSv2 only: a session token from
 * PUT /latest/api/token, then the role name, then the role's credentials, each GET
 * carrying the token. There is deliberately no IMDSv1 fallback: v1 is what SSRF
 * attacks abuse, and instances that still require it are a configuration to fix. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "credentials_provider.h"
#include "env.h"
#include "error.h"
#include "http.h"
#include "sigv4.h"

#define DR_IMDS_IPV4_ENDPOINT "http://169.254.169.254"
#define DR_IMDS_IPV6_ENDPOINT "http://[fd00:ec2::254]"
#define DR_IMDS_ROLE_PATH "/latest/meta-data/iam/security-credentials/"
/* Six hours, the SDKs' choice; the token is fetched anew for every resolution anyway. */
#define DR_IMDS_TOKEN_TTL_HEADER "X-aws-ec2-metadata-token-ttl-seconds"
#define DR_IMDS_TOKEN_TTL "21600"
#define DR_IMDS_TOKEN_HEADER "X-aws-ec2-metadata-token"

typedef struct imds_session {
    dr_buf base;      /* endpoint without a trailing slash */
    dr_buf token; /* the session token (a secret), sent as DR_IMDS_TOKEN_HEADER */
    uint32_t timeout_ms;
} imds_session;

static int imds_disabled(void)
{
    const char *v = dr__env("AWS_EC2_METADATA_DISABLED");
    return v && strcasecmp(v, "true") == 0;
}

/* An endpoint `value` set by `source`, checked and without trailing slashes, into `base`.
 * The value is not quoted in the message: it may carry anything. */
static dr_status endpoint_from(const char *value, const char *source, dr_buf *base)
{
    dr_url_parts parts;
    size_t n = strlen(value);

    if (dr__url_parse(value, &parts) != DR_OK)
        return dr__fail_context(DR_E_CONFIG, "%s must be an absolute URL with a host", source);
    while (n && value[n - 1] == '/')
        n--;
    dr__buf_append(base, value, n);
    return dr__buf_ok(base);
}

/* The endpoint of mode `value` set by `source` into `base`. */
static dr_status endpoint_of_mode(const char *value, const char *source, dr_buf *base)
{
    if (strcasecmp(value, "IPv4") == 0)
        dr__buf_puts(base, DR_IMDS_IPV4_ENDPOINT);
    else if (strcasecmp(value, "IPv6") == 0)
        dr__buf_puts(base, DR_IMDS_IPV6_ENDPOINT);
    else
        /* The SDKs' wording; a mode is a short keyword, so quoting it is safe enough. */
        return dr__fail(DR_E_CONFIG, "%s: `%.32s` is not a valid endpoint mode (IPv4 or IPv6)",
                        source, value);
    return dr__buf_ok(base);
}

dr_status dr__imds_endpoint(const char *profile, const dr_imds_endpoint_override *code,
                            dr_buf *base)
{
    static const char *const keys[] = {"ec2_metadata_service_endpoint",
                                       "ec2_metadata_service_endpoint_mode"};
    const char *env_endpoint = dr__env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *env_mode = dr__env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    char *from_profile[2] = {NULL, NULL};
    char source[160];
    dr_status rc;

    if (code && code->endpoint)
        return endpoint_from(code->endpoint, "the configured IMDS endpoint", base);
    if (env_endpoint)
        return endpoint_from(env_endpoint, "AWS_EC2_METADATA_SERVICE_ENDPOINT", base);
    profile = dr__profile_name(profile);
    rc = dr__profile_settings(profile, 2, keys, from_profile);
    if (rc == DR_E_CONFIG)
        rc = dr__fail_context(rc, "IMDS endpoint");
    if (rc == DR_OK && from_profile[0]) {
        snprintf(source, sizeof source, "%s of profile %.64s", keys[0], profile);
        rc = endpoint_from(from_profile[0], source, base);
    } else if (rc == DR_OK && code && code->mode) {
        rc = endpoint_of_mode(code->mode, "the configured IMDS endpoint mode", base);
    } else if (rc == DR_OK && env_mode) {
        rc = endpoint_of_mode(env_mode, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", base);
    } else if (rc == DR_OK && from_profile[1]) {
        snprintf(source, sizeof source, "%s of profile %.64s", keys[1], profile);
        rc = endpoint_of_mode(from_profile[1], source, base);
    } else if (rc == DR_OK) {
        dr__buf_puts(base, DR_IMDS_IPV4_ENDPOINT);
        rc = dr__buf_ok(base);
    }
    dr__free(from_profile[0]);
    dr__free(from_profile[1]);
    return rc;
}

/* 5xx may pass, and 401 is an expired or rejected token; every other answer, a timeout
 * and a connection failure are final (see DR_IMDS_MAX_ATTEMPTS). */
static int imds_retryable(dr_status rc, long status)
{
    return rc == DR_E_CREDENTIALS && (status >= 500 || status == 401);
}

static dr_status fetch_token(imds_session *s);

/* PUT the token request, or GET `path` with the session token; body into `body`. A GET
 * answered 401 gets a new token before it is tried again. */
static dr_status imds_request(imds_session *s, const char *method, const char *path,
                              dr_buf *body, long *status)
{
    int is_put = strcmp(method, "PUT") == 0;
    dr_buf url = DR_BUF_INIT;
    dr_metadata_request req = {0};
    uint32_t attempt;
    dr_status rc;

    *status = 0;
    dr__buf_printf(&url, "%s%s", dr__buf_cstr(&s->base), path);
    if ((rc = dr__buf_ok(&url)) != DR_OK)
        return rc;
    req.what = "instance metadata";
    req.method = method;
    req.url = dr__buf_cstr(&url);
    req.header.name = is_put ? DR_IMDS_TOKEN_TTL_HEADER : DR_IMDS_TOKEN_HEADER;
    req.timeout_ms = s->timeout_ms;
    for (attempt = 1;; attempt++) {
        req.header.value = is_put ? DR_IMDS_TOKEN_TTL : dr__buf_cstr(&s->token);
        rc = dr__metadata_fetch(&req, body, status);
        if (rc == DR_OK || attempt == DR_IMDS_MAX_ATTEMPTS || !imds_retryable(rc, *status))
            break;
        dr__metadata_backoff(attempt + 1);
        if (!is_put && *status == 401 && (rc = fetch_token(s)) != DR_OK)
            break;
    }
    if (rc != DR_OK && rc != DR_E_NOMEM && attempt > 1)
        dr__fail_context(rc, "after %u attempts", (unsigned)attempt);
    dr__buf_free(&url);
    return rc;
}

/* Printable ASCII without spaces: what a token or a role name must be before it goes
 * into a header line or a URL path. */
static int is_header_safe(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return 0;
    return n > 0;
}

/* A new session token into s->token. */
static dr_status fetch_token(imds_session *s)
{
    dr_buf body = DR_BUF_SECRET_INIT;
    long status;
    dr_status rc = imds_request(s, "PUT", DR_IMDS_TOKEN_PATH, &body, &status);
    /* Where the older SDKs fall back to IMDSv1 this library stops, as the newer SDKs and
     * ec2_metadata_v1_disabled = true do. */
    if (rc == DR_E_CREDENTIALS && (status == 403 || status == 404 || status == 405))
        dr__fail_context(rc, "IMDSv2 session token (there is no IMDSv1 fallback)");
    dr__buf_reset(&s->token);
    if (rc == DR_OK) {
        while (body.len && strchr(" \t\r\n", body.data[body.len - 1]))
            body.data[--body.len] = '\0';
        if (!is_header_safe(dr__buf_cstr(&body), body.len))
            rc = dr__fail(DR_E_CREDENTIALS, "instance metadata returned an invalid token");
    }
    if (rc == DR_OK) {
        dr__buf_puts(&s->token, dr__buf_cstr(&body));
        rc = dr__buf_ok(&s->token);
    }
    dr__buf_free_secret(&body);
    return rc;
}

/* The first line of the role listing: an instance profile has exactly one role. */
static dr_status fetch_role_name(imds_session *s, dr_buf *role)
{
    long status;
    dr_status rc = imds_request(s, "GET", DR_IMDS_ROLE_PATH, role, &status);
    size_t n;
    if (rc != DR_OK && status == 404)
        return dr__fail(DR_E_NOT_FOUND, "no IAM role attached to this instance (HTTP 404)");
    if (rc != DR_OK)
        return rc;
    n = strcspn(dr__buf_cstr(role), "\r\n");
    if (!is_header_safe(dr__buf_cstr(role), n) || memchr(role->data, '/', n) ||
        memchr(role->data, '?', n) || memchr(role->data, '#', n))
        return dr__fail(DR_E_CREDENTIALS, "instance metadata returned an invalid role name");
    role->data[n] = '\0';
    role->len = n;
    return DR_OK;
}

dr_status dr__credentials_from_imds(const char *profile, uint32_t timeout_ms,
                                    dr_credentials **out)
{
    imds_session s = {DR_BUF_INIT, DR_BUF_SECRET_INIT, 0};
    dr_buf role = DR_BUF_INIT, path = DR_BUF_INIT, body = DR_BUF_SECRET_INIT;
    long status;
    dr_status rc;

    *out = NULL;
    if (imds_disabled())
        return dr__fail(DR_E_NOT_FOUND, "disabled by AWS_EC2_METADATA_DISABLED");
    s.timeout_ms = timeout_ms ? timeout_ms : DR_METADATA_DEFAULT_TIMEOUT_MS;
    if ((rc = dr__imds_endpoint(profile, NULL, &s.base)) == DR_OK &&
        (rc = fetch_token(&s)) == DR_OK &&
        (rc = fetch_role_name(&s, &role)) == DR_OK) {
        /* IAM allows +=,.@_- in role names; '@' would read as user information in a
         * URL, so the name goes into the path percent-encoded. */
        dr__buf_puts(&path, DR_IMDS_ROLE_PATH);
        dr__sigv4_uri_encode(&path, role.data, role.len, 0);
        if ((rc = dr__buf_ok(&path)) == DR_OK)
            rc = imds_request(&s, "GET", dr__buf_cstr(&path), &body, &status);
    }
    if (rc == DR_OK)
        rc = dr__credentials_parse_json("instance metadata", dr__buf_cstr(&body), body.len,
                                        out);
    dr__buf_free(&s.base);
    dr__buf_free_secret(&s.token);
    dr__buf_free(&role);
    dr__buf_free(&path);
    dr__buf_free_secret(&body);
    return rc;
}
