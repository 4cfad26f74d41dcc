/* The local follower: reads the ratings table's stream through the DynamoDB Streams API
 * and applies it with dr_client_apply_stream_batch(), so stream mode runs without AWS
 * Lambda (DynamoDB Local has the Streams API).
 *
 * Each shard keeps a checkpoint item in the stats table (the sequence number of the last
 * record applied, and whether the shard is finished), written after its batch was
 * applied. A follower that dies between applying and checkpointing reads those records
 * again on restart; the aggregator's markers make them change nothing. A child shard
 * is read only once its parent is finished, so each rating's records stay in order.
 *
 * A record that cannot be applied must not stop its shard, nor the shards after it:
 * the round goes on to the next shard, and a record failing for a reason of its own
 * DR_FOLLOWER_MAX_DELIVERIES times is parked in a dead-letter item (written before the
 * checkpoint moves past it) and the rest of its batch applied. docs/aggregation.md,
 * "Dead letters", gives the rules. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "aggregate.h"
#include "alloc.h"
#include "ddb.h"
#include "ddb_json.h"
#include "error.h"
#include "keys.h"
#include "ops.h"

#define DR_CHECKPOINT_PK_PREFIX "CHECKPOINT#"
#define DR_CHECKPOINT_SK_PREFIX "SHARD#"
#define DR_GET_RECORDS_LIMIT 1000
/* DynamoDB's item limit is 400 KB; a record with both images of a large item exceeds
 * it. Such a record is parked without its images (its Keys still name the item). */
#define DR_DEAD_LETTER_MAX_RECORD_BYTES (300u * 1024u)

typedef struct shard {
    char *id;
    char *parent_id;    /* NULL when none */
    char *iterator;     /* NULL until asked for, or after an error */
    char *checkpoint;   /* last sequence number applied; NULL: none yet */
    int checkpoint_loaded;
    int finished;       /* closed and read to the end */
    char *failing;      /* the record after the checkpoint that failed; NULL: none */
    uint32_t failures;  /* its failed deliveries (record faults only) */
} shard;

struct dr_follower {
    dr_client *client;
    char *stream_arn;
    shard *shards;
    size_t shard_count;
    uint64_t dead_lettered;
};

DR_API dr_status dr_follower_new(dr_follower **out, dr_client *client)
{
    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_follower_new: out is NULL");
    *out = NULL;
    if (!client)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_follower_new: client is NULL");
    if (!(*out = dr__calloc(1, sizeof **out)))
        return dr__fail(DR_E_NOMEM, "out of memory creating a follower");
    (*out)->client = client;
    return DR_OK;
}

static void shard_clear(shard *s)
{
    dr__free(s->id);
    dr__free(s->parent_id);
    dr__free(s->iterator);
    dr__free(s->checkpoint);
    dr__free(s->failing);
}

DR_API void dr_follower_free(dr_follower *f)
{
    size_t i;
    if (!f)
        return;
    for (i = 0; i < f->shard_count; i++)
        shard_clear(&f->shards[i]);
    dr__free(f->shards);
    dr__free(f->stream_arn);
    dr__free(f);
}

/* Replace *slot with a copy of value (NULL clears). */
static dr_status set_copy(char **slot, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = dr__strdup(value)))
        return dr__fail(DR_E_NOMEM, "out of memory in the follower");
    dr__free(*slot);
    *slot = copy;
    return DR_OK;
}

/* Clearing frees and cannot fail. */
static void clear(char **slot)
{
    dr__free(*slot);
    *slot = NULL;
}

static dr_status find_stream(dr_follower *f)
{
    json_t *req = json_pack("{s:s}", "TableName", f->client->ratings_table), *resp = NULL;
    const char *arn;
    dr_status rc;
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory");
    rc = dr__ddb_call(f->client, "DescribeTable", req, &resp, NULL);
    json_decref(req);
    if (rc != DR_OK)
        return rc;
    arn = json_string_value(json_object_get(json_object_get(resp, "Table"), "LatestStreamArn"));
    rc = arn ? set_copy(&f->stream_arn, arn)
             : dr__fail(DR_E_CONFIG, "table %s has no stream: enable NEW_AND_OLD_IMAGES",
                        f->client->ratings_table);
    json_decref(resp);
    return rc;
}

