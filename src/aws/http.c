#include "http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "alloc.h"
#include "timeutil.h"

/* Handles kept idle in a pool; more threads than this still work, the extra handles
 * are simply closed after use. */
#define DR_HTTP_POOL_MAX 64

struct dr_http_pool {
    pthread_mutex_t lock;
    CURL *idle[DR_HTTP_POOL_MAX];
    size_t idle_count;
};

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static CURLcode g_curl_init_result = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
    g_curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

dr_status dr__http_global_init(void)
{
    pthread_once(&g_curl_once, curl_init_once);
    if (g_curl_init_result != CURLE_OK)
        return dr__fail(DR_E_INTERNAL, "libcurl initialisation failed: %s",
                        curl_easy_strerror(g_curl_init_result));
    return DR_OK;
}

dr_status dr__http_pool_new(dr_http_pool **out)
{
    dr_http_pool *pool;
    dr_status rc;

    *out = NULL;
    if ((rc = dr__http_global_init()) != DR_OK)
        return rc;
    pool = dr__calloc(1, sizeof *pool);
    if (!pool)
        return dr__fail(DR_E_NOMEM, "out of memory creating the connection pool");
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        dr__free(pool);
        return dr__fail(DR_E_INTERNAL, "cannot create the connection pool's mutex");
    }
    *out = pool;
    return DR_OK;
}

void dr__http_pool_free(dr_http_pool *pool)
{
    size_t i;
    if (!pool)
        return;
    for (i = 0; i < pool->idle_count; i++)
        curl_easy_cleanup(pool->idle[i]);
    pthread_mutex_destroy(&pool->lock);
    dr__free(pool);
}

static CURL *pool_take(dr_http_pool *pool)
{
    CURL *h = NULL;
    if (pool) {
        pthread_mutex_lock(&pool->lock);
        if (pool->idle_count)
            h = pool->idle[--pool->idle_count];
        pthread_mutex_unlock(&pool->lock);
    }
    if (h) {
        /* Keeps the connection cache, drops every option of the last request. */
        curl_easy_reset(h);
        return h;
    }
    return curl_easy_init();
}

static void pool_give_back(dr_http_pool *pool, CURL *h)
{
    if (pool) {
        pthread_mutex_lock(&pool->lock);
        if (pool->idle_count < DR_HTTP_POOL_MAX) {
            pool->idle[pool->idle_count++] = h;
            h = NULL;
        }
        pthread_mutex_unlock(&pool->lock);
    }
    if (h)
        curl_easy_cleanup(h);
}

typedef struct sink {
    dr_buf *buf;
    size_t limit;
    int too_large;
} sink;

static size_t write_body(char *data, size_t size, size_t n, void *userp)
{
    sink *s = userp;
    size_t len = size * n;
    if (s->buf->len + len > s->limit) {
        s->too_large = 1;
        return 0; /* aborts the transfer */
    }
    dr__buf_append(s->buf, data, len);
    return s->buf->failed ? 0 : len;
}

static size_t write_header(char *data, size_t size, size_t n, void *userp)
{
    dr_buf *headers = userp;
    size_t len = size * n;
    /* A status line starts a new response (after a 100-continue or a redirect):
     * keep only the headers of the final one. */
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
        dr__buf_reset(headers);
    dr__buf_append(headers, data, len);
    return headers->failed ? 0 : len;
}

