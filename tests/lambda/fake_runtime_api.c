/* See fake_runtime_api.h. */
#include "fake_runtime_api.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_message.h"
#include "loopback.h"

#define FAKE_MAX_REQUEST (8 * 1024 * 1024)
#define FAKE_PREFIX "/2018-06-01/runtime"

struct fake_api {
    int listen_fd;
    char address[32];
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int stop;
    char **events;
    size_t event_count, event_cap, next_event;
    size_t next_requests;
    fake_post **posts; /* pointers: a returned post stays put while others arrive */
    size_t post_count, post_cap;
};

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = xrealloc(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static int stopping(fake_api *api)
{
    int stop;
    pthread_mutex_lock(&api->lock);
    stop = api->stop;
    pthread_mutex_unlock(&api->lock);
    return stop;
}

/* ---- HTTP plumbing --------------------------------------------------------- */

typedef struct conn {
    int fd;
    char *buf;
    size_t len; /* bytes held, possibly the start of the next request */
} conn;

typedef struct request {
    char method[16];
    char path[512];
    char error_type[128];
    const char *body;
    size_t body_len;
    size_t total; /* head + body: consumed from conn.buf when done */
} request;

/* Wait for readable data, giving up when the server stops. 1 readable, 0 stop/error. */
static int wait_readable(void *ctx, int fd)
{
    fake_api *api = ctx;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, 50);
        if (r > 0)
            return 1;
        if ((r < 0 && errno != EINTR) || stopping(api))
            return 0;
    }
}

/* Read one whole request (head and Content-Length body). 0 on EOF, error or stop. */
static int read_request(fake_api *api, conn *c, request *rq)
{
    size_t head;
    const char *headers;
    memset(rq, 0, sizeof *rq);
    rq->total = dr_test_http_read(c->fd, c->buf, FAKE_MAX_REQUEST, &c->len, &head,
                                  wait_readable, api);
    if (!rq->total || sscanf(c->buf, "%15s %511s", rq->method, rq->path) != 2)
        return 0;
    headers = dr_test_http_headers_of(c->buf);
    dr_test_http_header(headers, "Lambda-Runtime-Function-Error-Type", rq->error_type,
                        sizeof rq->error_type);
    rq->body = c->buf + head;
    rq->body_len = rq->total - head;
    return 1;
}

