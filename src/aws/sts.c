/* STS AssumeRole and AssumeRoleWithWebIdentity over the Query protocol (sts.h). */
#include "sts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "error.h"
#include "file.h"
#include "http.h"
#include "retry.h"
#include "sigv4.h"

#define DR_STS_API_VERSION "2011-06-15"
/* STS answers are a few kilobytes; anything bigger is not one. */
#define DR_STS_MAX_RESPONSE ((size_t)64 * 1024)
/* Each attempt, when the chain sets no timeout: STS is a regional internet endpoint, not a
 * link-local metadata service. */
#define DR_STS_DEFAULT_TIMEOUT_MS 10000u
/* Web identity tokens are JWTs of a few kilobytes; bigger files are not tokens. */
#define DR_WEB_IDENTITY_TOKEN_MAX ((size_t)16 * 1024)
/* The part of STS's error message a failure quotes. */
#define DR_STS_MESSAGE_MAX 256
/* A message sharing this many bytes with a secret is taken to quote it. */
#define DR_SECRET_WINDOW 12

/* --- the answers ------------------------------------------------------------------ */

enum { F_ACCESS_KEY_ID, F_SECRET_ACCESS_KEY, F_SESSION_TOKEN, F_EXPIRATION, F_ROLE_ARN, N_FIELDS };
static const char *const credential_paths[N_FIELDS] = {
    "Credentials/AccessKeyId", "Credentials/SecretAccessKey", "Credentials/SessionToken",
    "Credentials/Expiration", "AssumedRoleUser/Arn"};

/* The account of an assumed-role ARN, "arn:<partition>:sts::<account>:assumed-role/...",
 * into out[13]; 0 when `arn` is not one. */