dr_status dr__url_parse(const char *url, dr_url_parts *out)
{
    const char *p, *host_start, *host_end, *path_start;
    size_t n;

    memset(out, 0, sizeof *out);
    if (!url)
        return dr__fail(DR_E_INVALID_ARGUMENT, "URL is missing");
    if (strncasecmp(url, "https://", 8) == 0) {
        strcpy(out->scheme, "https");
        p = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        strcpy(out->scheme, "http");
        p = url + 7;
    } else {
        return dr__fail(DR_E_INVALID_ARGUMENT, "URL must start with http:// or https://");
    }
    if (strpbrk(p, "@ \t\r\n"))
        return dr__fail(DR_E_INVALID_ARGUMENT,
                        "URL must not contain user information or white space");
    if (*p == '[') {
        host_start = p + 1;
        host_end = strchr(host_start, ']');
        if (!host_end)
            return dr__fail(DR_E_INVALID_ARGUMENT, "URL has an unterminated IPv6 address");
        p = host_end + 1;
    } else {
        host_start = p;
        host_end = p + strcspn(p, ":/?#");
        p = host_end;
    }
    n = (size_t)(host_end - host_start);
    if (n == 0 || n >= sizeof out->host)
        return dr__fail(DR_E_INVALID_ARGUMENT, "URL has no host or an over-long one");
    memcpy(out->host, host_start, n);
    if (*p == ':') {
        char *end;
        unsigned long port = strtoul(p + 1, &end, 10);
        if (end == p + 1 || port == 0 || port > 65535 || (*end && !strchr("/?#", *end)))
            return dr__fail(DR_E_INVALID_ARGUMENT, "URL has an invalid port");
        out->port = (uint16_t)port;
        p = end;
    } else if (*p && !strchr("/?#", *p)) {
        return dr__fail(DR_E_INVALID_ARGUMENT, "URL has an invalid host");
    }
    path_start = p;
    n = strcspn(path_start, "?#");
    if (n >= sizeof out->path)
        return dr__fail(DR_E_INVALID_ARGUMENT, "URL path is too long");
    if (n == 0)
        strcpy(out->path, "/");
    else
        memcpy(out->path, path_start, n);
    return DR_OK;
}

int dr__host_is_loopback(const char *host)
{
    unsigned char addr[sizeof(struct in6_addr)];

    if (strcasecmp(host, "localhost") == 0)
        return 1;
    /* Only what inet_pton parses is an address: "127.0.0.256", "127.1" or "2130706433"
     * are host names to libcurl, and a resolver may send them anywhere. */
    if (inet_pton(AF_INET, host, addr) == 1)
        return addr[0] == 127;
    /* ::1 only; not ::ffff:127.0.0.1, which is a mapped address, not the loopback. */
    return inet_pton(AF_INET6, host, addr) == 1 && memcmp(addr, &in6addr_loopback, 16) == 0;
}

int dr__host_is_aws_metadata(const char *host)
{
    static const char *const hosts[] = {"169.254.169.254", "fd00:ec2::254", "169.254.170.2",
                                        "169.254.170.23", "fd00:ec2::23"};
    size_t i;
    for (i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
        if (strcasecmp(host, hosts[i]) == 0)
            return 1;
    return 0;
}

#ifdef DR_TESTING
static pthread_mutex_t g_redirect_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_redirect[64]; /* "127.0.0.1:port", or "" */

void dr__http_set_test_redirect(const char *loopback_host_port)
{
    pthread_mutex_lock(&g_redirect_lock);
    snprintf(g_redirect, sizeof g_redirect, "%s", loopback_host_port ? loopback_host_port : "");
    pthread_mutex_unlock(&g_redirect_lock);
}

/* The CURLOPT_CONNECT_TO entry sending a request to `url` to the test server, or NULL. */
static struct curl_slist *test_redirect(const dr_url_parts *url, int *failed)
{
    char entry[96] = "";
    struct curl_slist *list = NULL;
    pthread_mutex_lock(&g_redirect_lock);
    if (g_redirect[0] && !dr__host_is_loopback(url->host))
        snprintf(entry, sizeof entry, "::%s", g_redirect);
    pthread_mutex_unlock(&g_redirect_lock);
    if (entry[0] && !(list = curl_slist_append(NULL, entry)))
        *failed = 1;
    return list;
}
#else
static struct curl_slist *test_redirect(const dr_url_parts *url, int *failed)
{
    (void)url;
    (void)failed;
    return NULL;
}
#endif

static int plain_http_allowed(const dr_http_request *req, const dr_url_parts *url)
{
    return dr__host_is_loopback(url->host) ||
           (req->allow_plain_http_metadata && dr__host_is_aws_metadata(url->host));
}

static dr_status map_curl_error(CURLcode code, const char *errbuf, const dr_url_parts *url)
{
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(code);
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        return dr__fail(DR_E_TIMEOUT, "request to %s timed out: %s", url->host, detail);
    case CURLE_OUT_OF_MEMORY:
        return dr__fail(DR_E_NOMEM, "out of memory in libcurl");
    default:
        return dr__fail(DR_E_NETWORK, "request to %s failed: %s", url->host, detail);
    }
}

