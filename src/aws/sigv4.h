/* AWS Signature Version 4 (AWS4-HMAC-SHA256): pure functions, no I/O.
 *
 * Signing runs as stages on one state, in the order aws-c-auth uses
 * (include/aws/auth/private/aws_signing.h): canonical request -> string to sign ->
 * signature -> Authorization header or presigned query. Every stage's output is kept in
 * dr_sigv4_result so tests can check each one against the AWS test suite.
 *
 * Inputs are the request as it goes on the wire:
 *  - `path` is the wire path, already percent-encoded once by the caller. For every
 *    service but S3 it is normalised (dot segments, empty segments) and encoded AGAIN
 *    ("double encoding"), because those services sign the encoded path. DR_SIGV4_S3
 *    turns both off: the wire path is the canonical path.
 *  - `query` is the wire query string without '?': each key and value is
 *    percent-decoded once and re-encoded per RFC 3986, so "%7e", "~" and "%7E" sign the
 *    same. '+' is a literal plus, not a space (AWS SDKs never send '+' for a space).
 *  - headers are the ones that will be sent. Names are matched case-insensitively;
 *    repeated names are joined with ',' in the order given.
 *
 * Thread safety: a dr_sigv4_signer may be shared by any number of threads; it only holds
 * a cache of the derived signing key, under a mutex. Results are per call.
 */
#ifndef DR_SIGV4_H
#define DR_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "credentials.h"
#include "dadratings.h"
#include "http.h"

#define DR_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define DR_SIGV4_UNSIGNED_PAYLOAD_HASH "UNSIGNED-PAYLOAD"
/* "YYYYMMDDTHHMMSSZ" */
#define DR_SIGV4_AMZ_DATE_LEN 16
/* Presigned URLs may live at most 7 days (SigV4 rule). */
#define DR_SIGV4_MAX_EXPIRES 604800u

/* The signer reads headers in the HTTP layer's own form. */
typedef dr_http_header dr_sigv4_header;

typedef struct dr_sigv4_signer dr_sigv4_signer;

/* Options for dr__sigv4_sign(); 0 is header signing for a non-S3 service, the only form
 * DynamoDB requests use. The others stay, though no request of the library sets them
 * today: they are what AWS's SigV4 test suite (tests/data/sigv4-test-suite, run by
 * test_sigv4_suite and the differential test against the AWS SDK's signer) exercises,
 * and S3 (the import of ratings from a bucket) needs S3 path signing, unsigned payloads
 * and the x-amz-content-sha256 header. */
enum dr_sigv4_flag {
    /* Query signing (presigned URL) instead of the Authorization header. */
    DR_SIGV4_PRESIGN = 1u << 0,
    /* Keep dot segments and repeated '/' in the path. */
    DR_SIGV4_NO_PATH_NORMALIZE = 1u << 1,
    /* Use the (already encoded) wire path as is, without the second encoding. */
    DR_SIGV4_NO_DOUBLE_ENCODE = 1u << 2,
    /* S3 signs the path exactly as sent. */
    DR_SIGV4_S3 = DR_SIGV4_NO_PATH_NORMALIZE | DR_SIGV4_NO_DOUBLE_ENCODE,
    /* Payload hash "UNSIGNED-PAYLOAD" instead of the body's SHA-256. */
    DR_SIGV4_UNSIGNED_PAYLOAD = 1u << 3,
    /* Header signing: also sign `x-amz-content-sha256: <payload hash>` (S3 needs it;
     * DynamoDB does not). The caller sends that header with result->payload_hash. */
    DR_SIGV4_CONTENT_SHA256_HEADER = 1u << 4,
    /* Leave the session token out of the signature; it is sent all the same (the
     * caller sends the header, or result->presigned_query carries it after the
     * signature). Some services (IoT) expect this. */
    DR_SIGV4_OMIT_SESSION_TOKEN = 1u << 5
};

typedef struct dr_sigv4_request {
    const char *method;            /* "GET", "POST", ... */
    const char *path;              /* wire path; NULL or "" means "/" */
    const char *query;             /* wire query without '?'; NULL or "" if none */
    const dr_sigv4_header *headers; /* must include host */
    size_t header_count;
    const void *body;              /* may be NULL when body_len is 0 */
    size_t body_len;
} dr_sigv4_request;

typedef struct dr_sigv4_params {
    const dr_credentials *creds;   /* borrowed for the call */
    const char *region;            /* e.g. "eu-west-1" */
    const char *service;           /* signing name, e.g. "dynamodb" */
    int64_t unix_time;             /* signing time, seconds since the epoch (UTC) */
    uint32_t flags;                /* enum dr_sigv4_flag */
    uint32_t expires_in;           /* DR_SIGV4_PRESIGN only: 1..DR_SIGV4_MAX_EXPIRES */
} dr_sigv4_params;

/* Every stage's output. Initialise with DR_SIGV4_RESULT_INIT, release with
 * dr__sigv4_result_free() (the canonical request and the presigned query may carry the
 * session token: they are secret buffers, wiped as they grow and when freed). */