static shard *find_shard(dr_follower *f, const char *id)
{
    size_t i;
    for (i = 0; i < f->shard_count; i++)
        if (!strcmp(f->shards[i].id, id))
            return &f->shards[i];
    return NULL;
}

static dr_status add_shard(dr_follower *f, const char *id, const char *parent_id)
{
    shard *grown = dr__reallocarray(f->shards, f->shard_count + 1, sizeof *f->shards);
    shard *s;
    if (!grown)
        return dr__fail(DR_E_NOMEM, "out of memory tracking shards");
    f->shards = grown;
    s = &f->shards[f->shard_count];
    memset(s, 0, sizeof *s);
    if (set_copy(&s->id, id) != DR_OK || set_copy(&s->parent_id, parent_id) != DR_OK) {
        shard_clear(s);
        return DR_E_NOMEM;
    }
    f->shard_count++;
    return DR_OK;
}

/* DescribeStream, paged, adding shards not seen before. */
static dr_status refresh_shards(dr_follower *f)
{
    json_t *start = NULL;
    dr_status rc = DR_OK;
    do {
        json_t *req = json_pack("{s:s}", "StreamArn", f->stream_arn), *resp = NULL, *sh;
        size_t i;
        if (!req) {
            rc = dr__fail(DR_E_NOMEM, "out of memory");
            break;
        }
        if (start)
            json_object_set_new(req, "ExclusiveStartShardId", start);
        rc = dr__ddb_call_service(f->client, DR_SERVICE_STREAMS, "DescribeStream", req, &resp,
                                  NULL);
        json_decref(req);
        start = NULL;
        if (rc != DR_OK)
            break;
        json_array_foreach(json_object_get(json_object_get(resp, "StreamDescription"), "Shards"),
                           i, sh) {
            const char *id = json_string_value(json_object_get(sh, "ShardId"));
            const char *parent = json_string_value(json_object_get(sh, "ParentShardId"));
            if (id && !find_shard(f, id) && (rc = add_shard(f, id, parent)) != DR_OK)
                break;
        }
        start = json_incref(json_object_get(json_object_get(resp, "StreamDescription"),
                                            "LastEvaluatedShardId"));
        json_decref(resp);
    } while (rc == DR_OK && start);
    json_decref(start);
    return rc;
}

static json_t *checkpoint_key(dr_follower *f, const shard *s)
{
    dr_buf pk = DR_BUF_INIT, sk = DR_BUF_INIT;
    json_t *key = NULL;
    dr__buf_printf(&pk, DR_CHECKPOINT_PK_PREFIX "%s", f->stream_arn);
    dr__buf_printf(&sk, DR_CHECKPOINT_SK_PREFIX "%s", s->id);
    if (!pk.failed && !sk.failed)
        key = dr__item_key(dr__buf_cstr(&pk), dr__buf_cstr(&sk));
    dr__buf_free(&pk);
    dr__buf_free(&sk);
    return key;
}

static dr_status load_checkpoint(dr_follower *f, shard *s)
{
    json_t *req = json_pack("{s:s, s:o, s:b}", "TableName", f->client->stats_table, "Key",
                            checkpoint_key(f, s), "ConsistentRead", 1);
    json_t *resp = NULL, *item;
    uint64_t failures = 0;
    int finished = 0;
    dr_status rc;
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory");
    rc = dr__ddb_call(f->client, "GetItem", req, &resp, NULL);
    json_decref(req);
    if (rc != DR_OK)
        return rc;
    item = json_object_get(resp, "Item");
    rc = set_copy(&s->checkpoint, dr__av_get_s(item, DR_ATTR_SEQUENCE_NUMBER));
    if (rc == DR_OK)
        rc = set_copy(&s->failing, dr__av_get_s(item, DR_ATTR_FAILING_SEQUENCE_NUMBER));
    if (rc == DR_OK && s->failing &&
        dr__av_get_u64(item, DR_ATTR_FAILED_DELIVERIES, &failures) == 0 && failures < UINT32_MAX)
        s->failures = (uint32_t)failures;
    if (dr__av_get_bool(item, DR_ATTR_FINISHED, &finished) == 0)
        s->finished = finished;
    s->checkpoint_loaded = rc == DR_OK;
    json_decref(resp);
    return rc;
}