dr_status dr__http_perform(dr_http_pool *pool, const dr_http_request *req,
                           dr_http_response *resp)
{
    dr_url_parts url;
    struct curl_slist *headers = NULL, *grown, *resolve = NULL, *redirect;
    dr_buf redirected_url = DR_BUF_INIT;
    const char *send_url = req->url;
    int failed = 0;
    dr_buf line = DR_BUF_SECRET_INIT; /* one "Name: value" line; may carry a token */
    char errbuf[CURL_ERROR_SIZE] = "";
    sink body = {0};
    CURL *h;
    CURLcode cc;
    dr_status rc;
    size_t i;

    if ((rc = dr__url_parse(req->url, &url)) != DR_OK)
        return rc;
    redirect = test_redirect(&url, &failed);
    if (failed)
        return dr__fail(DR_E_NOMEM, "out of memory redirecting a test request");
    if (redirect && strcmp(url.scheme, "https") == 0) {
        /* The test server speaks plain http; the Host header keeps the original name. */
        dr__buf_printf(&redirected_url, "http%s", req->url + 5);
        if ((rc = dr__buf_ok(&redirected_url)) != DR_OK) {
            curl_slist_free_all(redirect);
            return rc;
        }
        send_url = dr__buf_cstr(&redirected_url);
    }
    if (!redirect && strcmp(url.scheme, "http") == 0 && !plain_http_allowed(req, &url))
        return dr__fail(DR_E_CONFIG, "plain http is only allowed to loopback hosts, not %s",
                        url.host);
    if ((rc = dr__http_global_init()) != DR_OK)
        return rc;

    h = pool_take(pool);
    if (!h) {
        curl_slist_free_all(redirect);
        dr__buf_free(&redirected_url);
        return dr__fail(DR_E_NOMEM, "cannot create a libcurl handle");
    }

    for (i = 0; i < req->header_count; i++) {
        dr__buf_reset(&line);
        dr__buf_printf(&line, "%s: %s", req->headers[i].name, req->headers[i].value);
        grown = line.failed ? NULL : curl_slist_append(headers, dr__buf_cstr(&line));
        if (!grown) {
            rc = dr__fail(DR_E_NOMEM, "out of memory building request headers");
            goto done;
        }
        headers = grown;
    }
    /* libcurl would otherwise add "Expect: 100-continue" to large bodies: a wasted
     * round trip on every big write. */
    grown = curl_slist_append(headers, "Expect:");
    if (!grown) {
        rc = dr__fail(DR_E_NOMEM, "out of memory building request headers");
        goto done;
    }
    headers = grown;

    dr__buf_reset(&resp->body);
    dr__buf_reset(&resp->headers);
    resp->status = 0;
    body.buf = &resp->body;
    body.limit = req->max_response_bytes ? req->max_response_bytes
                                         : DR_HTTP_DEFAULT_MAX_RESPONSE;

    curl_easy_setopt(h, CURLOPT_URL, send_url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, write_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp->headers);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    /* Signals are not ours to take in a library; timeouts still work with the
     * threaded resolver Debian's libcurl uses. */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    /* A proxy named in the environment (http_proxy, ALL_PROXY) would otherwise receive
     * what plain http keeps on this machine: signed requests with the session token, the
     * container authorization token, metadata credentials. https keeps the user's proxy. */
    curl_easy_setopt(h, CURLOPT_NOPROXY,
                     strcmp(url.scheme, "http") == 0 || req->allow_plain_http_metadata || redirect
                         ? "*"
                         : NULL);
    curl_easy_setopt(h, CURLOPT_CONNECT_TO, redirect);
    if (strcasecmp(url.host, "localhost") == 0) {
        /* The name passed the loopback rule; connect to the loopback addresses, not to
         * whatever a hosts file or resolver says. */
        char entry[sizeof url.host + 32];
        snprintf(entry, sizeof entry, "%s:%u:127.0.0.1,[::1]", url.host,
                 url.port ? (unsigned)url.port : strcmp(url.scheme, "https") == 0 ? 443u : 80u);
        resolve = curl_slist_append(NULL, entry);
        if (!resolve) {
            rc = dr__fail(DR_E_NOMEM, "out of memory pinning localhost");
            goto done;
        }
        curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
    }
    /* No CURLOPT_ACCEPT_ENCODING: x-amz-crc32 covers the body as sent, so it must
     * arrive uncompressed. */
    if (req->connect_timeout_ms)
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)req->connect_timeout_ms);
    if (req->timeout_ms)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);

    cc = curl_easy_perform(h);
    if (resp->body.failed || resp->headers.failed) {
        rc = dr__fail(DR_E_NOMEM, "out of memory reading the response");
    } else if (body.too_large) {
        rc = dr__fail(DR_E_PROTOCOL, "response from %s exceeds %zu bytes", url.host,
                      body.limit);
    } else if (cc != CURLE_OK) {
        rc = map_curl_error(cc, errbuf, &url);
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        rc = DR_OK;
    }

