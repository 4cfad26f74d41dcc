/* dr_fault_proxy: a fault-injecting HTTP/1.1 proxy for the retry tests.
 *
 * The integration tests point the client at this proxy instead of at DynamoDB Local
 * so they can prove the retry rules: which failures are retried, how often, and
 * that a write whose answer was lost is not silently applied twice.
 *
 *   dr_fault_proxy --upstream 127.0.0.1:PORT [--rule RULE]... [--seed S]
 *                  [--port-file PATH] [--pid-file PATH] [--verbose]
 *
 * It binds 127.0.0.1 on an ephemeral port only (never a fixed port: tests run in
 * parallel), prints one line "PORT=<n>" to stdout, and serves until SIGTERM/SIGINT.
 *
 * A RULE is ACTION[:key=value,...]; for each request the first rule that matches
 * decides what happens, and a request no rule matches is forwarded unchanged.
 *   ACTION  pass | throttle | throughput | error500 | error503 | validation |
 *           skew:seconds=N | reset | delay:ms=N | forward-then-reset |
 *           forward-then-delay:ms=N | corrupt-crc | cancel-throttle
 *   keys    target=OP  only requests whose X-Amz-Target ends in ".OP"
 *           every=K    only every K-th request that passed the target filter
 *           rate=P     only with probability P (0..1), reproducible with --seed
 *           count=N    at most N times; afterwards the rule no longer matches
 * The filters are applied in that order (target, every, rate, count).
 * cancel-throttle answers a TransactWriteItems, without forwarding it, as DynamoDB
 * reports a throttled transaction: TransactionCanceledException whose
 * CancellationReasons hold ThrottlingError for the first item and None for the rest
 * (one reason per TransactItems entry); any other operation gets throttle's answer.
 *
 * Control paths on the same port (never counted, never subject to rules):
 *   GET  /__proxy/stats        {"requests":N,"forwarded":N,"upstream_errors":N,
 *                               "abandoned":N,"faults":{...},"by_target":{...}}
 *   POST /__proxy/reset-stats  zeroes the statistics
 *   POST /__proxy/rules        body = newline-separated rules; replaces the list,
 *                              restarts the rule counters and the random sequence
 *   GET  /__proxy/rules        the current rules, one per line
 *
 * Fault bodies follow what DynamoDB sends; see inject_* below for the sources.
 * Thread per client connection; a fresh upstream connection per request.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"

/* Limits from the brief: a header block larger than this, or a body larger than
 * that, is not a DynamoDB request (its API caps requests at 16 MB). */
#define FP_MAX_HEADER_BYTES (64 * 1024)
#define FP_MAX_BODY_BYTES (32 * 1024 * 1024)
#define FP_MAX_HEADERS 128
#define FP_MAX_RULES 64
#define FP_RULE_TEXT 160
#define FP_OP_LEN 64
#define FP_MAX_OPS 64
/* Past this many live connections new ones are refused: bounds threads and fds. */
#define FP_MAX_CONNECTIONS 512
/* A hung upstream or a client that stops reading must not pin a thread forever. */
#define FP_IO_TIMEOUT_SECONDS 60
#define FP_MAX_DELAY_MS (10 * 60 * 1000)
/* DynamoDB's clock-skew window as printed in its "Signature expired" messages. */
#define FP_SKEW_WINDOW_SECONDS (15 * 60)

/* ------------------------------------------------------------------------- */
/* Rules                                                                     */

typedef enum {
    ACT_PASS = 0,
    ACT_THROTTLE,
    ACT_THROUGHPUT,
    ACT_ERROR500,
    ACT_ERROR503,
    ACT_VALIDATION,
    ACT_SKEW,
    ACT_RESET,
    ACT_DELAY,
    ACT_FORWARD_THEN_RESET,
    ACT_FORWARD_THEN_DELAY,
    ACT_CORRUPT_CRC,
    ACT_CANCEL_THROTTLE,
    ACT_COUNT
} fp_action;

static const char *const action_names[ACT_COUNT] = {
    "pass", "throttle", "throughput", "error500", "error503", "validation", "skew",
    "reset", "delay", "forward-then-reset", "forward-then-delay", "corrupt-crc",
    "cancel-throttle"};

typedef struct {
    fp_action action;
    long ms;           /* delay, forward-then-delay */
    long seconds;      /* skew */
    long count;        /* 0 = unlimited */
    long every;        /* 0 or 1 = every request */
    double rate;       /* 1.0 = always */
    char target[FP_OP_LEN]; /* "" = any operation */
    long seen;         /* requests that passed the target filter */
    long applied;      /* times this rule decided a request */
    char text[FP_RULE_TEXT];
} fp_rule;

/* What a worker needs of the chosen rule, copied out of the shared list. */
typedef struct {
    fp_action action;
    long ms;
    long seconds;
} fp_decision;

/* ------------------------------------------------------------------------- */
/* Shared state                                                              */

typedef struct fp_conn {
    pthread_t thread;
    int client_fd;   /* -1 once the worker closed it */
    int upstream_fd; /* -1 unless a forward is in flight */
    int finished;    /* worker done, ready to be joined */
    struct fp_conn *next;
} fp_conn;

typedef struct {
    /* lock guards the rules, the random state, the statistics and `stopping`. */
    pthread_mutex_t lock;
    pthread_cond_t stop_cond;
    int stopping;
    fp_rule rules[FP_MAX_RULES];
    size_t n_rules;
    uint64_t seed;
    uint64_t rng;
    long requests;
    long forwarded;
    long upstream_errors;
    long abandoned;
    long faults[ACT_COUNT];
    char op_names[FP_MAX_OPS][FP_OP_LEN];
    long op_counts[FP_MAX_OPS];
    size_t n_ops;
    long request_ids;

    /* conn_lock guards the connection registry. */
    pthread_mutex_t conn_lock;
    fp_conn *conns;
    size_t n_conns;

    struct sockaddr_storage upstream_addr;
    socklen_t upstream_addr_len;
    int verbose;
} fp_state;

static fp_state g;

/* Self-pipe: the signal handler may only write(); the accept loop polls the read end. */
static int stop_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_signalled;

/* ------------------------------------------------------------------------- */
/* Small utilities                                                           */

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} fp_buf;

