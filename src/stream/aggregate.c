/* The stream aggregator: applies DynamoDB Streams records of the ratings table to the
 * stats table exactly once per record.
 *
 * Each record that changes the aggregates is guarded by a marker item in the stats table
 * whose key names the record (the rating's key for an INSERT; with the sequence number
 * for a MODIFY; a REMOVE suffix for a removal). The marker is written in the same
 * transaction as the counters, so either both exist or neither: a redelivered record
 * finds its marker and changes nothing, whatever happened to the delivery before it (a
 * duplicate, an overlapping batch, a crash mid-batch, a timeout whose attempt had in fact
 * succeeded).
 *
 * A batch is committed in as few transactions as TransactWriteItems' 100 items allow
 * (dr__commit_changes, the path inline writes take for one joke): in batch order, each
 * joke's records gathered into one change with a marker each, every joke's stats item
 * read in one BatchGetItem and written once, each GLOBAL shard and author once with the
 * summed deltas. A joke's MODIFY or REMOVE is a change of its own, so each joke's changes
 * keep their order; across jokes order does not matter. When a marker stops a
 * transaction, one read of the batch's remaining markers tells which records were
 * applied before, and the rest are committed. docs/aggregation.md gives the whole
 * argument. Markers carry expiresAt, one week ahead: far past the stream's 24-hour
 * retention, after which no record can return, so TTL on the stats table may reclaim
 * them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "alloc.h"
#include "commit.h"
#include "ddb_batch.h"
#include "ddb_json.h"
#include "error.h"
#include "keys.h"
#include "ops.h"
#include "retry.h"

#define DR_MARKER_PK_PREFIX "APPLIED#"
#define DR_MARKER_TTL_SECONDS (7 * 24 * 3600)
#define DR_TTL_PRINCIPAL "dynamodb.amazonaws.com"

struct dr_batch_result {
    size_t applied;
    size_t skipped;
    size_t duplicates;
    char **failed; /* sequence numbers */
    size_t failed_count;
    dr_status reason_code; /* why failed[0] failed; DR_OK when nothing failed */
    char reason[512];      /* its message, "" when nothing failed */
};

typedef enum record_kind { RECORD_SKIP, RECORD_INSERT, RECORD_MODIFY, RECORD_REMOVE } record_kind;

/* What one record asks for, read from its JSON (borrowed strings). */
typedef struct record_plan {
    record_kind kind;
    const char *sequence_number;
    const char *rating_pk; /* JOKE#<id> */
    const char *rating_sk; /* RATING#... */
    const char *joke_id;
    const char *author;     /* the rating's author: of the new image, or the removed one */
    const char *old_author; /* MODIFY: the author of the old image */
    const char *joke_text;
    const char *rated_at;
    int32_t stars, old_stars;
    dr_delta delta;         /* for the joke and GLOBAL */
} record_plan;

static int stars_of(const json_t *image, int32_t *out)
{
    uint64_t v;
    if (dr__av_get_u64(image, DR_ATTR_RATING, &v) != 0 || v < 1 || v > 5)
        return -1;
    *out = (int32_t)v;
    return 0;
}

/* The author of an image, as the writers default it. */
static const char *author_of(const json_t *image)
{
    const char *author = dr__av_get_s(image, DR_ATTR_AUTHOR);
    return author && *author ? author : DR_DEFAULT_AUTHOR;
}

/* TTL deletions are made by the DynamoDB service itself. */
static int removed_by_ttl(const json_t *record)
{
    const json_t *who = json_object_get(record, "userIdentity");
    const char *type = json_string_value(json_object_get(who, "type"));
    const char *principal = json_string_value(json_object_get(who, "principalId"));
    return type && principal && !strcmp(type, "Service") && !strcmp(principal, DR_TTL_PRINCIPAL);
}

/* Read a record. DR_E_INVALID_ARGUMENT when it cannot be applied (it is then reported
 * failed, to be retried and finally sent to the failure destination). */
