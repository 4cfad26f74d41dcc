/* dr_fault_proxy against a tiny in-process upstream: every action, the count / every /
 * target / rate keys, the control paths, malformed input and concurrent clients.
 * Needs DR_FAULT_PROXY (set by ctest); no DynamoDB Local. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fault_proxy_ctl.h"
#include "http_message.h"

#define UPSTREAM_DATE "Mon, 01 Jan 2024 00:00:00 GMT"

/* ---- a minimal upstream: Content-Length or chunked JSON, one request per connection */

static struct {
    int listen_fd;
    int port;
    pthread_t thread;
    pthread_mutex_t lock;
    long requests; /* requests that reached the upstream = took effect */
    int stop;
} up;

static dr_test_proxy proxy;

static uint32_t crc32_ieee(const char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        crc ^= (unsigned char)p[i];
        for (k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

static long upstream_count(void)
{
    long n;
    pthread_mutex_lock(&up.lock);
    n = up.requests;
    pthread_mutex_unlock(&up.lock);
    return n;
}

static void upstream_serve_one(int fd)
{
    char req[65536], resp[1024];
    const char *body = "{\"Item\":{\"joke\":{\"S\":\"hello\"}},\"Count\":1}";
    size_t len = 0, head_len;
    int chunked;
    if (!dr_test_http_read(fd, req, sizeof req, &len, &head_len, NULL, NULL))
        return;
    pthread_mutex_lock(&up.lock);
    up.requests++;
    pthread_mutex_unlock(&up.lock);
    chunked = strncmp(req, "POST /chunked ", 14) == 0;
    if (chunked) {
        /* Split in two chunks, with an extension and a trailer, as servers may. */
        size_t half = strlen(body) / 2;
        snprintf(resp, sizeof resp,
                 "HTTP/1.1 200 OK\r\nDate: " UPSTREAM_DATE "\r\nx-amz-crc32: %lu\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n%zx;ext=1\r\n%.*s\r\n%zx\r\n%s\r\n0\r\n"
                 "X-Trailer: t\r\n\r\n",
                 (unsigned long)crc32_ieee(body, strlen(body)), half, (int)half, body,
                 strlen(body) - half, body + half);
    } else {
        snprintf(resp, sizeof resp,
                 "HTTP/1.1 200 OK\r\nDate: " UPSTREAM_DATE "\r\nx-amz-crc32: %lu\r\n"
                 "x-amzn-RequestId: UPSTREAM\r\nContent-Type: application/x-amz-json-1.0\r\n"
                 "Content-Length: %zu\r\n\r\n%s",
                 (unsigned long)crc32_ieee(body, strlen(body)), strlen(body), body);
    }
    send(fd, resp, strlen(resp), MSG_NOSIGNAL);
}

static void *upstream_main(void *arg)
{
    (void)arg;
    for (;;) {
        struct pollfd p;
        int fd, stop;
        pthread_mutex_lock(&up.lock);
        stop = up.stop;
        pthread_mutex_unlock(&up.lock);
        if (stop)
            return NULL;
        p.fd = up.listen_fd;
        p.events = POLLIN;
        if (poll(&p, 1, 100) <= 0)
            continue;
        fd = accept(up.listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        upstream_serve_one(fd);
        close(fd);
    }
}

static int listen_loopback(int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static int group_setup(void **state)
{
    char upstream[64];
    (void)state;
    pthread_mutex_init(&up.lock, NULL);
    up.listen_fd = listen_loopback(&up.port);
    if (up.listen_fd < 0 || pthread_create(&up.thread, NULL, upstream_main, NULL) != 0)
        return -1;
    snprintf(upstream, sizeof upstream, "127.0.0.1:%d", up.port);
    return dr_test_proxy_start(upstream, NULL, &proxy);
}

static int group_teardown(void **state)
{
    (void)state;
    dr_test_proxy_stop(&proxy);
    pthread_mutex_lock(&up.lock);
    up.stop = 1;
    pthread_mutex_unlock(&up.lock);
    pthread_join(up.thread, NULL);
    close(up.listen_fd);
    pthread_mutex_destroy(&up.lock);
    return 0;
}

/* Each test starts from its own rules and zeroed statistics. */
static void use_rules(const char *r0, const char *r1)
{
    const char *rules[3];
    rules[0] = r0;
    rules[1] = r0 ? r1 : NULL;
    rules[2] = NULL;
    assert_int_equal(dr_test_proxy_set_rules(&proxy, rules), 0);
    assert_int_equal(dr_test_proxy_reset_stats(&proxy), 0);
}

/* ---- a keep-alive HTTP client ------------------------------------------------- */

typedef struct {
    int status;
    char head[8192];
    char body[8192];
    size_t body_len;
} response;

static int connect_proxy(void)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)proxy.port);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return -1;
    return fd;
}

static int send_call_body(int fd, const char *path, const char *op, const char *body)
{
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: dynamodb.local\r\n"
                     "X-Amz-Target: DynamoDB_20120810.%s\r\nX-Amz-Date: 20240101T000000Z\r\n"
                     "Content-Type: application/x-amz-json-1.0\r\nContent-Length: %zu\r\n\r\n%s",
                     path, op, strlen(body), body);
    return send(fd, req, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

static int send_call(int fd, const char *path, const char *op)
{
    return send_call_body(fd, path, op, "{\"TableName\":\"jokes\"}");
}

/* Reads one response, which must carry a Content-Length (the proxy frames every answer
 * so). Returns 0, or -1 if the connection ended first. */
static int read_response(int fd, response *r)
{
    size_t len = 0, head_len, total;
    char buf[16384];
    memset(r, 0, sizeof *r);
    total = dr_test_http_read(fd, buf, sizeof buf, &len, &head_len, NULL, NULL);
    if (!total || head_len >= sizeof r->head || total - head_len >= sizeof r->body ||
        !dr_test_http_header(dr_test_http_headers_of(buf), "Content-Length", NULL, 0))
        return -1;
    memcpy(r->head, buf, head_len);
    r->head[head_len] = '\0';
    r->body_len = total - head_len;
    memcpy(r->body, buf + head_len, r->body_len);
    r->body[r->body_len] = '\0';
    sscanf(buf, "HTTP/1.1 %d", &r->status);
    return 0;
}

static int call(int fd, const char *op, response *r)
{
    return send_call(fd, "/", op) == 0 ? read_response(fd, r) : -1;
}

/* Value of a header in r->head, copied into out; "" if absent. */
static const char *header(const response *r, const char *name, char *out, size_t cap)
{
    if (!dr_test_http_header(dr_test_http_headers_of(r->head), name, out, cap))
        out[0] = '\0';
    return out;
}

static unsigned long header_crc(const response *r)
{
    char v[64];
    return strtoul(header(r, "x-amz-crc32", v, sizeof v), NULL, 10);
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (long)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static dr_test_proxy_counts stats(void)
{
    dr_test_proxy_counts c;
    assert_int_equal(dr_test_proxy_stats(&proxy, &c), 0);
    return c;
}

/* ---- tests ------------------------------------------------------------------- */

static void test_pass_keeps_headers_on_one_connection(void **state)
{
    int fd, i;
    response r;
    char v[128];
    long before = upstream_count();
    dr_test_proxy_counts c;
    (void)state;
    use_rules(NULL, NULL);
    fd = connect_proxy();
    for (i = 0; i < 3; i++) {
        assert_int_equal(call(fd, "GetItem", &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(header(&r, "Date", v, sizeof v), UPSTREAM_DATE);
        assert_string_equal(header(&r, "x-amzn-RequestId", v, sizeof v), "UPSTREAM");
        assert_int_equal(header_crc(&r), crc32_ieee(r.body, r.body_len));
        assert_non_null(strstr(r.body, "\"hello\""));
    }
    close(fd);
    c = stats();
    assert_int_equal(c.requests, 3);
    assert_int_equal(c.forwarded, 3);
    assert_int_equal(dr_test_proxy_target_count(&c, "GetItem"), 3);
    assert_int_equal(upstream_count() - before, 3);
}

static void test_chunked_upstream_is_relayed_with_content_length(void **state)
{
    int fd = connect_proxy();
    response r;
    char v[64];
    (void)state;
    use_rules(NULL, NULL);
    assert_int_equal(send_call(fd, "/chunked", "Query"), 0);
    assert_int_equal(read_response(fd, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"Item\":{\"joke\":{\"S\":\"hello\"}},\"Count\":1}");
    assert_string_equal(header(&r, "Transfer-Encoding", v, sizeof v), "");
    assert_int_equal(header_crc(&r), crc32_ieee(r.body, r.body_len));
    close(fd);
}

static void test_throttle_count_then_pass(void **state)
{
    int fd = connect_proxy();
    response r;
    char v[64];
    long before = upstream_count();
    dr_test_proxy_counts c;
    (void)state;
    use_rules("throttle:count=2", NULL);
    assert_int_equal(call(fd, "PutItem", &r), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"com.amazonaws.dynamodb.v20120810#ThrottlingException\""));
    assert_string_equal(header(&r, "Content-Type", v, sizeof v), "application/x-amz-json-1.0");
    assert_int_equal(header_crc(&r), crc32_ieee(r.body, r.body_len));
    assert_int_equal(call(fd, "PutItem", &r), 0); /* same connection after a fault */
    assert_int_equal(r.status, 400);
    assert_int_equal(call(fd, "PutItem", &r), 0);
    assert_int_equal(r.status, 200);
    close(fd);
    c = stats();
    assert_int_equal(c.requests, 3);
    assert_int_equal(c.forwarded, 1);
    assert_int_equal(dr_test_proxy_fault_count(&c, "throttle"), 2);
    assert_int_equal(upstream_count() - before, 1);
}

static void test_every_with_target(void **state)
{
    int fd = connect_proxy(), i;
    response r;
    dr_test_proxy_counts c;
    (void)state;
    use_rules("error500:target=PutItem,every=2", NULL);
    for (i = 1; i <= 4; i++) {
        assert_int_equal(call(fd, "PutItem", &r), 0);
        assert_int_equal(r.status, i % 2 == 0 ? 500 : 200);
        assert_int_equal(call(fd, "GetItem", &r), 0);
        assert_int_equal(r.status, 200);
    }
    assert_non_null(strstr(r.head, "HTTP/1.1 200"));
    close(fd);
    c = stats();
    assert_int_equal(dr_test_proxy_fault_count(&c, "error500"), 2);
    assert_int_equal(dr_test_proxy_target_count(&c, "PutItem"), 4);
    assert_int_equal(dr_test_proxy_target_count(&c, "GetItem"), 4);
}

static void test_error_bodies(void **state)
{
    int fd = connect_proxy();
    response r;
    (void)state;
    use_rules("throughput:target=PutItem", "error503:target=GetItem");
    assert_int_equal(call(fd, "PutItem", &r), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "#ProvisionedThroughputExceededException\""));
    assert_int_equal(call(fd, "GetItem", &r), 0);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "ServiceUnavailable"));
    use_rules("validation", NULL);
    assert_int_equal(call(fd, "Query", &r), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "#ValidationException\""));
    assert_int_equal(header_crc(&r), crc32_ieee(r.body, r.body_len));
    use_rules("error500", NULL);
    assert_int_equal(call(fd, "Query", &r), 0);
    assert_string_equal(r.body, "{\"__type\":\"com.amazon.coral.availability#InternalFailure\","
                                "\"message\":\"injected\"}");
    close(fd);
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (; (hay = strstr(hay, needle)) != NULL; hay++)
        n++;
    return n;
}

/* A throttled transaction as DynamoDB reports it: one reason per TransactItems entry
 * (brackets and braces inside strings do not count), nothing forwarded; any other
 * operation gets the plain ThrottlingException. */
static void test_cancel_throttle_answers_with_reasons(void **state)
{
    static const char body[] =
        "{\"TransactItems\":[{\"Put\":{\"TableName\":\"t\",\"Item\":{\"PK\":{\"S\":"
        "\"a]}{[\\\"\"}}}},{\"Update\":{\"TableName\":\"t\",\"Key\":{\"PK\":{\"S\":\"b\"}}}},"
        "{\"ConditionCheck\":{\"TableName\":\"t\",\"Key\":{\"L\":[{\"S\":\"c\"}]}}}],"
        "\"ClientRequestToken\":\"x\"}";
    int fd = connect_proxy();
    long before = upstream_count();
    dr_test_proxy_counts c;
    response r;
    (void)state;
    use_rules("cancel-throttle", NULL);
    assert_int_equal(send_call_body(fd, "/", "TransactWriteItems", body), 0);
    assert_int_equal(read_response(fd, &r), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "#TransactionCanceledException\""));
    assert_int_equal(count_of(r.body, "\"Code\":"), 3);
    assert_non_null(strstr(r.body, "\"CancellationReasons\":[{\"Code\":\"ThrottlingError\""));
    assert_int_equal(count_of(r.body, "{\"Code\":\"None\"}"), 2);
    assert_int_equal(header_crc(&r), crc32_ieee(r.body, r.body_len));
    assert_int_equal(call(fd, "PutItem", &r), 0);
    assert_non_null(strstr(r.body, "#ThrottlingException\""));
    assert_int_equal(upstream_count(), before);
    c = stats();
    assert_int_equal(dr_test_proxy_fault_count(&c, "cancel-throttle"), 2);
    close(fd);
}