done:
    dr__buf_free(&line);
    curl_slist_free_all(headers);
    curl_slist_free_all(resolve);
    curl_slist_free_all(redirect);
    dr__buf_free(&redirected_url);
    /* The handle goes back to the pool: it must not keep pointers to the lists freed here. */
    curl_easy_setopt(h, CURLOPT_RESOLVE, NULL);
    curl_easy_setopt(h, CURLOPT_CONNECT_TO, NULL);
    /* A handle whose transfer failed may hold a broken connection; libcurl drops
     * dead connections from its cache itself, so the handle is still reusable. */
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    pool_give_back(pool, h);
    return rc;
}

int dr__http_response_header(const dr_http_response *resp, const char *name, char *out,
                             size_t cap)
{
    const char *line = dr__buf_cstr(&resp->headers);
    size_t name_len = strlen(name);

    while (*line) {
        const char *eol = strchr(line, '\n');
        const char *end = eol ? eol : line + strlen(line);
        if ((size_t)(end - line) > name_len && strncasecmp(line, name, name_len) == 0 &&
            line[name_len] == ':') {
            const char *v = line + name_len + 1;
            size_t n;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
            n = (size_t)(end - v);
            if (cap) {
                if (n >= cap)
                    n = cap - 1;
                memcpy(out, v, n);
                out[n] = '\0';
            }
            return 1;
        }
        if (!eol)
            break;
        line = eol + 1;
    }
    return 0;
}

void dr__http_response_free(dr_http_response *resp)
{
    dr__buf_free(&resp->body);
    dr__buf_free(&resp->headers);
    resp->status = 0;
}

int64_t dr__http_date_parse(const char *date)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4];
    int day, year, hh, mm, ss;
    const char *m;

    if (sscanf(date, "%*3s, %2d %3s %4d %2d:%2d:%2d GMT", &day, mon, &year, &hh, &mm, &ss) != 6)
        return -1;
    mon[3] = '\0';
    m = strstr(months, mon);
    if (!m || (m - months) % 3 != 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
        return -1;
    return dr__utc_to_epoch(year, (int)((m - months) / 3) + 1, day, hh, mm, ss);
}
