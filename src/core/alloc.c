#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "dadratings.h"
#include "error.h"

static dr_malloc_fn g_malloc = malloc;
static dr_realloc_fn g_realloc = realloc;
static dr_free_fn g_free = free;

DR_API dr_status dr_set_allocator(dr_malloc_fn malloc_fn, dr_realloc_fn realloc_fn,
                                  dr_free_fn free_fn)
{
    if (!malloc_fn || !realloc_fn || !free_fn)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_set_allocator: every function is required");
    g_malloc = malloc_fn;
    g_realloc = realloc_fn;
    g_free = free_fn;
    return DR_OK;
}

DR_API void dr_free(void *ptr)
{
    dr__free(ptr);
}

void *dr__malloc(size_t size)
{
    return g_malloc(size ? size : 1);
}

void *dr__calloc(size_t n, size_t size)
{
    void *p;
    if (size && n > (size_t)-1 / size)
        return NULL;
    p = dr__malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *dr__realloc(void *ptr, size_t size)
{
    return g_realloc(ptr, size ? size : 1);
}

void *dr__reallocarray(void *ptr, size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        return NULL;
    return dr__realloc(ptr, n * size);
}

void dr__free(void *ptr)
{
    if (ptr)
        g_free(ptr);
}

char *dr__strndup(const char *s, size_t n)
{
    char *copy = dr__malloc(n + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

char *dr__strdup(const char *s)
{
    return s ? dr__strndup(s, strlen(s)) : NULL;
}

void dr__wipe(void *p, size_t n)
{
    /* A volatile pointer keeps the stores from being optimised away. */
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

void dr__free_secret(char *s)
{
    if (!s)
        return;
    dr__wipe(s, strlen(s));
    dr__free(s);
}