/* The connection ends with no answer: recv reports a reset (or at worst EOF). */
static void assert_connection_dropped(int fd)
{
    response r;
    assert_int_equal(read_response(fd, &r), -1);
}

static void test_reset_does_not_forward(void **state)
{
    int fd = connect_proxy();
    response r;
    long before = upstream_count();
    (void)state;
    use_rules("reset:count=1", NULL);
    assert_int_equal(send_call(fd, "/", "PutItem"), 0);
    assert_connection_dropped(fd);
    close(fd);
    assert_int_equal(upstream_count(), before);
    fd = connect_proxy();
    assert_int_equal(call(fd, "PutItem", &r), 0);
    assert_int_equal(r.status, 200);
    close(fd);
    assert_int_equal(stats().forwarded, 1);
}

static void test_forward_then_reset_takes_effect(void **state)
{
    int fd = connect_proxy();
    long before = upstream_count();
    dr_test_proxy_counts c;
    (void)state;
    use_rules("forward-then-reset", NULL);
    assert_int_equal(send_call(fd, "/", "UpdateItem"), 0);
    assert_connection_dropped(fd);
    close(fd);
    assert_int_equal(upstream_count() - before, 1);
    c = stats();
    assert_int_equal(c.forwarded, 1);
    assert_int_equal(dr_test_proxy_fault_count(&c, "forward-then-reset"), 1);
}

