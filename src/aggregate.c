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
 * docs/aggregation.md gives the whole argument. Markers carry expiresAt, one week
 * ahead: far past the stream's 24-hour retention, after which no record can return, so
 * TTL on the stats table may reclaim them. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
};

typedef enum record_kind { RECORD_SKIP, RECORD_INSERT, RECORD_MODIFY, RECORD_REMOVE } record_kind;

/* What one record asks for, read from its JSON (borrowed strings). */
typedef struct record_plan {
    record_kind kind;
    const char *sequence_number;
    const char *rating_pk; /* JOKE#<id> */
    const char *rating_sk; /* RATING#... */
    const char *joke_id;
    const char *author;
    const char *joke_text;
    const char *rated_at;
    dr_delta delta;
} record_plan;

static int stars_of(const json_t *image, int32_t *out)
{
    uint64_t v;
    if (dr__av_get_u64(image, "rating", &v) != 0 || v < 1 || v > 5)
        return -1;
    *out = (int32_t)v;
    return 0;
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
    p->rating_pk = dr__av_get_s(keys, "PK");
    p->rating_sk = dr__av_get_s(keys, "SK");
    if (!p->rating_pk || !p->rating_sk)
        return dr__fail(DR_E_INVALID_ARGUMENT, "record %s has no PK/SK keys", p->sequence_number);
    if (strncmp(p->rating_pk, DR_PK_JOKE, strlen(DR_PK_JOKE)) != 0 ||
        strncmp(p->rating_sk, DR_SK_RATING, strlen(DR_SK_RATING)) != 0)
        return DR_OK; /* not a rating: idempotency markers and the like */
    p->joke_id = p->rating_pk + strlen(DR_PK_JOKE);
    if (!*p->joke_id)
        return dr__fail(DR_E_INVALID_ARGUMENT, "record %s has an empty joke id", p->sequence_number);

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
    p->author = dr__av_get_s(image, "author");
    if (!p->author || !*p->author)
        p->author = DR_DEFAULT_AUTHOR;
    p->rated_at = dr__av_get_s(image, "submittedAt");
    p->joke_text = p->kind == RECORD_INSERT ? dr__av_get_s(image, "jokeText") : NULL;

    switch (p->kind) {
    case RECORD_INSERT:
        p->delta = dr__delta_of_rating(stars);
        break;
    case RECORD_MODIFY:
        if (stars == old_stars) {
            p->kind = RECORD_SKIP; /* another attribute changed */
            return DR_OK;
        }
        p->delta.score = (int64_t)stars - old_stars;
        p->delta.count[old_stars - 1] = -1;
        p->delta.count[stars - 1] = 1;
        break;
    case RECORD_REMOVE:
        p->delta = dr__delta_of_rating(stars);
        p->delta.total = -1;
        p->delta.score = -(int64_t)stars;
        p->delta.count[stars - 1] = -1;
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
            json_pack("{s:o, s:o, s:o, s:o, s:o}", "PK", dr__av_s(dr__buf_cstr(&pk)), "SK",
                      dr__av_s(dr__buf_cstr(&sk)), "sequenceNumber",
                      dr__av_s(p->sequence_number), "eventID", dr__av_s(event_id ? event_id : ""),
                      "expiresAt", dr__av_n_u64((uint64_t)time(NULL) + DR_MARKER_TTL_SECONDS)));
    dr__buf_free(&pk);
    dr__buf_free(&sk);
    return guard;
}

static dr_status apply_record(dr_client *c, const json_t *record, dr_batch_result *r)
{
    record_plan p;
    dr_change chg;
    dr_commit_outcome outcome = DR_COMMIT_NOTHING;
    dr_counts after;
    char last[64], now[25];
    const char *event_id = json_string_value(json_object_get(record, "eventID"));
    json_t *guards;
    char seed[37];
    dr_status rc;

    if ((rc = plan_record(record, &p)) != DR_OK)
        return rc;
    if (p.kind == RECORD_SKIP) {
        r->skipped++;
        return DR_OK;
    }
    if (!p.rated_at) {
        dr__iso8601_now(now); /* as the JavaScript aggregator did */
        p.rated_at = now;
    }
    /* A fresh token seed per application: the transport's retries of one attempt share
     * a token (DynamoDB applies it once), while a redelivered record, whose transaction
     * body differs (its counters are read anew), gets a new token and meets its marker.
     * A token reused with another body would be refused as IdempotentParameterMismatch. */
    if ((rc = dr__uuid_v4(seed)) != DR_OK)
        return rc;
    guards = json_pack("[o]", marker_guard(c, &p, event_id));
    if (!guards)
        return dr__fail(DR_E_NOMEM, "out of memory building a record's change");
    memset(&chg, 0, sizeof chg);
    chg.joke_id = p.joke_id;
    chg.delta = p.delta;
    chg.rated_at = p.rated_at;
    chg.author = p.author;
    chg.joke_text = p.joke_text;
    chg.guards = guards;
    chg.token_seed = seed;
    chg.global_shard = c->global_shards > 1 ? (uint32_t)(dr__random01() * c->global_shards) : 0;
    rc = dr__commit_change(c, &chg, &outcome, &after, last, sizeof last);
    json_decref(guards);
    if (rc != DR_OK)
        return dr__fail_context(rc, "record %s", p.sequence_number);
    if (outcome == DR_COMMIT_APPLIED)
        r->applied++;
    else if (outcome == DR_COMMIT_DUPLICATE)
        r->duplicates++;
    else
        r->skipped++; /* nothing stored to un-count */
    dr__log(c, DR_LOG_DEBUG, "stream record %s: %s", p.sequence_number,
            outcome == DR_COMMIT_APPLIED     ? "applied"
            : outcome == DR_COMMIT_DUPLICATE ? "duplicate"
                                             : "nothing to un-count");
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

DR_API dr_status dr_client_apply_stream_batch(dr_client *c, const char *records_json, size_t len,
                                              dr_batch_result **out)
{
    json_error_t jerr;
    json_t *batch;
    const json_t *records, *record;
    dr_batch_result *r;
    dr_status rc = DR_OK;
    size_t i;

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
    if (!(r = dr__calloc(1, sizeof *r))) {
        json_decref(batch);
        return dr__fail(DR_E_NOMEM, "out of memory");
    }
    json_array_foreach(records, i, record) {
        const char *seq = json_string_value(
            json_object_get(json_object_get(record, "dynamodb"), "SequenceNumber"));
        if (rc == DR_OK && apply_record(c, record, r) == DR_OK)
            continue;
        /* This record and every later one go back for redelivery: Lambda resumes a
         * shard from its first reported failure, and order matters within a joke. */
        if (rc == DR_OK) {
            rc = dr_last_error_code();
            dr__log(c, DR_LOG_WARN, "stream record failed: %s", dr_last_error_message());
        }
        if (add_failure(r, seq) != DR_OK) {
            json_decref(batch);
            dr_batch_result_free(r);
            return DR_E_NOMEM;
        }
    }
    json_decref(batch);
    *out = r;
    return DR_OK;
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
