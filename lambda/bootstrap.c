/* bootstrap: an AWS Lambda custom runtime (provided.al2023) that applies the ratings
 * table's DynamoDB Streams batches to the stats table with
 * dr_client_apply_stream_batch(). See docs/lambda.md.
 *
 * It speaks the Lambda Runtime API (version 2018-06-01) over plain HTTP to
 * $AWS_LAMBDA_RUNTIME_API: GET .../invocation/next (a long poll, no timeout), then
 * POST .../invocation/<id>/response with the partial-batch response, or
 * POST .../invocation/<id>/error when the event is not a batch. A client that cannot be
 * made is reported once to POST .../init/error, and the process exits non-zero, as
 * Lambda expects of a runtime whose initialisation failed.
 *
 * Only the public header and libcurl: the runtime is a user of the library like any
 * other. One JSON line per batch goes to stdout (CloudWatch Logs); secrets never do.
 *
 * SIGTERM (Lambda's shutdown, sent when extensions are registered) stops the long poll
 * at once through a self-pipe that the poll loop watches; a batch being applied is
 * finished and answered first, so a shutdown never leaves an invocation unanswered by
 * choice. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include <dadratings.h>

#define RUNTIME_API_VERSION "2018-06-01"
/* Lambda's synchronous payload limit is 6 MB; a stream batch is far below it
 * (BatchSize <= 10,000 records of <= 400 KB... but 6 MB in total). Anything larger is
 * not a Lambda event. */
#define MAX_EVENT_BYTES (6u * 1024u * 1024u + 1024u)
/* Request ids are UUIDs; they go into a URL path, so only a safe alphabet is accepted. */
#define MAX_REQUEST_ID 128
#define MAX_HEADER_VALUE 512
/* Responses and errors are answered by a local agent: quick, or something is wrong. */
#define POST_TIMEOUT_MS 10000L
#define CONNECT_TIMEOUT_MS 3000L

/* ---- signals ------------------------------------------------------------- */

static volatile sig_atomic_t g_stop;
static int g_wake_pipe[2] = {-1, -1};

static void on_sigterm(int sig)
{
    int saved = errno;
    (void)sig;
    g_stop = 1;
    if (g_wake_pipe[1] >= 0) {
        ssize_t ignored = write(g_wake_pipe[1], "x", 1);
        (void)ignored; /* a full pipe already holds a wake-up */
    }
    errno = saved;
}

