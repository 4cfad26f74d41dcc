/* AWS Signature Version 4, as stages on a state (aws-c-auth source/aws_signing.c order):
 *
 *   validate -> date and scope -> payload hash -> collect headers (signed list)
 *   -> canonical request -> string to sign -> signature -> Authorization | presigned query
 *
 * AWS rules these functions follow (docs "Create a canonical request for Signature
 * Version 4", the aws-c-auth test suite, and what AWS's SDK signers do):
 *  - Path: split on '/', drop empty and "." segments, ".." pops one; a trailing '/' is
 *    kept. This is NOT RFC 3986 remove_dot_segments ("/a/." gives "/a", not "/a/"):
 *    aws-c-auth, smithy (JS v3) and botocore all do it this way, and the service checks
 *    what the SDKs send. Then every byte but unreserved and '/' is %XX-encoded, on top
 *    of the wire encoding ("double encoding"). S3 signs the wire path untouched.
 *  - Query: decode, encode each key and value per RFC 3986, sort by key then value.
 *  - Headers: lower-case names, values trimmed with inner runs of white space collapsed
 *    to one space (inside quotes too), repeated names joined with ',' in request order
 *    (values are not sorted), sorted by name.
 *  - Key: HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request". It is
 *    valid for one UTC day, so the signer caches the last one.
 *
 * Secrets: the secret key only ever sits in fixed-size arrays (the "AWS4" prefix buffer,
 * the cache entry, the derived keys) that are wiped after use; OpenSSL cleanses its own
 * HMAC contexts on free. The session token is not a signing secret (it travels in clear
 * in a header) but result buffers holding it are wiped when freed all the same.
 */
#include "sigv4.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "alloc.h"
#include "error.h"

#define SHA256_LEN 32
/* Scope parts are short by nature (regions like "ap-southeast-5", service signing names
 * like "dynamodb"); the bounds keep the key cache in fixed arrays with no allocation. */
#define MAX_SCOPE_PART 63
#if DR_REGION_MAX > MAX_SCOPE_PART
#error "the key cache cannot hold a region of DR_REGION_MAX characters"
#endif
#define MAX_ACCESS_KEY_ID 128
/* AWS secret keys are 40 characters; 256 leaves room for any other SigV4 service. */
#define MAX_SECRET 256
/* Latest representable X-Amz-Date: 9999-12-31T23:59:59Z. */
#define MAX_UNIX_TIME INT64_C(253402300799)

/* ------------------------------------------------------------------------------ */
/* Signer: OpenSSL objects fetched once, and a single-entry signing key cache.    */
/* ------------------------------------------------------------------------------ */

typedef struct key_cache_entry {
    int valid;
    char date[9];
    char region[MAX_SCOPE_PART + 1];
    char service[MAX_SCOPE_PART + 1];
    char access_key_id[MAX_ACCESS_KEY_ID + 1];
    /* The secret itself, so a changed secret under the same key id never reuses a
     * stale key; compared in constant time. */
    char secret[MAX_SECRET];
    size_t secret_len;
    unsigned char key[SHA256_LEN];
} key_cache_entry;

struct dr_sigv4_signer {
    /* Fetching an algorithm takes a lock inside OpenSSL 3; fetch once and duplicate. */
    EVP_MD *sha256;
    EVP_MAC_CTX *hmac_template; /* HMAC with digest SHA256 set, no key */
    pthread_mutex_t lock;
    int lock_ready;
    key_cache_entry cache;
#ifdef DR_TESTING
    uint64_t hits; /* test builds only: the cache's hit rate */
    uint64_t misses;
#endif
};

static dr_status openssl_failure(const char *what)
{
    return dr__fail(DR_E_INTERNAL, "sigv4: OpenSSL %s failed", what);
}

static dr_status make_hmac_template(dr_sigv4_signer *s)
{
    static char digest_name[] = "SHA256";
    OSSL_PARAM params[2];
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);

    if (!mac)
        return openssl_failure("HMAC fetch");
    s->hmac_template = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); /* the context keeps its own reference */
    if (!s->hmac_template)
        return openssl_failure("HMAC context");
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!EVP_MAC_CTX_set_params(s->hmac_template, params))
        return openssl_failure("HMAC digest");
    return DR_OK;
}

dr_status dr__sigv4_signer_new(dr_sigv4_signer **out)
{
    dr_sigv4_signer *s;
    dr_status rc;

    *out = NULL;
    s = dr__calloc(1, sizeof(*s));
    if (!s)
        return dr__fail(DR_E_NOMEM, "sigv4: out of memory");
    s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!s->sha256) {
        rc = openssl_failure("SHA256 fetch");
        goto fail;
    }
    rc = make_hmac_template(s);
    if (rc != DR_OK)
        goto fail;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        rc = dr__fail(DR_E_INTERNAL, "sigv4: cannot create a mutex");
        goto fail;
    }
    s->lock_ready = 1;
    *out = s;
    return DR_OK;
fail:
    dr__sigv4_signer_free(s);
    return rc;
}

void dr__sigv4_signer_free(dr_sigv4_signer *signer)
{
    if (!signer)
        return;
    dr__wipe(&signer->cache, sizeof(signer->cache));
    if (signer->lock_ready)
        pthread_mutex_destroy(&signer->lock);
    EVP_MAC_CTX_free(signer->hmac_template);
    EVP_MD_free(signer->sha256);
    dr__free(signer);
}