static dr_status plan_record(const json_t *record, record_plan *p)
{
    const json_t *ddb = json_object_get(record, "dynamodb");
    const char *event = json_string_value(json_object_get(record, "eventName"));
    const json_t *new_image = json_object_get(ddb, "NewImage");
    const json_t *old_image = json_object_get(ddb, "OldImage");
    const json_t *keys = json_object_get(ddb, "Keys");
    const json_t *image;
    int32_t stars = 0, old_stars = 0;

    memset(p, 0, sizeof *p);
    p->kind = RECORD_SKIP;
    p->sequence_number = json_string_value(json_object_get(ddb, "SequenceNumber"));
    if (!p->sequence_number || !event)
        return dr__fail(DR_E_INVALID_ARGUMENT, "record has no SequenceNumber or eventName");
    p->rating_pk = dr__av_get_s(keys, DR_ATTR_PK);
    p->rating_sk = dr__av_get_s(keys, DR_ATTR_SK);
    if (!p->rating_pk || !p->rating_sk)
        return dr__fail(DR_E_INVALID_ARGUMENT, "record %s has no " DR_ATTR_PK "/" DR_ATTR_SK
                                               " keys", p->sequence_number);
    if (!dr__key_rest(p->rating_pk, DR_PK_JOKE) || !dr__key_rest(p->rating_sk, DR_SK_RATING))
        return DR_OK; /* not a rating: idempotency markers and the like */
    p->joke_id = dr__key_rest(p->rating_pk, DR_PK_JOKE);
    if (!*p->joke_id)
        return dr__fail(DR_E_INVALID_ARGUMENT, "record %s has an empty joke id",
                        p->sequence_number);

    if (!strcmp(event, "INSERT")) {
        const char *mark = dr__av_get_s(new_image, DR_ATTR_AGGREGATION);
        if (mark && !strcmp(mark, DR_AGGREGATION_INLINE_MARK))
            return DR_OK; /* counted by the write that stored it */
        p->kind = RECORD_INSERT;
        image = new_image;
    } else if (!strcmp(event, "MODIFY")) {
        if (stars_of(old_image, &old_stars) != 0)
            return dr__fail(DR_E_INVALID_ARGUMENT,
                            "record %s: MODIFY without a valid old rating (the stream must "
                            "carry NEW_AND_OLD_IMAGES)", p->sequence_number);
        p->kind = RECORD_MODIFY;
        image = new_image;
    } else if (!strcmp(event, "REMOVE")) {
        if (removed_by_ttl(record))
            return DR_OK; /* expiry is not a retraction: the aggregates are history */
        p->kind = RECORD_REMOVE;
        image = old_image;
    } else {
        return dr__fail(DR_E_INVALID_ARGUMENT, "record %s: unknown eventName %s",
                        p->sequence_number, event);
    }
    if (stars_of(image, &stars) != 0)
        return dr__fail(DR_E_INVALID_ARGUMENT, "record %s: rating is not an integer 1..5",
                        p->sequence_number);
    p->author = author_of(image);
    p->old_author = p->kind == RECORD_MODIFY ? author_of(old_image) : p->author;
    p->stars = stars;
    p->old_stars = old_stars;
    p->rated_at = dr__av_get_s(image, DR_ATTR_SUBMITTED_AT);
    p->joke_text = p->kind == RECORD_INSERT ? dr__av_get_s(image, DR_ATTR_JOKE_TEXT) : NULL;

    switch (p->kind) {
    case RECORD_INSERT:
        p->delta = dr__delta_of_rating(stars);
        break;
    case RECORD_MODIFY:
        if (stars == old_stars && !strcmp(p->author, p->old_author)) {
            p->kind = RECORD_SKIP; /* another attribute changed */
            return DR_OK;
        }
        p->delta.score = (int64_t)stars - old_stars;
        p->delta.count[old_stars - 1] -= 1;
        p->delta.count[stars - 1] += 1;
        break;
    case RECORD_REMOVE:
        p->delta = dr__delta_of_rating(stars);
        dr__delta_negate(&p->delta);
        break;
    case RECORD_SKIP:
        break;
    }
    return DR_OK;
}

/* The key of the marker naming this record's change (APPLIED#<rating PK>, and the
 * rating's SK, suffixed for a MODIFY and a REMOVE); DR_E_NOMEM. */
