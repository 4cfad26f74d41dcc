/* SigV4 on a request built from the fuzz bytes, in the AWS test suite's request.txt form:
 *   METHOD SP path[?query] SP HTTP/1.1 LF, then "Name:value" lines (a line starting with
 *   white space continues the previous value), a blank line, the body.
 * An X-Amz-Date header sets the signing time and is not passed on (the signer owns it).
 * Each input runs every stage on its own (URI encoding, canonical path under both flag
 * sets, canonical query, header trimming, the unsignable-header test) and is then signed
 * three ways: header signing as for DynamoDB, a presigned S3-style URL, and an unsigned
 * payload with x-amz-content-sha256 and a session token; and through dr__sigv4_sign_http,
 * the transport's entry point, on the same request as an HTTP request object. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sigv4.h"
#include "timeutil.h"

#define MAX_HEADERS 64

typedef struct parsed {
    char *method, *path, *query, *body;
    size_t body_len, header_count;
    dr_sigv4_header headers[MAX_HEADERS];
    int64_t unix_time;
} parsed;

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* Splits `text` (NUL-terminated, writable) in place. */
static void parse(char *text, parsed *r)
{
    char *p = text, *eol, *target, *sp;
    char *last_value = NULL;

    memset(r, 0, sizeof *r);
    r->unix_time = 1440938160; /* the suite's 2015-08-30T12:36:00Z */
    eol = strchr(p, '\n');
    if (eol)
        *eol = '\0';
    r->method = p;
    target = strchr(p, ' ');
    if (target) {
        *target++ = '\0';
        if ((sp = strstr(target, " HTTP/")) != NULL)
            *sp = '\0';
        r->path = target;
        if ((r->query = strchr(target, '?')) != NULL)
            *r->query++ = '\0';
    }
    p = eol ? eol + 1 : p + strlen(p);
    while (*p) {
        char *colon;
        eol = strchr(p, '\n');
        if (eol)
            *eol = '\0';
        if (*p == '\0') { /* blank line: the body follows */
            p++;
            break;
        }
        if (is_ws(*p) && last_value) {
            /* A continuation: joined to the previous value with its line end kept, as
             * the suite's multi-line header expects (Trimall folds it). */
            p[-1] = '\n';
        } else if ((colon = strchr(p, ':')) != NULL && r->header_count < MAX_HEADERS) {
            int y, mo, d, h, mi, s;
            *colon = '\0';
            last_value = colon + 1;
            if (!strcasecmp(p, "x-amz-date") &&
                sscanf(last_value, "%4d%2d%2dT%2d%2d%2dZ", &y, &mo, &d, &h, &mi, &s) == 6) {
                r->unix_time = dr__utc_to_epoch(y, mo, d, h, mi, s);
                last_value = NULL;
            } else {
                r->headers[r->header_count].name = p;
                r->headers[r->header_count].value = last_value;
                r->header_count++;
            }
        } else {
            last_value = NULL;
        }
        if (!eol) {
            p += strlen(p);
            break;
        }
        p = eol + 1;
    }
    r->body = p;
    r->body_len = strlen(p);
}

