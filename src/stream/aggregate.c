/* The stream aggregator: applies DynamoDB Streams records of the ratings table to the
 * stats table exactly once per record.
 *
 * Each record that changes the aggregates is committed with dr__commit_change(), the
 * path inline writes take, guarded by a marker item in the stats table whose key names
 * the record (the rating's key for an INSERT; with the sequence number for a MODIFY; a
 * REMOVE suffix for a removal). The marker is written in the same transaction as the
 * counters, so either both exist or neither: a redelivered record finds its marker and
 * changes nothing, whatever happened to the delivery before it (a duplicate, an
 * overlapping batch, a crash mid-batch, a timeout whose attempt had in fact succeeded).
 * Several INSERTs of one joke in a batch share one transaction, a marker each, so they
 * count together or not at all. docs/aggregation.md gives the whole argument. Markers
 * carry expiresAt, one week ahead: far past the stream's 24-hour retention, after which
 * no record can return, so TTL on the stats table may reclaim them. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "alloc.h"
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

/* The marker naming this record's change, as a guarded Put into the stats table. */
static json_t *marker_guard(dr_client *c, const record_plan *p, const char *event_id)
{
    dr_buf pk = DR_BUF_INIT, sk = DR_BUF_INIT;
    json_t *guard = NULL;

    dr__buf_printf(&pk, DR_MARKER_PK_PREFIX "%s", p->rating_pk);
    dr__buf_puts(&sk, p->rating_sk);
    if (p->kind == RECORD_MODIFY)
        dr__buf_printf(&sk, "#MODIFY#%s", p->sequence_number);
    else if (p->kind == RECORD_REMOVE)
        dr__buf_puts(&sk, "#REMOVE");
    if (!pk.failed && !sk.failed)
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

/* Records per transaction: a marker each, plus the joke's stats, a GLOBAL shard and the
 * author's item, well below TransactWriteItems' 100 items. */
#define DR_GROUP_MAX 25

/* A record of the batch, planned, and what became of it. */
typedef struct batch_entry {
    record_plan plan;
    const char *event_id;
    int done; /* applied, found applied before, or skipped */
} batch_entry;

static void delta_add(dr_delta *sum, const dr_delta *d)
{
    int i;
    sum->total += d->total;
    sum->score += d->score;
    for (i = 0; i < 5; i++)
        sum->count[i] += d->count[i];
}

/* Whether record `next` can join the group `members` of INSERTs of one joke and author:
 * an INSERT of that joke and author whose rating is not in the group already (a record
 * delivered twice in one batch, or a key re-put after a TTL removal, would put two
 * markers with one key in the transaction, which DynamoDB refuses). */
static int joins_group(const batch_entry *entries, const size_t *members, size_t count,
                       const record_plan *next)
{
    const record_plan *first = &entries[members[0]].plan;
    size_t k;
    if (next->kind != RECORD_INSERT || strcmp(next->joke_id, first->joke_id) != 0 ||
        strcmp(next->author, first->author) != 0)
        return 0;
    for (k = 0; k < count; k++)
        if (!strcmp(entries[members[k]].plan.rating_sk, next->rating_sk))
            return 0;
    return 1;
}

/* Commit entries `members` (indexes, in batch order; one joke and author) as one change:
 * a marker per record and the sum of their deltas, so that either all of them count or,
 * when one was applied before, none does (DR_COMMIT_DUPLICATE). */
static dr_status commit_members(dr_client *c, const batch_entry *entries, const size_t *members,
                                size_t count, dr_commit_outcome *outcome)
{
    const record_plan *first = &entries[members[0]].plan;
    dr_change chg;
    dr_delta sum;
    dr_counts after;
    char last[64], seed[37];
    json_t *guards = json_array();
    dr_status rc;
    size_t k;
    int failed = !guards;

    memset(&sum, 0, sizeof sum);
    for (k = 0; k < count; k++)
        delta_add(&sum, &entries[members[k]].plan.delta);
    dr__change_init(&chg, first->joke_id, first->author, &sum);
    chg.rated_at = first->rated_at;
    for (k = 0; k < count && !failed; k++) {
        const batch_entry *e = &entries[members[k]];
        failed |= json_array_append_new(guards, marker_guard(c, &e->plan, e->event_id));
        if (strcmp(e->plan.rated_at, chg.rated_at) > 0) /* ISO 8601: newest sorts last */
            chg.rated_at = e->plan.rated_at;
        if (e->plan.joke_text) /* as applied one by one: the last text given wins */
            chg.joke_text = e->plan.joke_text;
    }
    /* A fresh token seed per application: the transport's retries of one attempt share
     * a token (DynamoDB applies it once), while a redelivered record, whose transaction
     * body differs (its counters are read anew), gets a new token and meets its marker.
     * A token reused with another body would be refused as IdempotentParameterMismatch. */
    if (failed) {
        json_decref(guards);
        return dr__fail(DR_E_NOMEM, "out of memory building a record's change");
    }
    if ((rc = dr__uuid_v4(seed)) != DR_OK) {
        json_decref(guards);
        return rc;
    }
    if (first->kind == RECORD_MODIFY && strcmp(first->author, first->old_author) != 0) {
        /* The rating moves: its old author loses the old stars, the new one gains the
         * new stars (a MODIFY is always committed alone). */
        chg.authors[0].author = first->old_author;
        chg.authors[0].delta = dr__delta_of_rating(first->old_stars);
        dr__delta_negate(&chg.authors[0].delta);
        chg.authors[1].author = first->author;
        chg.authors[1].delta = dr__delta_of_rating(first->stars);
        chg.author_count = 2;
    }
    chg.guards = guards;
    chg.token_seed = seed;
    rc = dr__commit_change(c, &chg, outcome, NULL, &after, last, sizeof last);
    json_decref(guards);
    if (rc != DR_OK)
        return dr__fail_context(rc, "record %s", first->sequence_number);
    return DR_OK;
}

/* Count an outcome for `count` records and mark them done. */
static void settle(dr_client *c, batch_entry *entries, const size_t *members, size_t count,
                   dr_commit_outcome outcome, dr_batch_result *r)
{
    size_t k;
    for (k = 0; k < count; k++) {
        batch_entry *e = &entries[members[k]];
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
}

/* Apply a group; when one of its records was applied before, apply them one by one, so
 * that the others still count. Stops at the first failure. */
static dr_status apply_group(dr_client *c, batch_entry *entries, const size_t *members,
                             size_t count, dr_batch_result *r)
{
    dr_commit_outcome outcome = DR_COMMIT_NOTHING;
    dr_status rc = commit_members(c, entries, members, count, &outcome);
    size_t k;
    if (rc != DR_OK)
        return rc;
    if (outcome != DR_COMMIT_DUPLICATE || count == 1) {
        settle(c, entries, members, count, outcome, r);
        return DR_OK;
    }
    for (k = 0; k < count; k++) {
        if ((rc = commit_members(c, entries, members + k, 1, &outcome)) != DR_OK)
            return rc;
        settle(c, entries, members + k, 1, outcome, r);
    }
    return DR_OK;
}

/* Apply entries [0, n) in groups: each INSERT gathers the later INSERTs of its joke and
 * author (up to DR_GROUP_MAX) into one transaction, which saves a GetItem and a
 * transaction per record when a batch holds several ratings of a joke. A joke's other
 * records (MODIFY, REMOVE) are applied alone, and a group never reaches past one, so each
 * joke's changes keep their order; across jokes order does not matter. Groups run in the
 * order of their first record. Stops at the first failure. */
static dr_status apply_entries(dr_client *c, batch_entry *entries, size_t n, dr_batch_result *r)
{
    size_t members[DR_GROUP_MAX], i, j, count;
    dr_status rc;

    for (i = 0; i < n; i++) {
        const record_plan *first = &entries[i].plan;
        if (entries[i].done)
            continue;
        if (first->kind == RECORD_SKIP) {
            entries[i].done = 1;
            r->skipped++;
            continue;
        }
        members[0] = i;
        count = 1;
        for (j = i + 1; first->kind == RECORD_INSERT && j < n && count < DR_GROUP_MAX; j++) {
            const record_plan *next = &entries[j].plan;
            if (entries[j].done || next->kind == RECORD_SKIP ||
                strcmp(next->joke_id, first->joke_id) != 0)
                continue; /* another joke's, or changes nothing */
            if (!joins_group(entries, members, count, next))
                break; /* the joke's next change must wait for this group */
            members[count++] = j;
        }
        if ((rc = apply_group(c, entries, members, count, r)) != DR_OK)
            return rc;
    }
    return DR_OK;
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