static dr_status marker_key(const record_plan *p, dr_buf *pk, dr_buf *sk)
{
    dr__buf_printf(pk, DR_MARKER_PK_PREFIX "%s", p->rating_pk);
    dr__buf_puts(sk, p->rating_sk);
    if (p->kind == RECORD_MODIFY)
        dr__buf_printf(sk, "#MODIFY#%s", p->sequence_number);
    else if (p->kind == RECORD_REMOVE)
        dr__buf_puts(sk, "#REMOVE");
    return pk->failed || sk->failed ? dr__fail(DR_E_NOMEM, "out of memory naming a marker")
                                    : DR_OK;
}

/* The marker as a guarded Put into the stats table. */
static json_t *marker_guard(dr_client *c, const record_plan *p, const char *event_id)
{
    dr_buf pk = DR_BUF_INIT, sk = DR_BUF_INIT;
    json_t *guard = NULL;
    if (marker_key(p, &pk, &sk) == DR_OK)
        guard = dr__put_if_absent(
            c->stats_table,
            json_pack("{s:o, s:o, s:o, s:o, s:o}", DR_ATTR_PK, dr__av_s(dr__buf_cstr(&pk)),
                      DR_ATTR_SK, dr__av_s(dr__buf_cstr(&sk)), DR_ATTR_SEQUENCE_NUMBER,
                      dr__av_s(p->sequence_number), "eventID", dr__av_s(event_id ? event_id : ""),
                      DR_ATTR_EXPIRES_AT,
                      dr__av_n_u64((uint64_t)time(NULL) + DR_MARKER_TTL_SECONDS)));
    dr__buf_free(&pk);
    dr__buf_free(&sk);
    return guard;
}

/* A record of the batch, planned, and what became of it. */
typedef struct batch_entry {
    record_plan plan;
    const char *event_id;
    int done;       /* applied, found applied before, or skipped */
    size_t slot;    /* in the transaction being cut: its joke's slot, or NO_SLOT */
} batch_entry;
#define NO_SLOT ((size_t)-1)

static void settle(dr_client *c, batch_entry *e, dr_commit_outcome outcome, dr_batch_result *r)
{
    e->done = 1;
    if (outcome == DR_COMMIT_APPLIED)
        r->applied++;
    else if (outcome == DR_COMMIT_DUPLICATE)
        r->duplicates++;
    else
        r->skipped++; /* nothing stored to un-count */
    dr__logf(&c->log, DR_LOG_DEBUG, "stream record %s: %s", e->plan.sequence_number,
             outcome == DR_COMMIT_APPLIED     ? "applied"
             : outcome == DR_COMMIT_DUPLICATE ? "duplicate"
                                              : "nothing to un-count");
}

/* ---- a transaction of many jokes --------------------------------------------------- */

/* One joke's change in the transaction being cut. */
typedef struct joke_slot {
    dr_change chg;
    json_t *guards;
    int open; /* further INSERTs of the joke may join */
} joke_slot;

/* The transaction being cut from the batch: at most one change per joke (its stats item
 * is written once), each GLOBAL shard and author counted once, within the item limit. */
typedef struct txn_cut {
    joke_slot slots[DR_COMMIT_MAX_CHANGES];
    size_t slot_count;
    size_t members[DR_TXN_MAX_ITEMS]; /* the entries taken, a marker each */
    size_t member_count;
    uint32_t shards[DR_COMMIT_MAX_CHANGES];
    const char *authors[DR_TXN_MAX_ITEMS];
    size_t shard_count, author_count, items;
} txn_cut;

static joke_slot *slot_of(txn_cut *t, const char *joke_id)
{
    size_t i;
    for (i = 0; i < t->slot_count; i++)
        if (!strcmp(t->slots[i].chg.joke_id, joke_id))
            return &t->slots[i];
    return NULL;
}

/* A record's changes to author items: one, or two when a MODIFY moved the rating. */
static size_t author_deltas(const record_plan *p, dr_author_delta out[2])
{
    out[0].author = p->author;
    out[0].delta = p->delta;
    if (p->kind != RECORD_MODIFY || !strcmp(p->author, p->old_author))
        return 1;
    out[0].author = p->old_author; /* loses the old stars */
    out[0].delta = dr__delta_of_rating(p->old_stars);
    dr__delta_negate(&out[0].delta);
    out[1].author = p->author; /* gains the new ones */
    out[1].delta = dr__delta_of_rating(p->stars);
    return 2;
}

