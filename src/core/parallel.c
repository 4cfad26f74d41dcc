/* dr__parallel_for (parallel.h). */
#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct pool {
    size_t count;
    atomic_size_t next;
    void (*fn)(void *ctx, size_t i);
    void *ctx;
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    size_t i;
    while ((i = atomic_fetch_add(&p->next, 1)) < p->count)
        p->fn(p->ctx, i);
    return NULL;
}

void dr__parallel_for(size_t count, uint32_t concurrency, void (*fn)(void *ctx, size_t i),
                      void *ctx)
{
    pthread_t threads[DR_PARALLEL_MAX];
    size_t started = 0, want = count < concurrency ? count : concurrency;
    pool p;

    if (want > DR_PARALLEL_MAX)
        want = DR_PARALLEL_MAX;
    p.count = count;
    p.fn = fn;
    p.ctx = ctx;
    atomic_init(&p.next, 0);
    while (started + 1 < want && pthread_create(&threads[started], NULL, worker, &p) == 0)
        started++;
    worker(&p);
    while (started)
        pthread_join(threads[--started], NULL);
}