static int buf_reserve(fp_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;
    if (extra > SIZE_MAX - b->len - 1)
        return -1;
    need = b->len + extra + 1; /* keep room for a terminating NUL */
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

static int buf_append(fp_buf *b, const void *data, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static int buf_printf(fp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int buf_printf(fp_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_reserve(b, (size_t)n) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

static void buf_free(fp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("dr_fault_proxy: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* CRC-32 (IEEE 802.3, as zlib), the checksum DynamoDB puts in x-amz-crc32. Bitwise:
 * the bodies we checksum ourselves are a few hundred bytes. */
static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        crc ^= p[i];
        for (k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

/* splitmix64: tiny, seedable, identical on every platform (rand() is not). */
static double next_random_unit_locked(void)
{
    uint64_t z = (g.rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0; /* 2^53 */
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;
    if (!*s)
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Rule parsing and matching                                                 */

static int action_from_name(const char *name, size_t len, fp_action *out)
{
    int i;
    for (i = 0; i < ACT_COUNT; i++) {
        if (strlen(action_names[i]) == len && strncmp(action_names[i], name, len) == 0) {
            *out = (fp_action)i;
            return 0;
        }
    }
    return -1;
}

static int is_op_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

static int rule_set_key(fp_rule *r, const char *key, const char *val)
{
    if (strcmp(key, "count") == 0)
        return parse_long(val, 1, 1000000000L, &r->count);
    if (strcmp(key, "every") == 0)
        return parse_long(val, 1, 1000000000L, &r->every);
    if (strcmp(key, "ms") == 0 &&
        (r->action == ACT_DELAY || r->action == ACT_FORWARD_THEN_DELAY))
        return parse_long(val, 0, FP_MAX_DELAY_MS, &r->ms);
    if (strcmp(key, "seconds") == 0 && r->action == ACT_SKEW)
        return parse_long(val, -315360000L, 315360000L, &r->seconds); /* +-10 years */
    if (strcmp(key, "rate") == 0) {
        char *end;
        errno = 0;
        r->rate = strtod(val, &end);
        return (errno || !*val || *end || !(r->rate >= 0.0 && r->rate <= 1.0)) ? -1 : 0;
    }
    if (strcmp(key, "target") == 0) {
        size_t i, n = strlen(val);
        if (n == 0 || n >= sizeof r->target)
            return -1;
        for (i = 0; i < n; i++)
            if (!is_op_char((unsigned char)val[i]))
                return -1;
        memcpy(r->target, val, n + 1);
        return 0;
    }
    return -1;
}

/* Parses "ACTION[:k=v,...]". Returns 0, or -1 with *why set to a static reason. */
static int rule_parse(const char *text, fp_rule *r, const char **why)
{
    char tmp[FP_RULE_TEXT];
    const char *colon;
    char *opts, *item, *save = NULL;
    size_t len = strlen(text);
    int have_ms = 0, have_seconds = 0;

    memset(r, 0, sizeof *r);
    r->rate = 1.0;
    if (len == 0 || len >= sizeof tmp) {
        *why = "empty or too long";
        return -1;
    }
    memcpy(r->text, text, len + 1);
    colon = strchr(text, ':');
    if (action_from_name(text, colon ? (size_t)(colon - text) : len, &r->action) != 0) {
        *why = "unknown action";
        return -1;
    }
    if (colon) {
        memcpy(tmp, colon + 1, len - (size_t)(colon - text));
        opts = tmp;
        for (item = strtok_r(opts, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(item, '=');
            if (!eq) {
                *why = "option without '='";
                return -1;
            }
            *eq = '\0';
            have_ms |= strcmp(item, "ms") == 0;
            have_seconds |= strcmp(item, "seconds") == 0;
            if (rule_set_key(r, item, eq + 1) != 0) {
                *why = "bad option key or value";
                return -1;
            }
        }
    }
    if ((r->action == ACT_DELAY || r->action == ACT_FORWARD_THEN_DELAY) && !have_ms) {
        *why = "needs ms=N";
        return -1;
    }
    if (r->action == ACT_SKEW && !have_seconds) {
        *why = "needs seconds=N";
        return -1;
    }
    return 0;
}

/* Replaces the rule list from newline-separated text ('#' starts a comment line).
 * All or nothing: one bad line keeps the old list. */
static int rules_replace_from_text(const char *text, fp_buf *err)
{
    fp_rule *parsed;
    size_t n = 0;
    const char *line = text;
    int rc = 0;

    parsed = calloc(FP_MAX_RULES, sizeof *parsed);
    if (!parsed) {
        buf_printf(err, "out of memory");
        return -1;
    }
    while (*line && rc == 0) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char one[FP_RULE_TEXT];
        const char *why = "";
        while (len && (line[0] == ' ' || line[0] == '\t'))
            line++, len--;
        while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
            len--;
        if (len && line[0] != '#') {
            if (len >= sizeof one || n == FP_MAX_RULES) {
                buf_printf(err, "rule %zu: too long or too many rules", n + 1);
                rc = -1;
            } else {
                memcpy(one, line, len);
                one[len] = '\0';
                if (rule_parse(one, &parsed[n], &why) != 0) {
                    buf_printf(err, "rule '%s': %s", one, why);
                    rc = -1;
                }
                n++;
            }
        }
        line = eol ? eol + 1 : line + len;
        if (!eol)
            break;
    }
    if (rc == 0) {
        pthread_mutex_lock(&g.lock);
        memcpy(g.rules, parsed, n * sizeof *parsed);
        g.n_rules = n;
        g.rng = g.seed; /* same rules + same seed = same fault pattern */
        pthread_mutex_unlock(&g.lock);
    }
    free(parsed);
    return rc;
}

/* Caller holds g.lock. Returns the first rule that claims this request, or NULL. */
static fp_rule *rule_match_locked(const char *op)
{
    size_t i;
    for (i = 0; i < g.n_rules; i++) {
        fp_rule *r = &g.rules[i];
        if (r->target[0] && strcmp(r->target, op) != 0)
            continue;
        if (r->count > 0 && r->applied >= r->count)
            continue;
        r->seen++;
        if (r->every > 1 && r->seen % r->every != 0)
            continue;
        if (r->rate < 1.0 && next_random_unit_locked() >= r->rate)
            continue;
        r->applied++;
        return r;
    }
    return NULL;
}

/* Caller holds g.lock. Operations past FP_MAX_OPS distinct names share "(other)". */
static void count_op_locked(const char *op)
{
    size_t i;
    for (i = 0; i < g.n_ops; i++) {
        if (strcmp(g.op_names[i], op) == 0) {
            g.op_counts[i]++;
            return;
        }
    }
    if (g.n_ops == FP_MAX_OPS - 1)
        op = "(other)";
    for (i = 0; i < g.n_ops; i++) {
        if (strcmp(g.op_names[i], op) == 0) {
            g.op_counts[i]++;
            return;
        }
    }
    snprintf(g.op_names[g.n_ops], FP_OP_LEN, "%s", op);
    g.op_counts[g.n_ops++] = 1;
}

/* Counts the request and picks what to do with it, in one critical section so the
 * statistics and the rule counters always agree. */
static fp_decision decide_for_request(const char *op)
{
    fp_decision d = {ACT_PASS, 0, 0};
    fp_rule *r;
    pthread_mutex_lock(&g.lock);
    g.requests++;
    count_op_locked(op);
    r = rule_match_locked(op);
    if (r) {
        d.action = r->action;
        d.ms = r->ms;
        d.seconds = r->seconds;
        if (d.action != ACT_PASS)
            g.faults[d.action]++;
    }
    pthread_mutex_unlock(&g.lock);
    return d;
}

static void count_event(long *counter)
{
    pthread_mutex_lock(&g.lock);
    (*counter)++;
    pthread_mutex_unlock(&g.lock);
}

/* Sleeps ms milliseconds unless the proxy is stopping. Returns 0, or -1 if stopping. */
static int wait_ms_unless_stopping(long ms)
{
    struct timespec deadline;
    int stopping;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&g.lock);
    while (!g.stopping &&
           pthread_cond_timedwait(&g.stop_cond, &g.lock, &deadline) != ETIMEDOUT) {
    }
    stopping = g.stopping;
    pthread_mutex_unlock(&g.lock);
    return stopping ? -1 : 0;
}

/* ------------------------------------------------------------------------- */
/* Socket I/O                                                                */

typedef struct {
    int fd;
    char *data;
    size_t len; /* bytes in data */
    size_t pos; /* first unconsumed byte */
    size_t cap;
} fp_reader;

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads more bytes into the buffer, growing it up to max_cap.
 * Returns bytes read, 0 on EOF, -1 on error or when the buffer is full. */
static ssize_t reader_fill(fp_reader *r, size_t max_cap)
{
    ssize_t n;
    if (r->pos > 0) {
        memmove(r->data, r->data + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16384;
        char *p;
        if (r->cap >= max_cap)
            return -1;
        if (cap > max_cap)
            cap = max_cap;
        p = realloc(r->data, cap);
        if (!p)
            return -1;
        r->data = p;
        r->cap = cap;
    }
    do {
        n = recv(r->fd, r->data + r->len, r->cap - r->len, 0);
    } while (n < 0 && errno == EINTR);
    if (n > 0)
        r->len += (size_t)n;
    return n;
}

static size_t reader_avail(const fp_reader *r)
{
    return r->len - r->pos;
}

/* Reads a header block up to and including the empty line, as a NUL-terminated copy.
 * Returns 1, 0 on a clean EOF before any byte, -1 on error or oversize. */
static int reader_read_head(fp_reader *r, char **out)
{
    for (;;) {
        size_t avail = reader_avail(r), i;
        const char *p = r->data ? r->data + r->pos : NULL;
        ssize_t n;
        for (i = 0; i + 3 < avail; i++) {
            if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n') {
                *out = malloc(i + 5);
                if (!*out)
                    return -1;
                memcpy(*out, p, i + 4);
                (*out)[i + 4] = '\0';
                r->pos += i + 4;
                return 1;
            }
        }
        if (avail >= FP_MAX_HEADER_BYTES)
            return -1;
        n = reader_fill(r, FP_MAX_HEADER_BYTES);
        if (n == 0 && avail == 0)
            return 0;
        if (n <= 0)
            return -1;
    }
}

static int reader_read_exact(fp_reader *r, char *dst, size_t n)
{
    size_t take = reader_avail(r) < n ? reader_avail(r) : n;
    if (take) {
        memcpy(dst, r->data + r->pos, take);
        r->pos += take;
        dst += take;
        n -= take;
    }
    while (n > 0) {
        ssize_t got = recv(r->fd, dst, n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        dst += got;
        n -= (size_t)got;
    }
    return 0;
}

/* Reads one line (without CR LF) into dst of size cap. Returns 0 or -1. */
static int reader_read_line(fp_reader *r, char *dst, size_t cap)
{
    for (;;) {
        const char *p = r->data ? r->data + r->pos : NULL;
        const char *nl = p ? memchr(p, '\n', reader_avail(r)) : NULL;
        if (nl) {
            size_t len = (size_t)(nl - p);
            if (len && p[len - 1] == '\r')
                len--;
            if (len >= cap)
                return -1;
            memcpy(dst, p, len);
            dst[len] = '\0';
            r->pos += (size_t)(nl - p) + 1;
            return 0;
        }
        if (reader_avail(r) >= cap || reader_fill(r, FP_MAX_HEADER_BYTES) <= 0)
            return -1;
    }
}

static void reader_free(fp_reader *r)
{
    free(r->data);
    r->data = NULL;
    r->len = r->pos = r->cap = 0;
}

static void set_io_timeouts(int fd)
{
    struct timeval tv;
    tv.tv_sec = FP_IO_TIMEOUT_SECONDS;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* ------------------------------------------------------------------------- */
/* HTTP messages                                                             */

typedef struct {
    const char *name;
    const char *value;
} fp_header;

typedef struct {
    char *head; /* owned, NUL-terminated header block, cut up in place */
    char *start_line;
    fp_header headers[FP_MAX_HEADERS];
    size_t n_headers;
    fp_buf body;
} fp_message;

static void message_free(fp_message *m)
{
    free(m->head);
    buf_free(&m->body);
    memset(m, 0, sizeof *m);
}

static const char *message_header(const fp_message *m, const char *name)
{
    size_t i;
    for (i = 0; i < m->n_headers; i++)
        if (strcasecmp(m->headers[i].name, name) == 0)
            return m->headers[i].value;
    return NULL;
}

static int is_token_char(int c)
{
    return c > 32 && c < 127 && !strchr("()<>@,;:\\\"/[]?={}", c);
}

/* Cuts m->head into the start line and name/value pairs. Rejects folded lines,
 * lines without a colon and names that are not tokens. */
static int message_split_head(fp_message *m)
{
    char *line = m->head, *next;
    int first = 1;
    for (; *line; line = next) {
        char *eol = strstr(line, "\r\n");
        char *colon, *v, *end;
        if (!eol)
            return -1;
        *eol = '\0';
        next = eol + 2;
        if (first) {
            m->start_line = line;
            first = 0;
            continue;
        }
        if (!*line)
            break; /* the empty line ending the block */
        colon = strchr(line, ':');
        if (!colon || colon == line || m->n_headers == FP_MAX_HEADERS)
            return -1;
        for (v = line; v < colon; v++)
            if (!is_token_char((unsigned char)*v))
                return -1;
        *colon = '\0';
        v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        end = v + strlen(v);
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        m->headers[m->n_headers].name = line;
        m->headers[m->n_headers].value = v;
        m->n_headers++;
    }
    return m->start_line ? 0 : -1;
}

/* Content-Length as a strict decimal; several headers must agree (RFC 9112 6.3).
 * Returns 1 if present, 0 if absent, -1 if invalid. */
static int message_content_length(const fp_message *m, size_t *out)
{
    size_t i;
    int found = 0;
    for (i = 0; i < m->n_headers; i++) {
        const char *v = m->headers[i].value;
        size_t n = 0;
        if (strcasecmp(m->headers[i].name, "Content-Length") != 0)
            continue;
        if (!*v)
            return -1;
        for (; *v; v++) {
            if (*v < '0' || *v > '9' || n > (SIZE_MAX - 9) / 10)
                return -1;
            n = n * 10 + (size_t)(*v - '0');
        }
        if (found && n != *out)
            return -1;
        *out = n;
        found = 1;
    }
    return found;
}

static int header_has_token(const char *value, const char *token)
{
    size_t n = strlen(token);
    while (value && *value) {
        while (*value == ' ' || *value == ',')
            value++;
        if (strncasecmp(value, token, n) == 0 &&
            (value[n] == '\0' || value[n] == ',' || value[n] == ' '))
            return 1;
        value = strchr(value, ',');
    }
    return 0;
}

/* Hop-by-hop headers (RFC 9110 7.6.1) are not forwarded; framing is redone. */
static int is_hop_by_hop(const char *name)
{
    static const char *const hop[] = {"Connection", "Keep-Alive", "Proxy-Connection",
                                      "Transfer-Encoding", "TE", "Trailer", "Upgrade",
                                      "Expect", "Content-Length"};
    size_t i;
    for (i = 0; i < sizeof hop / sizeof hop[0]; i++)
        if (strcasecmp(name, hop[i]) == 0)
            return 1;
    return 0;
}

typedef struct {
    fp_message msg;
    char *method;
    char *path;
    int keep_alive;
    char op[FP_OP_LEN]; /* X-Amz-Target after the last '.', "(none)" if absent */
} fp_request;

static void request_free(fp_request *req)
{
    message_free(&req->msg);
}

static void request_extract_op(fp_request *req)
{
    const char *t = message_header(&req->msg, "X-Amz-Target");
    const char *dot, *s;
    size_t n;
    if (!t) {
        snprintf(req->op, sizeof req->op, "(none)");
        return;
    }
    dot = strrchr(t, '.');
    s = dot ? dot + 1 : t;
    n = strlen(s);
    if (n == 0 || n >= sizeof req->op) {
        snprintf(req->op, sizeof req->op, "(invalid)");
        return;
    }
    for (dot = s; *dot; dot++) {
        if (!is_op_char((unsigned char)*dot)) {
            snprintf(req->op, sizeof req->op, "(invalid)");
            return;
        }
    }
    memcpy(req->op, s, n + 1);
}

/* Parses "METHOD SP PATH SP HTTP/1.x". */
static int request_parse_start_line(fp_request *req)
{
    char *line = req->msg.start_line;
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    char *p;
    if (!sp1 || !sp2 || sp1 == line || sp2 == sp1 + 1)
        return -1;
    *sp1 = '\0';
    *sp2 = '\0';
    for (p = line; *p; p++)
        if (*p < 'A' || *p > 'Z')
            return -1;
    req->method = line;
    req->path = sp1 + 1;
    if (strcmp(sp2 + 1, "HTTP/1.1") == 0) {
        const char *c = message_header(&req->msg, "Connection");
        req->keep_alive = !header_has_token(c, "close");
    } else if (strcmp(sp2 + 1, "HTTP/1.0") == 0) {
        req->keep_alive = 0;
    } else {
        return -1;
    }
    return 0;
}

/* Reads one request from the client. Returns 1, 0 on clean EOF, -1 on bad input. */
static int read_client_request(fp_reader *r, fp_request *req)
{
    size_t body_len = 0;
    int rc, has_len;
    const char *expect;

    memset(req, 0, sizeof *req);
    rc = reader_read_head(r, &req->msg.head);
    if (rc <= 0)
        return rc;
    if (message_split_head(&req->msg) != 0 || request_parse_start_line(req) != 0)
        return -1;
    /* Chunked request bodies are not part of the DynamoDB client's protocol. */
    if (message_header(&req->msg, "Transfer-Encoding"))
        return -1;
    has_len = message_content_length(&req->msg, &body_len);
    if (has_len < 0 || body_len > FP_MAX_BODY_BYTES)
        return -1;
    request_extract_op(req);
    /* libcurl waits up to a second for "100 Continue" before sending a large body. */
    expect = message_header(&req->msg, "Expect");
    if (expect && strcasecmp(expect, "100-continue") == 0 && reader_avail(r) < body_len &&
        send_all(r->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0)
        return -1;
    if (buf_reserve(&req->msg.body, body_len) != 0 ||
        reader_read_exact(r, req->msg.body.data, body_len) != 0)
        return -1;
    req->msg.body.len = body_len;
    req->msg.body.data[body_len] = '\0';
    return 1;
}

/* ------------------------------------------------------------------------- */
/* Responses                                                                 */

typedef struct {
    fp_message msg;
    int status;
    const char *reason;
} fp_response;

static void response_free(fp_response *resp)
{
    message_free(&resp->msg);
}

/* Writes a response with Content-Length framing, keeping every end-to-end header. */
static int send_response(int fd, int status, const char *reason, const fp_header *headers,
                         size_t n_headers, const char *body, size_t body_len, int keep_alive)
{
    fp_buf head = {0};
    size_t i;
    int rc = buf_printf(&head, "HTTP/1.1 %d %s\r\n", status, reason);
    for (i = 0; rc == 0 && i < n_headers; i++)
        if (!is_hop_by_hop(headers[i].name))
            rc = buf_printf(&head, "%s: %s\r\n", headers[i].name, headers[i].value);
    if (rc == 0)
        rc = buf_printf(&head, "Content-Length: %zu\r\nConnection: %s\r\n\r\n", body_len,
                        keep_alive ? "keep-alive" : "close");
    if (rc == 0)
        rc = send_all(fd, head.data, head.len);
    if (rc == 0 && body_len)
        rc = send_all(fd, body, body_len);
    buf_free(&head);
    return rc;
}

static void format_http_date(time_t t, char *out, size_t cap)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void format_amz_date(time_t t, char *out, size_t cap)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y%m%dT%H%M%SZ", &tm);
}

/* Sends a DynamoDB-shaped JSON error: the headers DynamoDB always sets
 * (x-amzn-RequestId, x-amz-crc32 over the body, Date), so a client that verifies the
 * CRC or reads the Date for clock-skew correction sees what the service sends. */
static int send_json_body(int fd, int status, const char *reason, const fp_buf *body,
                          long date_offset_seconds, int keep_alive)
{
    char crc[16], date[64], reqid[64];
    long id;
    fp_header h[4];

    pthread_mutex_lock(&g.lock);
    id = ++g.request_ids;
    pthread_mutex_unlock(&g.lock);
    snprintf(crc, sizeof crc, "%lu",
             (unsigned long)crc32_ieee((const unsigned char *)body->data, body->len));
    format_http_date(time(NULL) + date_offset_seconds, date, sizeof date);
    snprintf(reqid, sizeof reqid, "FAULTPROXY%042ld", id);
    h[0].name = "x-amzn-RequestId";
    h[0].value = reqid;
    h[1].name = "x-amz-crc32";
    h[1].value = crc;
    h[2].name = "Content-Type";
    h[2].value = "application/x-amz-json-1.0";
    h[3].name = "Date";
    h[3].value = date;
    return send_response(fd, status, reason, h, 4, body->data, body->len, keep_alive);
}

static int send_json_error(int fd, int status, const char *reason, const char *type,
                           const char *message, long date_offset_seconds, int keep_alive)
{
    fp_buf body = {0};
    int rc;
    if (buf_printf(&body, "{\"__type\":\"%s\",\"message\":\"%s\"}", type, message) != 0)
        return -1;
    rc = send_json_body(fd, status, reason, &body, date_offset_seconds, keep_alive);
    buf_free(&body);
    return rc;
}

/* DynamoDB's answer to a request signed with a clock outside the 15-minute window:
 * HTTP 400, __type com.amazon.coral.service#InvalidSignatureException (coral.service,
 * not the dynamodb.v20120810 namespace: it comes from the shared auth layer), message
 * "Signature expired: <req> is now earlier than <now-15min> (<now> - 15 min.)" when the
 * client is behind, "Signature not yet current: <req> is still later than <now+15min>
 * (<now> + 15 min.)" when it is ahead, and a Date header with the server's time, which
 * is what SDKs use to correct their clock. The proxy rejects whatever the actual skew:
 * "seconds" only sets how far the server's Date is from this machine's clock. */
static int inject_skew(int fd, const fp_request *req, long seconds, int keep_alive)
{
    char req_time[32], now_s[32], edge_s[32], msg[256];
    const char *amz = message_header(&req->msg, "X-Amz-Date");
    time_t server_now = time(NULL) + seconds;
    size_t i, n = amz ? strlen(amz) : 0;
    int amz_ok = n == 16;

    for (i = 0; amz_ok && i < n; i++)
        amz_ok = (i == 8) ? amz[i] == 'T' : (i == 15) ? amz[i] == 'Z'
                                                      : (amz[i] >= '0' && amz[i] <= '9');
    if (amz_ok)
        memcpy(req_time, amz, n + 1);
    else
        format_amz_date(time(NULL), req_time, sizeof req_time);
    format_amz_date(server_now, now_s, sizeof now_s);
    if (seconds >= 0) {
        format_amz_date(server_now - FP_SKEW_WINDOW_SECONDS, edge_s, sizeof edge_s);
        snprintf(msg, sizeof msg, "Signature expired: %s is now earlier than %s (%s - 15 min.)",
                 req_time, edge_s, now_s);
    } else {
        format_amz_date(server_now + FP_SKEW_WINDOW_SECONDS, edge_s, sizeof edge_s);
        snprintf(msg, sizeof msg,
                 "Signature not yet current: %s is still later than %s (%s + 15 min.)",
                 req_time, edge_s, now_s);
    }
    return send_json_error(fd, 400, "Bad Request",
                           "com.amazon.coral.service#InvalidSignatureException", msg, seconds,
                           keep_alive);
}

/* The error bodies DynamoDB documents for these faults ("Error handling with
 * DynamoDB", API reference "Common Errors"); messages are the service's wording. */
static int inject_error(int fd, fp_action action, const fp_request *req)
{
    int ka = req->keep_alive;
    switch (action) {
    case ACT_THROTTLE:
        return send_json_error(fd, 400, "Bad Request",
                               "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                               "Rate of requests exceeds the allowed throughput.", 0, ka);
    case ACT_THROUGHPUT:
        return send_json_error(
            fd, 400, "Bad Request",
            "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded. "
            "Consider increasing your provisioning level with the UpdateTable API.",
            0, ka);
    case ACT_ERROR500:
        return send_json_error(fd, 500, "Internal Server Error",
                               "com.amazon.coral.availability#InternalFailure", "injected", 0,
                               ka);
    case ACT_ERROR503:
        return send_json_error(fd, 503, "Service Unavailable",
                               "com.amazon.coral.availability#ServiceUnavailableException",
                               "Service unavailable (injected)", 0, ka);
    case ACT_VALIDATION:
        return send_json_error(fd, 400, "Bad Request",
                               "com.amazon.coral.validate#ValidationException",
                               "1 validation error detected: injected by dr_fault_proxy", 0, ka);
    default:
        return -1;
    }
}

/* The number of entries of the request's top-level "TransactItems" array, or 0. */
static size_t count_transact_items(const char *body, size_t len)
{
    static const char key[] = "\"TransactItems\"";
    size_t i, n = 0, klen = sizeof key - 1;
    unsigned depth = 0;
    int in_string = 0, escaped = 0, started = 0;
    for (i = 0; i + klen <= len && !started; i++)
        if (memcmp(body + i, key, klen) == 0)
            started = 1;
    if (!started)
        return 0;
    for (i += klen - 1; i < len && body[i] != '['; i++)
        ;
    for (; i < len; i++) {
        char c = body[i];
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (depth++ == 1 && c == '{')
                n++;
        } else if (c == ']' || c == '}') {
            if (--depth == 0)
                break;
        }
    }
    return n;
}

/* A throttled transaction as DynamoDB reports it (API reference, TransactWriteItems:
 * "ThrottlingError: Throttling happened" in the cancellation reasons, HTTP 400). */
static int inject_cancel_throttle(int fd, const fp_request *req)
{
    size_t i, n = count_transact_items(req->msg.body.data, req->msg.body.len);
    fp_buf body = {0};
    int failed;
    if (strcmp(req->op, "TransactWriteItems") != 0 || n == 0)
        return inject_error(fd, ACT_THROTTLE, req);
    failed = buf_printf(&body, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
                               "TransactionCanceledException\",\"Message\":\"Transaction "
                               "cancelled, please refer cancellation reasons for specific "
                               "reasons [ThrottlingError%s]\",\"CancellationReasons\":[",
                        n > 1 ? ", None" : "");
    for (i = 0; i < n && !failed; i++)
        failed = buf_printf(&body, "%s", i ? ",{\"Code\":\"None\"}"
                                           : "{\"Code\":\"ThrottlingError\",\"Message\":"
                                       "\"Throughput exceeds the current capacity of your "
                                       "table or index.\"}");
    failed = failed || buf_printf(&body, "]}");
    failed = failed || send_json_body(fd, 400, "Bad Request", &body, 0, req->keep_alive);
    buf_free(&body);
    return failed ? -1 : 0;
}

/* Closes with SO_LINGER 0 so the peer gets an RST, not an orderly FIN: what a crashed
 * load balancer or a dropped connection looks like to the client. */
static void reset_connection(int fd)
{
    struct linger lg;
    lg.l_onoff = 1;
    lg.l_linger = 0;
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

/* Changes one character inside a JSON string so the body stays valid JSON of the same
 * length but no longer matches x-amz-crc32. Prefers a string value (after ':' or in an
 * array) over an object key. Returns 0, or -1 if no string holds a letter or digit. */
static int corrupt_json_string_byte(char *body, size_t len)
{
    size_t i, pos = (size_t)-1;
    uint64_t in_array = 0; /* bit d set: container at depth d is an array */
    unsigned depth = 0;
    int in_string = 0, escaped = 0, is_value = 0;
    char prev = 0; /* last structural character outside strings */
    for (i = 0; i < len; i++) {
        char c = body[i];
        if (in_string) {
            if (escaped) {
                escaped = 0;
            } else if (c == '\\') {
                escaped = 1;
            } else if (c == '"') {
                in_string = 0;
                prev = '"';
            } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9')) {
                if (is_value) {
                    pos = i;
                    break;
                }
                if (pos == (size_t)-1)
                    pos = i;
            }
            continue;
        }
        if (c == '"') {
            int top_is_array = depth > 0 && depth <= 64 && ((in_array >> (depth - 1)) & 1u);
            in_string = 1;
            is_value = prev == ':' || (top_is_array && (prev == '[' || prev == ','));
        } else if (c == '{' || c == '[') {
            if (depth < 64)
                in_array = (in_array & ~(1ull << depth)) | ((uint64_t)(c == '[') << depth);
            depth++;
            prev = c;
        } else if (c == '}' || c == ']') {
            depth -= depth > 0;
            prev = c;
        } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            prev = c;
        }
    }
    if (pos == (size_t)-1)
        return -1;
    {
        char c = body[pos];
        body[pos] = (c == 'z') ? 'a' : (c == 'Z') ? 'A' : (c == '9') ? '0' : (char)(c + 1);
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Upstream                                                                  */

static void conn_set_upstream_fd(fp_conn *c, int fd)
{
    pthread_mutex_lock(&g.conn_lock);
    c->upstream_fd = fd;
    pthread_mutex_unlock(&g.conn_lock);
}

static int upstream_connect(fp_conn *c)
{
    int fd = socket(g.upstream_addr.ss_family, SOCK_STREAM, 0);
    int one = 1;
    if (fd < 0)
        return -1;
    set_io_timeouts(fd);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn_set_upstream_fd(c, fd);
    if (connect(fd, (const struct sockaddr *)&g.upstream_addr, g.upstream_addr_len) != 0) {
        conn_set_upstream_fd(c, -1);
        close(fd);
        return -1;
    }
    return fd;
}

static int upstream_send_request(int fd, const fp_request *req)
{
    fp_buf out = {0};
    size_t i;
    int rc = buf_printf(&out, "%s %s HTTP/1.1\r\n", req->method, req->path);
    /* Host and every other end-to-end header go through untouched: SigV4 signs them. */
    for (i = 0; rc == 0 && i < req->msg.n_headers; i++)
        if (!is_hop_by_hop(req->msg.headers[i].name))
            rc = buf_printf(&out, "%s: %s\r\n", req->msg.headers[i].name,
                            req->msg.headers[i].value);
    if (rc == 0)
        rc = buf_printf(&out, "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                        req->msg.body.len);
    if (rc == 0)
        rc = send_all(fd, out.data, out.len);
    if (rc == 0 && req->msg.body.len)
        rc = send_all(fd, req->msg.body.data, req->msg.body.len);
    buf_free(&out);
    return rc;
}

static int response_parse_status(fp_response *resp)
{
    char *line = resp->msg.start_line;
    char *end;
    long status;
    if (strncmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') || line[8] != ' ')
        return -1;
    status = strtol(line + 9, &end, 10);
    if (end != line + 12 || status < 100 || status > 999 || (*end != ' ' && *end != '\0'))
        return -1;
    resp->status = (int)status;
    resp->reason = *end ? end + 1 : "";
    return 0;
}

static int read_chunked_body(fp_reader *r, fp_buf *body)
{
    char line[1024];
    for (;;) {
        char *end;
        unsigned long size;
        if (reader_read_line(r, line, sizeof line) != 0)
            return -1;
        errno = 0;
        size = strtoul(line, &end, 16);
        if (errno || end == line || (*end && *end != ';' && *end != ' '))
            return -1;
        if (size == 0)
            break;
        if (size > FP_MAX_BODY_BYTES - body->len || buf_reserve(body, size) != 0 ||
            reader_read_exact(r, body->data + body->len, size) != 0)
            return -1;
        body->len += size;
        body->data[body->len] = '\0';
        if (reader_read_line(r, line, sizeof line) != 0 || line[0] != '\0')
            return -1;
    }
    do { /* trailers: dropped, framing is redone for the client */
        if (reader_read_line(r, line, sizeof line) != 0)
            return -1;
    } while (line[0] != '\0');
    return 0;
}

static int read_body_to_eof(fp_reader *r, fp_buf *body)
{
    if (buf_append(body, r->data + r->pos, reader_avail(r)) != 0)
        return -1;
    r->pos = r->len;
    for (;;) {
        ssize_t n;
        if (body->len >= FP_MAX_BODY_BYTES || buf_reserve(body, 16384) != 0)
            return -1;
        n = recv(r->fd, body->data + body->len, 16384, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        body->len += (size_t)n;
        body->data[body->len] = '\0';
    }
}

static int upstream_read_response(int fd, const fp_request *req, fp_response *resp)
{
    fp_reader r = {0};
    int rc = -1;
    r.fd = fd;
    for (;;) {
        size_t len = 0;
        int has_len;
        message_free(&resp->msg);
        if (reader_read_head(&r, &resp->msg.head) != 1 || message_split_head(&resp->msg) != 0 ||
            response_parse_status(resp) != 0)
            break;
        if (resp->status < 200)
            continue; /* interim response (100 Continue): the final one follows */
        if (strcmp(req->method, "HEAD") == 0 || resp->status == 204 || resp->status == 304) {
            rc = 0;
            break;
        }
        if (header_has_token(message_header(&resp->msg, "Transfer-Encoding"), "chunked")) {
            rc = read_chunked_body(&r, &resp->msg.body);
            break;
        }
        has_len = message_content_length(&resp->msg, &len);
        if (has_len < 0 || len > FP_MAX_BODY_BYTES)
            break;
        if (has_len == 0) {
            rc = read_body_to_eof(&r, &resp->msg.body);
            break;
        }
        if (buf_reserve(&resp->msg.body, len) != 0 ||
            reader_read_exact(&r, resp->msg.body.data, len) != 0)
            break;
        resp->msg.body.len = len;
        resp->msg.body.data[len] = '\0';
        rc = 0;
        break;
    }
    reader_free(&r);
    return rc;
}

/* Sends the request upstream and reads the whole response.
 * Returns 0, or -1 if the upstream could not be reached or answered garbage. */
static int forward_request(fp_conn *c, const fp_request *req, fp_response *resp)
{
    int fd = upstream_connect(c);
    int rc = -1;
    memset(resp, 0, sizeof *resp);
    if (fd < 0)
        return -1;
    if (upstream_send_request(fd, req) == 0) {
        count_event(&g.forwarded);
        rc = upstream_read_response(fd, req, resp);
    }
    conn_set_upstream_fd(c, -1);
    close(fd);
    return rc;
}

static int send_upstream_error(int fd, int keep_alive)
{
    count_event(&g.upstream_errors);
    return send_json_error(fd, 502, "Bad Gateway", "dr_fault_proxy#UpstreamError",
                           "the upstream could not be reached or sent a malformed response", 0,
                           keep_alive);
}

static int relay_response(int fd, const fp_response *resp, int keep_alive)
{
    return send_response(fd, resp->status, resp->reason, resp->msg.headers, resp->msg.n_headers,
                         resp->msg.body.data, resp->msg.body.len, keep_alive);
}

/* True if the client has closed its end (EOF readable without blocking). */
static int client_has_gone(int fd)
{
    struct pollfd p;
    char c;
    p.fd = fd;
    p.events = POLLIN;
    if (poll(&p, 1, 0) <= 0)
        return 0;
    if (p.revents & (POLLHUP | POLLERR))
        return 1;
    return recv(fd, &c, 1, MSG_PEEK) == 0;
}

/* ------------------------------------------------------------------------- */
/* Control endpoints                                                         */

static int build_stats_json(fp_buf *out)
{
    size_t i;
    int rc;
    pthread_mutex_lock(&g.lock);
    rc = buf_printf(out,
                    "{\"requests\":%ld,\"forwarded\":%ld,\"upstream_errors\":%ld,"
                    "\"abandoned\":%ld,\"faults\":{",
                    g.requests, g.forwarded, g.upstream_errors, g.abandoned);
    for (i = 1; rc == 0 && i < ACT_COUNT; i++)
        rc = buf_printf(out, "%s\"%s\":%ld", i > 1 ? "," : "", action_names[i], g.faults[i]);
    if (rc == 0)
        rc = buf_printf(out, "},\"by_target\":{");
    for (i = 0; rc == 0 && i < g.n_ops; i++)
        rc = buf_printf(out, "%s\"%s\":%ld", i ? "," : "", g.op_names[i], g.op_counts[i]);
    if (rc == 0)
        rc = buf_printf(out, "}}\n");
    pthread_mutex_unlock(&g.lock);
    return rc;
}

static void reset_stats(void)
{
    pthread_mutex_lock(&g.lock);
    g.requests = g.forwarded = g.upstream_errors = g.abandoned = 0;
    memset(g.faults, 0, sizeof g.faults);
    memset(g.op_counts, 0, sizeof g.op_counts);
    g.n_ops = 0;
    pthread_mutex_unlock(&g.lock);
}

static int build_rules_text(fp_buf *out)
{
    size_t i;
    int rc = buf_append(out, "", 0);
    pthread_mutex_lock(&g.lock);
    for (i = 0; rc == 0 && i < g.n_rules; i++)
        rc = buf_printf(out, "%s\n", g.rules[i].text);
    pthread_mutex_unlock(&g.lock);
    return rc;
}

static int send_text(int fd, int status, const char *reason, const char *type,
                     const fp_buf *body, int keep_alive)
{
    fp_header h;
    h.name = "Content-Type";
    h.value = type;
    return send_response(fd, status, reason, &h, 1, body->data ? body->data : "", body->len,
                         keep_alive);
}

static int handle_control(int fd, const fp_request *req)
{
    fp_buf out = {0};
    int rc, ka = req->keep_alive;
    const char *json = "application/json";
    if (strcmp(req->path, "/__proxy/stats") == 0 && strcmp(req->method, "GET") == 0) {
        rc = build_stats_json(&out) == 0 ? send_text(fd, 200, "OK", json, &out, ka) : -1;
    } else if (strcmp(req->path, "/__proxy/reset-stats") == 0 &&
               strcmp(req->method, "POST") == 0) {
        reset_stats();
        buf_printf(&out, "{\"ok\":true}\n");
        rc = send_text(fd, 200, "OK", json, &out, ka);
    } else if (strcmp(req->path, "/__proxy/rules") == 0 && strcmp(req->method, "POST") == 0) {
        fp_buf err = {0};
        if (rules_replace_from_text(req->msg.body.data ? req->msg.body.data : "", &err) == 0) {
            buf_printf(&out, "{\"ok\":true}\n");
            rc = send_text(fd, 200, "OK", json, &out, ka);
        } else {
            buf_printf(&out, "%s\n", err.data ? err.data : "invalid rules");
            rc = send_text(fd, 400, "Bad Request", "text/plain", &out, ka);
        }
        buf_free(&err);
    } else if (strcmp(req->path, "/__proxy/rules") == 0 && strcmp(req->method, "GET") == 0) {
        rc = build_rules_text(&out) == 0 ? send_text(fd, 200, "OK", "text/plain", &out, ka) : -1;
    } else {
        buf_printf(&out, "unknown control path\n");
        rc = send_text(fd, 404, "Not Found", "text/plain", &out, ka);
    }
    buf_free(&out);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Per-request handling                                                      */

typedef enum { NEXT_KEEP, NEXT_CLOSE, NEXT_RESET } fp_next;

/* Used when the body has nothing to flip without breaking the JSON (e.g. "{}"): the
 * header changes instead, so the client still sees a mismatch. */
static void bump_crc_header(fp_response *resp, char *text, size_t cap)
{
    size_t i;
    for (i = 0; i < resp->msg.n_headers; i++) {
        if (strcasecmp(resp->msg.headers[i].name, "x-amz-crc32") == 0) {
            unsigned long v = strtoul(resp->msg.headers[i].value, NULL, 10);
            snprintf(text, cap, "%lu", (v + 1) & 0xFFFFFFFFul);
            resp->msg.headers[i].value = text;
        }
    }
}

/* Forwards, then applies the post-forward part of the action. */
static fp_next forward_and_answer(fp_conn *c, int fd, const fp_request *req, const fp_decision *d)
{
    fp_response resp;
    fp_next next = req->keep_alive ? NEXT_KEEP : NEXT_CLOSE;
    char crc_text[16];
    int rc;

    if (forward_request(c, req, &resp) != 0) {
        response_free(&resp);
        return send_upstream_error(fd, req->keep_alive) == 0 ? next : NEXT_CLOSE;
    }
    if (d->action == ACT_FORWARD_THEN_RESET) {
        response_free(&resp);
        return NEXT_RESET;
    }
    if (d->action == ACT_FORWARD_THEN_DELAY && wait_ms_unless_stopping(d->ms) != 0) {
        response_free(&resp);
        return NEXT_CLOSE;
    }
    if (d->action == ACT_CORRUPT_CRC &&
        corrupt_json_string_byte(resp.msg.body.data, resp.msg.body.len) != 0)
        bump_crc_header(&resp, crc_text, sizeof crc_text);
    rc = relay_response(fd, &resp, req->keep_alive);
    response_free(&resp);
    return rc == 0 ? next : NEXT_CLOSE;
}

static fp_next handle_request(fp_conn *c, int fd, const fp_request *req)
{
    fp_decision d;
    fp_next next = req->keep_alive ? NEXT_KEEP : NEXT_CLOSE;

    if (strncmp(req->path, "/__proxy/", 9) == 0)
        return handle_control(fd, req) == 0 ? next : NEXT_CLOSE;
    d = decide_for_request(req->op);
    if (g.verbose)
        log_msg("%s %s op=%s -> %s", req->method, req->path, req->op, action_names[d.action]);
    switch (d.action) {
    case ACT_THROTTLE:
    case ACT_THROUGHPUT:
    case ACT_ERROR500:
    case ACT_ERROR503:
    case ACT_VALIDATION:
        return inject_error(fd, d.action, req) == 0 ? next : NEXT_CLOSE;
    case ACT_SKEW:
        return inject_skew(fd, req, d.seconds, req->keep_alive) == 0 ? next : NEXT_CLOSE;
    case ACT_CANCEL_THROTTLE:
        return inject_cancel_throttle(fd, req) == 0 ? next : NEXT_CLOSE;
    case ACT_RESET:
        return NEXT_RESET;
    case ACT_DELAY:
        if (wait_ms_unless_stopping(d.ms) != 0)
            return NEXT_CLOSE;
        /* A client that gave up meanwhile never reached the service: do not let the
         * request take effect behind its back (forward-then-delay is for that case). */
        if (client_has_gone(fd)) {
            count_event(&g.abandoned);
            return NEXT_CLOSE;
        }
        return forward_and_answer(c, fd, req, &d);
    default:
        return forward_and_answer(c, fd, req, &d);
    }
}

static void conn_close_client(fp_conn *c, int reset)
{
    int fd;
    pthread_mutex_lock(&g.conn_lock);
    fd = c->client_fd;
    c->client_fd = -1;
    pthread_mutex_unlock(&g.conn_lock);
    if (fd < 0)
        return;
    if (reset)
        reset_connection(fd);
    close(fd);
}

static void *connection_main(void *arg)
{
    fp_conn *c = arg;
    fp_reader r = {0};
    fp_next next = NEXT_KEEP;

    pthread_mutex_lock(&g.conn_lock);
    r.fd = c->client_fd;
    pthread_mutex_unlock(&g.conn_lock);
    while (next == NEXT_KEEP) {
        fp_request req;
        int rc = read_client_request(&r, &req);
        if (rc <= 0) {
            if (rc < 0 && g.verbose)
                log_msg("closing a connection on malformed or oversized input");
            request_free(&req);
            next = NEXT_CLOSE;
            break;
        }
        next = handle_request(c, r.fd, &req);
        request_free(&req);
    }
    reader_free(&r);
    conn_close_client(c, next == NEXT_RESET);
    pthread_mutex_lock(&g.conn_lock);
    c->finished = 1;
    pthread_mutex_unlock(&g.conn_lock);
    return NULL;
}

/* ------------------------------------------------------------------------- */
/* Connection registry                                                       */

/* Joins and frees the workers that are done, so a long run does not grow. */
static void reap_finished_connections(void)
{
    fp_conn **pp, *done = NULL;
    pthread_mutex_lock(&g.conn_lock);
    for (pp = &g.conns; *pp;) {
        fp_conn *c = *pp;
        if (c->finished) {
            *pp = c->next;
            c->next = done;
            done = c;
            g.n_conns--;
        } else {
            pp = &c->next;
        }
    }
    pthread_mutex_unlock(&g.conn_lock);
    while (done) {
        fp_conn *c = done;
        done = c->next;
        pthread_join(c->thread, NULL);
        free(c);
    }
}

static void start_connection(int fd)
{
    fp_conn *c;
    int one = 1;
    reap_finished_connections();
    pthread_mutex_lock(&g.conn_lock);
    if (g.n_conns >= FP_MAX_CONNECTIONS) {
        pthread_mutex_unlock(&g.conn_lock);
        log_msg("too many connections; refusing one");
        close(fd);
        return;
    }
    pthread_mutex_unlock(&g.conn_lock);
    c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    {
        struct timeval tv = {FP_IO_TIMEOUT_SECONDS, 0};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    c->client_fd = fd;
    c->upstream_fd = -1;
    /* Registered before the thread starts, so shutdown always sees it. */
    pthread_mutex_lock(&g.conn_lock);
    if (pthread_create(&c->thread, NULL, connection_main, c) != 0) {
        pthread_mutex_unlock(&g.conn_lock);
        log_msg("pthread_create failed; refusing a connection");
        close(fd);
        free(c);
        return;
    }
    c->next = g.conns;
    g.conns = c;
    g.n_conns++;
    pthread_mutex_unlock(&g.conn_lock);
}

/* Wakes every worker: blocked recv()s return once their sockets are shut down, and
 * delays end through the condition variable. Then joins them all. */
static void stop_all_connections(void)
{
    fp_conn *c;
    pthread_mutex_lock(&g.lock);
    g.stopping = 1;
    pthread_cond_broadcast(&g.stop_cond);
    pthread_mutex_unlock(&g.lock);
    pthread_mutex_lock(&g.conn_lock);
    for (c = g.conns; c; c = c->next) {
        if (c->client_fd >= 0)
            shutdown(c->client_fd, SHUT_RDWR);
        if (c->upstream_fd >= 0)
            shutdown(c->upstream_fd, SHUT_RDWR);
    }
    for (c = g.conns; c; c = c->next)
        c->finished = 1; /* joined below regardless; join waits for the real end */
    pthread_mutex_unlock(&g.conn_lock);
    reap_finished_connections();
}

/* ------------------------------------------------------------------------- */
/* Startup and main loop                                                     */

static void on_stop_signal(int sig)
{
    int saved = errno;
    char b = 1;
    (void)sig;
    stop_signalled = 1;
    if (write(stop_pipe[1], &b, 1) < 0) {
        /* Nothing to do: the flag is set and the pipe already holds a byte. */
    }
    errno = saved;
}

static int install_signal_handlers(void)
{
    struct sigaction sa;
    if (pipe(stop_pipe) != 0)
        return -1;
    fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

static int resolve_upstream(const char *host_port)
{
    char host[256];
    const char *colon = strrchr(host_port, ':');
    struct addrinfo hints, *res = NULL;
    size_t hlen;
    long port;
    if (!colon || colon == host_port || parse_long(colon + 1, 1, 65535, &port) != 0)
        return -1;
    hlen = (size_t)(colon - host_port);
    if (hlen >= sizeof host)
        return -1;
    memcpy(host, host_port, hlen);
    host[hlen] = '\0';
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res)
        return -1;
    memcpy(&g.upstream_addr, res->ai_addr, res->ai_addrlen);
    g.upstream_addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* Written to a temporary name and renamed, so a reader polling for it never sees
 * a half-written number. */
static int write_number_file(const char *path, long value)
{
    char tmp[4096];
    FILE *f;
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return -1;
    f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%ld\n", value);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void serve(int listen_fd)
{
    while (!stop_signalled) {
        struct pollfd p[2];
        int n;
        p[0].fd = listen_fd;
        p[0].events = POLLIN;
        p[1].fd = stop_pipe[0];
        p[1].events = POLLIN;
        n = poll(p, 2, 1000); /* the timeout only paces reaping of idle workers */
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (p[1].revents & POLLIN))
            break;
        if (n > 0 && (p[0].revents & POLLIN)) {
            int fd = accept(listen_fd, NULL, NULL);
            if (fd >= 0)
                start_connection(fd);
        }
        reap_finished_connections();
    }
}

static void usage(void)
{
    fputs("usage: dr_fault_proxy --upstream HOST:PORT [--rule RULE]... [--seed S]\n"
          "                      [--port-file PATH] [--pid-file PATH] [--verbose]\n"
          "RULE: ACTION[:key=value,...]  (see tests/support/fault_proxy.c)\n",
          stderr);
}

typedef struct {
    const char *upstream;
    const char *port_file;
    const char *pid_file;
    fp_buf rules; /* newline-separated, as POST /__proxy/rules takes them */
} fp_options;

static int parse_options(int argc, char **argv, fp_options *o)
{
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--verbose") == 0) {
            g.verbose = 1;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (strcmp(a, "--upstream") == 0) {
            o->upstream = v;
        } else if (strcmp(a, "--port-file") == 0) {
            o->port_file = v;
        } else if (strcmp(a, "--pid-file") == 0) {
            o->pid_file = v;
        } else if (strcmp(a, "--rule") == 0) {
            if (strchr(v, '\n') || buf_printf(&o->rules, "%s\n", v) != 0)
                return -1;
        } else if (strcmp(a, "--seed") == 0) {
            char *end;
            errno = 0;
            g.seed = strtoull(v, &end, 10);
            if (errno || !*v || *end)
                return -1;
        } else {
            return -1;
        }
    }
    return o->upstream ? 0 : -1;
}

int main(int argc, char **argv)
{
    fp_options o;
    fp_buf err = {0};
    int listen_fd = -1, rc = 1;
    uint16_t port = 0;

    memset(&o, 0, sizeof o);
    pthread_mutex_init(&g.lock, NULL);
    pthread_mutex_init(&g.conn_lock, NULL);
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&g.stop_cond, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (parse_options(argc, argv, &o) != 0) {
        usage();
        goto out;
    }
    if (resolve_upstream(o.upstream) != 0) {
        log_msg("cannot resolve upstream '%s'", o.upstream);
        goto out;
    }
    if (rules_replace_from_text(o.rules.data ? o.rules.data : "", &err) != 0) {
        log_msg("%s", err.data ? err.data : "invalid rule");
        goto out;
    }
    if (install_signal_handlers() != 0 || (listen_fd = loopback_listen(128, &port)) < 0) {
        log_msg("cannot listen on 127.0.0.1: %s", strerror(errno));
        goto out;
    }
    if ((o.port_file && write_number_file(o.port_file, port) != 0) ||
        (o.pid_file && write_number_file(o.pid_file, (long)getpid()) != 0)) {
        log_msg("cannot write the port or pid file");
        goto out;
    }
    printf("PORT=%u\n", (unsigned)port);
    fflush(stdout);
    serve(listen_fd);
    close(listen_fd);
    listen_fd = -1;
    stop_all_connections();
    if (o.pid_file)
        unlink(o.pid_file);
    rc = 0;
out:
    if (listen_fd >= 0)
        close(listen_fd);
    if (stop_pipe[0] >= 0) {
        close(stop_pipe[0]);
        close(stop_pipe[1]);
    }
    buf_free(&o.rules);
    buf_free(&err);
    pthread_cond_destroy(&g.stop_cond);
    pthread_mutex_destroy(&g.conn_lock);
    pthread_mutex_destroy(&g.lock);
    return rc;
}