static int holds_author(const txn_cut *t, const char *author)
{
    size_t i;
    for (i = 0; i < t->author_count; i++)
        if (!strcmp(t->authors[i], author))
            return 1;
    return 0;
}

/* Add a record's author deltas to `chg`; -1 when it would hold too many authors. */
static int change_add_authors(dr_change *chg, const dr_author_delta *a, size_t n)
{
    size_t i, k;
    for (k = 0; k < n; k++) {
        for (i = 0; i < chg->author_count && strcmp(chg->authors[i].author, a[k].author); i++)
            ;
        if (i == DR_CHANGE_MAX_AUTHORS)
            return -1;
        if (i == chg->author_count) {
            chg->authors[i].author = a[k].author;
            memset(&chg->authors[i].delta, 0, sizeof chg->authors[i].delta);
            chg->author_count++;
        }
        dr__delta_add(&chg->authors[i].delta, &a[k].delta);
    }
    return 0;
}

/* Whether INSERT `p` may join its joke's open slot: its marker must not be in the slot
 * already (a record delivered twice in one batch, or a key re-put after a TTL removal,
 * would put two markers with one key in the transaction, which DynamoDB refuses). */
static int may_join(const txn_cut *t, const batch_entry *entries, size_t slot,
                    const record_plan *p)
{
    size_t k;
    if (p->kind != RECORD_INSERT)
        return 0;
    for (k = 0; k < t->member_count; k++) {
        const batch_entry *m = &entries[t->members[k]];
        if (m->slot == slot && !strcmp(m->plan.rating_sk, p->rating_sk))
            return 0;
    }
    return 1;
}

/* A new slot for the joke of `p`; DR_E_NOMEM. */
static dr_status open_slot(txn_cut *t, const record_plan *p, joke_slot **out)
{
    joke_slot *s = &t->slots[t->slot_count];
    memset(s, 0, sizeof *s);
    if (!(s->guards = json_array()))
        return dr__fail(DR_E_NOMEM, "out of memory building a batch");
    s->chg.joke_id = p->joke_id;
    s->chg.rated_at = p->rated_at;
    s->open = p->kind == RECORD_INSERT;
    t->slot_count++;
    t->items++; /* the joke's stats item */
    *out = s;
    return DR_OK;
}

/* Take entries[i] into the cut if it fits and its joke's order allows (*taken 1): a
 * joke's INSERTs gather in its slot, a MODIFY or REMOVE has a slot of its own, and a
 * record that cannot join its joke's slot closes it, so that the joke's changes keep
 * their order (the record waits for the next transaction). *full says that no record
 * needing a slot of its own fits any more. DR_E_NOMEM. */
static dr_status cut_take(dr_client *c, txn_cut *t, batch_entry *entries, size_t i, int *taken,
                          int *full)
{
    const record_plan *p = &entries[i].plan;
    dr_author_delta a[2];
    size_t na = author_deltas(p, a), new_authors = 0, k;
    joke_slot *s = slot_of(t, p->joke_id);
    uint32_t shard = dr__global_shard_of(c->global_shards, p->joke_id);
    int new_shard = 1;
    dr_status rc;
    json_t *guard;

    *taken = 0;
    for (k = 0; k < na; k++)
        new_authors += !holds_author(t, a[k].author);
    if (s) {
        dr_change trial = s->chg;
        if (!s->open || !may_join(t, entries, (size_t)(s - t->slots), p) ||
            t->items + 1 + new_authors > DR_TXN_MAX_ITEMS ||
            change_add_authors(&trial, a, na) != 0) {
            s->open = 0;
            return DR_OK;
        }
    } else {
        for (k = 0; k < t->shard_count && new_shard; k++)
            new_shard = t->shards[k] != shard;
        if (t->slot_count == DR_COMMIT_MAX_CHANGES ||
            t->items + 2 + (size_t)new_shard + new_authors > DR_TXN_MAX_ITEMS) {
            *full = 1;
            return DR_OK;
        }
        if ((rc = open_slot(t, p, &s)) != DR_OK)
            return rc;
        if (new_shard) {
            t->shards[t->shard_count++] = shard;
            t->items++;
        }
    }
    if (!(guard = marker_guard(c, p, entries[i].event_id)) ||
        json_array_append_new(s->guards, guard) != 0)
        return dr__fail(DR_E_NOMEM, "out of memory building a batch");
    change_add_authors(&s->chg, a, na); /* fits: checked above */
    for (k = 0; k < na; k++)
        if (!holds_author(t, a[k].author))
            t->authors[t->author_count++] = a[k].author;
    t->items += 1 + new_authors; /* the marker, and any author new to the transaction */
    dr__delta_add(&s->chg.delta, &p->delta);
    s->chg.author = p->author; /* as applied one by one: the last record's author */
    if (strcmp(p->rated_at, s->chg.rated_at) > 0) /* ISO 8601: the newest sorts last */
        s->chg.rated_at = p->rated_at;
    if (p->joke_text) /* the last text given wins */
        s->chg.joke_text = p->joke_text;
    entries[i].slot = (size_t)(s - t->slots);
    t->members[t->member_count++] = i;
    *taken = 1;
    return DR_OK;
}

