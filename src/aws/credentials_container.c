/* Container credentials: the ECS task-role endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 * under http://169.254.170.2) and any full URI (AWS_CONTAINER_CREDENTIALS_FULL_URI, as
 * EKS Pod Identity sets), with an optional Authorization token. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "credentials_provider.h"
#include "env.h"
#include "error.h"
#include "file.h"
#include "http.h"

#define DR_ECS_ENDPOINT "http://169.254.170.2"
/* Tokens are JWTs of a few kilobytes; bigger files are not tokens. */
#define DR_CONTAINER_TOKEN_MAX ((size_t)16 * 1024)

#ifdef DR_TESTING
/* Test builds only: where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI points ("" = the ECS
 * endpoint), so a loopback server can answer it. */
static char g_relative_base_override[128];
#define RELATIVE_BASE() (g_relative_base_override[0] ? g_relative_base_override : DR_ECS_ENDPOINT)

void dr__credentials_container_set_relative_base(const char *base)
{
    snprintf(g_relative_base_override, sizeof g_relative_base_override, "%s",
             base ? base : "");
}
#else
#define RELATIVE_BASE() DR_ECS_ENDPOINT
#endif

/* Plain http is accepted only towards the hosts the SDKs allow: loopback, the ECS
 * endpoint and the EKS Pod Identity agent. Anything else could be a network attacker
 * receiving the Authorization token and handing out credentials. Host names are not
 * resolved (the SDKs resolve and check every address); only literal addresses and
 * "localhost" pass. */
static int full_uri_host_allowed(const dr_url_parts *url)
{
    static const char *const container_hosts[] = {"169.254.170.2", "169.254.170.23",
                                                  "fd00:ec2::23"};
    size_t i;
    if (strcmp(url->scheme, "https") == 0 || dr__host_is_loopback(url->host))
        return 1;
    for (i = 0; i < sizeof container_hosts / sizeof container_hosts[0]; i++)
        if (strcasecmp(url->host, container_hosts[i]) == 0)
            return 1;
    return 0;
}

dr_status dr__container_endpoint(dr_buf *url)
{
    const char *relative = dr__env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = dr__env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    dr_url_parts parts;

    if (relative) {
        if (relative[0] != '/' || strpbrk(relative, " \t\r\n"))
            return dr__fail(DR_E_CREDENTIALS, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be "
                                              "a path starting with /");
        dr__buf_puts(url, RELATIVE_BASE());
        dr__buf_puts(url, relative);
        return dr__buf_ok(url);
    }
    if (!full)
        return dr__fail(DR_E_NOT_FOUND, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
                                          "AWS_CONTAINER_CREDENTIALS_FULL_URI not set");
    if (dr__url_parse(full, &parts) != DR_OK)
        return dr__fail_context(DR_E_CREDENTIALS, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be "
                                                  "an absolute URL with a host");
    if (!full_uri_host_allowed(&parts))
        return dr__fail(DR_E_CREDENTIALS, "AWS_CONTAINER_CREDENTIALS_FULL_URI must use https, "
                        "or plain http to a loopback address, 169.254.170.2, 169.254.170.23 "
                        "or fd00:ec2::23, not host %s", parts.host);
    dr__buf_puts(url, full);
    return dr__buf_ok(url);
}

/* The token file is re-read on every fetch: EKS rotates it in place. */
static dr_status read_token_file(const char *path, dr_buf *token)
{
    dr_status rc = dr__file_read(path, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                 DR_CONTAINER_TOKEN_MAX, DR_E_CREDENTIALS, token);
    if (rc == DR_E_NOT_FOUND)
        rc = dr__fail(DR_E_CREDENTIALS, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE does not exist");
    if (rc != DR_OK)
        return rc;
    /* Files usually end with a newline that is not part of the token. */
    while (token->len && strchr(" \t\r\n", token->data[token->len - 1]))
        token->data[--token->len] = '\0';
    return DR_OK;
}

/* The Authorization header's value into `header` (left empty when no token is
 * configured). A token with a line break would inject headers, so it is refused. */
static dr_status authorization_header(dr_buf *header)
{
    const char *file = dr__env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *value = dr__env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    dr_buf from_file = DR_BUF_SECRET_INIT;
    dr_status rc = DR_OK;

    if (file) {
        rc = read_token_file(file, &from_file);
        value = dr__buf_cstr(&from_file);
    }
    if (rc == DR_OK && value && *value) {
        if (strpbrk(value, "\r\n"))
            rc = dr__fail(DR_E_CREDENTIALS, "the container authorization token contains a "
                                            "line break");
        else {
            dr__buf_puts(header, value);
            rc = dr__buf_ok(header);
        }
    } else if (rc == DR_OK && file) {
        rc = dr__fail(DR_E_CREDENTIALS, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is empty");
    }
    dr__buf_free_secret(&from_file);
    return rc;
}

/* Connection failures, timeouts, 5xx and a 200 whose document is unusable may pass; the
 * endpoint's 4xx answers are final. */
static int container_retryable(dr_status rc, long status)
{
    return rc == DR_E_NETWORK || rc == DR_E_TIMEOUT ||
           (rc != DR_E_NOMEM && (status >= 500 || status == 200));
}

dr_status dr__credentials_from_container(uint32_t timeout_ms, dr_credentials **out)
{
    dr_buf url = DR_BUF_INIT, auth = DR_BUF_SECRET_INIT, body = DR_BUF_SECRET_INIT;
    dr_metadata_request req = {0};
    long status = 0;
    uint32_t attempt;
    dr_status rc;

    *out = NULL;
    rc = dr__container_endpoint(&url);
    if (rc == DR_OK)
        rc = authorization_header(&auth);
    if (rc != DR_OK)
        goto done;
    if (auth.len) {
        req.header.name = "Authorization";
        req.header.value = dr__buf_cstr(&auth);
    }
    req.what = "container";
    req.method = "GET";
    req.url = dr__buf_cstr(&url);
    req.timeout_ms = timeout_ms ? timeout_ms : DR_METADATA_DEFAULT_TIMEOUT_MS;
    for (attempt = 1;; attempt++) {
        rc = dr__metadata_fetch(&req, &body, &status);
        if (rc == DR_OK)
            rc = dr__credentials_parse_json("container", dr__buf_cstr(&body), body.len, out);
        dr__buf_free_secret(&body);
        if (rc == DR_OK || attempt == DR_CONTAINER_MAX_ATTEMPTS ||
            !container_retryable(rc, status))
            break;
        dr__metadata_backoff(attempt + 1);
    }
    if (rc != DR_OK && rc != DR_E_NOMEM && attempt > 1)
        dr__fail_context(rc, "after %u attempts", (unsigned)attempt);
done:
    dr__buf_free(&url);
    dr__buf_free_secret(&auth);
    return rc;
}
