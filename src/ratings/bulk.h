/* Many keyed ratings of one joke and author committed together (the import): a joke's
 * ratings and every aggregate they touch in as few TransactWriteItems as the item limit
 * allows, each rating exactly once however often it is committed (docs/migration.md). */
#ifndef DR_BULK_H
#define DR_BULK_H

#include <stddef.h>

#include "ops.h"

/* TransactWriteItems' limit, and what one bulk transaction spends on aggregates: the
 * joke's stats item, its GLOBAL shard, the author's item. Each rating takes two items
 * (its rating item and its idempotency marker). */
#define DR_TXN_MAX_ITEMS 100
#define DR_BULK_AGGREGATE_ITEMS 3
#define DR_BULK_MAX_RATINGS ((DR_TXN_MAX_ITEMS - DR_BULK_AGGREGATE_ITEMS) / 2)

typedef enum dr_bulk_state {
    DR_BULK_PENDING = 0, /* not committed (yet) */
    DR_BULK_WRITTEN,     /* committed by this call */
    DR_BULK_PRESENT      /* its idempotency marker was there: committed before */
} dr_bulk_state;

/* Commit `ratings` (n of them: one joke, one author (or none), each with an idempotency
 * key and usually a submittedAt) with the joke's stats, its GLOBAL shard and the author's
 * counters, marked as aggregated inline. In chunks of DR_BULK_MAX_RATINGS, each one
 * transaction with a summed delta, every rating conditional on its marker's absence. When
 * a marker exists (a rerun, a dual write, a concurrent writer) the transaction is
 * cancelled, and the next attempt first reads the chunk's markers (one strongly
 * consistent BatchGetItem) and commits only the ratings not stored. state[i] (n entries, set to DR_BULK_PENDING first) says what
 * happened to ratings[i]. On an error the ratings of committed chunks say so. */
dr_status dr__bulk_commit(dr_client *c, const dr_rating *const *ratings, size_t n,
                          dr_bulk_state *state);

#endif