/* An unconditional Put: writing the same checkpoint twice is harmless, so it is
 * replay-safe. It carries the failed deliveries of the record after it, so that a
 * restarted follower still parks a poison record after DR_FOLLOWER_MAX_DELIVERIES. */
static dr_status save_checkpoint(dr_follower *f, shard *s)
{
    char now[25];
    json_t *item = checkpoint_key(f, s), *req;
    dr_status rc;
    dr__iso8601_now(now);
    if (!item ||
        (s->checkpoint && dr__item_set(item, DR_ATTR_SEQUENCE_NUMBER, dr__av_s(s->checkpoint))) ||
        dr__item_set(item, DR_ATTR_FINISHED, dr__av_bool(s->finished)) ||
        (s->failing &&
         (dr__item_set(item, DR_ATTR_FAILING_SEQUENCE_NUMBER, dr__av_s(s->failing)) ||
          dr__item_set(item, DR_ATTR_FAILED_DELIVERIES, dr__av_n_u64(s->failures)))) ||
        dr__item_set(item, DR_ATTR_UPDATED_AT, dr__av_s(now))) {
        json_decref(item);
        return dr__fail(DR_E_NOMEM, "out of memory");
    }
    req = json_pack("{s:s, s:o}", "TableName", f->client->stats_table, "Item", item);
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory");
    rc = dr__ddb_call(f->client, "PutItem", req, NULL, NULL);
    json_decref(req);
    return rc;
}

static dr_status get_iterator(dr_follower *f, shard *s, int from_start)
{
    json_t *req, *resp = NULL;
    dr_status rc;
    if (s->checkpoint && !from_start)
        req = json_pack("{s:s, s:s, s:s, s:s}", "StreamArn", f->stream_arn, "ShardId", s->id,
                        "ShardIteratorType", "AFTER_SEQUENCE_NUMBER", "SequenceNumber",
                        s->checkpoint);
    else
        req = json_pack("{s:s, s:s, s:s}", "StreamArn", f->stream_arn, "ShardId", s->id,
                        "ShardIteratorType", "TRIM_HORIZON");
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory");
    rc = dr__ddb_call_service(f->client, DR_SERVICE_STREAMS, "GetShardIterator", req, &resp, NULL);
    json_decref(req);
    if (rc == DR_OK)
        rc = set_copy(&s->iterator, json_string_value(json_object_get(resp, "ShardIterator")));
    json_decref(resp);
    return rc;
}

static const char *sequence_of(const json_t *record)
{
    return json_string_value(json_object_get(json_object_get(record, "dynamodb"),
                                             "SequenceNumber"));
}

/* Failures that lie in the record (or in what it makes the library send or read), and
 * so will recur on every delivery. Everything else (network, throttling, credentials,
 * a missing table, out of memory) is the environment's: counting it would park every
 * record of an outage. A cancelled transaction reaches here only for a reason of its own
 * (ValidationError: an item grown too large): the commit engine retries throttling and
 * contention itself and reports them as DR_E_THROTTLED or DR_E_TRANSACTION_CONFLICT. */
static int record_fault(dr_status code)
{
    return code == DR_E_INVALID_ARGUMENT || code == DR_E_VALIDATION || code == DR_E_PROTOCOL ||
           code == DR_E_TRANSACTION_CANCELED;
}

/* The failure count of a record that is not the one failing now is obsolete. */
static void forget_failures(shard *s, const char *unless_seq)
{
    if (s->failing && (!unless_seq || strcmp(s->failing, unless_seq) != 0)) {
        clear(&s->failing);
        s->failures = 0;
    }
}

