/* Many keyed ratings committed together (the import): the ratings of several jokes and
 * every aggregate they touch in as few TransactWriteItems as the item limit allows, each
 * rating exactly once however often it is committed (docs/migration.md). */
#ifndef DR_BULK_H
#define DR_BULK_H

#include <stddef.h>

#include "commit.h"
#include "ops.h"

/* Each rating takes two items of a transaction (its rating item and its idempotency
 * marker), each joke one (its stats item), each GLOBAL shard and author one. With one
 * joke, shard and author, DR_BULK_MAX_RATINGS ratings fit. */
#define DR_BULK_MAX_RATINGS ((DR_TXN_MAX_ITEMS - 3) / 2)

typedef enum dr_bulk_state {
    DR_BULK_PENDING = 0, /* not committed (yet) */
    DR_BULK_WRITTEN,     /* committed by this call */
    DR_BULK_PRESENT      /* its idempotency marker was there: committed before */
} dr_bulk_state;

/* How many of the leading ratings (at least 1 when n > 0) fit in one transaction, as
 * dr__bulk_commit cuts them: as many as the item limit and DR_COMMIT_MAX_CHANGES allow,
 * ending before a joke already in it comes back (with another author, or out of order).
 * Ratings sorted by joke and author therefore fill whole transactions. */
size_t dr__bulk_pack(const dr_client *c, const dr_rating *const *ratings, size_t n);

/* Commit `ratings` (n of them, each with an idempotency key and usually a submittedAt)
 * with each joke's stats, GLOBAL shard and author counters, marked as aggregated inline:
 * in successive transactions cut by dr__bulk_pack, one change with a summed delta per
 * joke, every rating conditional on its marker's absence. When a marker exists (a rerun,
 * a dual write, a concurrent writer) the transaction is cancelled, and the next attempt
 * first reads the transaction's markers (one strongly consistent BatchGetItem) and
 * commits only the ratings not stored. state[i] (n entries, set to DR_BULK_PENDING first)
 * says what happened to ratings[i]. On an error the ratings of committed transactions say
 * so. */
dr_status dr__bulk_commit(dr_client *c, const dr_rating *const *ratings, size_t n,
                          dr_bulk_state *state);

#endif
