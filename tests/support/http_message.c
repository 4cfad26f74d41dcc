#include "http_message.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>

const char *dr_test_http_headers_of(const char *head)
{
    const char *eol = strstr(head, "\r\n");
    return eol ? eol + 2 : head + strlen(head);
}

int dr_test_http_header(const char *headers, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    const char *line = headers;
    while (*line && strncmp(line, "\r\n", 2) != 0) {
        const char *eol = strstr(line, "\r\n");
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            size_t vlen;
            while (*v == ' ' || *v == '\t')
                v++;
            vlen = len - (size_t)(v - line);
            if (cap) {
                if (vlen >= cap)
                    vlen = cap - 1;
                memcpy(out, v, vlen);
                out[vlen] = '\0';
            }
            return 1;
        }
        if (!eol)
            break;
        line = eol + 2;
    }
    return 0;
}

/* The body length a head announces; -1 when Content-Length is not a plain decimal. */
static long long body_length(const char *head)
{
    char value[32];
    char *end;
    long long n;
    if (!dr_test_http_header(dr_test_http_headers_of(head), "Content-Length", value,
                             sizeof value))
        return 0;
    if (value[0] < '0' || value[0] > '9')
        return -1;
    n = strtoll(value, &end, 10);
    return *end == '\0' || *end == ' ' ? n : -1;
}

size_t dr_test_http_read(int fd, char *buf, size_t cap, size_t *len, size_t *head_len,
                         dr_test_http_wait_fn wait, void *ctx)
{
    size_t want = 0;
    for (;;) {
        ssize_t n;
        buf[*len] = '\0';
        if (!want) {
            char *end = strstr(buf, "\r\n\r\n");
            if (end) {
                long long body;
                *end = '\0'; /* the lookup stays within the head */
                body = body_length(buf);
                *end = '\r';
                *head_len = (size_t)(end - buf) + 4;
                if (body < 0 || (unsigned long long)body >= cap - *head_len)
                    return 0;
                want = *head_len + (size_t)body;
            }
        }
        if (want && *len >= want)
            return want;
        if (*len + 1 >= cap || (wait && !wait(ctx, fd)))
            return 0;
        n = recv(fd, buf + *len, cap - 1 - *len, 0);
        if (n <= 0)
            return 0;
        *len += (size_t)n;
    }
}
