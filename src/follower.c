/* The local follower: reads the ratings table's stream through the DynamoDB Streams API
 * and applies it with dr_client_apply_stream_batch(), so stream mode runs without AWS
 * Lambda (DynamoDB Local has the Streams API).
 *
 * Each shard keeps a checkpoint item in the stats table (the sequence number of the last
 * record applied, and whether the shard is finished), written after its batch was
 * applied. A follower that dies between applying and checkpointing reads those records
 * again on restart; the aggregator's markers make them change nothing. A child shard
 * is read only once its parent is finished, so each rating's records stay in order. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "ddb.h"
#include "ddb_json.h"
#include "error.h"
#include "keys.h"
#include "ops.h"

#define DR_CHECKPOINT_PK_PREFIX "CHECKPOINT#"
#define DR_CHECKPOINT_SK_PREFIX "SHARD#"
#define DR_GET_RECORDS_LIMIT 1000

typedef struct shard {
    char *id;
    char *parent_id;    /* NULL when none */
    char *iterator;     /* NULL until asked for, or after an error */
    char *checkpoint;   /* last sequence number applied; NULL: none yet */
    int checkpoint_loaded;
    int finished;       /* closed and read to the end */
} shard;

struct dr_follower {
    dr_client *client;
    char *stream_arn;
    shard *shards;
    size_t shard_count;
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
        rc = dr__ddb_call_service(f->client, DR_SERVICE_STREAMS, "DescribeStream", req, &resp, NULL);
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
        key = json_pack("{s:o, s:o}", "PK", dr__av_s(dr__buf_cstr(&pk)), "SK",
                        dr__av_s(dr__buf_cstr(&sk)));
    dr__buf_free(&pk);
    dr__buf_free(&sk);
    return key;
}

static dr_status load_checkpoint(dr_follower *f, shard *s)
{
    json_t *req = json_pack("{s:s, s:o, s:b}", "TableName", f->client->stats_table, "Key",
                            checkpoint_key(f, s), "ConsistentRead", 1);
    json_t *resp = NULL, *item;
    int finished = 0;
    dr_status rc;
    if (!req)
        return dr__fail(DR_E_NOMEM, "out of memory");
    rc = dr__ddb_call(f->client, "GetItem", req, &resp, NULL);
    json_decref(req);
    if (rc != DR_OK)
        return rc;
    item = json_object_get(resp, "Item");
    rc = set_copy(&s->checkpoint, dr__av_get_s(item, "sequenceNumber"));
    if (dr__av_get_bool(item, "finished", &finished) == 0)
        s->finished = finished;
    s->checkpoint_loaded = rc == DR_OK;
    json_decref(resp);
    return rc;
}

/* An unconditional Put: writing the same checkpoint twice is harmless, so it is
 * replay-safe. */
static dr_status save_checkpoint(dr_follower *f, shard *s)
{
    char now[25];
    json_t *item = checkpoint_key(f, s), *req;
    dr_status rc;
    dr__iso8601_now(now);
    if (!item || (s->checkpoint && dr__item_set(item, "sequenceNumber", dr__av_s(s->checkpoint))) ||
        dr__item_set(item, "finished", dr__av_bool(s->finished)) ||
        dr__item_set(item, "updatedAt", dr__av_s(now))) {
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

/* The sequence number of the last record before the first failure, or NULL. */
static const char *last_applied(const json_t *records, const dr_batch_result *r)
{
    const char *first_failed = dr_batch_result_failed_sequence_number(r, 0);
    const char *last = NULL;
    const json_t *rec;
    size_t i;
    json_array_foreach(records, i, rec) {
        const char *seq = json_string_value(
            json_object_get(json_object_get(rec, "dynamodb"), "SequenceNumber"));
        if (first_failed && seq && !strcmp(seq, first_failed))
            break;
        last = seq;
    }
    return last;
}

/* Read one batch of a shard and apply it. */
static dr_status read_shard(dr_follower *f, shard *s, uint64_t *seen)
{
    dr_ddb_error err = DR_DDB_ERROR_INIT;
    json_t *req, *resp = NULL, *records;
    dr_batch_result *result = NULL;
    const char *next, *last;
    char *body;
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
            set_copy(&s->iterator, NULL), rc = DR_OK;
        dr__ddb_error_clear(&err);
        return rc;
    }
    records = json_object_get(resp, "Records");
    if (json_array_size(records)) {
        *seen += json_array_size(records);
        body = dr__json_dump(resp);
        rc = body ? dr_client_apply_stream_batch(f->client, body, strlen(body), &result)
                  : dr__fail(DR_E_NOMEM, "out of memory");
        dr__free(body);
        if (rc == DR_OK) {
            last = last_applied(records, result);
            if (last)
                rc = set_copy(&s->checkpoint, last);
            if (rc == DR_OK && (last || dr_batch_result_failed_count(result)))
                rc = save_checkpoint(f, s);
            if (rc == DR_OK && dr_batch_result_failed_count(result)) {
                /* Read again from the checkpoint next round. */
                set_copy(&s->iterator, NULL);
                rc = dr__fail(DR_E_SERVICE, "stream record %s could not be applied",
                              dr_batch_result_failed_sequence_number(result, 0));
                dr_batch_result_free(result);
                json_decref(resp);
                return rc;
            }
        }
        dr_batch_result_free(result);
        if (rc != DR_OK) {
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
    dr_status rc = DR_OK;
    size_t i;

    if (records_seen)
        *records_seen = 0;
    if (!f)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_follower_poll: follower is NULL");
    if (!f->stream_arn && (rc = find_stream(f)) != DR_OK)
        return rc;
    if ((rc = refresh_shards(f)) != DR_OK)
        return rc;
    for (i = 0; i < f->shard_count && rc == DR_OK; i++) {
        if (!f->shards[i].finished && !parent_pending(f, &f->shards[i]))
            rc = read_shard(f, &f->shards[i], &seen);
    }
    if (records_seen)
        *records_seen = seen;
    return rc;
}