static int install_signals(void)
{
    struct sigaction sa;
    size_t i;
    if (pipe(g_wake_pipe) != 0)
        return -1;
    for (i = 0; i < 2; i++) {
        int flags = fcntl(g_wake_pipe[i], F_GETFL);
        if (flags < 0 || fcntl(g_wake_pipe[i], F_SETFL, flags | O_NONBLOCK) != 0 ||
            fcntl(g_wake_pipe[i], F_SETFD, FD_CLOEXEC) != 0)
            return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigterm;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    /* A runtime API connection closed under us must be an error, not a kill. */
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void close_signals(void)
{
    size_t i;
    for (i = 0; i < 2; i++) {
        if (g_wake_pipe[i] >= 0)
            close(g_wake_pipe[i]);
        g_wake_pipe[i] = -1;
    }
}

/* ---- small helpers ------------------------------------------------------- */

typedef struct buf {
    char *data;
    size_t len, cap;
    int failed; /* out of memory or over the limit */
} buf;

static void buf_append(buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (n > MAX_EVENT_BYTES || b->len + n + 1 > MAX_EVENT_BYTES) {
        b->failed = 1;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *p;
        while (cap < b->len + n + 1)
            cap *= 2;
        p = realloc(b->data, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_puts(buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

static void buf_reset(buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

static void buf_free(buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Append `s` as a JSON string literal (quotes included). Invalid UTF-8 is passed
 * through: CloudWatch and the runtime API accept it, and messages come from the library,
 * which only produces UTF-8. */
static void buf_json_string(buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    buf_puts(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[7];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            buf_append(b, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            buf_append(b, esc, 6);
        } else {
            buf_append(b, (const char *)&c, 1);
        }
    }
    buf_puts(b, "\"");
}

static void buf_printf(buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        b->failed = 1;
    else
        buf_append(b, tmp, (size_t)n);
}

static uint64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One JSON line on stdout; `fields` is the inside of the object, already encoded. */
static void log_line(const char *level, const buf *fields)
{
    printf("{\"level\":\"%s\",%s}\n", level, fields->failed ? "\"msg\":\"log line too long\""
                                                           : fields->data);
    fflush(stdout);
}

static void log_msg(const char *level, const char *msg, const char *detail)
{
    buf f = {0};
    buf_puts(&f, "\"msg\":");
    buf_json_string(&f, msg);
    if (detail) {
        buf_puts(&f, ",\"detail\":");
        buf_json_string(&f, detail);
    }
    log_line(level, &f);
    buf_free(&f);
}

/* ---- the Runtime API client ---------------------------------------------- */

typedef struct invocation {
    char request_id[MAX_REQUEST_ID + 1];
    char deadline_ms[32];
    char function_arn[MAX_HEADER_VALUE];
    char trace_id[MAX_HEADER_VALUE];
    buf body;
} invocation;

typedef struct runtime {
    char base_url[320]; /* http://<AWS_LAMBDA_RUNTIME_API>/2018-06-01/runtime */
    CURLM *multi;
    CURL *easy; /* reused: one keep-alive connection to the local runtime API */
} runtime;

typedef enum http_result { HTTP_OK, HTTP_FAILED, HTTP_STOPPED } http_result;

static size_t on_body(char *ptr, size_t size, size_t n, void *userdata)
{
    buf *b = userdata;
    buf_append(b, ptr, size * n);
    return b->failed ? 0 : size * n; /* 0 aborts the transfer */
}

static size_t discard_body(char *ptr, size_t size, size_t n, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * n;
}

/* Copy the trimmed value of header line `line` into `out` if its name is `name`. */
static void take_header(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name), vlen;
    const char *v;
    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return;
    v = line + n + 1;
    while (v < line + len && (*v == ' ' || *v == '\t'))
        v++;
    vlen = (size_t)(line + len - v);
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
    if (vlen >= cap)
        vlen = cap - 1;
    memcpy(out, v, vlen);
    out[vlen] = '\0';
}

static size_t on_header(char *line, size_t size, size_t n, void *userdata)
{
    invocation *inv = userdata;
    size_t len = size * n;
    take_header(line, len, "Lambda-Runtime-Aws-Request-Id", inv->request_id,
                sizeof inv->request_id);
    take_header(line, len, "Lambda-Runtime-Deadline-Ms", inv->deadline_ms,
                sizeof inv->deadline_ms);
    take_header(line, len, "Lambda-Runtime-Invoked-Function-Arn", inv->function_arn,
                sizeof inv->function_arn);
    take_header(line, len, "Lambda-Runtime-Trace-Id", inv->trace_id, sizeof inv->trace_id);
    return len;
}

/* Run the transfer prepared on rt->easy. `stoppable`: a SIGTERM ends it (the long poll);
 * responses are always completed. */
static http_result perform(runtime *rt, int stoppable, long *status)
{
    struct curl_waitfd wake;
    http_result result = HTTP_FAILED;
    int running = 1;
    CURLMsg *msg;
    int left;

    wake.fd = g_wake_pipe[0];
    wake.events = CURL_WAIT_POLLIN;
    wake.revents = 0;
    if (curl_multi_add_handle(rt->multi, rt->easy) != CURLM_OK)
        return HTTP_FAILED;
    while (running) {
        if (stoppable && g_stop) {
            result = HTTP_STOPPED;
            goto done;
        }
        if (curl_multi_perform(rt->multi, &running) != CURLM_OK)
            goto done;
        if (running && curl_multi_poll(rt->multi, stoppable ? &wake : NULL, stoppable ? 1 : 0,
                                       1000, NULL) != CURLM_OK)
            goto done;
    }
    while ((msg = curl_multi_info_read(rt->multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == rt->easy &&
            msg->data.result == CURLE_OK) {
            curl_easy_getinfo(rt->easy, CURLINFO_RESPONSE_CODE, status);
            result = HTTP_OK;
        }
    }
done:
    curl_multi_remove_handle(rt->multi, rt->easy);
    return result;
}

static void prepare(runtime *rt, const char *path, long timeout_ms)
{
    char url[sizeof rt->base_url + MAX_REQUEST_ID + 64];
    snprintf(url, sizeof url, "%s%s", rt->base_url, path);
    curl_easy_reset(rt->easy);
    curl_easy_setopt(rt->easy, CURLOPT_URL, url);
    curl_easy_setopt(rt->easy, CURLOPT_NOSIGNAL, 1L);
    /* The runtime API is a local agent: never route it through HTTP(S)_PROXY. */
    curl_easy_setopt(rt->easy, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(rt->easy, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(rt->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(rt->easy, CURLOPT_PROTOCOLS_STR, "http");
}

/* GET /invocation/next. HTTP_STOPPED on SIGTERM. */
static http_result next_invocation(runtime *rt, invocation *inv)
{
    long status = 0;
    http_result r;
    inv->request_id[0] = inv->deadline_ms[0] = inv->function_arn[0] = inv->trace_id[0] = '\0';
    buf_reset(&inv->body);
    /* No timeout: Lambda freezes the environment inside this call until an event comes. */
    prepare(rt, "/invocation/next", 0L);
    curl_easy_setopt(rt->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(rt->easy, CURLOPT_WRITEDATA, &inv->body);
    curl_easy_setopt(rt->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(rt->easy, CURLOPT_HEADERDATA, inv);
    r = perform(rt, 1, &status);
    if (r == HTTP_OK && status != 200) {
        char detail[64];
        snprintf(detail, sizeof detail, "HTTP %ld", status);
        log_msg("ERROR", "runtime API refused /invocation/next", detail);
        return HTTP_FAILED;
    }
    if (r == HTTP_FAILED)
        log_msg("ERROR", "runtime API unreachable on /invocation/next",
                inv->body.failed ? "event over the size limit" : NULL);
    return r;
}

/* POST `body` to `path`; `error_type` non-NULL adds Lambda-Runtime-Function-Error-Type. */
static int post(runtime *rt, const char *path, const buf *body, const char *error_type)
{
    struct curl_slist *headers = NULL, *h;
    char type_header[160];
    long status = 0;
    http_result r = HTTP_FAILED;

    prepare(rt, path, POST_TIMEOUT_MS);
    h = curl_slist_append(NULL, "Content-Type: application/json");
    if (h && error_type) {
        headers = h;
        snprintf(type_header, sizeof type_header, "Lambda-Runtime-Function-Error-Type: %s",
                 error_type);
        h = curl_slist_append(headers, type_header);
    }
    if (h) {
        headers = h;
        curl_easy_setopt(rt->easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(rt->easy, CURLOPT_POSTFIELDS, body->data ? body->data : "");
        curl_easy_setopt(rt->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
        curl_easy_setopt(rt->easy, CURLOPT_WRITEFUNCTION, discard_body);
        r = perform(rt, 0, &status);
    }
    curl_slist_free_all(headers);
    if (r != HTTP_OK || status < 200 || status > 299) {
        char detail[96];
        snprintf(detail, sizeof detail, "%s: HTTP %ld", path, r == HTTP_OK ? status : 0L);
        log_msg("ERROR", "runtime API rejected a post", detail);
        return -1;
    }
    return 0;
}

/* {"errorMessage":"...","errorType":"..."}, the shape Lambda documents for both
 * /init/error and /invocation/<id>/error. */
static int post_error(runtime *rt, const char *path, const char *type, const char *message)
{
    buf body = {0};
    int rc;
    buf_puts(&body, "{\"errorMessage\":");
    buf_json_string(&body, message);
    buf_puts(&body, ",\"errorType\":");
    buf_json_string(&body, type);
    buf_puts(&body, "}");
    rc = body.failed ? -1 : post(rt, path, &body, type);
    buf_free(&body);
    return rc;
}

static int runtime_open(runtime *rt, const char *api)
{
    memset(rt, 0, sizeof *rt);
    if (!api || !*api || strlen(api) > 200 || strpbrk(api, "/?#@ \t\r\n")) {
        fprintf(stderr, "bootstrap: AWS_LAMBDA_RUNTIME_API must be set to host:port\n");
        return -1;
    }
    snprintf(rt->base_url, sizeof rt->base_url, "http://%s/" RUNTIME_API_VERSION "/runtime",
             api);
    rt->multi = curl_multi_init();
    rt->easy = curl_easy_init();
    if (!rt->multi || !rt->easy) {
        fprintf(stderr, "bootstrap: out of memory creating the HTTP client\n");
        return -1;
    }
    return 0;
}

static void runtime_close(runtime *rt)
{
    if (rt->easy)
        curl_easy_cleanup(rt->easy);
    if (rt->multi)
        curl_multi_cleanup(rt->multi);
    memset(rt, 0, sizeof *rt);
}

/* ---- the client from the environment ------------------------------------- */

/* The library's own log lines (warnings about retries, credential refreshes) go to
 * stderr as JSON, from whichever thread logged them. They never contain secrets. */
static void on_library_log(dr_log_level level, const char *message, void *payload)
{
    static const char *const names[] = {"", "ERROR", "WARN", "INFO", "DEBUG"};
    buf line = {0};
    (void)payload;
    buf_printf(&line, "{\"level\":\"%s\",\"source\":\"libdadratings\",\"msg\":",
               level >= DR_LOG_ERROR && level <= DR_LOG_DEBUG ? names[level] : "INFO");
    buf_json_string(&line, message ? message : "");
    buf_puts(&line, "}\n");
    if (!line.failed)
        fputs(line.data, stderr);
    buf_free(&line);
}

static dr_status parse_uint_env(const char *name, uint32_t lo, uint32_t hi, uint32_t *out,
                                char *err, size_t cap)
{
    const char *v = getenv(name);
    char *end = NULL;
    unsigned long n;
    *out = 0;
    if (!v || !*v)
        return DR_OK;
    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno || *end || v[0] == '-' || n < lo || n > hi) {
        snprintf(err, cap, "%s must be an integer from %" PRIu32 " to %" PRIu32, name, lo, hi);
        return DR_E_CONFIG;
    }
    *out = (uint32_t)n;
    return DR_OK;
}

static dr_status parse_log_level(dr_log_level *out, char *err, size_t cap)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    const char *v = getenv("DR_LOG_LEVEL");
    size_t i;
    *out = (dr_log_level)0;
    if (!v || !*v || !strcasecmp(v, "off"))
        return DR_OK;
    for (i = 0; i < sizeof names / sizeof *names; i++) {
        if (!strcasecmp(v, names[i])) {
            *out = (dr_log_level)(i + 1);
            return DR_OK;
        }
    }
    snprintf(err, cap, "DR_LOG_LEVEL must be off, error, warn, info or debug");
    return DR_E_CONFIG;
}

/* Everything not set here (region, endpoint, credentials, table names) the library
 * resolves from the environment itself, as the AWS SDKs do. */
static dr_status make_client(dr_client **out, char *err, size_t cap)
{
    dr_config *cfg = NULL;
    dr_log_level level;
    uint32_t shards = 0;
    dr_status rc;

    *out = NULL;
    err[0] = '\0';
    if ((rc = parse_uint_env("DR_GLOBAL_SHARDS", 1, 64, &shards, err, cap)) != DR_OK ||
        (rc = parse_log_level(&level, err, cap)) != DR_OK)
        return rc;
    if ((rc = dr_config_new(&cfg)) != DR_OK)
        goto fail;
    if (shards && (rc = dr_config_set_global_shards(cfg, shards)) != DR_OK)
        goto fail;
    if (level && (rc = dr_config_set_log(cfg, on_library_log, level, NULL)) != DR_OK)
        goto fail;
    rc = dr_client_new(out, cfg);
fail:
    if (rc != DR_OK)
        snprintf(err, cap, "%s: %s", dr_strerror(rc), dr_last_error_message());
    dr_config_free(cfg);
    return rc;
}

/* ---- one invocation ------------------------------------------------------ */

static const char *error_type_for(dr_status rc)
{
    switch (rc) {
    case DR_E_INVALID_ARGUMENT:
        return "DadRatings.InvalidEvent";
    case DR_E_NOMEM:
        return "DadRatings.OutOfMemory";
    default:
        return "DadRatings.AggregationFailed";
    }
}

/* Lambda's documented request ids are UUIDs; accept a safe superset so nothing odd can
 * reach the URL path. */
static int request_id_ok(const char *id)
{
    size_t n = strspn(id, "0123456789abcdefABCDEF-_.:"
                          "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ");
    return n > 0 && id[n] == '\0';
}

static void log_batch(const invocation *inv, const dr_batch_result *res, uint64_t ms)
{
    size_t applied = dr_batch_result_applied(res), skipped = dr_batch_result_skipped(res);
    size_t dups = dr_batch_result_duplicates(res), failed = dr_batch_result_failed_count(res);
    buf f = {0};
    buf_puts(&f, "\"msg\":\"batch\",\"requestId\":");
    buf_json_string(&f, inv->request_id);
    buf_printf(&f, ",\"records\":%zu,\"applied\":%zu,\"skipped\":%zu,\"duplicates\":%zu",
               applied + skipped + dups + failed, applied, skipped, dups);
    buf_printf(&f, ",\"failed\":%zu,\"durationMs\":%" PRIu64, failed, ms);
    if (failed) {
        buf_puts(&f, ",\"firstFailedSequenceNumber\":");
        buf_json_string(&f, dr_batch_result_failed_sequence_number(res, 0));
    }
    log_line(failed ? "WARN" : "INFO", &f);
    buf_free(&f);
}

/* The batch's first record failed: records are applied in order, so nothing was. */
static int first_record_failed(const dr_batch_result *res)
{
    return dr_batch_result_failed_count(res) && !dr_batch_result_applied(res) &&
           !dr_batch_result_skipped(res) && !dr_batch_result_duplicates(res);
}

static void log_invocation_error(const invocation *inv, const char *type, const char *message,
                                 uint64_t ms)
{
    buf f = {0};
    buf_puts(&f, "\"msg\":\"batch rejected\",\"requestId\":");
    buf_json_string(&f, inv->request_id);
    buf_puts(&f, ",\"errorType\":");
    buf_json_string(&f, type);
    buf_puts(&f, ",\"errorMessage\":");
    buf_json_string(&f, message);
    buf_printf(&f, ",\"durationMs\":%" PRIu64, ms);
    log_line("ERROR", &f);
    buf_free(&f);
}

static void handle(runtime *rt, dr_client *client, invocation *inv)
{
    char path[MAX_REQUEST_ID + 32];
    dr_batch_result *res = NULL;
    uint64_t t0 = monotonic_ms();
    dr_status rc;

    if (!request_id_ok(inv->request_id)) {
        log_msg("ERROR", "invocation without a usable Lambda-Runtime-Aws-Request-Id", NULL);
        return;
    }
    /* X-Ray: the SDKs read the current trace from this variable. */
    if (inv->trace_id[0])
        setenv("_X_AMZN_TRACE_ID", inv->trace_id, 1);
    else
        unsetenv("_X_AMZN_TRACE_ID");

    rc = dr_client_apply_stream_batch(client, inv->body.data ? inv->body.data : "",
                                      inv->body.len, &res);
    if (rc == DR_OK && first_record_failed(res)) {
        /* Nothing applied. A partial response would have Lambda retry this same batch
         * up to maximum_retry_attempts and then discard it whole, good records after the
         * failing one included. A function error makes it bisect the batch instead
         * (bisect_batch_on_function_error, which spends no retry), until the failing
         * record is alone: only that one reaches the failure queue. docs/lambda.md. */
        char message[256];
        snprintf(message, sizeof message,
                 "stream record %s, the first of the batch, could not be applied",
                 dr_batch_result_failed_sequence_number(res, 0));
        log_batch(inv, res, monotonic_ms() - t0);
        snprintf(path, sizeof path, "/invocation/%s/error", inv->request_id);
        post_error(rt, path, "DadRatings.RecordFailed", message);
        dr_batch_result_free(res);
        return;
    }
    if (rc == DR_OK) {
        char *json = NULL;
        rc = dr_batch_result_to_json(res, &json);
        if (rc == DR_OK) {
            buf body = {NULL, 0, 0, 0};
            body.data = json;
            body.len = strlen(json);
            log_batch(inv, res, monotonic_ms() - t0);
            snprintf(path, sizeof path, "/invocation/%s/response", inv->request_id);
            post(rt, path, &body, NULL);
        }
        dr_free(json);
        dr_batch_result_free(res);
        if (rc == DR_OK)
            return;
    }
    {
        /* Read right after the failure: the message is the calling thread's last one. */
        const char *type = error_type_for(rc);
        char message[1024];
        snprintf(message, sizeof message, "%s: %s", dr_strerror(rc), dr_last_error_message());
        log_invocation_error(inv, type, message, monotonic_ms() - t0);
        snprintf(path, sizeof path, "/invocation/%s/error", inv->request_id);
        post_error(rt, path, type, message);
    }
}

/* ---- main ---------------------------------------------------------------- */

/* libcurl looks for its CA bundle where the system that built it keeps one. A package
 * built on Debian and run on Amazon Linux (/etc/pki/tls/certs/ca-bundle.crt) would fail
 * every HTTPS request to DynamoDB; say so once, at start, rather than per batch. */
static void check_ca_bundle(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    if (v && v->age >= CURLVERSION_SEVENTH && v->cainfo && access(v->cainfo, R_OK) != 0)
        log_msg("WARN", "libcurl's CA bundle is missing: HTTPS to DynamoDB will fail; "
                        "build the package on Amazon Linux 2023 (docs/lambda.md)",
                v->cainfo);
}

static int serve(runtime *rt, dr_client *client)
{
    invocation inv;
    int status = 0;
    memset(&inv, 0, sizeof inv);
    while (!g_stop) {
        http_result r = next_invocation(rt, &inv);
        if (r == HTTP_STOPPED)
            break;
        if (r == HTTP_FAILED) {
            status = 1;
            break;
        }
        handle(rt, client, &inv);
    }
    buf_free(&inv.body);
    if (!status)
        log_msg("INFO", "shutting down", g_stop ? "SIGTERM" : NULL);
    return status;
}

int main(void)
{
    runtime rt;
    dr_client *client = NULL;
    char err[512];
    int status = 1;

    /* CloudWatch reads stdout as lines; a full buffer would hold them until exit. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (install_signals() != 0) {
        fprintf(stderr, "bootstrap: cannot install the SIGTERM handler\n");
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "bootstrap: curl_global_init failed\n");
        close_signals();
        return 1;
    }
    check_ca_bundle();
    if (runtime_open(&rt, getenv("AWS_LAMBDA_RUNTIME_API")) != 0) {
        status = 2; /* nowhere to report an init error to */
    } else if (make_client(&client, err, sizeof err) != DR_OK) {
        log_msg("ERROR", "cannot create the DynamoDB client", err);
        post_error(&rt, "/init/error", "DadRatings.InitFailed", err);
    } else {
        status = serve(&rt, client);
    }
    dr_client_free(client);
    runtime_close(&rt);
    curl_global_cleanup();
    close_signals();
    return status;
}
