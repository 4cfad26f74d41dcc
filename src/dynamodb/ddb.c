#include "ddb.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alloc.h"
#include "crc32.h"
#include "ddb_json.h"
#include "error.h"
#include "retry.h"
#include "sigv4.h"
#include "timeutil.h"

#define DR_DDB_CONTENT_TYPE "application/x-amz-json-1.0"
#define DR_USER_AGENT "libdadratings/" DR_VERSION_STRING

void dr__ddb_error_clear(dr_ddb_error *err)
{
    if (!err)
        return;
    json_decref(err->cancellation_reasons);
    memset(err, 0, sizeof *err);
}

/* Throttling codes of the AWS SDKs' standard retry mode that DynamoDB can send.
 * TransactionInProgressException means a request with the same ClientRequestToken is
 * still running: waiting and retrying is exactly right. */
static const char *const throttling_types[] = {
    "ThrottlingException", "Throttling", "ProvisionedThroughputExceededException",
    "RequestLimitExceeded", "TransactionInProgressException", "LimitExceededException",
    "TooManyRequestsException", "RequestThrottledException", NULL};

static const char *const auth_types[] = {
    "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
    "MissingAuthenticationTokenException", "MissingAuthenticationToken",
    "IncompleteSignatureException", "ExpiredTokenException", "InvalidClientTokenId",
    "RequestExpired", "SignatureDoesNotMatch", NULL};

static int in_list(const char *type, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(type, *list) == 0)
            return 1;
    return 0;
}

dr_status dr__ddb_error_status(const char *type, long http_status)
{
    if (in_list(type, throttling_types))
        return DR_E_THROTTLED;
    if (in_list(type, auth_types))
        return DR_E_AUTH;
    if (!strcmp(type, "ConditionalCheckFailedException"))
        return DR_E_CONDITION_FAILED;
    if (!strcmp(type, "TransactionCanceledException"))
        return DR_E_TRANSACTION_CANCELED;
    if (!strcmp(type, "TransactionConflictException"))
        return DR_E_TRANSACTION_CONFLICT;
    if (!strcmp(type, "ResourceNotFoundException"))
        return DR_E_NOT_FOUND;
    if (!strcmp(type, "ResourceInUseException"))
        return DR_E_IN_USE;
    if (!strcmp(type, "RequestTimeout") || !strcmp(type, "RequestTimeoutException"))
        return DR_E_TIMEOUT;
    if (http_status >= 500 || !strcmp(type, "InternalServerError") ||
        !strcmp(type, "InternalFailure") || !strcmp(type, "ServiceUnavailable"))
        return DR_E_SERVICE;
    if (http_status == 429)
        return DR_E_THROTTLED;
    /* ValidationException, SerializationException, IdempotentParameterMismatch,
     * ItemCollectionSizeLimitExceeded and other client errors: the request itself is
     * wrong, and sending it again cannot help. */
    return DR_E_VALIDATION;
}

int dr__ddb_is_clock_skew(const char *type, const char *message)
{
    if (!strcmp(type, "RequestTimeTooSkewed") || !strcmp(type, "RequestExpired") ||
        !strcmp(type, "RequestInTheFuture"))
        return 1;
    /* DynamoDB reports a skewed clock as InvalidSignatureException with this text. */
    return !strcmp(type, "InvalidSignatureException") &&
           (strstr(message, "Signature expired") || strstr(message, "Signature not yet current"));
}

static void copy_truncated(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* An error type as the awsJson1_0 protocol may spell it, e.g.
 * "aws.protocoltests.json10#FooError:http://internal.amazon.com/coral/...": the name is
 * what follows the namespace's '#' and precedes the URI's ':'. 0 if nothing is left. */
static int set_error_type(dr_ddb_error *err, const char *raw)
{
    const char *hash = strchr(raw, '#');
    size_t n;

    if (hash)
        raw = hash + 1;
    n = strcspn(raw, ":");
    if (n >= sizeof err->type)
        n = sizeof err->type - 1;
    memcpy(err->type, raw, n);
    err->type[n] = '\0';
    return n ? 0 : -1;
}

int dr__ddb_parse_error(const char *type_header, const char *body, size_t len,
                        dr_ddb_error *err)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    const char *type = NULL, *message;
    int rc = -1;

    err->type[0] = err->message[0] = '\0';
    if (type_header && *type_header)
        rc = set_error_type(err, type_header);
    if (!json_is_object(root))
        goto done;
    if (rc != 0) {
        type = json_string_value(json_object_get(root, "__type"));
        if (!type)
            type = json_string_value(json_object_get(root, "code"));
        if (type)
            rc = set_error_type(err, type);
    }
    message = json_string_value(json_object_get(root, "message"));
    if (!message)
        message = json_string_value(json_object_get(root, "Message"));
    if (message)
        copy_truncated(err->message, sizeof err->message, message);
    if (json_is_array(json_object_get(root, "CancellationReasons"))) {
        json_decref(err->cancellation_reasons);
        err->cancellation_reasons = json_incref(json_object_get(root, "CancellationReasons"));
    }
done:
    json_decref(root);
    return rc;
}