static json_t *dead_letter_key(dr_follower *f, const char *shard_id, const char *seq)
{
    dr_buf pk = DR_BUF_INIT, sk = DR_BUF_INIT;
    json_t *key = NULL;
    dr__buf_printf(&pk, DR_PK_DEAD_LETTER "%s", f->client->ratings_table);
    dr__buf_printf(&sk, "%s" DR_SK_DEAD_LETTER_SEPARATOR "%s", shard_id, seq);
    if (!pk.failed && !sk.failed)
        key = dr__item_key(dr__buf_cstr(&pk), dr__buf_cstr(&sk));
    dr__buf_free(&pk);
    dr__buf_free(&sk);
    return key;
}

/* The record's JSON as stored: whole, or without its images when it would not fit in
 * an item. NULL on OOM. */
static char *dead_letter_record(const json_t *record, int *images_omitted)
{
    char *json = dr__json_dump(record);
    json_t *copy;
    *images_omitted = 0;
    if (!json || strlen(json) <= DR_DEAD_LETTER_MAX_RECORD_BYTES)
        return json;
    dr__free(json);
    if (!(copy = json_deep_copy(record)))
        return NULL;
    json_object_del(json_object_get(copy, "dynamodb"), "NewImage");
    json_object_del(json_object_get(copy, "dynamodb"), "OldImage");
    json = dr__json_dump(copy);
    json_decref(copy);
    *images_omitted = 1;
    return json;
}

/* Write the dead-letter item of `record` (an unconditional Put: parking twice writes
 * the same item). Only once it is stored may the checkpoint move past the record. */
static dr_status park(dr_follower *f, shard *s, const json_t *record, const char *seq,
                      const char *reason)
{
    char now[25];
    int omitted = 0;
    char *json = dead_letter_record(record, &omitted);
    json_t *item = json ? dead_letter_key(f, s->id, seq) : NULL, *req = NULL;
    dr_status rc;

    dr__iso8601_now(now);
    if (!item || dr__item_set(item, DR_ATTR_STREAM_ARN, dr__av_s(f->stream_arn)) ||
        dr__item_set(item, DR_ATTR_SHARD_ID, dr__av_s(s->id)) ||
        dr__item_set(item, DR_ATTR_SEQUENCE_NUMBER, dr__av_s(seq)) ||
        dr__item_set(item, DR_ATTR_REASON, dr__av_s(reason)) ||
        dr__item_set(item, DR_ATTR_RECORD, dr__av_s(json)) ||
        dr__item_set(item, DR_ATTR_ATTEMPTS, dr__av_n_u64(s->failures)) ||
        dr__item_set(item, DR_ATTR_PARKED_AT, dr__av_s(now)) ||
        (omitted && dr__item_set(item, DR_ATTR_IMAGES_OMITTED, dr__av_bool(1))) ||
        !(req = json_pack("{s:s, s:O}", "TableName", f->client->stats_table, "Item", item))) {
        json_decref(item);
        dr__free(json);
        return dr__fail(DR_E_NOMEM, "out of memory parking stream record %s", seq);
    }
    json_decref(item);
    dr__free(json);
    rc = dr__ddb_call(f->client, "PutItem", req, NULL, NULL);
    json_decref(req);
    if (rc != DR_OK)
        return dr__fail_context(rc, "shard %s: cannot park stream record %s", s->id, seq);
    f->dead_lettered++;
    /* Identifiers and reason only: the record itself is in the item. */
    dr__logf(&f->client->log, DR_LOG_ERROR,
             "shard %s: stream record %s parked as a dead letter after %" PRIu32
             " failed deliveries%s: %s",
             s->id, seq, s->failures, omitted ? " (too large: stored without its images)" : "",
             reason);
    return DR_OK;
}

/* Records [from, end) of `records`, shared, not copied. NULL on OOM. */
static json_t *records_from(const json_t *records, size_t from)
{
    json_t *slice = json_array();
    size_t i;
    for (i = from; slice && i < json_array_size(records); i++) {
        if (json_array_append(slice, json_array_get(records, i)) != 0) {
            json_decref(slice);
            slice = NULL;
        }
    }
    return slice;
}

