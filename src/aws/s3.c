/* S3 ListObjectsV2, GetObject and PutObject (s3.h). */
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "credentials_provider.h"
#include "error.h"
#include "retry.h"
#include "s3.h"
#include "sts.h"

/* GET and PUT of the import are idempotent: a failed attempt may be sent again. */
#define S3_MAX_ATTEMPTS 3u
/* An error answer is a small XML document; more is not read. */
#define S3_MAX_ERROR_RESPONSE ((size_t)64 * 1024)

void dr__s3_list_page_free(dr_s3_list_page *page)
{
    size_t i;
    if (!page)
        return;
    for (i = 0; i < page->count; i++)
        dr__free(page->objects[i].key);
    dr__free(page->objects);
    dr__free(page->next_token);
    memset(page, 0, sizeof *page);
}

static int is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int bucket_chars_ok(const char *bucket, int allow_dot)
{
    size_t n = bucket ? strlen(bucket) : 0, i;
    if (n < 3 || n > 63 || !is_lower_alnum(bucket[0]) || !is_lower_alnum(bucket[n - 1]))
        return 0;
    for (i = 0; i < n; i++)
        if (!is_lower_alnum(bucket[i]) && bucket[i] != '-' && !(allow_dot && bucket[i] == '.'))
            return 0;
    return 1;
}

int dr__s3_bucket_is_virtual_hostable(const char *bucket)
{
    return bucket_chars_ok(bucket, 0);
}

int dr__s3_bucket_is_valid(const char *bucket)
{
    return bucket_chars_ok(bucket, 1);
}

dr_status dr__s3_object_url(const dr_s3_client *s3, const char *bucket, const char *key,
                            const char *query, dr_buf *url)
{
    dr_url_parts parts;
    dr_status rc;

    if (!dr__s3_bucket_is_valid(bucket))
        return dr__fail(DR_E_INVALID_ARGUMENT, "S3 bucket: not a valid bucket name");
    if (!s3->path_style && !dr__s3_bucket_is_virtual_hostable(bucket))
        return dr__fail(DR_E_INVALID_ARGUMENT,
                        "S3 bucket %s: virtual-hosted addressing needs a name without dots "
                        "(use path-style addressing)", bucket);
    if ((rc = dr__url_parse(s3->endpoint, &parts)) != DR_OK)
        return dr__fail_context(DR_E_INVALID_ARGUMENT, "S3 endpoint");
    if (strcmp(parts.path, "/") != 0)
        return dr__fail(DR_E_INVALID_ARGUMENT, "S3 endpoint: must not have a path");
    dr__buf_reset(url);
    dr__buf_printf(url, "%s://", parts.scheme);
    if (!s3->path_style)
        dr__buf_printf(url, "%s.", bucket);
    dr__url_host_header(&parts, url);
    if (s3->path_style)
        dr__buf_printf(url, "/%s", bucket);
    dr__buf_putc(url, '/');
    if (key)
        dr__sigv4_uri_encode(url, key, strlen(key), 1);
    if (query && *query) {
        dr__buf_putc(url, '?');
        dr__buf_puts(url, query);
    }
    return dr__buf_ok(url);
}

static void query_param(dr_buf *query, const char *name, const char *value)
{
    if (!value || !*value)
        return;
    dr__buf_printf(query, "&%s=", name);
    dr__sigv4_uri_encode(query, value, strlen(value), 0);
}

dr_status dr__s3_list_query(const dr_s3_list_args *args, dr_buf *query)
{
    uint32_t max_keys = args->max_keys;
    dr__buf_reset(query);
    dr__buf_puts(query, "list-type=2");
    query_param(query, "continuation-token", args->token);
    if (max_keys > DR_S3_MAX_KEYS_PER_PAGE)
        max_keys = DR_S3_MAX_KEYS_PER_PAGE;
    if (max_keys)
        dr__buf_printf(query, "&max-keys=%u", (unsigned)max_keys);
    query_param(query, "prefix", args->prefix);
    query_param(query, "start-after", args->start_after);
    return dr__buf_ok(query);
}

