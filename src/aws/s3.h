/* The few S3 calls the migration import reads a bucket with (ListObjectsV2, GetObject)
 * and the one its tests fill a bucket with (PutObject), REST over the HTTP layer, signed
 * with the library's SigV4 for service "s3": the wire path is signed as sent
 * (DR_SIGV4_S3) and x-amz-content-sha256 carries the body's hash (the empty body's for
 * GET). Endpoint, region and addressing style are resolved above (src/migrate/), where
 * the configuration lives; this module only builds and sends the requests.
 *
 * Answers are XML, read with the STS extractor (sts.h), records and all: no general XML
 * parser. Failures say which call on which s3://bucket/key failed, the HTTP status and
 * S3's Error/Code and Error/Message, never a header or a credential. */
#ifndef DR_S3_H
#define DR_S3_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "credentials_chain.h"
#include "http.h"
#include "sigv4.h"

/* S3's own limits: keys are at most 1024 bytes, a page at most 1000 keys. */
#define DR_S3_MAX_KEY 1024
#define DR_S3_MAX_KEYS_PER_PAGE 1000u
/* A ListObjectsV2 answer of 1000 keys of 1024 bytes each, with their metadata, fits. */
#define DR_S3_MAX_LIST_RESPONSE ((size_t)4 * 1024 * 1024)

typedef struct dr_s3_client {
    const char *endpoint;  /* "scheme://host[:port]", no path, no trailing slash */
    const char *region;    /* to sign for */
    int path_style;        /* 1: endpoint/bucket/key; 0: bucket.host/key */
    dr_http_pool *pool;    /* NULL: a fresh connection per request */
    dr_sigv4_signer *signer;
    dr_credentials_chain *credentials;
    uint32_t connect_timeout_ms; /* 0: libcurl's default */
    uint32_t timeout_ms;         /* each attempt; 0: none */
} dr_s3_client;

typedef struct dr_s3_object {
    char *key;
    uint64_t size;
    /* LastModified as S3 writes it ("2026-01-30T15:30:00.000Z"), "" when not given: what
     * the import falls back on for a rating without submittedAt. */
    char last_modified[32];
} dr_s3_object;

/* One page of a listing. Zero-initialise (DR_S3_LIST_PAGE_INIT), free with
 * dr__s3_list_page_free; a page may be parsed into again (it is emptied first). */
typedef struct dr_s3_list_page {
    dr_s3_object *objects; /* in the order S3 lists them (UTF-8 binary order) */
    size_t count, cap;
    int is_truncated;
    char *next_token; /* NextContinuationToken when truncated, else NULL */
} dr_s3_list_page;

#define DR_S3_LIST_PAGE_INIT {NULL, 0, 0, 0, NULL}

void dr__s3_list_page_free(dr_s3_list_page *page);

/* 1 if `bucket` can be a host name label of virtual-hosted addressing, as the S3 rule
 * set's isVirtualHostableS3Bucket (no dots: they break https certificates): 3..63 bytes
 * of [a-z0-9-], starting and ending with a letter or digit. */
int dr__s3_bucket_is_virtual_hostable(const char *bucket);

/* 1 if `bucket` is a valid S3 bucket name (3..63 of [a-z0-9.-], starting and ending with
 * a letter or digit): what may be put into a URL. */
int dr__s3_bucket_is_valid(const char *bucket);

/* The URL of `key` in `bucket` (key NULL: the bucket itself, for listing), each key byte
 * other than RFC 3986's unreserved ones and '/' percent-encoded, and `query` (without '?';
 * NULL or "" for none) appended. DR_E_INVALID_ARGUMENT for an invalid bucket, a bucket
 * that cannot be virtual-hosted without path_style, an endpoint that is not
 * "scheme://host[:port]"; DR_E_NOMEM. */
dr_status dr__s3_object_url(const dr_s3_client *s3, const char *bucket, const char *key,
                            const char *query, dr_buf *url);

/* Where a listing starts and how much of it one page holds. */
typedef struct dr_s3_list_args {
    const char *prefix;      /* NULL: the whole bucket */
    const char *token;       /* NextContinuationToken of the page before; NULL: first page */
    const char *start_after; /* list keys after this one (a checkpoint); NULL: none */
    uint32_t max_keys;       /* 0: S3's default (1000) */
} dr_s3_list_args;

/* The ListObjectsV2 query: list-type=2, then continuation-token, max-keys, prefix and
 * start-after when given, each value encoded. DR_E_NOMEM. */
dr_status dr__s3_list_query(const dr_s3_list_args *args, dr_buf *query);

/* A ListObjectsV2 answer: ListBucketResult with IsTruncated, NextContinuationToken and a
 * Contents (Key, Size, LastModified) per object. A truncated answer without a token, a
 * Contents without a Key, a key longer than DR_S3_MAX_KEY, a Size that is not a number or
 * a LastModified longer than 31 bytes is DR_E_PROTOCOL
 * (the message names what is wrong, never quoting the answer); DR_E_NOMEM. */
dr_status dr__s3_parse_list(const char *xml, size_t len, dr_s3_list_page *page);

/* One ListObjectsV2 page of `bucket` as `args` ask. Errors as above; network
 * failures, timeouts and 5xx answers are retried (3 attempts); DR_E_NOT_FOUND for
 * NoSuchBucket, DR_E_AUTH for 403, DR_E_SERVICE for other answers. */
dr_status dr__s3_list_objects(const dr_s3_client *s3, const char *bucket,
                              const dr_s3_list_args *args, dr_s3_list_page *page);

/* GetObject into `body` (emptied first), refused with DR_E_PROTOCOL when the object is
 * larger than `max_bytes`. DR_E_NOT_FOUND for NoSuchKey and NoSuchBucket; otherwise as
 * dr__s3_list_objects. */
dr_status dr__s3_get_object(const dr_s3_client *s3, const char *bucket, const char *key,
                            size_t max_bytes, dr_buf *body);

/* PutObject of `len` bytes (Content-Type application/json), signed with the payload's
 * hash. For tests and tools that fill a bucket; the import never writes to S3. */
dr_status dr__s3_put_object(const dr_s3_client *s3, const char *bucket, const char *key,
                            const void *data, size_t len);

#endif