/* Apply a GetRecords batch. At a failure, the checkpoint moves to the record before it
 * and the delivery is counted; a record that has failed DR_FOLLOWER_MAX_DELIVERIES
 * times is parked, the checkpoint moves past it, and the records after it are applied
 * (submitted again without it: those applied already are duplicates). DR_OK when every
 * record was applied or parked; the checkpoint is then saved past them all. */
static dr_status apply_records(dr_follower *f, shard *s, const json_t *records)
{
    size_t from = 0, n = json_array_size(records), at;
    dr_status rc = DR_OK, why;
    int fault;
    while (from < n) {
        dr_batch_result *result = NULL;
        const char *failed, *reason, *failed_seq;
        json_t *batch = records_from(records, from);
        char message[768];

        rc = batch ? dr__apply_stream_records(f->client, batch, &result)
                   : dr__fail(DR_E_NOMEM, "out of memory");
        json_decref(batch);
        if (rc != DR_OK)
            return rc;
        if (!dr_batch_result_failed_count(result)) {
            dr_batch_result_free(result);
            forget_failures(s, NULL);
            if ((rc = set_copy(&s->checkpoint, sequence_of(json_array_get(records, n - 1)))) !=
                DR_OK)
                return rc;
            break;
        }
        failed = dr_batch_result_failed_sequence_number(result, 0);
        for (at = from; at < n; at++) {
            const char *seq = sequence_of(json_array_get(records, at));
            if (seq && !strcmp(seq, failed))
                break;
        }
        reason = dr__batch_result_reason(result, &why);
        snprintf(message, sizeof message, "%s", reason);
        dr_batch_result_free(result);
        if (at == n || !(failed_seq = sequence_of(json_array_get(records, at))))
            return dr__fail(DR_E_PROTOCOL, "shard %s: the failed stream record is not in "
                                           "the batch (a record without a SequenceNumber?)",
                            s->id);
        if (at > from &&
            (rc = set_copy(&s->checkpoint, sequence_of(json_array_get(records, at - 1)))) != DR_OK)
            return rc;
        fault = record_fault(why);
        forget_failures(s, failed_seq);
        if (fault) {
            if (!s->failing && (rc = set_copy(&s->failing, failed_seq)) != DR_OK)
                return rc;
            s->failures++;
        }
        if (fault && s->failures >= DR_FOLLOWER_MAX_DELIVERIES) {
            rc = park(f, s, json_array_get(records, at), failed_seq, message);
            if (rc == DR_OK) {
                forget_failures(s, NULL);
                rc = set_copy(&s->checkpoint, failed_seq);
            }
            if (rc == DR_OK && (rc = save_checkpoint(f, s)) == DR_OK) {
                from = at + 1;
                continue;
            }
            /* Not moved past it. Unsaved progress is only read again (duplicates). */
            return rc;
        }
        if ((rc = save_checkpoint(f, s)) != DR_OK)
            return rc;
        if (fault)
            return dr__fail(why, "shard %s: stream record %s failed (delivery %" PRIu32
                                 " of %d): %s",
                            s->id, failed_seq, s->failures, DR_FOLLOWER_MAX_DELIVERIES, message);
        return dr__fail(why != DR_OK ? why : DR_E_SERVICE,
                        "shard %s: stream record %s could not be applied: %s", s->id, failed_seq,
                        message);
    }
    return save_checkpoint(f, s);
}

