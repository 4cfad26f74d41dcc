#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"

static int reserve(dr_buf *b, size_t extra)
{
    size_t need, cap;
    char *grown;

    if (b->failed)
        return 0;
    if (extra > (size_t)-1 - b->len - 1)
        goto fail;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 1;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > (size_t)-1 / 2 ? need : cap * 2;
    if (b->secret) {
        /* realloc would free the old block as it is: copy, then wipe it ourselves. */
        grown = dr__malloc(cap);
        if (!grown)
            goto fail;
        if (b->data) {
            memcpy(grown, b->data, b->len);
            grown[b->len] = '\0';
            dr__wipe(b->data, b->cap);
            dr__free(b->data);
        }
    } else {
        grown = dr__realloc(b->data, cap);
        if (!grown)
            goto fail;
    }
    b->data = grown;
    b->cap = cap;
    return 1;
fail:
    b->failed = 1;
    return 0;
}

void dr__buf_append(dr_buf *b, const void *data, size_t n)
{
    if (!reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void dr__buf_puts(dr_buf *b, const char *s)
{
    dr__buf_append(b, s, strlen(s));
}

void dr__buf_putc(dr_buf *b, char c)
{
    dr__buf_append(b, &c, 1);
}

void dr__buf_printf(dr_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n)) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void dr__buf_hex(dr_buf *b, const unsigned char *data, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    if (n > ((size_t)-1 - 1) / 2 || !reserve(b, n * 2))
        return;
    for (i = 0; i < n; i++) {
        b->data[b->len++] = digits[data[i] >> 4];
        b->data[b->len++] = digits[data[i] & 0xf];
    }
    b->data[b->len] = '\0';
}

void dr__buf_reset(dr_buf *b)
{
    if (b->secret && b->data)
        dr__wipe(b->data, b->cap);
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

dr_status dr__buf_ok(const dr_buf *b)
{
    return b->failed ? dr__fail(DR_E_NOMEM, "out of memory building a string") : DR_OK;
}

char *dr__buf_detach(dr_buf *b)
{
    char *s;
    if (b->failed) {
        dr__buf_free(b);
        return NULL;
    }
    s = b->data ? b->data : dr__strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

const char *dr__buf_cstr(const dr_buf *b)
{
    return b->data ? b->data : "";
}

void dr__buf_mark_secret(dr_buf *b)
{
    b->secret = 1;
}

void dr__buf_free(dr_buf *b)
{
    if (b->secret && b->data)
        dr__wipe(b->data, b->cap);
    dr__free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

void dr__buf_free_secret(dr_buf *b)
{
    b->secret = 1;
    dr__buf_free(b);
}