static void test_delay_then_forward(void **state)
{
    int fd = connect_proxy();
    response r;
    struct timespec t0;
    (void)state;
    use_rules("delay:ms=300", NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(call(fd, "GetItem", &r), 0);
    assert_int_equal(r.status, 200);
    assert_true(elapsed_ms(&t0) >= 300);
    close(fd);
}

/* A client that timed out during a delay never reached the service. */
static void test_delay_abandoned_by_client_is_not_forwarded(void **state)
{
    int fd = connect_proxy();
    long before = upstream_count();
    struct timespec ts = {0, 600 * 1000000L};
    (void)state;
    use_rules("delay:ms=300", NULL);
    assert_int_equal(send_call(fd, "/", "PutItem"), 0);
    close(fd);
    nanosleep(&ts, NULL);
    assert_int_equal(upstream_count(), before);
    assert_int_equal(stats().abandoned, 1);
}

static void test_forward_then_delay_writes_before_answering(void **state)
{
    int fd = connect_proxy();
    response r;
    struct pollfd p;
    struct timespec t0;
    long before = upstream_count();
    (void)state;
    use_rules("forward-then-delay:ms=400", NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(send_call(fd, "/", "PutItem"), 0);
    p.fd = fd;
    p.events = POLLIN;
    assert_int_equal(poll(&p, 1, 200), 0); /* no answer yet ... */
    assert_int_equal(upstream_count() - before, 1); /* ... but the write happened */
    assert_int_equal(read_response(fd, &r), 0);
    assert_int_equal(r.status, 200);
    assert_true(elapsed_ms(&t0) >= 400);
    close(fd);
}

static void test_corrupt_crc_flips_one_body_byte(void **state)
{
    const char *orig = "{\"Item\":{\"joke\":{\"S\":\"hello\"}},\"Count\":1}";
    int fd = connect_proxy(), diffs = 0;
    size_t i;
    response r;
    (void)state;
    use_rules("corrupt-crc:count=1", NULL);
    assert_int_equal(call(fd, "GetItem", &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, strlen(orig));
    for (i = 0; i < r.body_len; i++)
        diffs += r.body[i] != orig[i];
    assert_int_equal(diffs, 1);
    assert_non_null(strstr(r.body, "\"joke\"")); /* a value changed, not a key */
    assert_int_equal(header_crc(&r), crc32_ieee(orig, strlen(orig)));
    assert_int_not_equal(header_crc(&r), crc32_ieee(r.body, r.body_len));
    assert_int_equal(call(fd, "GetItem", &r), 0); /* count=1: the next one is intact */
    assert_string_equal(r.body, orig);
    close(fd);
}

/* "Wed, 25 Nov 2026 11:52:06 GMT" to seconds since the epoch (days from civil). */
static long long parse_http_date(const char *s)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4];
    int d, y, hh, mm, ss, m;
    long long days;
    if (sscanf(s, "%*3s, %d %3s %d %d:%d:%d GMT", &d, mon, &y, &hh, &mm, &ss) != 6)
        return -1;
    m = (int)((strstr(months, mon) - months) / 3) + 1;
    y -= m <= 2;
    days = 365LL * y + y / 4 - y / 100 + y / 400 + (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d -
           1 - 719468LL;
    return days * 86400 + hh * 3600 + mm * 60 + ss;
}

static void test_skew_answers_with_shifted_date(void **state)
{
    int fd = connect_proxy();
    response r;
    char v[128];
    long long off;
    (void)state;
    use_rules("skew:seconds=3600,count=1", "skew:seconds=-7200");
    assert_int_equal(call(fd, "PutItem", &r), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"com.amazon.coral.service#InvalidSignatureException\""));
    assert_non_null(strstr(r.body, "Signature expired: 20240101T000000Z is now earlier than "));
    off = parse_http_date(header(&r, "Date", v, sizeof v)) - (long long)time(NULL);
    assert_true(off > 3590 && off < 3610);
    assert_int_equal(call(fd, "PutItem", &r), 0);
    assert_non_null(strstr(r.body, "Signature not yet current: 20240101T000000Z is still later"));
    off = parse_http_date(header(&r, "Date", v, sizeof v)) - (long long)time(NULL);
    assert_true(off > -7210 && off < -7190);
    close(fd);
}

static void test_rate_is_reproducible_per_rule_set(void **state)
{
    char first[41], second[41];
    int fd = connect_proxy(), i, faults = 0;
    response r;
    (void)state;
    use_rules("throttle:rate=0.5", NULL);
    for (i = 0; i < 40; i++) {
        assert_int_equal(call(fd, "GetItem", &r), 0);
        first[i] = r.status == 200 ? '.' : 'T';
        faults += r.status != 200;
    }
    use_rules("throttle:rate=0.5", NULL); /* restarts the random sequence */
    for (i = 0; i < 40; i++) {
        assert_int_equal(call(fd, "GetItem", &r), 0);
        second[i] = r.status == 200 ? '.' : 'T';
    }
    first[40] = second[40] = '\0';
    assert_string_equal(first, second);
    assert_true(faults > 5 && faults < 35);
    close(fd);
}

static void test_rules_endpoint_rejects_bad_rules(void **state)
{
    static const char *const bad[][2] = {{"bogus", NULL},        {"delay", NULL},
                                         {"throttle:count=0", NULL}, {"throttle:rate=2", NULL},
                                         {"skew", NULL},         {"throttle:ms=5", NULL}};
    size_t i;
    int fd;
    response r;
    (void)state;
    use_rules("throttle", NULL);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(dr_test_proxy_set_rules(&proxy, bad[i]), -1);
    fd = connect_proxy(); /* the old list is still in force */
    assert_int_equal(call(fd, "GetItem", &r), 0);
    assert_int_equal(r.status, 400);
    close(fd);
}

/* Sends raw bytes and expects the proxy to close without an answer. */
static void assert_closes_on(const char *raw, size_t len)
{
    int fd = connect_proxy();
    char buf[256];
    ssize_t n;
    assert_true(fd >= 0);
    send(fd, raw, len, MSG_NOSIGNAL);
    n = recv(fd, buf, sizeof buf, 0);
    assert_true(n <= 0);
    close(fd);
}

static void test_malformed_input_closes_connection(void **state)
{
    static const char *const bad[] = {
        "NOT HTTP AT ALL\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\n folded: header\r\n\r\n",
        "POST / HTTP/2.0\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n"};
    size_t i;
    char *big;
    int fd;
    response r;
    (void)state;
    use_rules(NULL, NULL);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_closes_on(bad[i], strlen(bad[i]));
    big = malloc(70 * 1024); /* header block over 64 KiB */
    assert_non_null(big);
    memset(big, 'a', 70 * 1024);
    memcpy(big, "POST / HTTP/1.1\r\nX: ", 20);
    assert_closes_on(big, 70 * 1024);
    free(big);
    fd = connect_proxy(); /* and still serving */
    assert_int_equal(call(fd, "GetItem", &r), 0);
    assert_int_equal(r.status, 200);
    close(fd);
    assert_int_equal(stats().requests, 1);
}

static void *client_thread(void *arg)
{
    long *ok = arg;
    int fd = connect_proxy(), i;
    response r;
    for (i = 0; i < 25; i++)
        if (fd >= 0 && call(fd, i % 2 ? "GetItem" : "PutItem", &r) == 0 &&
            (r.status == 200 || r.status == 400))
            (*ok)++;
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void test_concurrent_clients(void **state)
{
    pthread_t t[8];
    long ok[8] = {0}, total = 0;
    long before = upstream_count();
    dr_test_proxy_counts c;
    int i;
    (void)state;
    use_rules("throttle:target=PutItem,every=3", NULL);
    for (i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, client_thread, &ok[i]), 0);
    for (i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        total += ok[i];
    }
    assert_int_equal(total, 200);
    c = stats();
    assert_int_equal(c.requests, 200);
    assert_int_equal(dr_test_proxy_target_count(&c, "PutItem"), 104);
    assert_int_equal(dr_test_proxy_fault_count(&c, "throttle"), 104 / 3);
    assert_int_equal(c.forwarded, 200 - 104 / 3);
    assert_int_equal(upstream_count() - before, c.forwarded);
}

static void test_unreachable_upstream_is_502(void **state)
{
    dr_test_proxy dead;
    char upstream[64];
    int port, lfd = listen_loopback(&port), fd;
    struct sockaddr_in a;
    response r;
    dr_test_proxy_counts c;
    (void)state;
    assert_true(lfd >= 0);
    close(lfd); /* nothing listens there now */
    snprintf(upstream, sizeof upstream, "127.0.0.1:%d", port);
    assert_int_equal(dr_test_proxy_start(upstream, NULL, &dead), 0);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)dead.port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 || call(fd, "GetItem", &r) != 0) {
        dr_test_proxy_stop(&dead);
        fail_msg("no answer from the proxy");
    }
    close(fd);
    assert_int_equal(dr_test_proxy_stats(&dead, &c), 0);
    dr_test_proxy_stop(&dead);
    assert_int_equal(r.status, 502);
    assert_int_equal(c.upstream_errors, 1);
    assert_int_equal(dead.pid, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pass_keeps_headers_on_one_connection),
        cmocka_unit_test(test_chunked_upstream_is_relayed_with_content_length),
        cmocka_unit_test(test_throttle_count_then_pass),
        cmocka_unit_test(test_every_with_target),
        cmocka_unit_test(test_error_bodies),
        cmocka_unit_test(test_cancel_throttle_answers_with_reasons),
        cmocka_unit_test(test_reset_does_not_forward),
        cmocka_unit_test(test_forward_then_reset_takes_effect),
        cmocka_unit_test(test_delay_then_forward),
        cmocka_unit_test(test_delay_abandoned_by_client_is_not_forwarded),
        cmocka_unit_test(test_forward_then_delay_writes_before_answering),
        cmocka_unit_test(test_corrupt_crc_flips_one_body_byte),
        cmocka_unit_test(test_skew_answers_with_shifted_date),
        cmocka_unit_test(test_rate_is_reproducible_per_rule_set),
        cmocka_unit_test(test_rules_endpoint_rejects_bad_rules),
        cmocka_unit_test(test_malformed_input_closes_connection),
        cmocka_unit_test(test_concurrent_clients),
        cmocka_unit_test(test_unreachable_upstream_is_502),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