static int is_hex64(const char *s)
{
    return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static void stages(const uint8_t *data, size_t size, const parsed *r)
{
    dr_buf b = DR_BUF_INIT;
    size_t i;
    char *raw = fuzz_copy(data, size);

    dr__sigv4_uri_encode(&b, raw, size, 0);
    FUZZ_CHECK(dr__buf_ok(&b) == DR_OK);
    FUZZ_CHECK(strspn(dr__buf_cstr(&b), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789-._~%") == b.len);
    dr__buf_reset(&b);
    dr__sigv4_uri_encode(&b, raw, size, 1);
    dr__buf_reset(&b);
    free(raw);
    if (r->path) {
        dr__sigv4_canonical_path(&b, r->path, 0);
        FUZZ_CHECK(b.len > 0 && dr__buf_cstr(&b)[0] == '/');
        dr__buf_reset(&b);
        dr__sigv4_canonical_path(&b, r->path, DR_SIGV4_S3);
        dr__buf_reset(&b);
    }
    if (r->query) {
        (void)dr__sigv4_canonical_query(&b, r->query);
        dr__buf_reset(&b);
    }
    for (i = 0; i < r->header_count; i++) {
        dr__sigv4_trim_value(&b, r->headers[i].value);
        FUZZ_CHECK(!strpbrk(dr__buf_cstr(&b), "\t\r\n"));
        FUZZ_CHECK(!strstr(dr__buf_cstr(&b), "  "));
        FUZZ_CHECK(b.len == 0 || (dr__buf_cstr(&b)[0] != ' ' && dr__buf_cstr(&b)[b.len - 1] != ' '));
        dr__buf_reset(&b);
        (void)dr__sigv4_header_is_unsignable(r->headers[i].name);
    }
    dr__buf_free(&b);
}

static void sign(dr_sigv4_signer *signer, const parsed *r, const dr_credentials *creds,
                 uint32_t flags)
{
    dr_sigv4_request req;
    dr_sigv4_params params;
    dr_sigv4_result result = DR_SIGV4_RESULT_INIT;

    req.method = r->method;
    req.path = r->path;
    req.query = r->query;
    req.headers = r->headers;
    req.header_count = r->header_count;
    req.body = r->body;
    req.body_len = r->body_len;
    params.creds = creds;
    params.region = "us-east-1";
    params.service = "service";
    params.unix_time = r->unix_time;
    params.flags = flags;
    params.expires_in = 3600;
    if (dr__sigv4_sign(signer, &req, &params, &result) == DR_OK) {
        FUZZ_CHECK(is_hex64(result.signature));
        FUZZ_CHECK(strlen(result.amz_date) == DR_SIGV4_AMZ_DATE_LEN);
        FUZZ_CHECK(result.canonical_request.len > 0 && result.string_to_sign.len > 0);
        FUZZ_CHECK((flags & DR_SIGV4_PRESIGN) ? result.presigned_query.len > 0
                                              : result.authorization.len > 0);
        dr__sigv4_result_free(&result);
    } else {
        FUZZ_CHECK(result.canonical_request.data == NULL && result.authorization.data == NULL);
    }
}

/* The transport's path: the request as a dr_http_request, signed in place. Headers the
 * request object refuses (not a token, a line break) are left out, as a sender would. */
static void sign_http(dr_sigv4_signer *signer, const parsed *r, const dr_credentials *creds)
{
    dr_http_request req = DR_HTTP_REQUEST_INIT;
    dr_sigv4_params params = {0};
    dr_buf url = DR_BUF_INIT;
    const char *auth;
    size_t i;

    dr__buf_printf(&url, "https://h%s%s%s", r->path && *r->path == '/' ? "" : "/",
                   r->path ? r->path : "", r->query ? "?" : "");
    if (r->query)
        dr__buf_puts(&url, r->query);
    req.method = r->method;
    req.url = dr__buf_cstr(&url);
    req.body = r->body;
    req.body_len = r->body_len;
    for (i = 0; i < r->header_count; i++)
        (void)dr__http_request_set_header(&req, r->headers[i].name, r->headers[i].value);
    params.creds = creds;
    params.region = "us-east-1";
    params.service = "dynamodb";
    params.unix_time = r->unix_time;
    auth = dr__sigv4_sign_http(signer, &params, &req) == DR_OK
               ? dr__http_request_header(&req, "Authorization")
               : NULL;
    if (auth)
        FUZZ_CHECK(!strncmp(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 40));
    else
        FUZZ_CHECK(!dr__http_request_header(&req, "Authorization") &&
                   !dr__http_request_header(&req, "X-Amz-Date"));
    dr__http_request_free(&req);
    dr__buf_free(&url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static dr_sigv4_signer *signer;
    static dr_credentials *creds, *token_creds;
    char *text = fuzz_cstr(data, size);
    parsed r;

    if (!signer) {
        if (dr__sigv4_signer_new(&signer) != DR_OK ||
            !(creds = dr__credentials_new("AKIDEXAMPLE",
                                          "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, 0)) ||
            !(token_creds = dr__credentials_new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                "AQoDYXdzEPT//////////wEXAMPLEtc764", 0)))
            abort();
    }
    parse(text, &r);
    stages(data, size, &r);
    sign(signer, &r, creds, 0);
    sign(signer, &r, creds, DR_SIGV4_PRESIGN | DR_SIGV4_S3);
    sign(signer, &r, token_creds,
         DR_SIGV4_UNSIGNED_PAYLOAD | DR_SIGV4_CONTENT_SHA256_HEADER | DR_SIGV4_OMIT_SESSION_TOKEN);
    sign_http(signer, &r, token_creds);
    free(text);
    return 0;
}
