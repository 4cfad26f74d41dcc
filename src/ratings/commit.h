/* The commit engine: every write that changes ratings or aggregates goes through one
 * TransactWriteItems loop here (inline writes, stream-mode writes, the stream
 * aggregator), and every TransactionCanceledException is read by one classifier, so the
 * write paths cannot disagree on what a cancellation means. docs/aggregation.md gives
 * the exactly-once argument built on it. */
#ifndef DR_COMMIT_H
#define DR_COMMIT_H

#include <stddef.h>

#include <jansson.h>

#include "client.h"
#include "stats.h"

/* ---- what a cancellation means ------------------------------------------------ */

/* The verdict on a TransactionCanceledException, from its CancellationReasons. */
typedef enum dr_cancel_verdict {
    DR_CANCEL_COMMITTED_BEFORE, /* a guard's condition failed: this change is stored */
    DR_CANCEL_CONTENDED,        /* another writer got there first: read again, retry */
    DR_CANCEL_THROTTLED,        /* capacity: nothing written, retry after a pause */
    DR_CANCEL_ERROR             /* anything else (ValidationError, ...): nothing written */
} dr_cancel_verdict;

/* The shape of a transaction, for reading its reasons: items [0, guards) are guards
 * (Puts conditional on absence, whose failure means "committed before"), and the items
 * [versioned, versioned + versioned_count) (versioned DR_NOT_VERSIONED: none) are
 * conditional on an item being unchanged since it was read, whose failure means "read
 * again". */
#define DR_NOT_VERSIONED ((size_t)-1)
typedef struct dr_txn_shape {
    size_t guards;
    size_t versioned;
    size_t versioned_count;
} dr_txn_shape;

/* The verdict on `reasons` (the CancellationReasons array) for a transaction of
 * `shape`. A guard's ConditionalCheckFailed wins over everything else; then any
 * reason that is not contention or throttling makes it DR_CANCEL_ERROR; then
 * throttling (ThrottlingError, ProvisionedThroughputExceeded, RequestLimitExceeded)
 * gives DR_CANCEL_THROTTLED and contention (TransactionConflict, a versioned item's
 * ConditionalCheckFailed) DR_CANCEL_CONTENDED. No reasons at all is DR_CANCEL_ERROR. When the verdict is
 * DR_CANCEL_COMMITTED_BEFORE and guard_out is not NULL, *guard_out is the index of the
 * first guard that failed. Pure: no I/O. */
dr_cancel_verdict dr__cancel_classify(const json_t *reasons, dr_txn_shape shape,
                                      size_t *guard_out);

/* 1 if `reasons` holds a TransactionConflict (for the counters). */
int dr__cancel_has_conflict(const json_t *reasons);

/* ---- the transaction loop ------------------------------------------------------ */

typedef enum dr_commit_outcome {
    DR_COMMIT_APPLIED,   /* committed now */
    DR_COMMIT_DUPLICATE, /* a guard existed: committed before */
    DR_COMMIT_NOTHING    /* nothing to commit (the builder said so) */
} dr_commit_outcome;

/* Builds the TransactWriteItems request for attempt `attempt` (from 1): sets *request
 * (a new reference) and *shape, or leaves *request NULL when there is nothing to
 * commit. Called again for every attempt, so it may re-read what it depends on. */
typedef dr_status (*dr_txn_builder)(dr_client *c, void *ctx, int attempt, json_t **request,
                                    dr_txn_shape *shape);

/* Sends what `build` makes until it commits (DR_COMMIT_APPLIED), a guard shows it was
 * committed before (DR_COMMIT_DUPLICATE; *guard_out, when not NULL, is that guard's
 * index), or the builder finds nothing to do (DR_COMMIT_NOTHING). Contention and
 * throttling reported inside the cancellation are retried with a jittered backoff, at
 * most DR_COMMIT_MAX_ATTEMPTS times (then DR_E_TRANSACTION_CONFLICT or DR_E_THROTTLED);
 * any other error is returned as the transport reported it. `what` names the change in
 * log lines and in the give-up message. */