static void cut_release(txn_cut *t, batch_entry *entries)
{
    size_t i;
    for (i = 0; i < t->slot_count; i++)
        json_decref(t->slots[i].guards);
    for (i = 0; i < t->member_count; i++)
        entries[t->members[i]].slot = NO_SLOT;
    t->slot_count = t->member_count = t->shard_count = t->author_count = t->items = 0;
}

/* ---- records applied before, recognised in one read -------------------------------- */

/* A marker key ("PK\nSK") and the entry it names, sorted by key. */
typedef struct named_marker {
    char *key;
    size_t entry;
} named_marker;

typedef struct marker_read {
    dr_client *c;
    batch_entry *entries;
    named_marker *names;
    size_t count;
    dr_batch_result *r;
    size_t found;
} marker_read;

static int compare_names(const void *a, const void *b)
{
    return strcmp(((const named_marker *)a)->key, ((const named_marker *)b)->key);
}

/* A marker that exists: every record it names was applied before. */
static dr_status note_applied(void *ctx, json_t *item)
{
    marker_read *m = ctx;
    dr_buf key = DR_BUF_INIT;
    named_marker probe, *hit;
    const char *pk = dr__av_get_s(item, DR_ATTR_PK), *sk = dr__av_get_s(item, DR_ATTR_SK);
    dr__buf_printf(&key, "%s\n%s", pk ? pk : "", sk ? sk : "");
    if (key.failed) {
        dr__buf_free(&key);
        return dr__fail(DR_E_NOMEM, "out of memory reading markers");
    }
    probe.key = key.data;
    hit = bsearch(&probe, m->names, m->count, sizeof *m->names, compare_names);
    while (hit && hit > m->names && !strcmp(hit[-1].key, key.data))
        hit--;
    for (; hit && hit < m->names + m->count && !strcmp(hit->key, key.data); hit++)
        if (!m->entries[hit->entry].done) {
            settle(m->c, &m->entries[hit->entry], DR_COMMIT_DUPLICATE, m->r);
            m->found++;
        }
    dr__buf_free(&key);
    return DR_OK;
}

/* After a cancellation said a record of the transaction was applied before: read the
 * markers of every record of the batch not done yet (strongly consistent, a
 * BatchGetItem per 100) and settle those that exist as duplicates. A redelivered batch
 * is thus recognised in one read per 100 records, never record by record. */
