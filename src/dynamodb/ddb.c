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

int dr__ddb_parse_error(const char *body, size_t len, dr_ddb_error *err)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    const char *type, *message, *hash;
    int rc = -1;

    err->type[0] = err->message[0] = '\0';
    if (!json_is_object(root))
        goto done;
    type = json_string_value(json_object_get(root, "__type"));
    message = json_string_value(json_object_get(root, "message"));
    if (!message)
        message = json_string_value(json_object_get(root, "Message"));
    if (message)
        copy_truncated(err->message, sizeof err->message, message);
    if (type) {
        hash = strrchr(type, '#');
        copy_truncated(err->type, sizeof err->type, hash ? hash + 1 : type);
        rc = 0;
    }
    if (json_is_array(json_object_get(root, "CancellationReasons"))) {
        json_decref(err->cancellation_reasons);
        err->cancellation_reasons = json_incref(json_object_get(root, "CancellationReasons"));
    }
done:
    json_decref(root);
    return rc;
}

int64_t dr__http_date_parse(const char *date)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4];
    int day, year, hh, mm, ss;
    const char *m;

    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
    if (sscanf(date, "%*3s, %2d %3s %4d %2d:%2d:%2d GMT", &day, mon, &year, &hh, &mm, &ss) != 6)
        return -1;
    mon[3] = '\0';
    m = strstr(months, mon);
    if (!m || (m - months) % 3 != 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
        return -1;
    return dr__utc_to_epoch(year, (int)((m - months) / 3) + 1, day, hh, mm, ss);
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

/* The request as it goes on the wire, identical on every attempt except for the
 * signature and date, which are recomputed per attempt. */
typedef struct wire_request {
    const char *operation;
    const char *url;
    const char *host_header;
    const char *signing_region;
    char target[96];
    char *body;
    size_t body_len;
} wire_request;

/* The most header lines sign_attempt writes; `lines` has room for them and the NULL. */
#define DR_DDB_HEADER_LINES 7

/* Build the signed header lines for one attempt into `lines` (NULL-terminated). */
static dr_status sign_attempt(dr_client *c, const wire_request *w, dr_credentials *creds,
                              dr_buf *storage, const char *lines[DR_DDB_HEADER_LINES + 1])
{
    const dr_sigv4_header signed_headers[] = {
        {"host", w->host_header},
        {"content-type", DR_DDB_CONTENT_TYPE},
        {"x-amz-target", w->target},
    };
    char amz_date[17];
    dr_buf authorization = DR_BUF_INIT;
    int64_t now = (int64_t)time(NULL) + atomic_load(&c->clock_skew_s);
    size_t offsets[DR_DDB_HEADER_LINES], n = 0, i;
    dr_status rc;

    rc = dr__sigv4_authorize(c->signer, creds, w->signing_region, "dynamodb", now, "POST", "/",
                             "", signed_headers, sizeof signed_headers / sizeof *signed_headers,
                             w->body, w->body_len, amz_date, &authorization);
    if (rc != DR_OK) {
        dr__buf_free_secret(&authorization);
        return rc;
    }
    /* One buffer holds every line, NUL-separated; offsets become pointers at the end
     * because the buffer may move while it grows. */
    dr__buf_reset(storage);
#define LINE(...)                                                                         \
    do {                                                                                  \
        if (n == DR_DDB_HEADER_LINES) {                                                   \
            dr__buf_free(&authorization);                                                 \
            return dr__fail(DR_E_INTERNAL, "more than %d request header lines",           \
                            DR_DDB_HEADER_LINES);                                         \
        }                                                                                 \
        offsets[n++] = storage->len;                                                      \
        dr__buf_printf(storage, __VA_ARGS__);                                             \
        dr__buf_putc(storage, '\0');                                                      \
    } while (0)
    LINE("Host: %s", w->host_header);
    LINE("Content-Type: %s", DR_DDB_CONTENT_TYPE);
    LINE("X-Amz-Target: %s", w->target);
    LINE("X-Amz-Date: %s", amz_date);
    if (creds->session_token)
        LINE("X-Amz-Security-Token: %s", creds->session_token);
    LINE("Authorization: %s", dr__buf_cstr(&authorization));
    LINE("User-Agent: %s", DR_USER_AGENT);
#undef LINE
    dr__buf_free(&authorization);
    if ((rc = dr__buf_ok(storage)) != DR_OK)
        return rc;
    for (i = 0; i < n; i++)
        lines[i] = storage->data + offsets[i];
    lines[n] = NULL;
    return DR_OK;
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
static dr_status read_response(const wire_request *w, dr_http_response *resp, json_t **response,
                               dr_ddb_error *err, int64_t *server_time)
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
                            w->operation, crc_header, actual);
    }

    if (resp->status == 200) {
        root = json_loadb(dr__buf_cstr(&resp->body), resp->body.len, 0, &jerr);
        if (!json_is_object(root)) {
            json_decref(root);
            return dr__fail(DR_E_PROTOCOL, "%s: response is not a JSON object: %s",
                            w->operation, jerr.text);
        }
        *response = root;
        return DR_OK;
    }

    err->http_status = resp->status;
    if (dr__ddb_parse_error(dr__buf_cstr(&resp->body), resp->body.len, err) != 0) {
        dr_status code = resp->status >= 500 ? DR_E_SERVICE : DR_E_PROTOCOL;
        if (resp->status == 429)
            code = DR_E_THROTTLED;
        snprintf(err->type, sizeof err->type, "HTTP%ld", resp->status);
        return dr__fail(code, "%s: HTTP %ld without an error type", w->operation,
                        resp->status);
    }
    return dr__fail(dr__ddb_error_status(err->type, resp->status), "%s: %s: %s",
                    w->operation, err->type, err->message[0] ? err->message : "(no message)");
}

