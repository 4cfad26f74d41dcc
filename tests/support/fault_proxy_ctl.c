/* Test helper for dr_fault_proxy: fork/exec, plain HTTP/1.1 to its control paths, and
 * a stop that never leaves the process behind. See fault_proxy_ctl.h. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "fault_proxy_ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define CTL_START_TIMEOUT_MS 10000
#define CTL_STOP_GRACE_MS 5000
#define CTL_MAX_LIVE 32
#define CTL_MAX_RESPONSE (1024 * 1024)

/* Proxies not yet stopped, for the atexit() safety net. */
static pid_t live_pids[CTL_MAX_LIVE];
static int atexit_registered;

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Waits for pid up to grace_ms; returns 1 if it was reaped. */
static int wait_for_exit(pid_t pid, long grace_ms)
{
    long waited = 0;
    for (;;) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return 1;
        if (waited >= grace_ms)
            return 0;
        sleep_ms(20);
        waited += 20;
    }
}

static void terminate_pid(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    if (!wait_for_exit(pid, CTL_STOP_GRACE_MS)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

static void forget_pid(pid_t pid)
{
    int i;
    for (i = 0; i < CTL_MAX_LIVE; i++)
        if (live_pids[i] == pid)
            live_pids[i] = 0;
}

static void stop_all_at_exit(void)
{
    int i;
    for (i = 0; i < CTL_MAX_LIVE; i++) {
        terminate_pid(live_pids[i]);
        live_pids[i] = 0;
    }
}

static void remember_pid(pid_t pid)
{
    int i;
    if (!atexit_registered && atexit(stop_all_at_exit) == 0)
        atexit_registered = 1;
    for (i = 0; i < CTL_MAX_LIVE; i++) {
        if (live_pids[i] == 0) {
            live_pids[i] = pid;
            return;
        }
    }
}

/* In the child: becomes the proxy. Never returns. */
static void exec_proxy(const char *bin, const char *upstream, const char *const *rules,
                       unsigned long seed, int stdout_fd, pid_t parent)
{
    size_t n = 0, i, argc;
    char **argv, seed_text[24];
#ifdef __linux__
    /* A test that crashes must not leave its proxy behind. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(127);
#else
    (void)parent;
#endif
    while (rules && rules[n])
        n++;
    argc = 3 + 2 * n + (seed ? 2 : 0);
    argv = calloc(argc + 1, sizeof *argv);
    if (!argv || dup2(stdout_fd, STDOUT_FILENO) < 0)
        _exit(127);
    /* execv takes char *const[]: copies keep the const inputs honest. */
    argv[0] = strdup(bin);
    argv[1] = strdup("--upstream");
    argv[2] = strdup(upstream);
    for (i = 0; i < n; i++) {
        argv[3 + 2 * i] = strdup("--rule");
        argv[4 + 2 * i] = strdup(rules[i]);
    }
    if (seed) {
        snprintf(seed_text, sizeof seed_text, "%lu", seed);
        argv[3 + 2 * n] = strdup("--seed");
        argv[4 + 2 * n] = strdup(seed_text);
    }
    for (i = 0; i < argc; i++)
        if (!argv[i])
            _exit(127);
    execv(bin, argv);
    fprintf(stderr, "dr_test_proxy: cannot exec %s: %s\n", bin, strerror(errno));
    _exit(127);
}

/* Reads the child's "PORT=<n>" line. Returns the port, or -1. */
static int read_port_line(int fd)
{
    char line[64];
    size_t len = 0;
    long waited = 0;
    while (len < sizeof line - 1 && waited < CTL_START_TIMEOUT_MS) {
        struct pollfd p;
        ssize_t n;
        p.fd = fd;
        p.events = POLLIN;
        if (poll(&p, 1, 100) == 0) {
            waited += 100;
            continue;
        }
        n = read(fd, line + len, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        if (line[len] == '\n') {
            int port;
            line[len] = '\0';
            if (sscanf(line, "PORT=%d", &port) == 1 && port > 0 && port < 65536)
                return port;
            return -1;
        }
        len++;
    }
    return -1;
}

int dr_test_proxy_start(const char *upstream_host_port, const char *const *rules,
                        dr_test_proxy *out)
{
    return dr_test_proxy_start_seeded(upstream_host_port, rules, 0, out);
}

int dr_test_proxy_start_seeded(const char *upstream_host_port, const char *const *rules,
                               unsigned long seed, dr_test_proxy *out)
{
    const char *bin = getenv("DR_FAULT_PROXY");
    int fds[2];
    pid_t pid, parent = getpid();
    int port;

    memset(out, 0, sizeof *out);
    if (!bin || !*bin) {
        fprintf(stderr, "dr_test_proxy: DR_FAULT_PROXY is not set (path of dr_fault_proxy)\n");
        return -1;
    }
    if (!upstream_host_port || pipe(fds) != 0)
        return -1;
    fflush(NULL); /* the child must not flush our buffered output a second time */
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        exec_proxy(bin, upstream_host_port, rules, seed, fds[1], parent);
    }
    close(fds[1]);
    port = read_port_line(fds[0]);
    close(fds[0]);
    if (port < 0) {
        fprintf(stderr, "dr_test_proxy: %s did not report its port\n", bin);
        terminate_pid(pid);
        return -1;
    }
    remember_pid(pid);
    out->pid = pid;
    out->port = port;
    snprintf(out->endpoint, sizeof out->endpoint, "http://127.0.0.1:%d", port);
    return 0;
}

void dr_test_proxy_stop(dr_test_proxy *p)
{
    if (!p || p->pid <= 0)
        return;
    terminate_pid(p->pid);
    forget_pid(p->pid);
    p->pid = 0;
}

/* One request with Connection: close; the body of the answer goes to *body (malloc'ed,
 * NUL-terminated). Returns the HTTP status, or -1. */
static int control_request(const dr_test_proxy *p, const char *method, const char *path,
                           const char *req_body, char **body)
{
    struct sockaddr_in addr;
    char head[256];
    char *buf = NULL, *start;
    size_t len = 0, cap = 0, blen = req_body ? strlen(req_body) : 0;
    int fd, status = -1, hn;

    *body = NULL;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((unsigned short)p->port);
    hn = snprintf(head, sizeof head,
                  "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n"
                  "Connection: close\r\n\r\n",
                  method, path, blen);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        send(fd, head, (size_t)hn, MSG_NOSIGNAL) != hn ||
        (blen && send(fd, req_body, blen, MSG_NOSIGNAL) != (ssize_t)blen))
        goto out;
    for (;;) {
        ssize_t n;
        if (len + 4096 + 1 > cap) {
            char *nb;
            if (cap >= CTL_MAX_RESPONSE)
                goto out;
            cap = cap ? cap * 2 : 8192;
            nb = realloc(buf, cap);
            if (!nb)
                goto out;
            buf = nb;
        }
        n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (!buf)
        goto out;
    buf[len] = '\0';
    start = strstr(buf, "\r\n\r\n");
    if (!start || sscanf(buf, "HTTP/1.1 %d", &status) != 1) {
        status = -1;
        goto out;
    }
    *body = strdup(start + 4);
    if (!*body)
        status = -1;
out:
    free(buf);
    close(fd);
    return status;
}

int dr_test_proxy_set_rules(dr_test_proxy *p, const char *const *rules)
{
    size_t i, total = 1;
    char *text, *body = NULL;
    int status;
    for (i = 0; rules && rules[i]; i++)
        total += strlen(rules[i]) + 1;
    text = malloc(total);
    if (!text)
        return -1;
    text[0] = '\0';
    for (i = 0; rules && rules[i]; i++) {
        strcat(text, rules[i]);
        strcat(text, "\n");
    }
    status = control_request(p, "POST", "/__proxy/rules", text, &body);
    if (status != 200)
        fprintf(stderr, "dr_test_proxy: rules rejected (%d): %s", status, body ? body : "\n");
    free(text);
    free(body);
    return status == 200 ? 0 : -1;
}

int dr_test_proxy_reset_stats(dr_test_proxy *p)
{
    char *body = NULL;
    int status = control_request(p, "POST", "/__proxy/reset-stats", NULL, &body);
    free(body);
    return status == 200 ? 0 : -1;
}

static int json_number_after(const char *json, const char *key, long *out)
{
    const char *k = strstr(json, key);
    char *end;
    if (!k)
        return -1;
    *out = strtol(k + strlen(key), &end, 10);
    return end == k + strlen(key) ? -1 : 0;
}

/* Reads {"name":N,...} following key; the proxy writes names without escapes. */
static int json_counts_after(const char *json, const char *key, dr_test_proxy_count *out,
                             size_t *n_out)
{
    const char *s = strstr(json, key);
    size_t n = 0;
    if (!s)
        return -1;
    s += strlen(key);
    while (*s == '"' && n < DR_TEST_PROXY_MAX_NAMES) {
        const char *q = strchr(s + 1, '"');
        char *end;
        size_t len;
        if (!q || q[1] != ':')
            return -1;
        len = (size_t)(q - s - 1);
        if (len >= sizeof out[n].name)
            return -1;
        memcpy(out[n].name, s + 1, len);
        out[n].name[len] = '\0';
        out[n].count = strtol(q + 2, &end, 10);
        if (end == q + 2)
            return -1;
        n++;
        s = end;
        if (*s == ',')
            s++;
    }
    *n_out = n;
    return 0;
}

int dr_test_proxy_stats(dr_test_proxy *p, dr_test_proxy_counts *out)
{
    char *body = NULL;
    int status = control_request(p, "GET", "/__proxy/stats", NULL, &body);
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (status == 200 && json_number_after(body, "\"requests\":", &out->requests) == 0 &&
        json_number_after(body, "\"forwarded\":", &out->forwarded) == 0 &&
        json_number_after(body, "\"upstream_errors\":", &out->upstream_errors) == 0 &&
        json_number_after(body, "\"abandoned\":", &out->abandoned) == 0 &&
        json_counts_after(body, "\"faults\":{", out->faults, &out->n_faults) == 0 &&
        json_counts_after(body, "\"by_target\":{", out->targets, &out->n_targets) == 0)
        rc = 0;
    free(body);
    return rc;
}

static long count_by_name(const dr_test_proxy_count *items, size_t n, const char *name)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(items[i].name, name) == 0)
            return items[i].count;
    return 0;
}

long dr_test_proxy_fault_count(const dr_test_proxy_counts *c, const char *action)
{
    return count_by_name(c->faults, c->n_faults, action);
}

long dr_test_proxy_target_count(const dr_test_proxy_counts *c, const char *op)
{
    return count_by_name(c->targets, c->n_targets, op);
}
