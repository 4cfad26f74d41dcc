/* A growable byte string, always NUL-terminated. Used wherever text is assembled
 * (canonical requests, URLs, JSON bodies, response bodies). An allocation failure is
 * sticky: later appends do nothing and dr__buf_ok() reports it once at the end. */
#ifndef DR_BUF_H
#define DR_BUF_H

#include <stddef.h>

#include "error.h"

typedef struct dr_buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t cap;
    int failed; /* an allocation failed */
    int secret; /* holds a secret: growth copies then wipes the old block, free wipes */
} dr_buf;

#define DR_BUF_INIT {NULL, 0, 0, 0, 0}
/* A buffer that will hold a secret (credentials file, metadata response, token, signed
 * headers): no copy of its contents is ever freed unwiped. */
#define DR_BUF_SECRET_INIT {NULL, 0, 0, 0, 1}

void dr__buf_append(dr_buf *b, const void *data, size_t n);
void dr__buf_puts(dr_buf *b, const char *s);
void dr__buf_putc(dr_buf *b, char c);
void dr__buf_printf(dr_buf *b, const char *fmt, ...) DR_PRINTF(2, 3);
/* Lower-case hex of `n` bytes. */
void dr__buf_hex(dr_buf *b, const unsigned char *data, size_t n);
void dr__buf_reset(dr_buf *b);
/* DR_OK, or DR_E_NOMEM (recorded) if any append failed. */
dr_status dr__buf_ok(const dr_buf *b);
/* Hand the string to the caller (never NULL on success: "" for an empty buffer). */
char *dr__buf_detach(dr_buf *b);
/* The contents, "" if empty. */
const char *dr__buf_cstr(const dr_buf *b);
/* Mark `b` as holding a secret from now on (as DR_BUF_SECRET_INIT does); the mark
 * survives dr__buf_reset and dr__buf_free. Call it before the secret goes in. */
void dr__buf_mark_secret(dr_buf *b);
/* Free the contents (wiped first if the buffer is marked secret). */
void dr__buf_free(dr_buf *b);
/* Wipe then free, marked or not: for buffers that held secrets. */
void dr__buf_free_secret(dr_buf *b);

#endif
