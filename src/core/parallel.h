/* Work items run by a few threads: the import's fetches and commits. */
#ifndef DR_PARALLEL_H
#define DR_PARALLEL_H

#include <stddef.h>
#include <stdint.h>

/* At most this many threads for one dr__parallel_for. */
#define DR_PARALLEL_MAX 64u

/* Run fn(ctx, i) for every i in [0, count), on up to `concurrency` threads (the caller's
 * thread is one of them; fewer when threads cannot be started), and return when all are
 * done. Items are taken in index order; fn must record its own failures. */
void dr__parallel_for(size_t count, uint32_t concurrency, void (*fn)(void *ctx, size_t i),
                      void *ctx);

#endif