dr_status dr__ddb_response_error(const char *operation, const dr_http_response *resp,
                                 dr_ddb_error *err)
{
    char type_header[sizeof err->type + 160];
    int has_header =
        dr__http_response_header(resp, "X-Amzn-Errortype", type_header, sizeof type_header);

    err->http_status = resp->status;
    if (dr__ddb_parse_error(has_header ? type_header : NULL, dr__buf_cstr(&resp->body),
                            resp->body.len, err) != 0) {
        dr_status code = resp->status >= 500 ? DR_E_SERVICE : DR_E_PROTOCOL;
        if (resp->status == 429)
            code = DR_E_THROTTLED;
        snprintf(err->type, sizeof err->type, "HTTP%ld", resp->status);
        return dr__fail(code, "%s: HTTP %ld without an error type", operation,
                        resp->status);
    }
    return dr__fail(dr__ddb_error_status(err->type, resp->status), "%s: %s: %s",
                    operation, err->type, err->message[0] ? err->message : "(no message)");
}

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One call: the request as it goes on the wire, built once and signed again for every
 * attempt (only the date and the signature change), and what the attempts spent. */
typedef struct ddb_call {
    dr_client *client;
    const char *operation;
    const char *signing_region;
    dr_http_request req;
    char *body;
    uint32_t attempt;      /* 1-based; a clock-skew re-sign does not advance it */
    dr_retry_token retry;  /* its standing with the client's retry quota */
    int skew_fixed;
    int sent;              /* attempts sent */
} ddb_call;

static dr_status build_request(ddb_call *call, dr_ddb_service service, const json_t *request)
{
    dr_client *c = call->client;
    const int streams = service == DR_SERVICE_STREAMS;
    char target[96];
    dr_status rc;

    snprintf(target, sizeof target, "%s.%s",
             streams ? "DynamoDBStreams_20120810" : "DynamoDB_20120810", call->operation);
    call->body = dr__json_dump(request);
    if (!call->body)
        return dr__fail(DR_E_NOMEM, "%s: out of memory encoding the request", call->operation);
    call->signing_region = streams ? c->streams_signing_region : c->signing_region;
    call->req.method = "POST";
    call->req.url = streams ? c->streams_endpoint : c->endpoint;
    call->req.body = call->body;
    call->req.body_len = strlen(call->body);
    call->req.connect_timeout_ms = c->connect_timeout_ms;
    call->req.timeout_ms = c->request_timeout_ms;
    if ((rc = dr__http_request_set_header(&call->req, "Host",
                                          streams ? c->streams_host_header : c->host_header)) !=
            DR_OK ||
        (rc = dr__http_request_set_header(&call->req, "Content-Type", DR_DDB_CONTENT_TYPE)) !=
            DR_OK ||
        (rc = dr__http_request_set_header(&call->req, "X-Amz-Target", target)) != DR_OK ||
        (rc = dr__http_request_set_header(&call->req, "User-Agent", DR_USER_AGENT)) != DR_OK)
        return rc;
    return DR_OK;
}

/* Sign the request with the current credentials and the (skew-corrected) clock. */
static dr_status sign_request(ddb_call *call)
{
    dr_client *c = call->client;
    dr_credentials *creds = NULL;
    dr_sigv4_params params = {0};
    dr_status rc;

    if ((rc = dr__credentials_chain_get(c->credentials, &creds)) != DR_OK)
        return rc;
    params.creds = creds;
    params.region = call->signing_region;
    params.service = "dynamodb";
    params.unix_time = (int64_t)time(NULL) + atomic_load(&c->clock_skew_s);
    rc = dr__sigv4_sign_http(c->signer, &params, &call->req);
    dr__credentials_release(creds);
    return rc;
}