#ifdef DR_TESTING
void dr__sigv4_signer_clear(dr_sigv4_signer *signer)
{
    pthread_mutex_lock(&signer->lock);
    dr__wipe(&signer->cache, sizeof(signer->cache));
    pthread_mutex_unlock(&signer->lock);
}

void dr__sigv4_signer_cache_stats(dr_sigv4_signer *signer, uint64_t *hits, uint64_t *misses)
{
    pthread_mutex_lock(&signer->lock);
    *hits = signer->hits;
    *misses = signer->misses;
    pthread_mutex_unlock(&signer->lock);
}

int dr__sigv4_signer_has_key(dr_sigv4_signer *signer)
{
    int valid;
    pthread_mutex_lock(&signer->lock);
    valid = signer->cache.valid;
    pthread_mutex_unlock(&signer->lock);
    return valid;
}
#endif

static int sha256(const dr_sigv4_signer *s, const void *data, size_t n,
                  unsigned char out[SHA256_LEN])
{
    return EVP_Digest(data, n, out, NULL, s->sha256, NULL);
}

static int hmac_sha256(const dr_sigv4_signer *s, const unsigned char *key, size_t key_len,
                       const void *data, size_t n, unsigned char out[SHA256_LEN])
{
    size_t out_len = 0;
    int ok;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(s->hmac_template);

    if (!ctx)
        return 0;
    ok = EVP_MAC_init(ctx, key, key_len, NULL) && EVP_MAC_update(ctx, data, n) &&
         EVP_MAC_final(ctx, out, &out_len, SHA256_LEN) && out_len == SHA256_LEN;
    EVP_MAC_CTX_free(ctx); /* cleanses the keyed state */
    return ok;
}

/* ------------------------------------------------------------------------------ */
/* Signing key derivation and its cache                                           */
/* ------------------------------------------------------------------------------ */

static int cache_matches(const key_cache_entry *e, const char *date, const char *region,
                         const char *service, const dr_credentials *creds, size_t secret_len)
{
    return e->valid && strcmp(e->date, date) == 0 && strcmp(e->region, region) == 0 &&
           strcmp(e->service, service) == 0 &&
           strcmp(e->access_key_id, creds->access_key_id) == 0 &&
           e->secret_len == secret_len &&
           CRYPTO_memcmp(e->secret, creds->secret_access_key, secret_len) == 0;
}

/* Copies the cached key out (the lock is held for a few compares and 32 bytes). */
static int cache_lookup(dr_sigv4_signer *s, const char *date, const char *region,
                        const char *service, const dr_credentials *creds,
                        unsigned char key[SHA256_LEN])
{
    size_t secret_len = strlen(creds->secret_access_key);
    int hit;

    pthread_mutex_lock(&s->lock);
    hit = cache_matches(&s->cache, date, region, service, creds, secret_len);
    if (hit) {
        memcpy(key, s->cache.key, SHA256_LEN);
    }
#ifdef DR_TESTING
    if (hit)
        s->hits++;
    else
        s->misses++;
#endif
    pthread_mutex_unlock(&s->lock);
    return hit;
}

/* Replace the entry; the old key is wiped before the new one is written. Lengths were
 * validated against the array sizes. */
static void cache_store(dr_sigv4_signer *s, const char *date, const char *region,
                        const char *service, const dr_credentials *creds,
                        const unsigned char key[SHA256_LEN])
{
    key_cache_entry *e = &s->cache;

    pthread_mutex_lock(&s->lock);
    dr__wipe(e, sizeof(*e));
    memcpy(e->date, date, sizeof(e->date));
    strcpy(e->region, region);
    strcpy(e->service, service);
    strcpy(e->access_key_id, creds->access_key_id);
    e->secret_len = strlen(creds->secret_access_key);
    memcpy(e->secret, creds->secret_access_key, e->secret_len);
    memcpy(e->key, key, SHA256_LEN);
    e->valid = 1;
    pthread_mutex_unlock(&s->lock);
}

static dr_status derive_signing_key(const dr_sigv4_signer *s, const char *date,
                                    const char *region, const char *service,
                                    const char *secret, unsigned char key[SHA256_LEN])
{
    unsigned char seed[4 + MAX_SECRET];
    unsigned char k1[SHA256_LEN], k2[SHA256_LEN], k3[SHA256_LEN];
    size_t secret_len = strlen(secret);
    int ok;

    memcpy(seed, "AWS4", 4);
    memcpy(seed + 4, secret, secret_len);
    ok = hmac_sha256(s, seed, 4 + secret_len, date, strlen(date), k1) &&
         hmac_sha256(s, k1, SHA256_LEN, region, strlen(region), k2) &&
         hmac_sha256(s, k2, SHA256_LEN, service, strlen(service), k3) &&
         hmac_sha256(s, k3, SHA256_LEN, "aws4_request", 12, key);
    dr__wipe(seed, sizeof(seed));
    dr__wipe(k1, sizeof(k1));
    dr__wipe(k2, sizeof(k2));
    dr__wipe(k3, sizeof(k3));
    return ok ? DR_OK : openssl_failure("HMAC-SHA256");
}