#define DR_COMMIT_MAX_ATTEMPTS 25
dr_status dr__transact(dr_client *c, const char *what, dr_txn_builder build, void *ctx,
                       dr_commit_outcome *outcome, size_t *guard_out);

/* ClientRequestToken (at most 36 characters) for attempt `attempt` of the change with
 * this seed: the same for the transport's retries of one attempt, so DynamoDB applies
 * it once; different per attempt and per change, as DynamoDB rejects a token reused
 * with another body (IdempotentParameterMismatch). */
void dr__request_token(const char *seed, int attempt, char out[37]);

/* A Put of `item` into `table` conditional on its absence, for TransactItems. Steals
 * item. */
json_t *dr__put_if_absent(const char *table, json_t *item);

/* ---- a change to a joke's ratings, with every aggregate it touches ------------- */

/* A change to one author's counters. */
typedef struct dr_author_delta {
    const char *author;
    dr_delta delta;
} dr_author_delta;

/* One change to a joke's ratings. `delta` applies to the joke's stats item and to its
 * GLOBAL shard (unique_jokes is decided by the commit); `authors` (distinct, at most
 * DR_CHANGE_MAX_AUTHORS) to the author items: one author; two when a changed rating
 * moved from one author to another (the old author loses the old rating, the new one
 * gains the new rating); several for ratings of several authors committed together. */
#define DR_CHANGE_MAX_AUTHORS 8
typedef struct dr_change {
    const char *joke_id;
    dr_delta delta;
    dr_author_delta authors[DR_CHANGE_MAX_AUTHORS];
    size_t author_count;
    const char *rated_at;   /* the rating's submittedAt: lastRatedAt keeps the newest */
    const char *author;     /* the joke's author for its stats item */
    const char *joke_text;  /* NULL: leave the stats item's text as it is */
    const json_t *guards;   /* TransactItems placed first, each a Put conditional on
                             * absence: if one fails, this change was committed before */
    const char *token_seed; /* unique per change: a request token derives from it */
} dr_change;

/* A change of `delta` by one author: authors[0] = {author, delta}. */
void dr__change_init(dr_change *chg, const char *joke_id, const char *author,
                     const dr_delta *delta);

/* Commit `chg` in one TransactWriteItems: its guards, the joke's stats (exact values,
 * conditional on the item as read), an ADD to the joke's GLOBAL shard and to each
 * author item. A change that removes more than the joke's stats hold (a record of a
 * rating never counted) commits nothing: DR_COMMIT_NOTHING. On DR_COMMIT_APPLIED,
 * *after holds the joke's new counters and last_rated_at its lastRatedAt; *guard_out
 * (may be NULL) as dr__transact gives it. */
dr_status dr__commit_change(dr_client *c, const dr_change *chg, dr_commit_outcome *outcome,
                            size_t *guard_out, dr_counts *after, char *last_rated_at,
                            size_t last_cap);

/* Changes of up to DR_COMMIT_MAX_CHANGES distinct jokes committed in one
 * TransactWriteItems, as dr__commit_change commits one: every change's guards, then each
 * joke's stats (its items read in one strongly consistent BatchGetItem), then each GLOBAL
 * shard and each author item once with the deltas summed over the changes. The request
 * token derives from chgs[0].token_seed. The caller keeps the transaction within
 * DR_TXN_MAX_ITEMS items (guards + jokes + shards + authors). A guard failing anywhere
 * gives DR_COMMIT_DUPLICATE for the whole commit: nothing of it was written. A change
 * that removes more than its joke's stats hold is left out, as dr__commit_change leaves
 * it; committed (n entries, may be NULL) says which changes the commit wrote (all 0
 * unless DR_COMMIT_APPLIED). */
#define DR_TXN_MAX_ITEMS 100
/* Each change takes at least a guard and its stats item, and the commit at least one
 * GLOBAL shard and one author item. */
#define DR_COMMIT_MAX_CHANGES ((DR_TXN_MAX_ITEMS - 2) / 2)
dr_status dr__commit_changes(dr_client *c, const dr_change *chgs, size_t n,
                             dr_commit_outcome *outcome, unsigned char *committed);

#endif