/* Read one batch of a shard and apply it. */
static dr_status read_shard(dr_follower *f, shard *s, uint64_t *seen)
{
    dr_ddb_error err = DR_DDB_ERROR_INIT;
    json_t *req, *resp = NULL, *records;
    const char *next;
    dr_status rc;

    if (!s->checkpoint_loaded && (rc = load_checkpoint(f, s)) != DR_OK)
        return rc;
    if (s->finished)
        return DR_OK;
    if (!s->iterator && (rc = get_iterator(f, s, 0)) != DR_OK) {
        /* The checkpoint's record is gone from the stream (older than 24 hours): start
         * from the oldest record there is. */
        if (rc != DR_E_VALIDATION || (rc = get_iterator(f, s, 1)) != DR_OK)
            return rc;
    }
    if (!s->iterator) { /* a closed shard read to its end */
        s->finished = 1;
        return save_checkpoint(f, s);
    }
    req = json_pack("{s:s, s:i}", "ShardIterator", s->iterator, "Limit", DR_GET_RECORDS_LIMIT);
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory");
    rc = dr__ddb_call_service(f->client, DR_SERVICE_STREAMS, "GetRecords", req, &resp, &err);
    json_decref(req);
    if (rc != DR_OK) {
        /* An iterator lives 15 minutes; a fresh one resumes from the checkpoint. */
        if (!strcmp(err.type, "ExpiredIteratorException") ||
            !strcmp(err.type, "TrimmedDataAccessException"))
            clear(&s->iterator), rc = DR_OK;
        dr__ddb_error_clear(&err);
        return rc;
    }
    records = json_object_get(resp, "Records");
    if (json_array_size(records)) {
        *seen += json_array_size(records);
        if ((rc = apply_records(f, s, records)) != DR_OK) {
            clear(&s->iterator); /* read again from the checkpoint next round */
            json_decref(resp);
            return rc;
        }
    }
    next = json_string_value(json_object_get(resp, "NextShardIterator"));
    rc = set_copy(&s->iterator, next);
    if (rc == DR_OK && !next) { /* closed and read to the end: children may start */
        s->finished = 1;
        rc = save_checkpoint(f, s);
    }
    json_decref(resp);
    return rc;
}

/* A child shard waits until its parent (when the follower knows it) is finished. */
static int parent_pending(dr_follower *f, const shard *s)
{
    shard *parent = s->parent_id ? find_shard(f, s->parent_id) : NULL;
    return parent && !parent->finished;
}

DR_API dr_status dr_follower_poll(dr_follower *f, uint64_t *records_seen)
{
    uint64_t seen = 0;
    dr_status rc = DR_OK, first = DR_OK;
    char first_message[1024] = "";
    size_t i;

    if (records_seen)
        *records_seen = 0;
    if (!f)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_follower_poll: follower is NULL");
    if (!f->stream_arn && (rc = find_stream(f)) != DR_OK)
        return rc;
    if ((rc = refresh_shards(f)) != DR_OK)
        return rc;
    /* One shard's failure must not starve the others: each is served, and the first
     * error is reported once all were. */
    for (i = 0; i < f->shard_count; i++) {
        if (f->shards[i].finished || parent_pending(f, &f->shards[i]))
            continue;
        rc = read_shard(f, &f->shards[i], &seen);
        if (rc != DR_OK && first == DR_OK) {
            first = rc;
            snprintf(first_message, sizeof first_message, "%s", dr_last_error_message());
        }
    }
    if (records_seen)
        *records_seen = seen;
    return first == DR_OK ? DR_OK : dr__fail(first, "%s", first_message);
}

DR_API uint64_t dr_follower_dead_lettered(const dr_follower *f)
{
    return f ? f->dead_lettered : 0;
}

/* ---- dead letters: listing and requeueing -------------------------------------------- */

typedef struct dead_letter {
    char *shard_id, *sequence_number, *reason, *record, *parked_at;
    uint32_t attempts;
} dead_letter;

struct dr_dead_letters {
    dead_letter *items;
    size_t count;
};

DR_API void dr_dead_letters_free(dr_dead_letters *list)
{
    size_t i;
    if (!list)
        return;
    for (i = 0; i < list->count; i++) {
        dead_letter *d = &list->items[i];
        dr__free(d->shard_id);
        dr__free(d->sequence_number);
        dr__free(d->reason);
        dr__free(d->record);
        dr__free(d->parked_at);
    }
    dr__free(list->items);
    dr__free(list);
}