static dr_status signing_key(dr_sigv4_signer *s, const char *date, const char *region,
                             const char *service, const dr_credentials *creds,
                             unsigned char key[SHA256_LEN])
{
    dr_status rc;

    if (cache_lookup(s, date, region, service, creds, key))
        return DR_OK;
    rc = derive_signing_key(s, date, region, service, creds->secret_access_key, key);
    if (rc == DR_OK)
        cache_store(s, date, region, service, creds, key);
    return rc;
}

/* ------------------------------------------------------------------------------ */
/* Encoding and canonical pieces                                                  */
/* ------------------------------------------------------------------------------ */

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

static void encode_byte(dr_buf *out, unsigned char c, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    char esc[3];

    if (is_unreserved(c) || (keep_slash && c == '/')) {
        dr__buf_putc(out, (char)c);
        return;
    }
    esc[0] = '%';
    esc[1] = hex[c >> 4];
    esc[2] = hex[c & 0xf];
    dr__buf_append(out, esc, 3);
}

void dr__sigv4_uri_encode(dr_buf *out, const char *s, size_t n, int keep_slash)
{
    size_t i;
    for (i = 0; i < n; i++)
        encode_byte(out, (unsigned char)s[i], keep_slash);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode %XX once, then encode: the canonical form of one query key or value. A '%'
 * not followed by two hex digits is a literal '%' (encoded as %25), as servers that
 * decode leniently read it. */
static void reencode_query_part(dr_buf *out, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && i + 2 < n) {
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (unsigned char)(hi << 4 | lo);
                i += 2;
            }
        }
        encode_byte(out, c, 0);
    }
}

/* Append "/seg" unless it is empty or "."; ".." removes the last one written. */
static void push_path_segment(dr_buf *out, size_t base, const char *seg, size_t n)
{
    if (n == 0 || (n == 1 && seg[0] == '.'))
        return;
    if (n == 2 && seg[0] == '.' && seg[1] == '.') {
        while (out->len > base && out->data[out->len - 1] != '/')
            out->len--;
        if (out->len > base)
            out->len--; /* the '/' itself */
        if (out->data)
            out->data[out->len] = '\0';
        return;
    }
    dr__buf_putc(out, '/');
    dr__buf_append(out, seg, n);
}

static void normalize_path(dr_buf *out, const char *path)
{
    size_t base = out->len, plen = strlen(path);
    const char *seg = path;

    for (;;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        push_path_segment(out, base, seg, n);
        if (!slash)
            break;
        seg = slash + 1;
    }
    if (out->len == base)
        dr__buf_putc(out, '/');
    else if (path[plen - 1] == '/')
        dr__buf_putc(out, '/');
}

void dr__sigv4_canonical_path(dr_buf *out, const char *path, uint32_t flags)
{
    dr_buf normalized = DR_BUF_INIT;

    if (!path || !*path)
        path = "/";
    if (!(flags & DR_SIGV4_NO_PATH_NORMALIZE)) {
        normalize_path(&normalized, path);
        if (normalized.failed) {
            out->failed = 1;
            return;
        }
        path = dr__buf_cstr(&normalized);
    }
    if (flags & DR_SIGV4_NO_DOUBLE_ENCODE)
        dr__buf_puts(out, path);
    else
        dr__sigv4_uri_encode(out, path, strlen(path), 1);
    dr__buf_free(&normalized);
}

static int is_ws(char c)
{
    /* CR and LF count: a folded (obs-fold) value reaches us with its line breaks. */
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void dr__sigv4_trim_value(dr_buf *out, const char *value)
{
    const char *p = value;
    int pending_space = 0;

    while (is_ws(*p))
        p++;
    for (; *p; p++) {
        if (is_ws(*p)) {
            pending_space = 1;
            continue;
        }
        if (pending_space)
            dr__buf_putc(out, ' ');
        pending_space = 0;
        dr__buf_putc(out, *p);
    }
}

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int has_prefix_ci(const char *name, const char *prefix)
{
    while (*prefix && ascii_lower((unsigned char)*name) == *prefix) {
        name++;
        prefix++;
    }
    return *prefix == '\0';
}

static int name_cmp(const char *a, const char *b)
{
    while (*a && ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b)) {
        a++;
        b++;
    }
    return ascii_lower((unsigned char)*a) - ascii_lower((unsigned char)*b);
}