/* --- the listing's XML ----------------------------------------------------------- */

enum { F_KEY, F_SIZE, F_MODIFIED, N_RECORD_FIELDS };
enum { F_TRUNCATED, F_TOKEN, N_PAGE_FIELDS };

static int parse_size(const dr_buf *text, uint64_t *out)
{
    const char *s = dr__buf_cstr(text);
    uint64_t v = 0;
    if (!*s)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 1;
}

static dr_status add_object(void *ctx, const dr_xml_field *fields, size_t count)
{
    dr_s3_list_page *page = ctx;
    dr_s3_object obj;
    (void)count;

    memset(&obj, 0, sizeof obj);

    if (!fields[F_KEY].found || fields[F_KEY].value->len == 0)
        return dr__fail(DR_E_PROTOCOL, "S3 listing: a Contents without a Key");
    if (fields[F_KEY].value->len > DR_S3_MAX_KEY ||
        memchr(fields[F_KEY].value->data, '\0', fields[F_KEY].value->len))
        return dr__fail(DR_E_PROTOCOL, "S3 listing: a Key that is not an S3 key");
    if (fields[F_SIZE].found && !parse_size(fields[F_SIZE].value, &obj.size))
        return dr__fail(DR_E_PROTOCOL, "S3 listing: a Size that is not a number");
    if (fields[F_MODIFIED].value->len >= sizeof obj.last_modified ||
        (fields[F_MODIFIED].value->len &&
         memchr(fields[F_MODIFIED].value->data, '\0', fields[F_MODIFIED].value->len)))
        return dr__fail(DR_E_PROTOCOL, "S3 listing: a LastModified that is not a time");
    memcpy(obj.last_modified, dr__buf_cstr(fields[F_MODIFIED].value),
           fields[F_MODIFIED].value->len + 1);
    if (page->count == page->cap) {
        size_t cap = page->cap ? page->cap * 2 : 64;
        dr_s3_object *grown = dr__reallocarray(page->objects, cap, sizeof *grown);
        if (!grown)
            return DR_E_NOMEM;
        page->objects = grown;
        page->cap = cap;
    }
    if (!(obj.key = dr__strndup(fields[F_KEY].value->data, fields[F_KEY].value->len)))
        return DR_E_NOMEM;
    page->objects[page->count++] = obj;
    return DR_OK;
}

dr_status dr__s3_parse_list(const char *xml, size_t len, dr_s3_list_page *page)
{
    dr_buf values[N_PAGE_FIELDS + N_RECORD_FIELDS];
    dr_xml_field fields[N_PAGE_FIELDS] = {{"ListBucketResult/IsTruncated", NULL, 0},
                                          {"ListBucketResult/NextContinuationToken", NULL, 0}};
    dr_xml_field record[N_RECORD_FIELDS] = {{"Contents/Key", NULL, 0},
                                            {"Contents/Size", NULL, 0},
                                            {"Contents/LastModified", NULL, 0}};
    dr_xml_records records = {"ListBucketResult/Contents", NULL, N_RECORD_FIELDS, add_object,
                              NULL};
    const char *truncated;
    dr_status rc;
    size_t i;

    dr__s3_list_page_free(page);
    for (i = 0; i < N_PAGE_FIELDS + N_RECORD_FIELDS; i++) {
        dr_buf init = DR_BUF_INIT;
        values[i] = init;
    }
    for (i = 0; i < N_PAGE_FIELDS; i++)
        fields[i].value = &values[i];
    for (i = 0; i < N_RECORD_FIELDS; i++)
        record[i].value = &values[N_PAGE_FIELDS + i];
    records.fields = record;
    records.ctx = page;
    rc = dr__xml_extract_records(xml, len, fields, N_PAGE_FIELDS, &records);
    if (rc == DR_E_PROTOCOL)
        rc = dr__fail_context(DR_E_PROTOCOL, "S3 listing");
    truncated = dr__buf_cstr(&values[F_TRUNCATED]);
    if (rc == DR_OK && fields[F_TRUNCATED].found && strcmp(truncated, "true") != 0 &&
        strcmp(truncated, "false") != 0)
        rc = dr__fail(DR_E_PROTOCOL, "S3 listing: IsTruncated is neither true nor false");
    if (rc == DR_OK && (page->is_truncated = strcmp(truncated, "true") == 0)) {
        if (!fields[F_TOKEN].found || values[F_TOKEN].len == 0)
            rc = dr__fail(DR_E_PROTOCOL, "S3 listing: truncated without a "
                                         "NextContinuationToken");
        else if (!(page->next_token = dr__buf_detach(&values[F_TOKEN])))
            rc = DR_E_NOMEM;
    }
    for (i = 0; i < N_PAGE_FIELDS + N_RECORD_FIELDS; i++)
        dr__buf_free(&values[i]);
    if (rc != DR_OK)
        dr__s3_list_page_free(page);
    return rc;
}

