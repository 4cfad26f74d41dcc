#include "test_alloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "dadratings.h"

static atomic_long g_countdown; /* 0 = off */
static atomic_long g_count;

static int should_fail(void)
{
    long left;
    atomic_fetch_add_explicit(&g_count, 1, memory_order_relaxed);
    left = atomic_load_explicit(&g_countdown, memory_order_relaxed);
    while (left > 0) {
        if (atomic_compare_exchange_weak_explicit(&g_countdown, &left, left - 1,
                                                  memory_order_relaxed, memory_order_relaxed))
            return left == 1;
    }
    return 0;
}

static void *counting_malloc(size_t size)
{
    return should_fail() ? NULL : malloc(size);
}

static void *counting_realloc(void *ptr, size_t size)
{
    return should_fail() ? NULL : realloc(ptr, size);
}

void dr_test_alloc_install(void)
{
    if (dr_set_allocator(counting_malloc, counting_realloc, free) != DR_OK) {
        fprintf(stderr, "test_alloc: dr_set_allocator failed: %s\n", dr_last_error_message());
        abort();
    }
}

/* Before main(), so the library sees this allocator from its first call on, as
 * dr_set_allocator() requires. */
__attribute__((constructor)) static void install_before_main(void)
{
    dr_test_alloc_install();
}

long dr_test_alloc_fail_after(long n)
{
    long made = atomic_exchange_explicit(&g_count, 0, memory_order_relaxed);
    atomic_store_explicit(&g_countdown, n > 0 ? n : 0, memory_order_relaxed);
    return made;
}
