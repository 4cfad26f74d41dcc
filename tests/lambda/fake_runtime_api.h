/* A fake AWS Lambda Runtime API (version 2018-06-01) on 127.0.0.1, kernel-chosen port,
 * for testing lambda/bootstrap. Standalone rather than tests/support/mini_http: the
 * runtime reads the request id from a response header (mini_http sends fixed headers),
 * and /invocation/next must be able to block like Lambda's does.
 *
 * It serves one connection at a time, with keep-alive (curl reuses its connection to
 * the runtime API, as with the real one). Scripted events are handed out in order by
 * GET /invocation/next, each with Lambda-Runtime-Aws-Request-Id "req-<n>" (n from 1),
 * a deadline, a function ARN and a trace id. When the script is exhausted, /next holds
 * the request open until the server stops, as Lambda does while no event is waiting.
 *
 * Every POST to .../invocation/<id>/response, .../invocation/<id>/error and
 * .../init/error is recorded with its body and error-type header; a test waits for
 * them with fake_api_wait(). Test code: plain malloc, abort on OOM. */
#ifndef FAKE_RUNTIME_API_H
#define FAKE_RUNTIME_API_H

#include <stddef.h>
#include <stdint.h>

typedef struct fake_api fake_api;

typedef enum fake_post_kind {
    FAKE_POST_RESPONSE = 0,
    FAKE_POST_INVOCATION_ERROR = 1,
    FAKE_POST_INIT_ERROR = 2
} fake_post_kind;

typedef struct fake_post {
    fake_post_kind kind;
    char request_id[128]; /* "" for init errors */
    char error_type[128]; /* Lambda-Runtime-Function-Error-Type, "" if absent */
    char *body;           /* NUL-terminated */
} fake_post;

/* NULL if the socket or thread cannot be created. */
fake_api *fake_api_start(void);
/* Stop serving (a blocked /next is closed), join the thread, free everything. */
void fake_api_stop(fake_api *api);
/* "127.0.0.1:<port>": the value of AWS_LAMBDA_RUNTIME_API. */
const char *fake_api_address(const fake_api *api);

/* Append an event (copied) to the script. */
void fake_api_push_event(fake_api *api, const char *event_json);

/* Wait up to timeout_ms until at least `count` posts were recorded; returns the number
 * recorded. */
size_t fake_api_wait(fake_api *api, size_t count, unsigned timeout_ms);
/* Wait until `count` GET /next requests were received (the runtime is idle waiting for
 * event count+1... when count exceeds the script). Returns the number received. */
size_t fake_api_wait_next(fake_api *api, size_t count, unsigned timeout_ms);
/* Post `i` (0-based, in arrival order); valid until stop. NULL if none. */
const fake_post *fake_api_post(fake_api *api, size_t i);

#endif
