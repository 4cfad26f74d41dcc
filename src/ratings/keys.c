#include "keys.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "buf.h"
#include "ddb_json.h"
#include "error.h"

void dr__iso8601_now(char out[25])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char full[64]; /* roomy: the compiler cannot know the fields' ranges */
    snprintf(full, sizeof full, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec, ts.tv_nsec / 1000000L);
    memcpy(out, full, 24);
    out[24] = '\0';
}

static void format_uuid(unsigned char b[16], unsigned version, char out[37])
{
    b[6] = (unsigned char)((b[6] & 0x0F) | (version << 4));
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

dr_status dr__uuid_v4(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return dr__fail(DR_E_INTERNAL, "cannot draw random bytes for a UUID");
    format_uuid(b, 4, out);
    return DR_OK;
}

dr_status dr__uuid_of_key(const char *key, char out[37])
{
    static const char domain[] = "dadratings-rating-uuid\n";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(md, domain, sizeof domain - 1) == 1 &&
             EVP_DigestUpdate(md, key, strlen(key)) == 1 &&
             EVP_DigestFinal_ex(md, digest, &len) == 1;
    EVP_MD_CTX_free(md);
    if (!ok)
        return dr__fail(DR_E_INTERNAL, "cannot hash an idempotency key into a UUID");
    format_uuid(digest, 8, out);
    return DR_OK;
}

const char *const dr__counter_attr[DR_COUNTER_ATTRS] = {
    DR_ATTR_TOTAL_RATINGS, DR_ATTR_TOTAL_SCORE, DR_ATTR_COUNT1, DR_ATTR_COUNT2,
    DR_ATTR_COUNT3,        DR_ATTR_COUNT4,      DR_ATTR_COUNT5};

const char *const dr__stats_read_attr[DR_STATS_READ_ATTRS] = {
    DR_ATTR_PK,     DR_ATTR_TOTAL_RATINGS, DR_ATTR_TOTAL_SCORE, DR_ATTR_COUNT1,
    DR_ATTR_COUNT2, DR_ATTR_COUNT3,        DR_ATTR_COUNT4,      DR_ATTR_COUNT5,
    DR_ATTR_LAST_RATED_AT};

const char *const dr__top_read_attr[DR_TOP_READ_ATTRS] = {
    DR_ATTR_PK,        DR_ATTR_TOTAL_RATINGS, DR_ATTR_TOTAL_SCORE,  DR_ATTR_STATS_VERSION,
    DR_ATTR_JOKE_TEXT, DR_ATTR_AUTHOR,        DR_ATTR_LAST_RATED_AT};

const char *const dr__recent_read_attr[DR_RECENT_READ_ATTRS] = {
    DR_ATTR_PK,   DR_ATTR_RATING, DR_ATTR_JOKE_TEXT,   DR_ATTR_AUTHOR,
    DR_ATTR_MODE, DR_ATTR_DATE,   DR_ATTR_SUBMITTED_AT};

uint32_t dr__fnv1a(const char *s)
{
    uint32_t hash = 2166136261u;
    const unsigned char *p;
    for (p = (const unsigned char *)s; *p; p++)
        hash = (hash ^ *p) * 16777619u;
    return hash;
}

json_t *dr__item_key(const char *pk, const char *sk)
{
    return json_pack("{s:o, s:o}", DR_ATTR_PK, dr__av_s(pk), DR_ATTR_SK, dr__av_s(sk));
}

static json_t *key_of(const char *pk_prefix, const char *pk_rest, const char *sk)
{
    dr_buf pk = DR_BUF_INIT;
    json_t *key;
    dr__buf_puts(&pk, pk_prefix);
    dr__buf_puts(&pk, pk_rest);
    if (pk.failed) {
        dr__buf_free(&pk);
        return NULL;
    }
    key = dr__item_key(dr__buf_cstr(&pk), sk);
    dr__buf_free(&pk);
    return key;
}

json_t *dr__stats_key(const char *joke_id)
{
    return key_of(DR_PK_STATS, joke_id, DR_SK_AGGREGATE);
}

const char *dr__key_rest(const char *key, const char *prefix)
{
    size_t n = strlen(prefix);
    return key && strncmp(key, prefix, n) == 0 ? key + n : NULL;
}

const char *dr__joke_id_of_stats_pk(const char *pk)
{
    return dr__key_rest(pk, DR_PK_STATS);
}

uint32_t dr__global_shard_of(uint32_t shards, const char *joke_id)
{
    return shards > 1 ? dr__fnv1a(joke_id) % shards : 0;
}

void dr__global_shard_pk(uint32_t k, char out[32])
{
    if (k == 0)
        snprintf(out, 32, "%s", DR_PK_GLOBAL);
    else
        snprintf(out, 32, "%s#%" PRIu32, DR_PK_GLOBAL, k);
}

void dr__top_sort_key(dr_buf *b, uint32_t average_hundredths, uint64_t total,
                      const char *joke_id)
{
    dr__buf_printf(b, "%03" PRIu32 "#%020" PRIu64 "#%s", average_hundredths, total, joke_id);
}

void dr__top_shard_partition(uint32_t shards, uint32_t k, char out[48])
{
    if (shards <= 1)
        snprintf(out, 48, "%s", DR_GSI_TOP_PERFORMERS);
    else
        snprintf(out, 48, "%s#%" PRIu32, DR_GSI_TOP_PERFORMERS, k);
}

void dr__top_partition(uint32_t shards, const char *joke_id, char out[48])
{
    dr__top_shard_partition(shards, dr__global_shard_of(shards, joke_id), out);
}