/* --- requests -------------------------------------------------------------------- */

typedef struct s3_call {
    const dr_s3_client *s3;
    const char *operation; /* "ListObjectsV2", for messages */
    const char *method;
    const char *bucket;
    const char *key;       /* NULL: the bucket */
    const char *query;
    const void *body;
    size_t body_len;
    size_t max_bytes;
} s3_call;

static dr_status service_failure(const s3_call *call, const dr_http_response *resp,
                                 int *retryable)
{
    char code[128], message[512];
    dr_status kind = DR_E_SERVICE;

    if (!dr__sts_parse_error(dr__buf_cstr(&resp->body), resp->body.len, code, sizeof code,
                             message, sizeof message))
        strcpy(code, "(no S3 error document)");
    *retryable = resp->status >= 500 || resp->status == 429;
    if (strcmp(code, "NoSuchKey") == 0 || strcmp(code, "NoSuchBucket") == 0 ||
        resp->status == 404)
        kind = DR_E_NOT_FOUND;
    else if (resp->status == 403)
        kind = DR_E_AUTH;
    else if (strcmp(code, "SlowDown") == 0 || resp->status == 503 || resp->status == 429)
        kind = DR_E_THROTTLED;
    return dr__fail(kind, "S3 %s s3://%s/%s: HTTP %ld %s%s%s", call->operation, call->bucket,
                    call->key ? call->key : "", resp->status, code, message[0] ? ": " : "",
                    message);
}

static dr_status attempt(const s3_call *call, const char *url, dr_buf *body, int *retryable)
{
    const dr_s3_client *s3 = call->s3;
    dr_http_request req = DR_HTTP_REQUEST_INIT;
    dr_http_response resp = DR_HTTP_RESPONSE_INIT;
    dr_credentials *creds = NULL;
    dr_buf host = DR_BUF_INIT;
    dr_url_parts parts;
    dr_sigv4_params params;
    dr_status rc;

    *retryable = 0;
    req.method = call->method;
    req.url = url;
    req.body = call->body;
    req.body_len = call->body_len;
    req.connect_timeout_ms = s3->connect_timeout_ms;
    req.timeout_ms = s3->timeout_ms;
    req.max_response_bytes = call->max_bytes;
    if ((rc = dr__url_parse(url, &parts)) != DR_OK)
        return rc;
    dr__url_host_header(&parts, &host);
    if ((rc = dr__buf_ok(&host)) != DR_OK ||
        (rc = dr__http_request_set_header(&req, "Host", dr__buf_cstr(&host))) != DR_OK ||
        (call->body && (rc = dr__http_request_set_header(&req, "Content-Type",
                                                         "application/json")) != DR_OK) ||
        (rc = dr__credentials_chain_get(s3->credentials, &creds)) != DR_OK)
        goto done;
    memset(&params, 0, sizeof params);
    params.creds = creds;
    params.region = s3->region;
    params.service = "s3";
    params.unix_time = (int64_t)time(NULL);
    params.flags = DR_SIGV4_S3 | DR_SIGV4_CONTENT_SHA256_HEADER;
    if ((rc = dr__sigv4_sign_http(s3->signer, &params, &req)) != DR_OK)
        goto done;
    rc = dr__http_perform(s3->pool, &req, &resp);
    if (rc == DR_E_NETWORK || rc == DR_E_TIMEOUT || rc == DR_E_PROTOCOL) {
        /* DR_E_PROTOCOL: the answer exceeded max_bytes, which no retry changes. */
        *retryable = rc != DR_E_PROTOCOL;
        rc = dr__fail_context(rc, "S3 %s s3://%s/%s", call->operation, call->bucket,
                              call->key ? call->key : "");
    } else if (rc == DR_OK && (resp.status < 200 || resp.status > 299)) {
        rc = service_failure(call, &resp, retryable);
    } else if (rc == DR_OK && body) {
        dr__buf_reset(body);
        dr__buf_append(body, resp.body.data, resp.body.len);
        rc = dr__buf_ok(body);
    }
done:
    dr__credentials_release(creds);
    dr__http_request_free(&req);
    dr__http_response_free(&resp);
    dr__buf_free(&host);
    return rc;
}