/* Append the dead letter stored in `item`. */
static dr_status add_dead_letter(dr_dead_letters *list, const json_t *item)
{
    const char *shard_id = dr__av_get_s(item, DR_ATTR_SHARD_ID),
               *seq = dr__av_get_s(item, DR_ATTR_SEQUENCE_NUMBER);
    const char *reason = dr__av_get_s(item, DR_ATTR_REASON),
               *record = dr__av_get_s(item, DR_ATTR_RECORD);
    const char *parked_at = dr__av_get_s(item, DR_ATTR_PARKED_AT);
    dead_letter *grown, *d;
    uint64_t attempts;
    if (!shard_id || !seq || !reason || !record || !parked_at ||
        dr__av_get_u64(item, DR_ATTR_ATTEMPTS, &attempts) != 0 || attempts > UINT32_MAX)
        return dr__fail(DR_E_PROTOCOL, "dead-letter item %s lacks one of " DR_ATTR_SHARD_ID
                        ", " DR_ATTR_SEQUENCE_NUMBER ", " DR_ATTR_REASON ", " DR_ATTR_RECORD
                        ", " DR_ATTR_ATTEMPTS ", " DR_ATTR_PARKED_AT,
                        dr__av_get_s(item, DR_ATTR_SK) ? dr__av_get_s(item, DR_ATTR_SK)
                                                       : "(no " DR_ATTR_SK ")");
    if (!(grown = dr__reallocarray(list->items, list->count + 1, sizeof *list->items)))
        return dr__fail(DR_E_NOMEM, "out of memory listing dead letters");
    list->items = grown;
    d = &list->items[list->count];
    memset(d, 0, sizeof *d);
    d->attempts = (uint32_t)attempts;
    if (set_copy(&d->shard_id, shard_id) || set_copy(&d->sequence_number, seq) ||
        set_copy(&d->reason, reason) || set_copy(&d->record, record) ||
        set_copy(&d->parked_at, parked_at)) {
        list->count++; /* freed with the list */
        return DR_E_NOMEM;
    }
    list->count++;
    return DR_OK;
}

DR_API dr_status dr_follower_list_dead_letters(dr_follower *f, dr_dead_letters **out)
{
    dr_dead_letters *list;
    json_t *start = NULL;
    dr_buf pk = DR_BUF_INIT;
    dr_status rc = DR_OK;

    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_follower_list_dead_letters: out is NULL");
    *out = NULL;
    if (!f)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_follower_list_dead_letters: follower is NULL");
    if (!(list = dr__calloc(1, sizeof *list)))
        return dr__fail(DR_E_NOMEM, "out of memory listing dead letters");
    dr__buf_printf(&pk, DR_PK_DEAD_LETTER "%s", f->client->ratings_table);
    if ((rc = dr__buf_ok(&pk)) != DR_OK) {
        dr__free(list);
        return rc;
    }
    do {
        json_t *req = json_pack("{s:s, s:s, s:{s:o}, s:b}", "TableName", f->client->stats_table,
                                "KeyConditionExpression", DR_ATTR_PK " = :pk",
                                "ExpressionAttributeValues", ":pk", dr__av_s(dr__buf_cstr(&pk)),
                                "ConsistentRead", 1);
        json_t *resp = NULL, *item;
        size_t i;
        if (!req) {
            rc = dr__fail(DR_E_NOMEM, "out of memory listing dead letters");
            break;
        }
        if (start)
            json_object_set_new(req, "ExclusiveStartKey", start);
        start = NULL;
        rc = dr__ddb_call(f->client, "Query", req, &resp, NULL);
        json_decref(req);
        if (rc != DR_OK)
            break;
        json_array_foreach(json_object_get(resp, "Items"), i, item) {
            if ((rc = add_dead_letter(list, item)) != DR_OK)
                break;
        }
        start = json_incref(json_object_get(resp, "LastEvaluatedKey"));
        json_decref(resp);
    } while (rc == DR_OK && start);
    json_decref(start);
    dr__buf_free(&pk);
    if (rc != DR_OK) {
        dr_dead_letters_free(list);
        return rc;
    }
    *out = list;
    return DR_OK;
}

