/* Reading HTTP/1.1 messages in the tests' loopback servers and clients: one framing rule
 * (a head, then a Content-Length body) and one header lookup, shared by mini_http, the
 * fake Lambda Runtime API and the fault proxy's unit test. Not a general HTTP parser:
 * no chunked bodies, which none of the tests' peers send to these readers. */
#ifndef DR_TEST_HTTP_MESSAGE_H
#define DR_TEST_HTTP_MESSAGE_H

#include <stddef.h>

/* Called before each recv(); returns 0 to give up (a server stopping). */
typedef int (*dr_test_http_wait_fn)(void *ctx, int fd);

/* Reads one message from `fd` into buf (capacity `cap`, kept NUL-terminated). buf may
 * already hold *len bytes (what followed the previous message); *len grows with what is
 * received. Returns the message's length, head and body, with *head_len the offset of
 * the body; 0 on EOF, a receive error, `wait` giving up, a message that does not fit,
 * or a Content-Length that is not a plain decimal. No Content-Length: no body. */
size_t dr_test_http_read(int fd, char *buf, size_t cap, size_t *len, size_t *head_len,
                         dr_test_http_wait_fn wait, void *ctx);

/* The value of header `name` (any case) in `headers`, the "Name: value\r\n" lines after
 * the start line, up to the empty line or the end; copied into out (cap > 0), cut to
 * fit, without leading blanks (cap 0: only whether it is there). 1 if found, else 0. */
int dr_test_http_header(const char *headers, const char *name, char *out, size_t cap);

/* The header lines of a message head: what follows its start line. */
const char *dr_test_http_headers_of(const char *head);

#endif