int dr__sigv4_header_is_unsignable(const char *name)
{
    /* Hop-by-hop headers and ones that proxies, browsers and HTTP stacks add or rewrite
     * (libcurl adds Expect for large bodies, tracing adds X-Amzn-Trace-Id): signing them
     * would break the signature in transit. The list is smithy's ALWAYS_UNSIGNABLE_HEADERS
     * plus its proxy-* and sec-* patterns, which cover aws-c-auth's skip list. */
    static const char *const unsignable[] = {
        "authorization", "cache-control", "connection", "expect", "from",
        "keep-alive", "max-forwards", "pragma", "referer", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id"};
    size_t i;

    for (i = 0; i < sizeof(unsignable) / sizeof(unsignable[0]); i++)
        if (name_cmp(name, unsignable[i]) == 0)
            return 1;
    return has_prefix_ci(name, "proxy-") || has_prefix_ci(name, "sec-");
}

static void put_lower(dr_buf *out, const char *s)
{
    for (; *s; s++)
        dr__buf_putc(out, (char)ascii_lower((unsigned char)*s));
}

/* RFC 9110 token characters: what a method or a header name may contain. */
static int is_token(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!is_unreserved(c) && !strchr("!#$%&'*+^`|", c))
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------------------ */
/* Query parameters: encoded "key\0value\0" pairs in one buffer, sorted at the end  */
/* ------------------------------------------------------------------------------ */

typedef struct query_list {
    dr_buf text;
    size_t *offsets; /* key, value offsets into text, two per parameter */
    size_t count;
    size_t cap;
} query_list;

#define QUERY_LIST_INIT {DR_BUF_SECRET_INIT, NULL, 0, 0} /* may hold the session token */

typedef struct query_param {
    const char *key;
    const char *value;
} query_param;

/* SigV4's own parameters: a request that already carries one is being signed twice
 * or is forged, and the server would see two values (aws-c-auth's forbidden list). */
static const char *const reserved_params[] = {
    "X-Amz-Signature", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
    "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Security-Token"};

static void query_list_free(query_list *l)
{
    dr__buf_free_secret(&l->text); /* may hold the session token */
    dr__free(l->offsets);
}

/* Starts a parameter; the key is written next. */
static int query_list_begin(query_list *l)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        size_t *grown = dr__reallocarray(l->offsets, cap, 2 * sizeof(size_t));
        if (!grown)
            return 0;
        l->offsets = grown;
        l->cap = cap;
    }
    l->offsets[2 * l->count] = l->text.len;
    return 1;
}

/* Ends the key; the value is written next. */
static void query_list_value(query_list *l)
{
    dr__buf_putc(&l->text, '\0');
    l->offsets[2 * l->count + 1] = l->text.len;
}

static void query_list_end(query_list *l)
{
    dr__buf_putc(&l->text, '\0');
    l->count++;
}

static dr_status query_list_add(query_list *l, const char *key, const char *value)
{
    if (!query_list_begin(l))
        return dr__fail(DR_E_NOMEM, "sigv4: out of memory");
    dr__sigv4_uri_encode(&l->text, key, strlen(key), 0);
    query_list_value(l);
    dr__sigv4_uri_encode(&l->text, value, strlen(value), 0);
    query_list_end(l);
    return DR_OK;
}

/* One "key=value" (or "key", value empty) piece of a wire query. Empty pieces ("a&&b",
 * a trailing '&') carry no parameter and are skipped. */
static dr_status query_list_add_wire_piece(query_list *l, const char *p, size_t n)
{
    const char *eq = memchr(p, '=', n);
    size_t key_len = eq ? (size_t)(eq - p) : n;

    if (n == 0)
        return DR_OK;
    if (!query_list_begin(l))
        return dr__fail(DR_E_NOMEM, "sigv4: out of memory");
    reencode_query_part(&l->text, p, key_len);
    query_list_value(l);
    if (eq)
        reencode_query_part(&l->text, eq + 1, n - key_len - 1);
    query_list_end(l);
    return DR_OK;
}

static dr_status query_list_check_reserved(const query_list *l)
{
    size_t i, r;

    if (l->text.failed)
        return DR_OK; /* reported by the caller's dr__buf_ok */
    for (i = 0; i < l->count; i++) {
        const char *key = l->text.data + l->offsets[2 * i];
        for (r = 0; r < sizeof(reserved_params) / sizeof(reserved_params[0]); r++)
            if (name_cmp(key, reserved_params[r]) == 0)
                return dr__fail(DR_E_INVALID_ARGUMENT,
                                "sigv4: the query already has %s", reserved_params[r]);
    }
    return DR_OK;
}

static dr_status query_list_add_wire(query_list *l, const char *query)
{
    dr_status rc = DR_OK;

    while (query && *query && rc == DR_OK) {
        const char *amp = strchr(query, '&');
        size_t n = amp ? (size_t)(amp - query) : strlen(query);
        rc = query_list_add_wire_piece(l, query, n);
        query = amp ? amp + 1 : NULL;
    }
    return rc == DR_OK ? query_list_check_reserved(l) : rc;
}