/* The server's retry-after hint in ms, or 0. */
static uint32_t retry_after_hint_ms(const dr_http_response *resp)
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

dr_status dr__ddb_call_service(dr_client *c, dr_ddb_service service, const char *operation,
                               const json_t *request, json_t **response, dr_ddb_error *err)
{
    dr_ddb_error local_err = DR_DDB_ERROR_INIT;
    dr_http_response resp = DR_HTTP_RESPONSE_INIT;
    dr_buf header_storage = DR_BUF_SECRET_INIT; /* X-Amz-Security-Token */
    wire_request w = {0};
    uint32_t attempt, spent = 0, cost;
    int skew_fixed = 0, sent = 0;
    dr_status rc = DR_OK;
    json_t *parsed = NULL;

    if (response)
        *response = NULL;
    if (!err)
        err = &local_err;
    dr__ddb_error_clear(err);

    w.operation = operation;
    if (service == DR_SERVICE_STREAMS) {
        w.url = c->streams_endpoint;
        w.host_header = c->streams_host_header;
        w.signing_region = c->streams_signing_region;
        snprintf(w.target, sizeof w.target, "DynamoDBStreams_20120810.%s", operation);
    } else {
        w.url = c->endpoint;
        w.host_header = c->host_header;
        w.signing_region = c->signing_region;
        snprintf(w.target, sizeof w.target, "DynamoDB_20120810.%s", operation);
    }
    w.body = dr__json_dump(request);
    if (!w.body)
        return dr__fail(DR_E_NOMEM, "%s: out of memory encoding the request", operation);
    w.body_len = strlen(w.body);
    dr__count(c, DR_COUNTER_REQUESTS, 1);

    for (attempt = 1;; attempt++) {
        const char *lines[DR_DDB_HEADER_LINES + 1];
        dr_credentials *creds = NULL;
        dr_http_request req = {0};
        int64_t server_time = 0;
        double started;

        dr__ddb_error_clear(err);
        if ((rc = dr__credentials_chain_get(c->credentials, &creds)) != DR_OK)
            break;
        rc = sign_attempt(c, &w, creds, &header_storage, lines);
        dr__credentials_release(creds);
        if (rc != DR_OK)
            break;

        req.method = "POST";
        req.url = w.url;
        req.headers = lines;
        req.body = w.body;
        req.body_len = w.body_len;
        req.connect_timeout_ms = c->connect_timeout_ms;
        req.timeout_ms = c->request_timeout_ms;

        dr__count(c, DR_COUNTER_ATTEMPTS, 1);
        /* Every attempt after the first is a retry, the clock-skew re-sign included
         * (it does not advance `attempt`), so that ATTEMPTS = REQUESTS + RETRIES. */
        if (sent++ > 0)
            dr__count(c, DR_COUNTER_RETRIES, 1);
        dr__count(c, DR_COUNTER_BYTES_SENT, w.body_len);
        started = now_ms();
        rc = dr__http_perform(c->pool, &req, &resp);
        dr__count(c, DR_COUNTER_BYTES_RECEIVED, resp.body.len);
        if (rc == DR_OK)
            rc = read_response(&w, &resp, &parsed, err, &server_time);
        dr__logf(&c->log, DR_LOG_DEBUG, "%s attempt %u/%u: HTTP %ld, %s, %.1f ms", operation,
                 attempt, c->max_attempts, resp.status, rc == DR_OK ? "ok" : dr_strerror(rc),
                 now_ms() - started);
        if (rc == DR_OK)
            break;
        count_failure(c, rc);

        /* A clock far from the service's makes every signature fail; adopt the
         * server's clock once and sign again (not charged to the retry quota). */
        if (rc == DR_E_AUTH && !skew_fixed && server_time > 0 &&
            dr__ddb_is_clock_skew(err->type, err->message)) {
            atomic_store(&c->clock_skew_s, server_time - (int64_t)time(NULL));
            skew_fixed = 1;
            dr__logf(&c->log, DR_LOG_WARN,
                     "%s: clock skew detected; signing with the server's time", operation);
            attempt--;
            continue;
        }
        if (!dr__retry_is_retryable(rc) || attempt >= c->max_attempts)
            break;
        cost = dr__retry_quota_acquire(c->quota, rc);
        if (!cost) {
            /* dadratings.h promises DR_E_RETRY_QUOTA here, so that a caller can tell
             * "not retried because the endpoint keeps failing" from an error that
             * survived every attempt; the message and `err` keep the last error. */
            char last[512];
            snprintf(last, sizeof last, "%s", dr_last_error_message());
            dr__logf(&c->log, DR_LOG_WARN, "%s: retry quota exhausted; not retrying", operation);
            rc = dr__fail(DR_E_RETRY_QUOTA, "retry quota exhausted, not retrying: %s", last);
            break;
        }
        spent += cost;
        {
            uint32_t delay = dr__retry_backoff_ms(c->retry_policy, attempt + 1, rc,
                                                  dr__random01(),
                                                  retry_after_hint_ms(&resp));
            dr__logf(&c->log, DR_LOG_INFO, "%s: %s; retrying in %u ms", operation, dr_strerror(rc),
                     delay);
            sleep_ms(delay);
        }
    }

    if (rc == DR_OK) {
        dr__retry_quota_release(c->quota, spent);
        if (response)
            *response = parsed;
        else
            json_decref(parsed);
    }
    dr__http_response_free(&resp);
    dr__buf_free_secret(&header_storage);
    dr__free(w.body);
    dr__ddb_error_clear(&local_err);
    return rc;
}
