/* Building a request: its owned header list and the split of its URL for signing. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "http.h"

/* RFC 9110 token characters: what a header name may contain. */
static int is_token(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch && strchr(extra, ch))))
            return 0;
    }
    return 1;
}

static dr_http_header *find(const dr_http_request *req, const char *name)
{
    size_t i;
    for (i = 0; i < req->header_count; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return &req->headers[i];
    return NULL;
}

/* Name and value live in one block, "name\0value\0", owned through `name` (const in
 * the public shape because signer and tests pass literals). */
static void free_header(dr_http_header *h)
{
    char *block = (char *)(uintptr_t)h->name;
    dr__wipe(block, strlen(h->name) + 1 + strlen(h->value) + 1);
    dr__free(block);
}

dr_status dr__http_request_set_header(dr_http_request *req, const char *name,
                                      const char *value)
{
    size_t name_len = strlen(name), value_len = strlen(value);
    dr_http_header *h;
    char *block;

    if (!is_token(name))
        return dr__fail(DR_E_INVALID_ARGUMENT, "header name \"%.64s\" is not an HTTP token",
                        name);
    if (strpbrk(value, "\r\n"))
        return dr__fail(DR_E_INVALID_ARGUMENT, "header %s: value contains a line break",
                        name);
    block = dr__malloc(name_len + 1 + value_len + 1);
    if (!block)
        return dr__fail(DR_E_NOMEM, "out of memory setting header %s", name);
    memcpy(block, name, name_len + 1);
    memcpy(block + name_len + 1, value, value_len + 1);

    h = find(req, name);
    if (h) {
        free_header(h);
    } else {
        if (req->header_count == req->header_cap) {
            size_t cap = req->header_cap ? req->header_cap * 2 : 8;
            dr_http_header *grown = dr__reallocarray(req->headers, cap, sizeof *grown);
            if (!grown) {
                dr__free(block);
                return dr__fail(DR_E_NOMEM, "out of memory setting header %s", name);
            }
            req->headers = grown;
            req->header_cap = cap;
        }
        h = &req->headers[req->header_count++];
    }
    h->name = block;
    h->value = block + name_len + 1;
    return DR_OK;
}

void dr__http_request_remove_header(dr_http_request *req, const char *name)
{
    dr_http_header *h = find(req, name);
    if (!h)
        return;
    free_header(h);
    memmove(h, h + 1, (size_t)(req->headers + req->header_count - (h + 1)) * sizeof *h);
    req->header_count--;
}

const char *dr__http_request_header(const dr_http_request *req, const char *name)
{
    const dr_http_header *h = find(req, name);
    return h ? h->value : NULL;
}

void dr__http_request_free(dr_http_request *req)
{
    size_t i;
    for (i = 0; i < req->header_count; i++)
        free_header(&req->headers[i]);
    dr__free(req->headers);
    req->headers = NULL;
    req->header_count = req->header_cap = 0;
}

void dr__http_url_target(const char *url, const char **path, size_t *path_len,
                         const char **query, size_t *query_len)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    p += strcspn(p, "/?#"); /* past the authority */
    *path = p;
    *path_len = strcspn(p, "?#");
    p += *path_len;
    if (*p == '?') {
        *query = p + 1;
        *query_len = strcspn(p + 1, "#");
    } else {
        *query = p;
        *query_len = 0;
    }
    if (*path_len == 0) {
        *path = "/";
        *path_len = 1;
    }
}

void dr__url_host_header(const dr_url_parts *url, dr_buf *out)
{
    int default_port = (url->port == 80 && strcmp(url->scheme, "http") == 0) ||
                       (url->port == 443 && strcmp(url->scheme, "https") == 0);
    dr__buf_printf(out, strchr(url->host, ':') ? "[%s]" : "%s", url->host);
    if (url->port && !default_port)
        dr__buf_printf(out, ":%u", (unsigned)url->port);
}