static dr_status settle_applied_before(dr_client *c, batch_entry *entries, size_t n,
                                       dr_batch_result *r)
{
    marker_read m;
    json_t *keys = json_array();
    dr_status rc = keys ? DR_OK : DR_E_NOMEM;
    size_t i;

    memset(&m, 0, sizeof m);
    m.c = c;
    m.entries = entries;
    m.r = r;
    if (rc == DR_OK && !(m.names = dr__calloc(n ? n : 1, sizeof *m.names)))
        rc = DR_E_NOMEM;
    for (i = 0; i < n && rc == DR_OK; i++) {
        dr_buf pk = DR_BUF_INIT, sk = DR_BUF_INIT, key = DR_BUF_INIT;
        if (entries[i].done)
            continue;
        if ((rc = marker_key(&entries[i].plan, &pk, &sk)) == DR_OK) {
            dr__buf_printf(&key, "%s\n%s", dr__buf_cstr(&pk), dr__buf_cstr(&sk));
            rc = dr__buf_ok(&key);
        }
        if (rc == DR_OK) {
            m.names[m.count].key = dr__buf_detach(&key);
            m.names[m.count++].entry = i;
        }
        dr__buf_free(&pk);
        dr__buf_free(&sk);
        dr__buf_free(&key);
    }
    if (rc == DR_OK)
        qsort(m.names, m.count, sizeof *m.names, compare_names);
    for (i = 0; i < m.count && rc == DR_OK; i++) { /* one key per marker: no duplicates */
        const char *key = m.names[i].key, *nl = strchr(key, '\n');
        char *pk;
        if (i > 0 && !strcmp(key, m.names[i - 1].key))
            continue;
        if (!(pk = dr__strndup(key, (size_t)(nl - key))) ||
            json_array_append_new(keys, json_pack("{s:o, s:o}", DR_ATTR_PK, dr__av_s(pk),
                                                  DR_ATTR_SK, dr__av_s(nl + 1))) != 0)
            rc = DR_E_NOMEM;
        dr__free(pk);
    }
    if (rc == DR_E_NOMEM)
        rc = dr__fail(DR_E_NOMEM, "out of memory reading markers");
    if (rc == DR_OK && json_array_size(keys))
        rc = dr__ddb_batch_get(c, c->stats_table, keys, 1, note_applied, &m);
    /* A guard failed, so its marker exists: finding none means something else removed it
     * (TTL after a week): give up on the batch rather than loop. */
    if (rc == DR_OK && !m.found)
        rc = dr__fail(DR_E_PROTOCOL, "record %s: a marker stopped its transaction but none "
                                     "was found", entries[0].plan.sequence_number);
    for (i = 0; i < m.count; i++)
        dr__free(m.names[i].key);
    dr__free(m.names);
    json_decref(keys);
    return rc;
}

/* ---- the batch --------------------------------------------------------------------- */

/* Commit the cut: APPLIED settles its records (those of a change left out as nothing to
 * un-count as skipped), DUPLICATE finds which records of the batch were applied before
 * and leaves the rest for the next cut. */
static dr_status commit_cut(dr_client *c, txn_cut *t, batch_entry *entries, size_t n,
                            dr_batch_result *r)
{
    dr_change chgs[DR_COMMIT_MAX_CHANGES];
    unsigned char committed[DR_COMMIT_MAX_CHANGES];
    dr_commit_outcome outcome = DR_COMMIT_NOTHING;
    char seed[37];
    dr_status rc;
    size_t i;

    /* A fresh token seed per commit: the transport's retries of one attempt share a
     * token (DynamoDB applies it once), while a redelivered record's transaction, whose
     * body differs (its counters are read anew), gets a new one and meets its marker. */
    if ((rc = dr__uuid_v4(seed)) != DR_OK)
        return rc;
    for (i = 0; i < t->slot_count; i++) {
        chgs[i] = t->slots[i].chg;
        chgs[i].guards = t->slots[i].guards;
        chgs[i].token_seed = seed;
    }
    if ((rc = dr__commit_changes(c, chgs, t->slot_count, &outcome, committed)) != DR_OK)
        return dr__fail_context(rc, "record %s", entries[t->members[0]].plan.sequence_number);
    if (outcome == DR_COMMIT_DUPLICATE && t->member_count == 1) {
        settle(c, &entries[t->members[0]], DR_COMMIT_DUPLICATE, r); /* its marker, then */
        return DR_OK;
    }
    if (outcome == DR_COMMIT_DUPLICATE)
        return settle_applied_before(c, entries, n, r);
    for (i = 0; i < t->member_count; i++) {
        batch_entry *e = &entries[t->members[i]];
        settle(c, e,
               outcome == DR_COMMIT_APPLIED && committed[e->slot] ? DR_COMMIT_APPLIED
                                                                  : DR_COMMIT_NOTHING,
               r);
    }
    return DR_OK;
}