static void count_failure(dr_client *c, dr_status code)
{
    switch (code) {
    case DR_E_THROTTLED: dr__count(c, DR_COUNTER_ERRORS_THROTTLED, 1); break;
    case DR_E_SERVICE: dr__count(c, DR_COUNTER_ERRORS_SERVICE, 1); break;
    case DR_E_NETWORK:
    case DR_E_TIMEOUT: dr__count(c, DR_COUNTER_ERRORS_NETWORK, 1); break;
    case DR_E_CHECKSUM: dr__count(c, DR_COUNTER_ERRORS_CHECKSUM, 1); break;
    case DR_E_TRANSACTION_CONFLICT:
        dr__count(c, DR_COUNTER_TRANSACTION_CONFLICTS, 1);
        dr__count(c, DR_COUNTER_ERRORS_CLIENT, 1);
        break;
    default: dr__count(c, DR_COUNTER_ERRORS_CLIENT, 1); break;
    }
}

/* Interpret one HTTP exchange. On DR_OK, *response holds the parsed body. */
static dr_status read_response(const char *operation, dr_http_response *resp,
                               json_t **response, dr_ddb_error *err, int64_t *server_time)
{
    char crc_header[16], date[64];
    json_error_t jerr;
    json_t *root;

    *server_time = 0;
    if (dr__http_response_header(resp, "Date", date, sizeof date))
        *server_time = dr__http_date_parse(date);

    /* x-amz-crc32 covers the body bytes as sent; a mismatch means corruption on the
     * way, so the whole exchange is untrustworthy and is retried. */
    if (dr__http_response_header(resp, "x-amz-crc32", crc_header, sizeof crc_header)) {
        uint64_t expected;
        uint32_t actual = dr__crc32(resp->body.data ? resp->body.data : "", resp->body.len);
        if (dr__parse_u64(crc_header, &expected) != 0 || expected != actual)
            return dr__fail(DR_E_CHECKSUM, "%s: response CRC32 mismatch (header %s, body %u)",
                            operation, crc_header, actual);
    }

    if (resp->status == 200) {
        root = json_loadb(dr__buf_cstr(&resp->body), resp->body.len, 0, &jerr);
        if (!json_is_object(root)) {
            json_decref(root);
            return dr__fail(DR_E_PROTOCOL, "%s: response is not a JSON object: %s",
                            operation, jerr.text);
        }
        *response = root;
        return DR_OK;
    }

    return dr__ddb_response_error(operation, resp, err);
}

uint32_t dr__ddb_retry_after_ms(const dr_http_response *resp)
{
    char v[32];
    uint64_t n;
    if (dr__http_response_header(resp, "x-amz-retry-after", v, sizeof v) &&
        dr__parse_u64(v, &n) == 0)
        return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    if (dr__http_response_header(resp, "Retry-After", v, sizeof v) &&
        dr__parse_u64(v, &n) == 0)
        return n > UINT32_MAX / 1000 ? UINT32_MAX : (uint32_t)n * 1000;
    return 0;
}

/* Every write this library sends must be safe to send twice: libcurl itself replays a
 * request once, unseen by the retry policy, when a reused keep-alive connection closes
 * before any byte of the answer arrives. Transactions therefore carry a
 * ClientRequestToken and plain writes a condition; never a bare ADD. */
dr_status dr__ddb_call(dr_client *c, const char *operation, const json_t *request,
                       json_t **response, dr_ddb_error *err)
{
    return dr__ddb_call_service(c, DR_SERVICE_DYNAMODB, operation, request, response, err);
}

/* One attempt of the signed request: send, read. On DR_OK *parsed holds the body. */
static dr_status send_once(ddb_call *call, dr_http_response *resp, json_t **parsed,
                           dr_ddb_error *err, int64_t *server_time)
{
    dr_client *c = call->client;
    double started;
    dr_status rc;

    *server_time = 0;
    dr__count(c, DR_COUNTER_ATTEMPTS, 1);
    /* Every attempt after the first is a retry, the clock-skew re-sign included, so
     * that ATTEMPTS = REQUESTS + RETRIES. */
    if (call->sent++ > 0)
        dr__count(c, DR_COUNTER_RETRIES, 1);
    dr__count(c, DR_COUNTER_BYTES_SENT, call->req.body_len);
    started = now_ms();
    rc = dr__http_perform(c->pool, &call->req, resp);
    dr__count(c, DR_COUNTER_BYTES_RECEIVED, resp->body.len);
    if (rc == DR_OK)
        rc = read_response(call->operation, resp, parsed, err, server_time);
    dr__logf(&c->log, DR_LOG_DEBUG, "%s attempt %u/%u: HTTP %ld, %s, %.1f ms", call->operation,
             call->attempt, c->max_attempts, resp->status,
             rc == DR_OK ? "ok" : dr_strerror(rc), now_ms() - started);
    return rc;
}