static void consume(conn *c, const request *rq)
{
    memmove(c->buf, c->buf + rq->total, c->len - rq->total);
    c->len -= rq->total;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

static void respond(int fd, int status, const char *extra_headers, const char *body)
{
    char head[1024];
    snprintf(head, sizeof head,
             "HTTP/1.1 %d Fake\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%s\r\n",
             status, strlen(body), extra_headers ? extra_headers : "");
    send_all(fd, head, strlen(head));
    send_all(fd, body, strlen(body));
}

/* ---- the Runtime API ------------------------------------------------------- */

/* The next scripted event, or NULL after waiting for the server to stop. */
static char *take_event(fake_api *api, size_t *index)
{
    char *event = NULL;
    pthread_mutex_lock(&api->lock);
    api->next_requests++;
    pthread_cond_broadcast(&api->changed);
    while (!api->stop && api->next_event == api->event_count)
        pthread_cond_wait(&api->changed, &api->lock);
    if (!api->stop) {
        *index = api->next_event;
        event = api->events[api->next_event++];
    }
    pthread_mutex_unlock(&api->lock);
    return event;
}

static void serve_next(fake_api *api, int fd)
{
    char headers[512];
    size_t index = 0;
    long long deadline = (long long)time(NULL) * 1000LL + 60000LL;
    const char *event = take_event(api, &index);
    if (!event)
        return; /* stopping: the connection is closed unanswered */
    snprintf(headers, sizeof headers,
             "Lambda-Runtime-Aws-Request-Id: req-%zu\r\n"
             "Lambda-Runtime-Deadline-Ms: %lld\r\n"
             "Lambda-Runtime-Invoked-Function-Arn: "
             "arn:aws:lambda:us-east-1:123456789012:function:dadratings-aggregator\r\n"
             "Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\r\n",
             index + 1, deadline);
    respond(fd, 200, headers, event);
}

static void record_post(fake_api *api, fake_post_kind kind, const char *id, size_t id_len,
                        const request *rq)
{
    fake_post *p;
    pthread_mutex_lock(&api->lock);
    if (api->post_count == api->post_cap) {
        api->post_cap = api->post_cap ? api->post_cap * 2 : 8;
        api->posts = xrealloc(api->posts, api->post_cap * sizeof *api->posts);
    }
    p = calloc(1, sizeof *p);
    if (!p)
        abort();
    api->posts[api->post_count++] = p;
    p->kind = kind;
    if (id_len >= sizeof p->request_id)
        id_len = sizeof p->request_id - 1;
    memcpy(p->request_id, id, id_len);
    snprintf(p->error_type, sizeof p->error_type, "%s", rq->error_type);
    p->body = xstrndup(rq->body, rq->body_len);
    pthread_cond_broadcast(&api->changed);
    pthread_mutex_unlock(&api->lock);
}

static void route(fake_api *api, int fd, const request *rq)
{
    const char *p = rq->path, *id, *slash;
    if (strncmp(p, FAKE_PREFIX, strlen(FAKE_PREFIX)) != 0) {
        respond(fd, 404, NULL, "{\"errorMessage\":\"unknown path\"}");
        return;
    }
    p += strlen(FAKE_PREFIX);
    if (!strcmp(rq->method, "GET") && !strcmp(p, "/invocation/next")) {
        serve_next(api, fd);
        return;
    }
    if (!strcmp(rq->method, "POST") && !strcmp(p, "/init/error")) {
        record_post(api, FAKE_POST_INIT_ERROR, "", 0, rq);
        respond(fd, 202, NULL, "{\"status\":\"OK\"}");
        return;
    }
    if (!strcmp(rq->method, "POST") && !strncmp(p, "/invocation/", 12)) {
        id = p + 12;
        slash = strchr(id, '/');
        if (slash && (!strcmp(slash, "/response") || !strcmp(slash, "/error"))) {
            record_post(api, !strcmp(slash, "/response") ? FAKE_POST_RESPONSE
                                                         : FAKE_POST_INVOCATION_ERROR,
                        id, (size_t)(slash - id), rq);
            respond(fd, 202, NULL, "{\"status\":\"OK\"}");
            return;
        }
    }
    respond(fd, 404, NULL, "{\"errorMessage\":\"unknown path\"}");
}

static void serve_connection(fake_api *api, int fd)
{
    conn c = {fd, xrealloc(NULL, FAKE_MAX_REQUEST), 0};
    request rq;
    while (read_request(api, &c, &rq)) {
        route(api, fd, &rq);
        consume(&c, &rq);
    }
    free(c.buf);
    close(fd);
}

static void *serve(void *arg)
{
    fake_api *api = arg;
    while (!stopping(api)) {
        int fd = loopback_accept(api->listen_fd, 50);
        if (fd >= 0)
            serve_connection(api, fd);
    }
    return NULL;
}

fake_api *fake_api_start(void)
{
    fake_api *api = calloc(1, sizeof *api);
    uint16_t port;
    if (!api)
        return NULL;
    api->listen_fd = loopback_listen(16, &port);
    if (api->listen_fd < 0) {
        free(api);
        return NULL;
    }
    snprintf(api->address, sizeof api->address, "127.0.0.1:%u", (unsigned)port);
    pthread_mutex_init(&api->lock, NULL);
    pthread_cond_init(&api->changed, NULL);
    if (pthread_create(&api->thread, NULL, serve, api) != 0) {
        close(api->listen_fd);
        pthread_cond_destroy(&api->changed);
        pthread_mutex_destroy(&api->lock);
        free(api);
        return NULL;
    }
    return api;
}

void fake_api_stop(fake_api *api)
{
    size_t i;
    if (!api)
        return;
    pthread_mutex_lock(&api->lock);
    api->stop = 1;
    pthread_cond_broadcast(&api->changed);
    pthread_mutex_unlock(&api->lock);
    pthread_join(api->thread, NULL);
    close(api->listen_fd);
    for (i = 0; i < api->event_count; i++)
        free(api->events[i]);
    free(api->events);
    for (i = 0; i < api->post_count; i++) {
        free(api->posts[i]->body);
        free(api->posts[i]);
    }
    free(api->posts);
    pthread_cond_destroy(&api->changed);
    pthread_mutex_destroy(&api->lock);
    free(api);
}

const char *fake_api_address(const fake_api *api)
{
    return api->address;
}

void fake_api_push_event(fake_api *api, const char *event_json)
{
    pthread_mutex_lock(&api->lock);
    if (api->event_count == api->event_cap) {
        api->event_cap = api->event_cap ? api->event_cap * 2 : 8;
        api->events = xrealloc(api->events, api->event_cap * sizeof *api->events);
    }
    api->events[api->event_count++] = xstrndup(event_json, strlen(event_json));
    pthread_cond_broadcast(&api->changed);
    pthread_mutex_unlock(&api->lock);
}

/* Wait on the condition until *counter >= count or the deadline passes. */
static size_t wait_for(fake_api *api, const size_t *counter, size_t count, unsigned timeout_ms)
{
    struct timespec deadline;
    size_t have;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)(timeout_ms / 1000);
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&api->lock);
    while (*counter < count &&
           pthread_cond_timedwait(&api->changed, &api->lock, &deadline) != ETIMEDOUT)
        ;
    have = *counter;
    pthread_mutex_unlock(&api->lock);
    return have;
}

size_t fake_api_wait(fake_api *api, size_t count, unsigned timeout_ms)
{
    return wait_for(api, &api->post_count, count, timeout_ms);
}

size_t fake_api_wait_next(fake_api *api, size_t count, unsigned timeout_ms)
{
    return wait_for(api, &api->next_requests, count, timeout_ms);
}

const fake_post *fake_api_post(fake_api *api, size_t i)
{
    const fake_post *p = NULL;
    pthread_mutex_lock(&api->lock);
    if (i < api->post_count)
        p = api->posts[i];
    pthread_mutex_unlock(&api->lock);
    return p;
}