/* Apply entries [0, n): cut transactions from the records not done, in batch order,
 * each holding as many jokes' changes as the item limit allows, and commit them one after
 * another until every record is done. Stops at the first failure. */
static dr_status apply_entries(dr_client *c, batch_entry *entries, size_t n, dr_batch_result *r)
{
    txn_cut *t = dr__calloc(1, sizeof *t);
    dr_status rc = t ? DR_OK : dr__fail(DR_E_NOMEM, "out of memory applying a batch");
    size_t i, from = 0;

    for (i = 0; i < n; i++) {
        entries[i].slot = NO_SLOT;
        if (entries[i].plan.kind == RECORD_SKIP) {
            entries[i].done = 1;
            r->skipped++;
        }
    }
    while (rc == DR_OK) {
        int taken, full = 0;
        while (from < n && entries[from].done)
            from++;
        for (i = from; i < n && !full && rc == DR_OK; i++)
            if (!entries[i].done)
                rc = cut_take(c, t, entries, i, &taken, &full);
        if (rc == DR_OK && !t->slot_count)
            break; /* every record is done */
        if (rc == DR_OK)
            rc = commit_cut(c, t, entries, n, r);
        cut_release(t, entries);
    }
    dr__free(t);
    return rc;
}

static const json_t *records_of(const json_t *batch)
{
    return json_is_array(batch) ? batch : json_object_get(batch, "Records");
}

static dr_status add_failure(dr_batch_result *r, const char *sequence_number)
{
    char **grown = dr__reallocarray(r->failed, r->failed_count + 1, sizeof *r->failed);
    if (!grown)
        return dr__fail(DR_E_NOMEM, "out of memory recording failures");
    r->failed = grown;
    if (!(r->failed[r->failed_count] = dr__strdup(sequence_number ? sequence_number : "")))
        return dr__fail(DR_E_NOMEM, "out of memory recording failures");
    r->failed_count++;
    return DR_OK;
}

/* Plan every record up to the first that cannot be applied; returns how many were
 * planned (all of them, or the index of that record). */
static size_t plan_entries(const json_t *records, batch_entry *entries, char now[25])
{
    size_t i, n = json_array_size(records);
    dr__iso8601_now(now);
    for (i = 0; i < n; i++) {
        const json_t *record = json_array_get(records, i);
        if (plan_record(record, &entries[i].plan) != DR_OK)
            return i;
        entries[i].event_id = json_string_value(json_object_get(record, "eventID"));
        if (!entries[i].plan.rated_at)
            entries[i].plan.rated_at = now; /* as the JavaScript aggregator did */
    }
    return n;
}

/* Report every record from the first one not done to the end. Lambda resumes a shard
 * from its first reported failure, so everything before it must be done; records after
 * it that were applied (in another joke's group) come back as duplicates. */
static dr_status report_failures(const json_t *records, const batch_entry *entries, size_t n,
                                 dr_batch_result *r)
{
    size_t i, from = 0;
    while (from < n && entries[from].done)
        from++;
    for (i = from; i < n; i++) {
        const json_t *ddb = json_object_get(json_array_get(records, i), "dynamodb");
        if (add_failure(r, json_string_value(json_object_get(ddb, "SequenceNumber"))) != DR_OK)
            return DR_E_NOMEM;
    }
    return DR_OK;
}

dr_status dr__apply_stream_records(dr_client *c, const json_t *records, dr_batch_result **out)
{
    batch_entry *entries = NULL;
    dr_batch_result *r;
    char now[25];
    size_t n = json_array_size(records), planned;
    dr_status rc;

    *out = NULL;
    r = dr__calloc(1, sizeof *r);
    if (!r || (n && !(entries = dr__calloc(n, sizeof *entries)))) {
        dr__free(r);
        return dr__fail(DR_E_NOMEM, "out of memory");
    }
    /* The first failure in batch order is logged: a record that cannot be planned comes
     * after every record applied, so a failed commit, if any, came before it. */
    planned = plan_entries(records, entries, now);
    if (planned < n) {
        r->reason_code = dr_last_error_code();
        snprintf(r->reason, sizeof r->reason, "%s", dr_last_error_message());
    }
    if ((rc = apply_entries(c, entries, planned, r)) != DR_OK) {
        r->reason_code = rc;
        snprintf(r->reason, sizeof r->reason, "%s", dr_last_error_message());
    }
    if (r->reason[0])
        dr__logf(&c->log, DR_LOG_WARN, "stream record failed: %s", r->reason);
    if (report_failures(records, entries, n, r) != DR_OK) {
        dr_batch_result_free(r);
        r = NULL;
    }
    dr__free(entries);
    if (!r)
        return dr__fail(DR_E_NOMEM, "out of memory recording failures");
    *out = r;
    return DR_OK;
}