/* A clock far from the service's makes every signature fail: the first time a failure
 * says so, adopt the server's clock (from its Date header) and sign again. 1 if so. */
static int fix_clock_skew(ddb_call *call, dr_status rc, const dr_ddb_error *err,
                          int64_t server_time)
{
    if (rc != DR_E_AUTH || call->skew_fixed || server_time <= 0 ||
        !dr__ddb_is_clock_skew(err->type, err->message))
        return 0;
    atomic_store(&call->client->clock_skew_s, server_time - (int64_t)time(NULL));
    call->skew_fixed = 1;
    dr__logf(&call->client->log, DR_LOG_WARN,
             "%s: clock skew detected; signing with the server's time", call->operation);
    return 1;
}

/* Whether to try again after failure `*rc`; sleeps the backoff if so. When the retry
 * quota is empty, *rc becomes DR_E_RETRY_QUOTA (dadratings.h promises it, so a caller
 * can tell "not retried because the endpoint keeps failing" from an error that survived
 * every attempt; the message and `err` keep the last error). */
static int retry_after_backoff(ddb_call *call, dr_status *rc, const dr_http_response *resp)
{
    dr_client *c = call->client;
    uint32_t delay;
    char last[512];

    switch (dr__retry_refresh(c->quota, &call->retry, call->attempt, c->max_attempts, *rc,
                              dr__random01(), dr__ddb_retry_after_ms(resp), &delay)) {
    case DR_RETRY_GO:
        break;
    case DR_RETRY_QUOTA_EXCEEDED:
        snprintf(last, sizeof last, "%s", dr_last_error_message());
        dr__logf(&c->log, DR_LOG_WARN, "%s: retry quota exhausted; not retrying",
                 call->operation);
        *rc = dr__fail(DR_E_RETRY_QUOTA, "retry quota exhausted, not retrying: %s", last);
        return 0;
    default:
        return 0;
    }
    dr__logf(&c->log, DR_LOG_INFO, "%s: %s; retrying in %u ms", call->operation,
             dr_strerror(*rc), delay);
    sleep_ms(delay);
    return 1;
}

dr_status dr__ddb_call_service(dr_client *c, dr_ddb_service service, const char *operation,
                               const json_t *request, json_t **response, dr_ddb_error *err)
{
    dr_ddb_error local_err = DR_DDB_ERROR_INIT;
    dr_http_response resp = DR_HTTP_RESPONSE_INIT;
    ddb_call call = {0};
    json_t *parsed = NULL;
    int64_t server_time;
    dr_status rc;

    if (response)
        *response = NULL;
    if (!err)
        err = &local_err;
    dr__ddb_error_clear(err);
    call.client = c;
    call.operation = operation;
    if ((rc = build_request(&call, service, request)) != DR_OK)
        goto done;
    dr__count(c, DR_COUNTER_REQUESTS, 1);

    for (call.attempt = 1;; call.attempt++) {
        dr__ddb_error_clear(err);
        if ((rc = sign_request(&call)) != DR_OK)
            break; /* nothing was sent: nothing to retry */
        if ((rc = send_once(&call, &resp, &parsed, err, &server_time)) == DR_OK)
            break;
        count_failure(c, rc);
        if (fix_clock_skew(&call, rc, err, server_time)) {
            call.attempt--; /* a re-sign, not an attempt of the retry policy */
            continue;
        }
        if (!retry_after_backoff(&call, &rc, &resp))
            break;
    }

    if (rc == DR_OK) {
        dr__retry_record_success(c->quota, &call.retry);
        if (response)
            *response = parsed;
        else
            json_decref(parsed);
    }
done:
    dr__http_response_free(&resp);
    dr__http_request_free(&call.req);
    dr__free(call.body);
    dr__ddb_error_clear(&local_err);
    return rc;
}
