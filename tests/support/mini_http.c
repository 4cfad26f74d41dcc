/* See mini_http.h. Test code: plain malloc (never the library's allocator, so failure
 * injection in a test cannot break the server), aborting on OOM is acceptable. */
#include "mini_http.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http_message.h"
#include "loopback.h"

#define MINI_MAX_ROUTES 32
#define MINI_MAX_REQUEST (64 * 1024)
#define MINI_MAX_BODY (64 * 1024)

typedef struct route {
    char method[16];
    char path[512];
    int status;
    char *body;
    mini_http_handler fn;
    void *payload;
    char require_name[64];
    char *require_value; /* NULL: any value; "" unused when require_name is empty */
} route;

typedef struct record {
    char method[16];
    char path[512];
    char *headers;
} record;

struct mini_http {
    int listen_fd;
    uint16_t port;
    char url[64];
    pthread_t thread;
    atomic_int stop;
    pthread_mutex_t lock; /* routes, records, delay */
    route routes[MINI_MAX_ROUTES];
    size_t route_count;
    record *records;
    size_t record_count, record_cap;
    unsigned delay_ms;
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static route *find_exact_route_locked(mini_http *s, const char *method, const char *path)
{
    size_t i;
    for (i = 0; i < s->route_count; i++)
        if (strcmp(s->routes[i].method, method) == 0 && strcmp(s->routes[i].path, path) == 0)
            return &s->routes[i];
    return NULL;
}

/* The route for `method path`, else the catch-all route ("*", "*") if one is set. */
static route *find_route_locked(mini_http *s, const char *method, const char *path)
{
    route *r = find_exact_route_locked(s, method, path);
    return r ? r : find_exact_route_locked(s, "*", "*");
}

static route *route_slot_locked(mini_http *s, const char *method, const char *path)
{
    route *r = find_exact_route_locked(s, method, path);
    if (!r) {
        if (s->route_count == MINI_MAX_ROUTES)
            abort();
        r = &s->routes[s->route_count++];
        memset(r, 0, sizeof *r);
        copy_str(r->method, sizeof r->method, method);
        copy_str(r->path, sizeof r->path, path);
    }
    return r;
}

void mini_http_respond(mini_http *s, const char *method, const char *path, int status,
                       const char *body)
{
    route *r;
    pthread_mutex_lock(&s->lock);
    r = route_slot_locked(s, method, path);
    free(r->body);
    r->body = xstrdup(body ? body : "");
    r->status = status;
    r->fn = NULL;
    pthread_mutex_unlock(&s->lock);
}

void mini_http_handle(mini_http *s, const char *method, const char *path, mini_http_handler fn,
                      void *payload)
{
    route *r;
    pthread_mutex_lock(&s->lock);
    r = route_slot_locked(s, method, path);
    r->fn = fn;
    r->payload = payload;
    pthread_mutex_unlock(&s->lock);
}

void mini_http_require_header(mini_http *s, const char *method, const char *path,
                              const char *name, const char *value)
{
    route *r;
    pthread_mutex_lock(&s->lock);
    r = route_slot_locked(s, method, path);
    copy_str(r->require_name, sizeof r->require_name, name);
    free(r->require_value);
    r->require_value = value ? xstrdup(value) : NULL;
    pthread_mutex_unlock(&s->lock);
}

void mini_http_set_delay_ms(mini_http *s, unsigned ms)
{
    pthread_mutex_lock(&s->lock);
    s->delay_ms = ms;
    pthread_mutex_unlock(&s->lock);
}

static void clear_locked(mini_http *s)
{
    size_t i;
    for (i = 0; i < s->route_count; i++) {
        free(s->routes[i].body);
        free(s->routes[i].require_value);
    }
    s->route_count = 0;
    for (i = 0; i < s->record_count; i++)
        free(s->records[i].headers);
    s->record_count = 0;
    s->delay_ms = 0;
}

void mini_http_reset(mini_http *s)
{
    pthread_mutex_lock(&s->lock);
    clear_locked(s);
    pthread_mutex_unlock(&s->lock);
}

static int matches(const char *want, const char *have)
{
    return !want || strcmp(want, have) == 0;
}

size_t mini_http_count(mini_http *s, const char *method, const char *path)
{
    size_t i, n = 0;
    pthread_mutex_lock(&s->lock);
    for (i = 0; i < s->record_count; i++)
        n += matches(method, s->records[i].method) && matches(path, s->records[i].path);
    pthread_mutex_unlock(&s->lock);
    return n;
}

int mini_http_last_header(mini_http *s, const char *method, const char *path,
                          const char *name, char *out, size_t cap)
{
    size_t i;
    int found = 0;
    pthread_mutex_lock(&s->lock);
    for (i = s->record_count; i-- > 0;) {
        if (matches(method, s->records[i].method) && matches(path, s->records[i].path)) {
            found = dr_test_http_header(s->records[i].headers, name, out, cap);
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

static void record_locked(mini_http *s, const mini_http_request *req)
{
    record *r;
    if (s->record_count == s->record_cap) {
        s->record_cap = s->record_cap ? s->record_cap * 2 : 16;
        s->records = realloc(s->records, s->record_cap * sizeof *s->records);
        if (!s->records)
            abort();
    }
    r = &s->records[s->record_count++];
    copy_str(r->method, sizeof r->method, req->method);
    copy_str(r->path, sizeof r->path, req->path);
    r->headers = xstrdup(req->headers);
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len) {
        /* MSG_NOSIGNAL: a client that gave up (timeout test) must not kill us. */
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* What one request is answered with, decided under the lock. */
static void decide(mini_http *s, const mini_http_request *req, int *status, char *body,
                   size_t cap, unsigned *delay)
{
    route *r;
    mini_http_handler fn = NULL;
    void *payload = NULL;

    pthread_mutex_lock(&s->lock);
    record_locked(s, req);
    *delay = s->delay_ms;
    r = find_route_locked(s, req->method, req->path);
    *status = 404;
    copy_str(body, cap, "not found");
    if (r) {
        char have[4096];
        if (r->require_name[0] &&
            (!dr_test_http_header(req->headers, r->require_name, have, sizeof have) ||
             (r->require_value && strcmp(have, r->require_value) != 0))) {
            *status = 401;
            copy_str(body, cap, "unauthorized");
        } else if (r->fn) {
            fn = r->fn;
            payload = r->payload;
        } else {
            *status = r->status;
            copy_str(body, cap, r->body);
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (fn)
        fn(req, status, body, cap, payload);
}

static void serve_connection(mini_http *s, int fd)
{
    static const struct timeval recv_timeout = {2, 0};
    char *buf = xmalloc(MINI_MAX_REQUEST), *body = xmalloc(MINI_MAX_BODY);
    char method[16] = "", path[512] = "", head[256];
    mini_http_request req;
    size_t head_len = 0, len = 0, total;
    unsigned delay;
    int status;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &recv_timeout, sizeof recv_timeout);
    total = dr_test_http_read(fd, buf, MINI_MAX_REQUEST, &len, &head_len, NULL, NULL);
    if (total && sscanf(buf, "%15s %511s", method, path) == 2) {
        buf[head_len - 2] = '\0'; /* headers end with one CRLF */
        req.method = method;
        req.path = path;
        req.headers = dr_test_http_headers_of(buf);
        req.body = buf + head_len;
        req.body_len = total - head_len;
        decide(s, &req, &status, body, MINI_MAX_BODY, &delay);
        if (delay)
            sleep_ms(delay);
        if (status > 0) {
            snprintf(head, sizeof head, "HTTP/1.1 %d Scripted\r\nContent-Type: application/json"
                     "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status, strlen(body));
            send_all(fd, head, strlen(head));
            send_all(fd, body, strlen(body));
        }
    }
    free(buf);
    free(body);
    close(fd);
}

static void *serve(void *arg)
{
    mini_http *s = arg;
    while (!atomic_load(&s->stop)) {
        int fd = loopback_accept(s->listen_fd, 50);
        if (fd >= 0)
            serve_connection(s, fd);
    }
    return NULL;
}

mini_http *mini_http_start(void)
{
    mini_http *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->listen_fd = loopback_listen(64, &s->port);
    if (s->listen_fd < 0) {
        free(s);
        return NULL;
    }
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%u", (unsigned)s->port);
    pthread_mutex_init(&s->lock, NULL);
    if (pthread_create(&s->thread, NULL, serve, s) != 0) {
        close(s->listen_fd);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    return s;
}

void mini_http_stop(mini_http *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
    clear_locked(s);
    free(s->records);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

uint16_t mini_http_port(const mini_http *s)
{
    return s->port;
}

const char *mini_http_url(const mini_http *s)
{
    return s->url;
}

uint16_t mini_http_closed_port(void)
{
    uint16_t port = 0;
    int fd = loopback_listen(1, &port);
    if (fd < 0)
        return 0;
    close(fd);
    return port;
}
