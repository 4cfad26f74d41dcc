/* Differential test, C side: generate varied requests deterministically from a seed,
 * sign each with our signer, and write one JSON line per request (the request in the
 * form the JS signer takes, plus our canonical request and signature). The node script
 * sigv4_diff.cjs signs the same requests with @smithy/signature-v4 and compares.
 *
 * Usage: sigv4_diff_gen SEED COUNT   (JSON lines on stdout)
 *
 * What varies: method; paths with reserved, percent-encoded (upper and lower hex),
 * dot-segment, double-slash and UTF-8 characters; queries with repeated, empty,
 * valueless and special-character keys and values, encoded in different but equivalent
 * ways; header values with runs of spaces and tabs, folded lines, leading/trailing
 * white space; repeated headers in mixed case; unsigned headers (user-agent, expect,
 * x-amzn-trace-id); empty, binary and >1 MB bodies; UNSIGNED-PAYLOAD; the
 * x-amz-content-sha256 header; session tokens signed or omitted; S3 path mode;
 * presigned URLs; times across midnight, month and year ends; several regions and
 * services. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "buf.h"
#include "credentials.h"
#include "sigv4.h"

#define MAX_HEADERS 16
#define MAX_PARAMS 8
#define LARGE_BODY (1100u * 1024u) /* over 1 MB, as the brief asks */