static int query_param_cmp(const void *a, const void *b)
{
    const query_param *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* Sorted by encoded key, then encoded value (bytewise), joined with '&'. */
static dr_status query_list_write(const query_list *l, dr_buf *out)
{
    query_param *params;
    size_t i;

    if (l->text.failed)
        return dr__buf_ok(&l->text);
    if (l->count == 0)
        return DR_OK;
    params = dr__calloc(l->count, sizeof(*params));
    if (!params)
        return dr__fail(DR_E_NOMEM, "sigv4: out of memory");
    for (i = 0; i < l->count; i++) {
        params[i].key = l->text.data + l->offsets[2 * i];
        params[i].value = l->text.data + l->offsets[2 * i + 1];
    }
    qsort(params, l->count, sizeof(*params), query_param_cmp);
    for (i = 0; i < l->count; i++) {
        if (i)
            dr__buf_putc(out, '&');
        dr__buf_puts(out, params[i].key);
        dr__buf_putc(out, '=');
        dr__buf_puts(out, params[i].value);
    }
    dr__free(params);
    return DR_OK;
}

dr_status dr__sigv4_canonical_query(dr_buf *out, const char *query)
{
    query_list l = QUERY_LIST_INIT;
    dr_status rc = query_list_add_wire(&l, query);

    if (rc == DR_OK)
        rc = query_list_write(&l, out);
    query_list_free(&l);
    return rc;
}

/* ------------------------------------------------------------------------------ */
/* The signing state and its stages                                               */
/* ------------------------------------------------------------------------------ */

typedef struct canon_header {
    const char *name;  /* as given; compared and written lower-case */
    const char *value;
    size_t order;      /* position in the request: repeated names keep this order */
} canon_header;

typedef struct sigv4_state {
    dr_sigv4_signer *signer;
    const dr_sigv4_request *req;
    const dr_sigv4_params *p;
    dr_sigv4_result *res;
    char date[9];           /* yyyymmdd, the scope date */
    int sign_token;         /* the session token goes into the canonical request */
    canon_header *headers;  /* signed headers, sorted */
    size_t header_count;
    query_list query;
} sigv4_state;

/* 1..max unreserved characters: what a scope part (region, service) and an access key id,
 * which go into the scope and the Authorization header verbatim, may be. */
static int is_unreserved_word(const char *s, size_t max)
{
    size_t n = 0;
    if (!s || !*s)
        return 0;
    for (; s[n]; n++)
        if (!is_unreserved((unsigned char)s[n]))
            return 0;
    return n <= max;
}

static dr_status validate_credentials(const dr_credentials *c)
{
    size_t secret_len;

    if (!c || !is_unreserved_word(c->access_key_id, MAX_ACCESS_KEY_ID))
        return dr__fail(DR_E_INVALID_ARGUMENT,
                        "sigv4: missing or malformed access key id (at most %d of A-Z a-z "
                        "0-9 -._~)", MAX_ACCESS_KEY_ID);
    secret_len = c->secret_access_key ? strlen(c->secret_access_key) : 0;
    if (secret_len == 0 || secret_len > MAX_SECRET)
        return dr__fail(DR_E_INVALID_ARGUMENT,
                        "sigv4: the secret access key is empty or longer than %d bytes",
                        MAX_SECRET);
    return DR_OK;
}

int dr__region_is_valid(const char *region)
{
    size_t i, n = region ? strlen(region) : 0;
    if (n == 0 || n > DR_REGION_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (!((region[i] >= 'a' && region[i] <= 'z') || (region[i] >= '0' && region[i] <= '9') ||
              region[i] == '-'))
            return 0;
    return 1;
}

static dr_status stage_validate(const sigv4_state *st)
{
    const dr_sigv4_request *r = st->req;
    const dr_sigv4_params *p = st->p;
    dr_status rc = validate_credentials(p->creds);

    if (rc != DR_OK)
        return rc;
    if (!dr__region_is_valid(p->region))
        return dr__fail(DR_E_INVALID_ARGUMENT,
                        "sigv4: region must be 1..%d of a-z 0-9 -", DR_REGION_MAX);
    if (!is_unreserved_word(p->service, MAX_SCOPE_PART))
        return dr__fail(DR_E_INVALID_ARGUMENT,
                        "sigv4: service must be 1..%d of A-Z a-z 0-9 -._~", MAX_SCOPE_PART);
    if (!is_token(r->method))
        return dr__fail(DR_E_INVALID_ARGUMENT, "sigv4: missing or malformed method");
    if (r->path && *r->path && r->path[0] != '/')
        return dr__fail(DR_E_INVALID_ARGUMENT, "sigv4: the path must start with '/'");
    if (r->body_len && !r->body)
        return dr__fail(DR_E_INVALID_ARGUMENT, "sigv4: body_len without a body");
    if (r->header_count && !r->headers)
        return dr__fail(DR_E_INVALID_ARGUMENT, "sigv4: header_count without headers");
    if ((p->flags & DR_SIGV4_PRESIGN) &&
        (p->expires_in == 0 || p->expires_in > DR_SIGV4_MAX_EXPIRES))
        return dr__fail(DR_E_INVALID_ARGUMENT, "sigv4: expires_in must be 1..%u seconds",
                        DR_SIGV4_MAX_EXPIRES);
    if ((p->flags & DR_SIGV4_PRESIGN) && (p->flags & DR_SIGV4_CONTENT_SHA256_HEADER))
        return dr__fail(DR_E_INVALID_ARGUMENT,
                        "sigv4: x-amz-content-sha256 is a header-signing option");
    return DR_OK;
}

static void put_digits(char *p, int value, int width)
{
    while (width--) {
        p[width] = (char)('0' + value % 10);
        value /= 10;
    }
}

/* "YYYYMMDDTHHMMSSZ"; the caller bounded the year to 0..9999. */
static void format_amz_date(const struct tm *tm, char out[DR_SIGV4_AMZ_DATE_LEN + 1])
{
    put_digits(out, tm->tm_year + 1900, 4);
    put_digits(out + 4, tm->tm_mon + 1, 2);
    put_digits(out + 6, tm->tm_mday, 2);
    out[8] = 'T';
    put_digits(out + 9, tm->tm_hour, 2);
    put_digits(out + 11, tm->tm_min, 2);
    put_digits(out + 13, tm->tm_sec, 2);
    out[15] = 'Z';
    out[16] = '\0';
}

static dr_status stage_date_and_scope(sigv4_state *st)
{
    time_t t;
    struct tm tm;

    if (st->p->unix_time < 0 || st->p->unix_time > MAX_UNIX_TIME)
        return dr__fail(DR_E_INVALID_ARGUMENT, "sigv4: signing time out of range");
    t = (time_t)st->p->unix_time;
    if (!gmtime_r(&t, &tm))
        return dr__fail(DR_E_INVALID_ARGUMENT, "sigv4: signing time out of range");
    format_amz_date(&tm, st->res->amz_date);
    memcpy(st->date, st->res->amz_date, 8);
    st->date[8] = '\0';
    dr__buf_printf(&st->res->scope, "%s/%s/%s/aws4_request", st->date, st->p->region,
                   st->p->service);
    return dr__buf_ok(&st->res->scope);
}

static dr_status stage_payload_hash(sigv4_state *st)
{
    unsigned char digest[SHA256_LEN];
    dr_buf hex = DR_BUF_INIT;
    const void *body = st->req->body_len ? st->req->body : "";

    if (st->p->flags & DR_SIGV4_UNSIGNED_PAYLOAD) {
        strcpy(st->res->payload_hash, DR_SIGV4_UNSIGNED_PAYLOAD_HASH);
        return DR_OK;
    }
    if (!sha256(st->signer, body, st->req->body_len, digest))
        return openssl_failure("SHA-256");
    dr__buf_hex(&hex, digest, SHA256_LEN);
    if (hex.failed)
        return dr__buf_ok(&hex);
    memcpy(st->res->payload_hash, hex.data, 65);
    dr__buf_free(&hex);
    return DR_OK;
}

/* Headers the signer writes itself; the caller must not pass them. */
static int is_signer_owned_header(const char *name)
{
    return name_cmp(name, "authorization") == 0 || name_cmp(name, "x-amz-date") == 0 ||
           name_cmp(name, "x-amz-security-token") == 0 ||
           name_cmp(name, "x-amz-content-sha256") == 0;
}

static int canon_header_cmp(const void *a, const void *b)
{
    const canon_header *x = a, *y = b;
    int c = name_cmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void add_header(sigv4_state *st, const char *name, const char *value)
{
    canon_header *h = &st->headers[st->header_count];
    h->name = name;
    h->value = value;
    h->order = st->header_count++;
}

static dr_status add_request_headers(sigv4_state *st)
{
    const dr_sigv4_request *r = st->req;
    int has_host = 0;
    size_t i;

    for (i = 0; i < r->header_count; i++) {
        const dr_sigv4_header *h = &r->headers[i];
        if (!is_token(h->name) || !h->value)
            return dr__fail(DR_E_INVALID_ARGUMENT,
                            "sigv4: header %zu has a malformed name or no value", i);
        if (is_signer_owned_header(h->name))
            return dr__fail(DR_E_INVALID_ARGUMENT,
                            "sigv4: header %s is written by the signer", h->name);
        if (name_cmp(h->name, "host") == 0)
            has_host = 1;
        if (!dr__sigv4_header_is_unsignable(h->name))
            add_header(st, h->name, h->value);
    }
    if (!has_host)
        return dr__fail(DR_E_INVALID_ARGUMENT, "sigv4: the request has no host header");
    return DR_OK;
}

/* Collect what gets signed, sort it, and write the signed-headers list, which the
 * presigned query needs before the canonical request is assembled. */
static dr_status stage_signed_headers(sigv4_state *st)
{
    int header_form = !(st->p->flags & DR_SIGV4_PRESIGN);
    dr_status rc;
    size_t i;

    /* +3: x-amz-date, x-amz-security-token, x-amz-content-sha256 */
    st->headers = dr__calloc(st->req->header_count + 3, sizeof(*st->headers));
    if (!st->headers)
        return dr__fail(DR_E_NOMEM, "sigv4: out of memory");
    rc = add_request_headers(st);
    if (rc != DR_OK)
        return rc;
    /* In the query form these travel as X-Amz-* parameters instead. */
    if (header_form) {
        add_header(st, "x-amz-date", st->res->amz_date);
        if (st->sign_token)
            add_header(st, "x-amz-security-token", st->p->creds->session_token);
        if (st->p->flags & DR_SIGV4_CONTENT_SHA256_HEADER)
            add_header(st, "x-amz-content-sha256", st->res->payload_hash);
    }
    qsort(st->headers, st->header_count, sizeof(*st->headers), canon_header_cmp);
    for (i = 0; i < st->header_count; i++) {
        if (i && name_cmp(st->headers[i - 1].name, st->headers[i].name) == 0)
            continue;
        if (i)
            dr__buf_putc(&st->res->signed_headers, ';');
        put_lower(&st->res->signed_headers, st->headers[i].name);
    }
    return dr__buf_ok(&st->res->signed_headers);
}

/* "name:v1,v2\n" per distinct name, values trimmed, in sorted name order. */
static void write_canonical_headers(const sigv4_state *st, dr_buf *out)
{
    size_t i;

    for (i = 0; i < st->header_count; i++) {
        const canon_header *h = &st->headers[i];
        int continues = i && name_cmp(st->headers[i - 1].name, h->name) == 0;
        if (continues) {
            dr__buf_putc(out, ',');
        } else {
            if (i)
                dr__buf_putc(out, '\n');
            put_lower(out, h->name);
            dr__buf_putc(out, ':');
        }
        dr__sigv4_trim_value(out, h->value);
    }
    if (st->header_count)
        dr__buf_putc(out, '\n');
}

/* The query form's X-Amz-* parameters, all signed except X-Amz-Signature. */
static dr_status add_presign_params(sigv4_state *st)
{
    char expires[16];
    dr_buf credential = DR_BUF_INIT;
    dr_status rc;

    dr__buf_printf(&credential, "%s/%s", st->p->creds->access_key_id,
                   dr__buf_cstr(&st->res->scope));
    rc = dr__buf_ok(&credential);
    snprintf(expires, sizeof(expires), "%u", (unsigned)st->p->expires_in);
    if (rc == DR_OK)
        rc = query_list_add(&st->query, "X-Amz-Algorithm", DR_SIGV4_ALGORITHM);
    if (rc == DR_OK)
        rc = query_list_add(&st->query, "X-Amz-Credential", credential.data);
    if (rc == DR_OK)
        rc = query_list_add(&st->query, "X-Amz-Date", st->res->amz_date);
    if (rc == DR_OK)
        rc = query_list_add(&st->query, "X-Amz-Expires", expires);
    if (rc == DR_OK)
        rc = query_list_add(&st->query, "X-Amz-SignedHeaders",
                            dr__buf_cstr(&st->res->signed_headers));
    if (rc == DR_OK && st->sign_token)
        rc = query_list_add(&st->query, "X-Amz-Security-Token",
                            st->p->creds->session_token);
    dr__buf_free(&credential);
    return rc;
}

/* The canonical query. In the query form it is also the start of the wire query. */
static dr_status write_canonical_query(sigv4_state *st, dr_buf *out)
{
    dr_status rc = query_list_add_wire(&st->query, st->req->query);

    if (rc == DR_OK && (st->p->flags & DR_SIGV4_PRESIGN))
        rc = add_presign_params(st);
    if (rc == DR_OK)
        rc = query_list_write(&st->query, out);
    return rc;
}

static dr_status stage_canonical_request(sigv4_state *st)
{
    dr_buf *cr = &st->res->canonical_request;
    dr_buf *query = &st->res->presigned_query; /* kept in the query form, reset after */
    dr_status rc = write_canonical_query(st, query);

    if (rc != DR_OK)
        return rc;
    dr__buf_puts(cr, st->req->method);
    dr__buf_putc(cr, '\n');
    dr__sigv4_canonical_path(cr, st->req->path, st->p->flags);
    dr__buf_putc(cr, '\n');
    dr__buf_append(cr, dr__buf_cstr(query), query->len);
    dr__buf_putc(cr, '\n');
    write_canonical_headers(st, cr);
    dr__buf_putc(cr, '\n');
    dr__buf_append(cr, dr__buf_cstr(&st->res->signed_headers), st->res->signed_headers.len);
    dr__buf_putc(cr, '\n');
    dr__buf_puts(cr, st->res->payload_hash);
    if (!(st->p->flags & DR_SIGV4_PRESIGN))
        dr__buf_reset(query);
    rc = dr__buf_ok(query);
    return rc == DR_OK ? dr__buf_ok(cr) : rc;
}

static dr_status stage_string_to_sign(sigv4_state *st)
{
    unsigned char digest[SHA256_LEN];
    dr_buf *sts = &st->res->string_to_sign;

    if (!sha256(st->signer, st->res->canonical_request.data, st->res->canonical_request.len,
                digest))
        return openssl_failure("SHA-256");
    dr__buf_printf(sts, DR_SIGV4_ALGORITHM "\n%s\n%s\n", st->res->amz_date,
                   dr__buf_cstr(&st->res->scope));
    dr__buf_hex(sts, digest, SHA256_LEN);
    return dr__buf_ok(sts);
}

static dr_status stage_signature(sigv4_state *st)
{
    unsigned char key[SHA256_LEN], mac[SHA256_LEN];
    static const char hex[] = "0123456789abcdef";
    dr_status rc;
    size_t i;

    rc = signing_key(st->signer, st->date, st->p->region, st->p->service, st->p->creds, key);
    if (rc == DR_OK && !hmac_sha256(st->signer, key, SHA256_LEN, st->res->string_to_sign.data,
                                    st->res->string_to_sign.len, mac))
        rc = openssl_failure("HMAC-SHA256");
    dr__wipe(key, sizeof(key));
    if (rc != DR_OK)
        return rc;
    for (i = 0; i < SHA256_LEN; i++) {
        st->res->signature[2 * i] = hex[mac[i] >> 4];
        st->res->signature[2 * i + 1] = hex[mac[i] & 0xf];
    }
    st->res->signature[2 * SHA256_LEN] = '\0';
    return DR_OK;
}

static dr_status stage_authorization(sigv4_state *st)
{
    dr__buf_printf(&st->res->authorization,
                   DR_SIGV4_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                   st->p->creds->access_key_id, dr__buf_cstr(&st->res->scope),
                   dr__buf_cstr(&st->res->signed_headers), st->res->signature);
    return dr__buf_ok(&st->res->authorization);
}

/* The canonical query is a valid wire query (every part encoded exactly once); the
 * signature, and an omitted session token, are added after it. */
static dr_status stage_presigned_query(sigv4_state *st)
{
    dr_buf *q = &st->res->presigned_query;
    const char *token = st->p->creds->session_token;

    if (q->len)
        dr__buf_putc(q, '&');
    dr__buf_printf(q, "X-Amz-Signature=%s", st->res->signature);
    if (token && *token && !st->sign_token) {
        dr__buf_puts(q, "&X-Amz-Security-Token=");
        dr__sigv4_uri_encode(q, token, strlen(token), 0);
    }
    return dr__buf_ok(q);
}

void dr__sigv4_result_free(dr_sigv4_result *r)
{
    dr__buf_free(&r->scope);
    dr__buf_free_secret(&r->canonical_request);
    dr__buf_free(&r->signed_headers);
    dr__buf_free(&r->string_to_sign);
    dr__buf_free(&r->authorization);
    dr__buf_free_secret(&r->presigned_query);
    r->amz_date[0] = r->payload_hash[0] = r->signature[0] = '\0';
}

static dr_status run_stages(sigv4_state *st)
{
    dr_status rc = stage_validate(st);
    const char *token;

    if (rc != DR_OK)
        return rc;
    token = st->p->creds->session_token;
    st->sign_token = token && *token && !(st->p->flags & DR_SIGV4_OMIT_SESSION_TOKEN);
    if ((rc = stage_date_and_scope(st)) != DR_OK || (rc = stage_payload_hash(st)) != DR_OK ||
        (rc = stage_signed_headers(st)) != DR_OK ||
        (rc = stage_canonical_request(st)) != DR_OK ||
        (rc = stage_string_to_sign(st)) != DR_OK || (rc = stage_signature(st)) != DR_OK)
        return rc;
    return (st->p->flags & DR_SIGV4_PRESIGN) ? stage_presigned_query(st)
                                              : stage_authorization(st);
}

dr_status dr__sigv4_sign(dr_sigv4_signer *signer, const dr_sigv4_request *req,
                         const dr_sigv4_params *params, dr_sigv4_result *result)
{
    sigv4_state st;
    dr_status rc;

    if (!signer || !req || !params || !result)
        return dr__fail(DR_E_INVALID_ARGUMENT, "sigv4: NULL argument");
    memset(&st, 0, sizeof(st));
    st.signer = signer;
    st.req = req;
    st.p = params;
    st.res = result;
    st.query = (query_list)QUERY_LIST_INIT;
    rc = run_stages(&st);
    dr__free(st.headers);
    query_list_free(&st.query);
    if (rc != DR_OK)
        dr__sigv4_result_free(result);
    return rc;
}

/* The headers dr__sigv4_sign_http sets; a request signed before holds them. */
static const char *const signer_headers[] = {"Authorization", "X-Amz-Date",
                                             "X-Amz-Security-Token", "x-amz-content-sha256"};

dr_status dr__sigv4_sign_http(dr_sigv4_signer *signer, const dr_sigv4_params *params,
                              dr_http_request *req)
{
    dr_sigv4_result res = DR_SIGV4_RESULT_INIT;
    dr_buf target = DR_BUF_INIT; /* "path\0query\0" */
    const char *path, *query;
    size_t path_len, query_len, i;
    dr_sigv4_request sreq;
    dr_status rc;

    for (i = 0; i < sizeof signer_headers / sizeof *signer_headers; i++)
        dr__http_request_remove_header(req, signer_headers[i]);
    if (params->flags & DR_SIGV4_PRESIGN)
        return dr__fail(DR_E_INVALID_ARGUMENT, "sign_http signs headers; presign with "
                                               "dr__sigv4_sign");
    dr__http_url_target(req->url, &path, &path_len, &query, &query_len);
    dr__buf_append(&target, path, path_len);
    dr__buf_putc(&target, '\0');
    dr__buf_append(&target, query, query_len);
    if ((rc = dr__buf_ok(&target)) != DR_OK)
        return rc;

    sreq.method = req->method;
    sreq.path = target.data;
    sreq.query = target.data + path_len + 1;
    sreq.headers = req->headers;
    sreq.header_count = req->header_count;
    sreq.body = req->body;
    sreq.body_len = req->body_len;
    rc = dr__sigv4_sign(signer, &sreq, params, &res);
    dr__buf_free(&target);
    if (rc != DR_OK)
        return rc;

    rc = dr__http_request_set_header(req, "X-Amz-Date", res.amz_date);
    if (rc == DR_OK && params->creds->session_token && *params->creds->session_token)
        rc = dr__http_request_set_header(req, "X-Amz-Security-Token",
                                         params->creds->session_token);
    if (rc == DR_OK && (params->flags & DR_SIGV4_CONTENT_SHA256_HEADER))
        rc = dr__http_request_set_header(req, "x-amz-content-sha256", res.payload_hash);
    if (rc == DR_OK)
        rc = dr__http_request_set_header(req, "Authorization", dr__buf_cstr(&res.authorization));
    dr__sigv4_result_free(&res);
    if (rc != DR_OK)
        for (i = 0; i < sizeof signer_headers / sizeof *signer_headers; i++)
            dr__http_request_remove_header(req, signer_headers[i]);
    return rc;
}