DR_API dr_status dr_client_apply_stream_batch(dr_client *c, const char *records_json, size_t len,
                                              dr_batch_result **out)
{
    json_error_t jerr;
    json_t *batch;
    const json_t *records;
    dr_status rc;

    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_apply_stream_batch: out is NULL");
    *out = NULL;
    if (!c || !records_json)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_client_apply_stream_batch: %s is NULL",
                        c ? "records_json" : "client");
    memset(&jerr, 0, sizeof jerr);
    batch = json_loadb(records_json, len, JSON_REJECT_DUPLICATES, &jerr);
    /* jansson out of memory is not a malformed batch: the caller must retry it, not
     * drop it. An empty text means jansson failed before parsing (its buffers). */
    if (!batch && (json_error_code(&jerr) == json_error_out_of_memory || !jerr.text[0]))
        return dr__fail(DR_E_NOMEM, "out of memory parsing the stream batch");
    if (!batch)
        return dr__fail(DR_E_INVALID_ARGUMENT, "stream batch is not JSON: %s (line %d)",
                        jerr.text, jerr.line);
    records = records_of(batch);
    if (!json_is_array(records)) {
        json_decref(batch);
        return dr__fail(DR_E_INVALID_ARGUMENT,
                        "stream batch has no \"Records\" array (a Lambda event or a "
                        "GetRecords response is expected)");
    }
    rc = dr__apply_stream_records(c, records, out);
    json_decref(batch);
    return rc;
}

DR_API void dr_batch_result_free(dr_batch_result *r)
{
    size_t i;
    if (!r)
        return;
    for (i = 0; i < r->failed_count; i++)
        dr__free(r->failed[i]);
    dr__free(r->failed);
    dr__free(r);
}

DR_API size_t dr_batch_result_applied(const dr_batch_result *r)
{
    return r ? r->applied : 0;
}

DR_API size_t dr_batch_result_skipped(const dr_batch_result *r)
{
    return r ? r->skipped : 0;
}

DR_API size_t dr_batch_result_duplicates(const dr_batch_result *r)
{
    return r ? r->duplicates : 0;
}

DR_API size_t dr_batch_result_failed_count(const dr_batch_result *r)
{
    return r ? r->failed_count : 0;
}

DR_API const char *dr_batch_result_failed_sequence_number(const dr_batch_result *r, size_t i)
{
    return r && i < r->failed_count ? r->failed[i] : NULL;
}

const char *dr__batch_result_reason(const dr_batch_result *r, dr_status *code)
{
    *code = r && r->failed_count ? r->reason_code : DR_OK;
    return r && r->failed_count ? r->reason : "";
}

DR_API dr_status dr_batch_result_to_json(const dr_batch_result *r, char **out)
{
    dr_buf b = DR_BUF_INIT;
    size_t i;
    dr_status rc;
    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_batch_result_to_json: out is NULL");
    *out = NULL;
    if (!r)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_batch_result_to_json: result is NULL");
    dr__buf_puts(&b, "{\"batchItemFailures\":[");
    for (i = 0; i < r->failed_count; i++) {
        dr__buf_puts(&b, i ? ",{\"itemIdentifier\":" : "{\"itemIdentifier\":");
        dr__json_put_string(&b, r->failed[i]);
        dr__buf_putc(&b, '}');
    }
    dr__buf_puts(&b, "]}");
    if ((rc = dr__buf_ok(&b)) != DR_OK) {
        dr__buf_free(&b);
        return rc;
    }
    *out = dr__buf_detach(&b);
    return *out ? DR_OK : dr__fail(DR_E_NOMEM, "out of memory");
}
