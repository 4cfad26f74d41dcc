/* Internal allocation: every byte the library owns goes through here, so that
 * dr_set_allocator() is honoured. Tests fail allocation N on purpose through that same
 * public call (tests/support/test_alloc.c), so nothing here costs a release build. */
#ifndef DR_ALLOC_H
#define DR_ALLOC_H

#include <stddef.h>

void *dr__malloc(size_t size);
/* calloc semantics with an overflow check on n * size. */
void *dr__calloc(size_t n, size_t size);
void *dr__realloc(void *ptr, size_t size);
/* realloc of n * size with an overflow check; NULL (and ptr untouched) on overflow. */
void *dr__reallocarray(void *ptr, size_t n, size_t size);
void dr__free(void *ptr);
char *dr__strdup(const char *s);
char *dr__strndup(const char *s, size_t n);

/* Overwrite then free: for secrets. Accepts NULL. */
void dr__free_secret(char *s);
/* Overwrite `n` bytes in a way the compiler cannot elide. */
void dr__wipe(void *p, size_t n);

#endif