typedef struct dr_sigv4_result {
    char amz_date[DR_SIGV4_AMZ_DATE_LEN + 1]; /* X-Amz-Date value */
    char payload_hash[65];         /* hex SHA-256 of the body, or UNSIGNED-PAYLOAD */
    char signature[65];            /* lower-case hex */
    dr_buf scope;                  /* yyyymmdd/region/service/aws4_request */
    dr_buf canonical_request;
    dr_buf signed_headers;         /* "host;x-amz-date" */
    dr_buf string_to_sign;
    dr_buf authorization;          /* header form: the Authorization header value */
    dr_buf presigned_query;        /* query form: the full wire query to send */
} dr_sigv4_result;

#define DR_SIGV4_RESULT_INIT                                                              \
    {"", "", "", DR_BUF_INIT, DR_BUF_SECRET_INIT, DR_BUF_INIT, DR_BUF_INIT, DR_BUF_INIT,    \
     DR_BUF_SECRET_INIT}

/* A signer with an empty key cache. DR_E_NOMEM, or DR_E_INTERNAL if OpenSSL lacks
 * HMAC/SHA-256. */
dr_status dr__sigv4_signer_new(dr_sigv4_signer **out);
/* Wipes the cached key. NULL is fine. */
void dr__sigv4_signer_free(dr_sigv4_signer *signer);

/* Sign one request; fills `result` (which must be DR_SIGV4_RESULT_INIT or freed).
 * DR_E_INVALID_ARGUMENT for a malformed input (message names the field, never a
 * secret value): missing host header, a header the signer owns (authorization,
 * x-amz-date, x-amz-security-token, x-amz-content-sha256), an X-Amz-Signature/
 * Algorithm/Credential/Date/Expires/SignedHeaders/Security-Token query parameter,
 * a time outside years 0..9999. DR_E_NOMEM, DR_E_INTERNAL (OpenSSL). On failure the
 * result is freed. Thread-safe with a shared signer.
 *
 * Headers that proxies and HTTP stacks add or rewrite are sent but never signed,
 * as in the AWS SDKs (smithy's ALWAYS_UNSIGNABLE_HEADERS, a superset of aws-c-auth's
 * skip list): see dr__sigv4_header_is_unsignable(). */
dr_status dr__sigv4_sign(dr_sigv4_signer *signer, const dr_sigv4_request *req,
                         const dr_sigv4_params *params, dr_sigv4_result *result);
void dr__sigv4_result_free(dr_sigv4_result *result);

/* Sign `req` in place with the Authorization header, as every DynamoDB request is
 * signed: first removes what an earlier signature of it left (Authorization,
 * X-Amz-Date, X-Amz-Security-Token, x-amz-content-sha256), then signs its method, the
 * path and query of its URL, its headers (which must include Host) and its body under
 * `params` (flags 0 or DR_SIGV4_CONTENT_SHA256_HEADER / DR_SIGV4_UNSIGNED_PAYLOAD /
 * DR_SIGV4_S3; not DR_SIGV4_PRESIGN), and sets X-Amz-Date, X-Amz-Security-Token when
 * the credentials carry a token, x-amz-content-sha256 when the flags ask for it, and
 * Authorization. A request may be signed again for every attempt. Errors as
 * dr__sigv4_sign(); on failure the request holds none of the signer's headers.
 * Thread-safe with a shared signer. */
dr_status dr__sigv4_sign_http(dr_sigv4_signer *signer, const dr_sigv4_params *params,
                              dr_http_request *req);

/* --- stages, exposed for unit tests and the fuzzer ------------------------------ */

/* RFC 3986 encoding as SigV4 wants it: unreserved A-Z a-z 0-9 - . _ ~ kept, every
 * other byte %XX with upper-case hex; '/' kept when keep_slash (paths). */
void dr__sigv4_uri_encode(dr_buf *out, const char *s, size_t n, int keep_slash);

/* The longest region the signer takes: its key cache keeps scope parts in fixed arrays. */
#define DR_REGION_MAX 63
/* 1 if `region` is 1..DR_REGION_MAX of [a-z0-9-]: what the signer puts into the
 * credential scope and the library into host names. Configuration, the environment and
 * profiles are held to the same rule, so a region they accept is one the signer takes. */
int dr__region_is_valid(const char *region);
/* Canonical URI of a wire path under `flags` (normalisation and double encoding). */
void dr__sigv4_canonical_path(dr_buf *out, const char *path, uint32_t flags);
/* Canonical query string of a wire query (no signing parameters added). Returns
 * DR_E_INVALID_ARGUMENT for a reserved X-Amz-* parameter, DR_E_NOMEM. */
dr_status dr__sigv4_canonical_query(dr_buf *out, const char *query);
/* A header value trimmed, with runs of white space (space, tab, CR, LF) collapsed to
 * one space, as SigV4's Trimall. */
void dr__sigv4_trim_value(dr_buf *out, const char *value);
/* 1 for headers that are sent but not signed (user-agent, expect, proxy-*, ...). */
int dr__sigv4_header_is_unsignable(const char *name);

#ifdef DR_TESTING
/* Test builds only: hits/misses since creation, whether a key is cached, and wiping the
 * cached key. */
void dr__sigv4_signer_cache_stats(dr_sigv4_signer *signer, uint64_t *hits, uint64_t *misses);
int dr__sigv4_signer_has_key(dr_sigv4_signer *signer);
void dr__sigv4_signer_clear(dr_sigv4_signer *signer);
#endif

#endif
