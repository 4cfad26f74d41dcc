/* EC2 instance metadata credentials, IMDSv2 only: a session token from
 * PUT /latest/api/token, then the role name, then the role's credentials, each GET
 * carrying the token. There is deliberately no IMDSv1 fallback: v1 is what SSRF
 * attacks abuse, and instances that still require it are a configuration to fix. */
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "credentials_provider.h"
#include "env.h"
#include "error.h"
#include "sigv4.h"

#define DR_IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define DR_IMDS_TOKEN_PATH "/latest/api/token"
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

static dr_status imds_base(dr_buf *base)
{
    const char *endpoint = dr__env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    size_t n;
    if (!endpoint)
        endpoint = DR_IMDS_DEFAULT_ENDPOINT;
    n = strlen(endpoint);
    while (n && endpoint[n - 1] == '/')
        n--;
    dr__buf_append(base, endpoint, n);
    return dr__buf_ok(base);
}

/* GET or PUT base+path with the given header; body into `body`. */
static dr_status imds_request(imds_session *s, const char *method, const char *path,
                              const char *header_name, const char *header_value, dr_buf *body,
                              long *status)
{
    dr_buf url = DR_BUF_INIT;
    dr_metadata_request req = {0};
    dr_status rc;

    *status = 0;

    dr__buf_printf(&url, "%s%s", dr__buf_cstr(&s->base), path);
    if ((rc = dr__buf_ok(&url)) != DR_OK)
        return rc;
    req.what = "instance metadata";
    req.method = method;
    req.url = dr__buf_cstr(&url);
    req.header.name = header_name;
    req.header.value = header_value;
    req.timeout_ms = s->timeout_ms;
    rc = dr__metadata_fetch(&req, body, status);
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

static dr_status fetch_token(imds_session *s)
{
    dr_buf body = DR_BUF_SECRET_INIT;
    long status;
    dr_status rc = imds_request(s, "PUT", DR_IMDS_TOKEN_PATH, DR_IMDS_TOKEN_TTL_HEADER,
                                DR_IMDS_TOKEN_TTL, &body, &status);
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
    dr_status rc = imds_request(s, "GET", DR_IMDS_ROLE_PATH, DR_IMDS_TOKEN_HEADER,
                                dr__buf_cstr(&s->token), role, &status);
    size_t n;
    if (rc != DR_OK && status == 404)
        return dr__fail(DR_E_CREDENTIALS, "no IAM role attached to this instance (HTTP 404)");
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

dr_status dr__credentials_from_imds(uint32_t timeout_ms, dr_credentials **out)
{
    imds_session s = {DR_BUF_INIT, DR_BUF_SECRET_INIT, 0};
    dr_buf role = DR_BUF_INIT, path = DR_BUF_INIT, body = DR_BUF_SECRET_INIT;
    long status;
    dr_status rc;

    *out = NULL;
    if (imds_disabled())
        return dr__fail(DR_E_CREDENTIALS, "disabled by AWS_EC2_METADATA_DISABLED");
    s.timeout_ms = timeout_ms ? timeout_ms : DR_METADATA_DEFAULT_TIMEOUT_MS;
    if ((rc = imds_base(&s.base)) == DR_OK && (rc = fetch_token(&s)) == DR_OK &&
        (rc = fetch_role_name(&s, &role)) == DR_OK) {
        /* IAM allows +=,.@_- in role names; '@' would read as user information in a
         * URL, so the name goes into the path percent-encoded. */
        dr__buf_puts(&path, DR_IMDS_ROLE_PATH);
        dr__sigv4_uri_encode(&path, role.data, role.len, 0);
        if ((rc = dr__buf_ok(&path)) == DR_OK)
            rc = imds_request(&s, "GET", dr__buf_cstr(&path), DR_IMDS_TOKEN_HEADER,
                              dr__buf_cstr(&s.token), &body, &status);
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
