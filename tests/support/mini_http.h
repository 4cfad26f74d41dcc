/* A tiny scripted HTTP/1.1 server for unit tests: binds 127.0.0.1 on a kernel-chosen
 * port, serves one connection at a time from its own thread ("Connection: close"),
 * answers each (method, path) with a scripted or computed response, and records every
 * request with its headers so tests can check what the client sent.
 *
 * Routes and settings may be changed from the test thread while the server runs.
 * Unscripted paths get 404. */
#ifndef MINI_HTTP_H
#define MINI_HTTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct mini_http mini_http;

/* A received request, as handed to a handler. */
typedef struct mini_http_request {
    const char *method;
    const char *path;    /* with the query, as sent */
    const char *headers; /* raw "Name: value\r\n" lines */
    const char *body;
    size_t body_len;
} mini_http_request;

/* Computes a response on the server thread: set *status and write a NUL-terminated
 * body into `body` (cap bytes). */
typedef void (*mini_http_handler)(const mini_http_request *req, int *status, char *body,
                                  size_t cap, void *payload);

/* Start serving; NULL if the socket or thread cannot be created. */
mini_http *mini_http_start(void);
/* Stop the thread, close the socket (the port then refuses connections), free. */
void mini_http_stop(mini_http *s);

uint16_t mini_http_port(const mini_http *s);
/* "http://127.0.0.1:<port>", valid until stop. */
const char *mini_http_url(const mini_http *s);

/* Answer `method path` with `status` and `body` (copied). Status 0: close the
 * connection without answering. Replaces an earlier route for the same pair. */
void mini_http_respond(mini_http *s, const char *method, const char *path, int status,
                       const char *body);
/* Answer `method path` through `fn`. Method "*" with path "*" answers every request no
 * other route matches. */
void mini_http_handle(mini_http *s, const char *method, const char *path, mini_http_handler fn,
                      void *payload);
/* Requests to `method path` without header `name` equal to `value` get 401 (set the
 * route first). value NULL: any value of the header is enough. */
void mini_http_require_header(mini_http *s, const char *method, const char *path,
                              const char *name, const char *value);
/* Wait this long before answering each request (0: none). */
void mini_http_set_delay_ms(mini_http *s, unsigned ms);
/* Forget every route and recorded request. */
void mini_http_reset(mini_http *s);

/* How many requests matching `method path` were received (NULL matches any). */
size_t mini_http_count(mini_http *s, const char *method, const char *path);
/* The value of header `name` in the latest request matching `method path`, copied into
 * `out`; 1 if found, 0 if no such request or header. */
int mini_http_last_header(mini_http *s, const char *method, const char *path,
                          const char *name, char *out, size_t cap);

/* A loopback port with nothing listening on it (bound, then closed). 0 on failure. */
uint16_t mini_http_closed_port(void);

#endif