/* Apply one parked record; *applied = 1 when it counted or was counted before. */
static dr_status requeue_one(dr_follower *f, const dead_letter *d, int *applied)
{
    dr_buf body = DR_BUF_INIT;
    dr_batch_result *result = NULL;
    dr_status rc, why;
    *applied = 0;
    dr__buf_printf(&body, "{\"Records\":[%s]}", d->record);
    if ((rc = dr__buf_ok(&body)) != DR_OK)
        return rc;
    rc = dr_client_apply_stream_batch(f->client, dr__buf_cstr(&body), body.len, &result);
    dr__buf_free(&body);
    if (rc == DR_E_INVALID_ARGUMENT) { /* the stored text is not a record: it stays */
        dr__logf(&f->client->log, DR_LOG_WARN, "dead letter %s#%s stays parked: %s", d->shard_id,
                 d->sequence_number, dr_last_error_message());
        return DR_OK;
    }
    if (rc != DR_OK)
        return rc;
    *applied = dr_batch_result_failed_count(result) == 0;
    if (!*applied)
        dr__logf(&f->client->log, DR_LOG_WARN, "dead letter %s#%s stays parked: %s", d->shard_id,
                 d->sequence_number, dr__batch_result_reason(result, &why));
    dr_batch_result_free(result);
    return DR_OK;
}

DR_API dr_status dr_follower_requeue_dead_letters(dr_follower *f, size_t *requeued,
                                                  size_t *still_parked)
{
    dr_dead_letters *list = NULL;
    size_t i, done = 0, stay = 0;
    dr_status rc;

    if (requeued)
        *requeued = 0;
    if (still_parked)
        *still_parked = 0;
    if ((rc = dr_follower_list_dead_letters(f, &list)) != DR_OK)
        return rc;
    for (i = 0; i < list->count && rc == DR_OK; i++) {
        const dead_letter *d = &list->items[i];
        json_t *req;
        int applied = 0;
        if ((rc = requeue_one(f, d, &applied)) != DR_OK)
            break;
        if (!applied) {
            stay++;
            continue;
        }
        /* Applied (its marker now exists), so deleting the item loses nothing. */
        req = json_pack("{s:s, s:o}", "TableName", f->client->stats_table, "Key",
                        dead_letter_key(f, d->shard_id, d->sequence_number));
        rc = req ? dr__ddb_call(f->client, "DeleteItem", req, NULL, NULL)
                 : dr__fail(DR_E_NOMEM, "out of memory");
        json_decref(req);
        if (rc == DR_OK) {
            done++;
            dr__logf(&f->client->log, DR_LOG_INFO, "dead letter %s#%s requeued and applied",
                     d->shard_id, d->sequence_number);
        }
    }
    if (requeued)
        *requeued = done;
    if (still_parked)
        *still_parked = stay;
    dr_dead_letters_free(list);
    return rc;
}

DR_API size_t dr_dead_letters_count(const dr_dead_letters *list)
{
    return list ? list->count : 0;
}

static const dead_letter *dead_letter_at(const dr_dead_letters *list, size_t i)
{
    return list && i < list->count ? &list->items[i] : NULL;
}

DR_API const char *dr_dead_letters_shard_id(const dr_dead_letters *list, size_t i)
{
    const dead_letter *d = dead_letter_at(list, i);
    return d ? d->shard_id : NULL;
}

DR_API const char *dr_dead_letters_sequence_number(const dr_dead_letters *list, size_t i)
{
    const dead_letter *d = dead_letter_at(list, i);
    return d ? d->sequence_number : NULL;
}

DR_API const char *dr_dead_letters_reason(const dr_dead_letters *list, size_t i)
{
    const dead_letter *d = dead_letter_at(list, i);
    return d ? d->reason : NULL;
}

DR_API const char *dr_dead_letters_record_json(const dr_dead_letters *list, size_t i)
{
    const dead_letter *d = dead_letter_at(list, i);
    return d ? d->record : NULL;
}

DR_API uint32_t dr_dead_letters_attempts(const dr_dead_letters *list, size_t i)
{
    const dead_letter *d = dead_letter_at(list, i);
    return d ? d->attempts : 0;
}

DR_API const char *dr_dead_letters_parked_at(const dr_dead_letters *list, size_t i)
{
    const dead_letter *d = dead_letter_at(list, i);
    return d ? d->parked_at : NULL;
}