static int assumed_role_account(const char *arn, char out[13])
{
    const char *p = arn;
    size_t i;
    if (strncmp(p, "arn:", 4) != 0 || !(p = strchr(p + 4, ':')) || strncmp(p, ":sts::", 6) != 0)
        return 0;
    p += 6;
    for (i = 0; i < 12; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    if (strncmp(p + 12, ":assumed-role/", 14) != 0)
        return 0;
    memcpy(out, p, 12);
    out[12] = '\0';
    return 1;
}

dr_status dr__sts_parse_credentials(const char *xml, size_t len, dr_credentials **out)
{
    dr_buf values[N_FIELDS];
    dr_xml_field fields[N_FIELDS];
    char account[13];
    int64_t expires_at = 0;
    dr_status rc;
    size_t i;

    *out = NULL;
    for (i = 0; i < N_FIELDS; i++) {
        dr_buf empty = DR_BUF_SECRET_INIT;
        values[i] = empty;
        fields[i].path = credential_paths[i];
        fields[i].value = &values[i];
    }
    rc = dr__xml_extract(xml, len, fields, N_FIELDS);
    for (i = 0; rc == DR_OK && i < F_ROLE_ARN; i++)
        if (!values[i].len)
            rc = dr__fail(DR_E_PROTOCOL, "the answer lacks %s", credential_paths[i]);
    if (rc == DR_OK && !dr__parse_iso8601(dr__buf_cstr(&values[F_EXPIRATION]), &expires_at))
        rc = dr__fail(DR_E_PROTOCOL, "the answer's Credentials/Expiration is not an ISO-8601 "
                                     "time");
    if (rc == DR_OK &&
        !(*out = dr__credentials_new(dr__buf_cstr(&values[F_ACCESS_KEY_ID]),
                                     dr__buf_cstr(&values[F_SECRET_ACCESS_KEY]),
                                     dr__buf_cstr(&values[F_SESSION_TOKEN]), expires_at)))
        rc = dr__fail(DR_E_NOMEM, "out of memory copying credentials");
    if (rc == DR_OK && assumed_role_account(dr__buf_cstr(&values[F_ROLE_ARN]), account) &&
        (rc = dr__credentials_set_account_id(*out, account)) != DR_OK) {
        dr__credentials_release(*out);
        *out = NULL;
    }
    for (i = 0; i < N_FIELDS; i++)
        dr__buf_free_secret(&values[i]);
    return rc;
}

int dr__sts_parse_error(const char *xml, size_t len, char *code, size_t code_cap,
                        char *message, size_t message_cap)
{
    dr_buf values[2] = {DR_BUF_SECRET_INIT, DR_BUF_SECRET_INIT};
    dr_xml_field fields[2] = {{"Error/Code", NULL, 0}, {"Error/Message", NULL, 0}};
    int ok;

    fields[0].value = &values[0];
    fields[1].value = &values[1];
    ok = dr__xml_extract(xml, len, fields, 2) == DR_OK && values[0].len > 0;
    snprintf(code, code_cap, "%s", ok ? dr__buf_cstr(&values[0]) : "");
    snprintf(message, message_cap, "%s", ok ? dr__buf_cstr(&values[1]) : "");
    dr__buf_free_secret(&values[0]);
    dr__buf_free_secret(&values[1]);
    return ok;
}

/* --- one call ---------------------------------------------------------------------- */

typedef struct sts_call {
    const dr_provider_context *ctx;
    const char *action;
    char failed[320];              /* "STS <Action> for <role arn> failed" */
    const dr_credentials *signer;  /* NULL: unsigned */
    const char *secrets[3];        /* what no message may quote; NULL-terminated */
    dr_buf form;                   /* the request body (a secret: it may hold the token) */
} sts_call;

static void form_param(dr_buf *form, const char *name, const char *value)
{
    dr__buf_printf(form, "&%s=", name);
    dr__sigv4_uri_encode(form, value, strlen(value), 0);
}

/* Action, Version, RoleArn and RoleSessionName, the start of both calls' forms. */
static void form_start(sts_call *call, const dr_sts_role *role)
{
    char session[40] = "";
    struct timespec now;

    dr__buf_printf(&call->form, "Action=%s&Version=%s", call->action, DR_STS_API_VERSION);
    form_param(&call->form, "RoleArn", role->role_arn);
    if (!role->session_name) {
        clock_gettime(CLOCK_REALTIME, &now);
        snprintf(session, sizeof session, "dadratings-%lld",
                 (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    }
    form_param(&call->form, "RoleSessionName", role->session_name ? role->session_name : session);
}

static dr_status call_init(sts_call *call, const dr_provider_context *ctx, const char *action,
                           const dr_sts_role *role)
{
    dr_buf empty = DR_BUF_SECRET_INIT;
    memset(call, 0, sizeof *call);
    call->ctx = ctx;
    call->action = action;
    call->form = empty;
    snprintf(call->failed, sizeof call->failed, "STS %s for %.256s failed", action,
             role && role->role_arn ? role->role_arn : "(no role)");
    if (!role || !role->role_arn || !*role->role_arn)
        return dr__fail(DR_E_CREDENTIALS, "%s: no role ARN", call->failed);
    if (!ctx->sts_endpoint || !ctx->region)
        return dr__fail(DR_E_CREDENTIALS, "%s: no STS endpoint and region (the credentials "
                        "chain was created without a client)", call->failed);
    return DR_OK;
}

static int is_throttling_code(const char *code)
{
    static const char *const codes[] = {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "RequestLimitExceeded", "RequestThrottled", "SlowDown",
        "PriorRequestNotComplete", "BandwidthLimitExceeded", "LimitExceededException"};
    size_t i;
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(code, codes[i]) == 0)
            return 1;
    return 0;
}

/* Whether `text` holds DR_SECRET_WINDOW bytes of `secret` in a row (all of a shorter one):
 * a server echoing part of the request must not put it into a message. */
static int quotes_secret(const char *text, const char *secret)
{
    char window[DR_SECRET_WINDOW + 1];
    size_t n = secret ? strlen(secret) : 0, width = n < DR_SECRET_WINDOW ? n : DR_SECRET_WINDOW;
    size_t i;
    int found = 0;
    for (i = 0; width && i + width <= n && !found; i++) {
        memcpy(window, secret + i, width);
        window[width] = '\0';
        found = strstr(text, window) != NULL;
    }
    dr__wipe(window, sizeof window);
    return found;
}

static int quotes_any_secret(const sts_call *call, const char *text)
{
    size_t i;
    for (i = 0; call->secrets[i]; i++)
        if (quotes_secret(text, call->secrets[i]))
            return 1;
    return 0;
}

/* An AWS error code is a short CamelCase word. */
static int is_error_code(const char *code)
{
    size_t i, n = strlen(code);
    if (n == 0 || n > 64)
        return 0;
    for (i = 0; i < n; i++)
        if (!((code[i] >= 'A' && code[i] <= 'Z') || (code[i] >= 'a' && code[i] <= 'z') ||
              (code[i] >= '0' && code[i] <= '9')))
            return 0;
    return 1;
}

/* The failure an answer other than 200 means; *retryable and *kind (DR_E_THROTTLED or
 * DR_E_SERVICE, for the backoff) say whether and how to try again. */
static dr_status answer_failure(const sts_call *call, const dr_http_response *resp,
                                int *retryable, dr_status *kind)
{
    char code[80], message[DR_STS_MESSAGE_MAX + 1];
    size_t i;
    int throttled = resp->status == 429;

    if (!dr__sts_parse_error(dr__buf_cstr(&resp->body), resp->body.len, code, sizeof code,
                             message, sizeof message) ||
        !is_error_code(code) || quotes_any_secret(call, code)) {
        *retryable = resp->status >= 500 || throttled;
        *kind = throttled ? DR_E_THROTTLED : DR_E_SERVICE;
        return dr__fail(DR_E_CREDENTIALS, "%s: HTTP %ld", call->failed, resp->status);
    }
    throttled = throttled || is_throttling_code(code);
    /* IDPCommunicationError: STS could not reach the identity provider; the SDKs retry it. */
    *retryable = resp->status >= 500 || throttled || strcmp(code, "IDPCommunicationError") == 0;
    *kind = throttled ? DR_E_THROTTLED : DR_E_SERVICE;
    for (i = 0; message[i]; i++)
        if ((unsigned char)message[i] < 0x20 || message[i] == 0x7f)
            message[i] = ' ';
    if (quotes_any_secret(call, message))
        snprintf(message, sizeof message, "(message withheld: it quotes the request's secrets)");
    return message[0] ? dr__fail(DR_E_CREDENTIALS, "%s: %s: %s", call->failed, code, message)
                      : dr__fail(DR_E_CREDENTIALS, "%s: %s", call->failed, code);
}

/* One attempt: DR_OK with *out, or the failure with *retryable and *kind set. */
static dr_status attempt(sts_call *call, dr_sigv4_signer *signer, dr_credentials **out,
                         int *retryable, dr_status *kind)
{
    dr_http_request req = DR_HTTP_REQUEST_INIT;
    dr_http_response resp = DR_HTTP_RESPONSE_INIT;
    uint32_t timeout = call->ctx->timeout_ms ? call->ctx->timeout_ms : DR_STS_DEFAULT_TIMEOUT_MS;
    dr_buf host = DR_BUF_INIT;
    dr_url_parts url;
    dr_status rc;

    *retryable = 0;
    *kind = DR_E_SERVICE;
    req.method = "POST";
    req.url = call->ctx->sts_endpoint;
    req.body = call->form.data;
    req.body_len = call->form.len;
    req.connect_timeout_ms = timeout;
    req.timeout_ms = timeout;
    req.max_response_bytes = DR_STS_MAX_RESPONSE;
    dr__buf_mark_secret(&resp.body); /* credentials */
    if ((rc = dr__url_parse(call->ctx->sts_endpoint, &url)) != DR_OK)
        return dr__fail_context(DR_E_CREDENTIALS, "%s: the STS endpoint", call->failed);
    dr__url_host_header(&url, &host);
    if ((rc = dr__buf_ok(&host)) == DR_OK &&
        (rc = dr__http_request_set_header(&req, "Host", dr__buf_cstr(&host))) == DR_OK &&
        (rc = dr__http_request_set_header(&req, "Content-Type",
                                          "application/x-www-form-urlencoded")) == DR_OK &&
        call->signer) {
        dr_sigv4_params params;
        memset(&params, 0, sizeof params);
        params.creds = call->signer;
        params.region = call->ctx->region;
        params.service = "sts";
        params.unix_time = (int64_t)time(NULL);
        rc = dr__sigv4_sign_http(signer, &params, &req);
    }
    if (rc == DR_OK) {
        rc = dr__http_perform(NULL, &req, &resp);
        if (rc == DR_E_NETWORK || rc == DR_E_TIMEOUT)
            *retryable = 1;
        if (rc != DR_OK && rc != DR_E_NOMEM)
            rc = dr__fail_context(DR_E_CREDENTIALS, "%s", call->failed);
    } else if (rc != DR_E_NOMEM) {
        rc = dr__fail_context(DR_E_CREDENTIALS, "%s", call->failed);
    }
    if (rc == DR_OK && resp.status != 200)
        rc = answer_failure(call, &resp, retryable, kind);
    else if (rc == DR_OK &&
             (rc = dr__sts_parse_credentials(dr__buf_cstr(&resp.body), resp.body.len, out)) ==
                 DR_E_PROTOCOL)
        rc = dr__fail_context(DR_E_CREDENTIALS, "%s: STS answered HTTP 200 with", call->failed);
    dr__http_request_free(&req);
    dr__http_response_free(&resp);
    dr__buf_free(&host);
    return rc;
}

static void sleep_ms(uint32_t ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Send the form, retrying as the SDKs' standard mode does. */
static dr_status call_run(sts_call *call, dr_credentials **out)
{
    const dr_retry_policy *policy = &dr__retry_standard;
    dr_sigv4_signer *signer = NULL;
    char last[1024];
    uint32_t n;
    int retryable = 0;
    dr_status rc, kind = DR_E_SERVICE;

    if ((rc = dr__buf_ok(&call->form)) != DR_OK)
        return rc;
    if (call->signer && (rc = dr__sigv4_signer_new(&signer)) != DR_OK)
        return rc;
    for (n = 1;; n++) {
        rc = attempt(call, signer, out, &retryable, &kind);
        if (rc == DR_OK || !retryable || n == policy->max_attempts)
            break;
        sleep_ms(dr__retry_backoff_ms(policy, n + 1, kind, dr__random01(), 0));
    }
    dr__sigv4_signer_free(signer);
    if (rc != DR_OK && rc != DR_E_NOMEM && n > 1) {
        snprintf(last, sizeof last, "%s", dr_last_error_message());
        rc = dr__fail(rc, "%s (%u attempts)", last, (unsigned)n);
    }
    return rc;
}

static void call_free(sts_call *call)
{
    dr__buf_free_secret(&call->form);
}

dr_status dr__sts_assume_role(const dr_provider_context *ctx, const dr_sts_role *role,
                              const dr_credentials *source, dr_credentials **out)
{
    sts_call call;
    dr_status rc;

    *out = NULL;
    rc = call_init(&call, ctx, "AssumeRole", role);
    if (rc == DR_OK && !source)
        rc = dr__fail(DR_E_CREDENTIALS, "%s: no source credentials", call.failed);
    if (rc == DR_OK) {
        call.signer = source;
        call.secrets[0] = source->secret_access_key;
        call.secrets[1] = source->session_token;
        form_start(&call, role);
        /* In the order of the API's model, as the SDKs serialise it. */
        if (role->duration_s)
            dr__buf_printf(&call.form, "&DurationSeconds=%u", (unsigned)role->duration_s);
        if (role->external_id)
            form_param(&call.form, "ExternalId", role->external_id);
        rc = call_run(&call, out);
    }
    call_free(&call);
    return rc;
}

/* The token in `path`, without the line end files usually have. */
static dr_status read_token(const sts_call *call, const char *path, dr_buf *token)
{
    char display[300];
    dr_status rc;

    snprintf(display, sizeof display, "web identity token file %.256s", path);
    rc = dr__file_read(path, display, DR_WEB_IDENTITY_TOKEN_MAX, DR_E_CREDENTIALS, token);
    if (rc == DR_OK) {
        while (token->len && strchr(" \t\r\n", token->data[token->len - 1]))
            token->data[--token->len] = '\0';
        if (!token->len)
            rc = dr__fail(DR_E_CREDENTIALS, "%s is empty", display);
    }
    return rc == DR_OK || rc == DR_E_NOMEM ? rc
                                           : dr__fail_context(DR_E_CREDENTIALS, "%s", call->failed);
}

dr_status dr__sts_assume_role_with_web_identity(const dr_provider_context *ctx,
                                                const dr_sts_role *role,
                                                const char *token_file, dr_credentials **out)
{
    dr_buf token = DR_BUF_SECRET_INIT;
    sts_call call;
    dr_status rc;

    *out = NULL;
    rc = call_init(&call, ctx, "AssumeRoleWithWebIdentity", role);
    if (rc == DR_OK && (!token_file || !*token_file))
        rc = dr__fail(DR_E_CREDENTIALS, "%s: no web identity token file", call.failed);
    if (rc == DR_OK && (rc = read_token(&call, token_file, &token)) == DR_OK) {
        call.secrets[0] = dr__buf_cstr(&token);
        form_start(&call, role);
        form_param(&call.form, "WebIdentityToken", dr__buf_cstr(&token));
        if (role->duration_s)
            dr__buf_printf(&call.form, "&DurationSeconds=%u", (unsigned)role->duration_s);
        rc = call_run(&call, out);
    }
    call_free(&call);
    dr__buf_free_secret(&token);
    return rc;
}