/* splitmix64: tiny, deterministic on every platform. */
static uint64_t g_rng;
static uint64_t next_u64(void)
{
    uint64_t z = (g_rng += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}
static unsigned pick(unsigned n)
{
    return (unsigned)(next_u64() % n);
}
static int chance(unsigned percent)
{
    return pick(100) < percent;
}
#define PICK(arr) ((arr)[pick(sizeof(arr) / sizeof((arr)[0]))])

/* Decoded (raw) text pieces; the wire form is made from them below. */
static const char *const path_segments[] = {
    "a", "b", "foo", "Bar", ".", "..", "", "...", "with space", "x+y", "a=b&c", "semi;colon",
    "at@sign", "colon:", "~tilde", "per%cent", "quote'", "paren(1)", "star*", "bang!",
    "caf\xc3\xa9", "\xe1\x88\xb4", "\xf0\x9f\x98\x80", "dollar$", "comma,", "q?mark",
    "hash#", "-_.", "2015-08-30"};
static const char *const query_keys[] = {
    "a", "A", "b", "Param", "Param-3", "", "key with space", "caf\xc3\xa9", "k&=", "~t",
    "%", "+", "x*y", "\xe1\x88\xb4", "list", "empty", "Action", "prefix/", "a.b"};
static const char *const query_values[] = {
    "", "1", "10", "2", "value", "v a l", "a+b", "100%", "=", "&", "\xc3\xa9t\xc3\xa9", "~",
    "/path/x", "AQoDYXdzEPT//", "*", "'", "x y z ", " lead"};
static const char *const header_names[] = {
    "X-Custom", "x-custom", "My-Header1", "my-header2", "Accept", "Content-Type",
    "X-Amz-Target", "X-Amz-Meta-Note", "Content-Encoding", "User-Agent", "Expect",
    "X-Amzn-Trace-Id", "If-Match", "Cache-Control"};
static const char *const header_values[] = {
    "value", "  leading", "trailing  ", "\t tabbed \t", "a   b    c", "\"a   b   c\"",
    "multi\r\n  line", "line\n\tfolded", "", "application/x-amz-json-1.0",
    "DynamoDB_20120810.GetItem", "caf\xc3\xa9  cr\xc3\xa8me", "100-continue",
    "Root=1-5759e988-bd862e3fe1be46a994272793", "k=v; k2=v2", "*", " ", "x\ty"};
static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"};
static const char *const regions[] = {"us-east-1", "eu-west-1", "ap-southeast-2",
                                      "us-gov-west-1", "cn-north-1", "me-central-1"};
static const char *const services[] = {"dynamodb", "s3", "sts", "execute-api", "iam",
                                       "service"};
static const char *const hosts[] = {"dynamodb.us-east-1.amazonaws.com", "example.com",
                                    "localhost:8000", "bucket.s3.amazonaws.com"};
/* Day, month and year ends (and leap days): the scope date changes there. */
static const int64_t anchor_times[] = {
    INT64_C(1440938160),  /* 2015-08-30T12:36:00Z, the suite's time */
    INT64_C(1704067200),  /* 2024-01-01T00:00:00Z */
    INT64_C(1709164800),  /* 2024-02-29T00:00:00Z */
    INT64_C(1709251200),  /* 2024-03-01T00:00:00Z */
    INT64_C(1719792000),  /* 2024-07-01T00:00:00Z */
    INT64_C(951782400),   /* 2000-02-29T00:00:00Z */
    INT64_C(946684800),   /* 2000-01-01T00:00:00Z */
    INT64_C(4102444800)}; /* 2100-01-01T00:00:00Z */

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

/* One of several equivalent wire encodings: upper or lower hex, unreserved characters
 * sometimes escaped too, raw UTF-8 sometimes left raw (the signers must encode it). */
static void wire_encode(dr_buf *out, const char *s, const char *keep_raw)
{
    int lower = chance(30), escape_unreserved = chance(15), raw_utf8 = chance(20);
    const char *hex = lower ? "0123456789abcdef" : "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int raw = (is_unreserved(c) && !escape_unreserved) || (c >= 0x80 && raw_utf8) ||
                  (c && strchr(keep_raw, c));
        if (raw) {
            dr__buf_putc(out, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            dr__buf_append(out, esc, 3);
        }
    }
}

/* Wire path: segments encoded, '/' separators, sometimes doubled, sometimes trailing.
 * Sub-delimiters that RFC 3986 allows raw in a path are left raw at random. */
static void make_path(dr_buf *path)
{
    unsigned n = pick(6), i;
    dr__buf_putc(path, '/');
    for (i = 0; i < n; i++) {
        if (i)
            dr__buf_puts(path, chance(10) ? "//" : "/");
        wire_encode(path, PICK(path_segments), chance(50) ? "!$&'()*+,;=:@" : "");
    }
    if (n && chance(30))
        dr__buf_putc(path, '/');
}

static void make_query(dr_buf *wire, json_t *params)
{
    unsigned n = chance(40) ? 0 : 1 + pick(MAX_PARAMS), i;
    const char *repeat_key = NULL;
    for (i = 0; i < n; i++) {
        const char *key = (repeat_key && chance(40)) ? repeat_key : PICK(query_keys);
        const char *value = PICK(query_values);
        int valueless = value[0] == '\0' && key[0] != '\0' && chance(50);
        repeat_key = key;
        if (i)
            dr__buf_putc(wire, '&');
        wire_encode(wire, key, "");
        if (!valueless) {
            dr__buf_putc(wire, '=');
            wire_encode(wire, value, "");
        }
        json_array_append_new(params, json_pack("[ss]", key, value));
    }
}

static void make_headers(dr_sigv4_header *h, size_t *count)
{
    unsigned n = pick(7), i;
    size_t k = 0;
    static const char *const host_names[] = {"Host", "host", "HOST"};
    h[k].name = PICK(host_names);
    h[k++].value = PICK(hosts);
    for (i = 0; i < n && k < MAX_HEADERS; i++) {
        h[k].name = PICK(header_names);
        h[k++].value = PICK(header_values);
        if (chance(15) && k < MAX_HEADERS) { /* the same name again, other case */
            h[k].name = h[k - 1].name[0] == 'x' ? "X-Custom" : "x-custom";
            h[k++].value = PICK(header_values);
        }
    }
    *count = k;
}

static unsigned char *make_body(size_t *len)
{
    static const char json[] = "{\"TableName\":\"ratings\",\"Key\":{\"pk\":{\"S\":\"joke#1\"}}}";
    unsigned kind = pick(100);
    unsigned char *body;
    size_t i;
    if (kind < 30) {
        *len = 0;
        return NULL;
    }
    *len = kind < 60 ? sizeof(json) - 1 : kind < 99 ? 1 + pick(4096) : LARGE_BODY + pick(999);
    body = malloc(*len);
    for (i = 0; i < *len; i++)
        body[i] = kind < 60 ? (unsigned char)json[i] : (unsigned char)next_u64();
    return body;
}

static char *base64(const unsigned char *p, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return out;
}

static int64_t make_time(void)
{
    if (chance(70))
        return PICK(anchor_times) + (int64_t)pick(5) - 2; /* straddle the boundary */
    return (int64_t)(next_u64() % UINT64_C(4102444800));
}

static void random_secret(char *out, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = alphabet[pick(64)];
    out[n] = '\0';
}

static json_t *headers_json(const dr_sigv4_header *h, size_t n)
{
    json_t *a = json_array();
    size_t i;
    for (i = 0; i < n; i++)
        json_array_append_new(a, json_pack("[ss]", h[i].name, h[i].value));
    return a;
}

static int emit_one(dr_sigv4_signer *signer, unsigned id)
{
    dr_buf path = DR_BUF_INIT, query = DR_BUF_INIT;
    json_t *params = json_array(), *line;
    dr_sigv4_header headers[MAX_HEADERS];
    size_t header_count, body_len;
    unsigned char *body;
    char secret[41], token[81];
    dr_credentials creds;
    dr_sigv4_request req;
    dr_sigv4_params p;
    dr_sigv4_result res = DR_SIGV4_RESULT_INIT;
    char *body64, *text;
    json_error_t err;
    int s3 = chance(15), has_token = chance(50);
    dr_status rc;

    p.flags = chance(25) ? DR_SIGV4_PRESIGN : 0;
    if (s3)
        p.flags |= DR_SIGV4_S3;
    if (chance(10))
        p.flags |= DR_SIGV4_UNSIGNED_PAYLOAD;
    if (!(p.flags & DR_SIGV4_PRESIGN) && chance(20))
        p.flags |= DR_SIGV4_CONTENT_SHA256_HEADER;
    if (has_token && chance(15))
        p.flags |= DR_SIGV4_OMIT_SESSION_TOKEN;
    p.expires_in = 1 + pick(DR_SIGV4_MAX_EXPIRES);
    make_path(&path);
    make_query(&query, params);
    make_headers(headers, &header_count);
    body = make_body(&body_len);
    random_secret(secret, 40);
    random_secret(token, has_token ? 80 : 0);
    creds.access_key_id = (char[]){"AKIDEXAMPLE"};
    creds.secret_access_key = secret;
    creds.session_token = has_token ? token : NULL;
    creds.expires_at = 0;
    creds.refs = 1;
    p.creds = &creds;
    p.region = PICK(regions);
    p.service = PICK(services);
    p.unix_time = make_time();
    req.method = PICK(methods);
    req.path = dr__buf_cstr(&path);
    req.query = dr__buf_cstr(&query);
    req.headers = headers;
    req.header_count = header_count;
    req.body = body;
    req.body_len = body_len;

    rc = dr__sigv4_sign(signer, &req, &p, &res);
    if (rc != DR_OK) {
        fprintf(stderr, "request %u: our signer failed: %s\n", id, dr_last_error_message());
        return 0;
    }
    body64 = base64(body ? body : (const unsigned char *)"", body_len);
    line = json_pack_ex(&err, 0,
        "{sI ss ss ss so so ss s{ss ss ss?} ss ss sI sI sb sb sb sb sb ss ss}", "id",
        (json_int_t)id, "method", req.method, "path", req.path, "wire_query", req.query,
        "query", params, "headers", headers_json(headers, header_count), "body_base64",
        body64, "credentials", "accessKeyId", creds.access_key_id, "secretAccessKey",
        secret, "sessionToken", creds.session_token, "region", p.region, "service",
        p.service, "unix_time", (json_int_t)p.unix_time, "expires_in",
        (json_int_t)p.expires_in, "presign", (int)!!(p.flags & DR_SIGV4_PRESIGN), "s3", s3,
        "unsigned_payload", (int)!!(p.flags & DR_SIGV4_UNSIGNED_PAYLOAD),
        "content_sha256_header", (int)!!(p.flags & DR_SIGV4_CONTENT_SHA256_HEADER),
        "omit_session_token", (int)!!(p.flags & DR_SIGV4_OMIT_SESSION_TOKEN),
        "our_canonical_request", dr__buf_cstr(&res.canonical_request), "our_signature",
        res.signature);
    if (!line) {
        fprintf(stderr, "request %u: cannot build JSON: %s\n", id, err.text);
        return 0;
    }
    text = json_dumps(line, JSON_COMPACT);
    puts(text);
    free(text);
    json_decref(line);
    free(body64);
    free(body);
    dr__sigv4_result_free(&res);
    dr__buf_free(&path);
    dr__buf_free(&query);
    return 1;
}

int main(int argc, char **argv)
{
    dr_sigv4_signer *signer = NULL;
    unsigned count, i;

    if (argc != 3) {
        fprintf(stderr, "usage: %s SEED COUNT\n", argv[0]);
        return 2;
    }
    g_rng = strtoull(argv[1], NULL, 0);
    count = (unsigned)strtoul(argv[2], NULL, 10);
    if (dr__sigv4_signer_new(&signer) != DR_OK)
        return 1;
    for (i = 0; i < count; i++)
        if (!emit_one(signer, i)) {
            dr__sigv4_signer_free(signer);
            return 1;
        }
    dr__sigv4_signer_free(signer);
    return 0;
}