static dr_status call_run(const s3_call *call, dr_buf *body)
{
    dr_buf url = DR_BUF_INIT;
    uint32_t n;
    int retryable = 0;
    dr_status rc = dr__s3_object_url(call->s3, call->bucket, call->key, call->query, &url);

    for (n = 1; rc == DR_OK; n++) {
        rc = attempt(call, dr__buf_cstr(&url), body, &retryable);
        if (rc == DR_OK || !retryable || n == S3_MAX_ATTEMPTS)
            break;
        dr__metadata_backoff(n + 1);
        rc = DR_OK;
    }
    dr__buf_free(&url);
    return rc;
}

dr_status dr__s3_list_objects(const dr_s3_client *s3, const char *bucket,
                              const dr_s3_list_args *args, dr_s3_list_page *page)
{
    s3_call call = {NULL, "ListObjectsV2", "GET", NULL, NULL, NULL, NULL, 0,
                    DR_S3_MAX_LIST_RESPONSE};
    dr_buf query = DR_BUF_INIT, body = DR_BUF_INIT;
    dr_status rc;

    call.s3 = s3;
    call.bucket = bucket;
    if ((rc = dr__s3_list_query(args, &query)) == DR_OK) {
        call.query = dr__buf_cstr(&query);
        rc = call_run(&call, &body);
    }
    if (rc == DR_OK && (rc = dr__s3_parse_list(body.data, body.len, page)) == DR_E_PROTOCOL)
        rc = dr__fail_context(DR_E_PROTOCOL, "S3 ListObjectsV2 s3://%s/%s", bucket,
                              args->prefix ? args->prefix : "");
    dr__buf_free(&query);
    dr__buf_free(&body);
    return rc;
}

dr_status dr__s3_get_object(const dr_s3_client *s3, const char *bucket, const char *key,
                            size_t max_bytes, dr_buf *body)
{
    s3_call call = {NULL, "GetObject", "GET", NULL, NULL, NULL, NULL, 0, 0};
    call.s3 = s3;
    call.bucket = bucket;
    call.key = key;
    call.max_bytes = max_bytes;
    return call_run(&call, body);
}

dr_status dr__s3_put_object(const dr_s3_client *s3, const char *bucket, const char *key,
                            const void *data, size_t len)
{
    s3_call call = {NULL, "PutObject", "PUT", NULL, NULL, NULL, NULL, 0,
                    S3_MAX_ERROR_RESPONSE};
    call.s3 = s3;
    call.bucket = bucket;
    call.key = key;
    call.body = data ? data : "";
    call.body_len = len;
    return call_run(&call, NULL);
}
