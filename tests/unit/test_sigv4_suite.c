/* SigV4: the AWS test suite (aws-c-auth's v4 vectors, walked at run time and checked
 * stage by stage for both the header and the query form), then unit tests of the
 * pieces: URI encoding, path normalisation, query canonicalisation, header trimming,
 * input validation, the signing key cache and the wiping of key material.
 *
 * The suite lives in DR_SIGV4_SUITE_DIR, else "$DR_SOURCE_DIR/tests/data/sigv4-test-suite"
 * (ctest sets DR_SOURCE_DIR; the folder's README.md says where the vectors come from). A missing suite fails: a silent skip would hide that the
 * signer was never checked. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/hmac.h>
#include <pthread.h>

#include "alloc.h"
#include "buf.h"
#include "dadratings.h"
#include "sigv4.h"
#include "timeutil.h"

/* ------------------------------------------------------------------------------ */
/* Small helpers                                                                  */
/* ------------------------------------------------------------------------------ */

static char *read_file(const char *dir, const char *name, size_t *len_out)
{
    char path[8192];
    FILE *f;
    char *data;
    long len;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)len + 1);
    if (data && fread(data, 1, (size_t)len, f) != (size_t)len) {
        free(data);
        data = NULL;
    }
    fclose(f);
    if (data) {
        data[len] = '\0';
        if (len_out)
            *len_out = (size_t)len;
    }
    return data;
}

static int parse_iso8601(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, se;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &se) != 6)
        return 0;
    *out = dr__utc_to_epoch(y, mo, d, h, mi, se);
    return 1;
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ------------------------------------------------------------------------------ */
/* One suite case                                                                 */
/* ------------------------------------------------------------------------------ */

#define MAX_CASE_HEADERS 32

typedef struct suite_case {
    char *request_text;       /* request.txt, cut in place */
    char *method, *path;
    const char *query;
    dr_sigv4_header headers[MAX_CASE_HEADERS];
    char *header_values[MAX_CASE_HEADERS]; /* owned: folded lines are joined */
    size_t header_count;
    const char *body;
    size_t body_len;
    dr_credentials creds;
    char *region, *service;
    int64_t unix_time;
    uint32_t flags;           /* without DR_SIGV4_PRESIGN */
    int sign_body;
    uint32_t expires_in;
} suite_case;

static void case_free(suite_case *c)
{
    size_t i;
    for (i = 0; i < c->header_count; i++)
        free(c->header_values[i]);
    free(c->request_text);
    free(c->creds.access_key_id);
    free(c->creds.secret_access_key);
    free(c->creds.session_token);
    free(c->region);
    free(c->service);
}

/* A line starting with white space continues the previous header (obs-fold): keep the
 * line break, which the signer's trimming turns into one space. */
static int append_folded_line(suite_case *c, const char *line)
{
    char *prev, *joined;
    size_t n;
    if (c->header_count == 0)
        return 0;
    prev = c->header_values[c->header_count - 1];
    n = strlen(prev) + strlen(line) + 2;
    joined = malloc(n);
    snprintf(joined, n, "%s\n%s", prev, line);
    free(prev);
    c->header_values[c->header_count - 1] = joined;
    c->headers[c->header_count - 1].value = joined;
    return 1;
}

static int add_header_line(suite_case *c, char *line)
{
    char *colon = strchr(line, ':');
    if (!colon || c->header_count == MAX_CASE_HEADERS)
        return 0;
    *colon = '\0';
    c->header_values[c->header_count] = strdup(colon + 1);
    c->headers[c->header_count].name = line;
    c->headers[c->header_count].value = c->header_values[c->header_count];
    c->header_count++;
    return 1;
}

/* "METHOD target HTTP/1.1": the target may hold raw spaces (get-space-*). */
static int parse_request_line(suite_case *c, char *line)
{
    char *sp = strchr(line, ' ');
    char *version = strstr(line, " HTTP/");
    char *q;
    if (!sp || !version || version < sp)
        return 0;
    *sp = '\0';
    *version = '\0';
    c->method = line;
    c->path = sp + 1;
    q = strchr(c->path, '?');
    c->query = "";
    if (q) {
        *q = '\0';
        c->query = q + 1;
    }
    return 1;
}

/* Cut the next LF-terminated line out of *p; *p becomes NULL after the last one. */
static char *next_line(char **p)
{
    char *line = *p, *nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *p = nl + 1;
    } else {
        *p = NULL;
    }
    return line;
}

static int parse_request(suite_case *c, const char *dir)
{
    size_t len;
    char *p, *line;

    c->request_text = read_file(dir, "request.txt", &len);
    if (!c->request_text)
        return 0;
    p = c->request_text;
    line = next_line(&p);
    if (!parse_request_line(c, line))
        return 0;
    while (p) {
        line = next_line(&p);
        if (*line == '\0')
            break; /* blank line: the body follows */
        if (*line == ' ' || *line == '\t') {
            if (!append_folded_line(c, line))
                return 0;
        } else if (!add_header_line(c, line)) {
            return 0;
        }
    }
    c->body = p ? p : "";
    c->body_len = p ? strlen(p) : 0;
    return 1;
}

static int parse_context(suite_case *c, const char *dir)
{
    json_error_t err;
    char path[8192];
    json_t *root, *creds;
    int ok;

    snprintf(path, sizeof(path), "%s/context.json", dir);
    root = json_load_file(path, 0, &err);
    if (!root)
        return 0;
    creds = json_object_get(root, "credentials");
    c->creds.access_key_id = xstrdup(json_string_value(json_object_get(creds, "access_key_id")));
    c->creds.secret_access_key =
        xstrdup(json_string_value(json_object_get(creds, "secret_access_key")));
    c->creds.session_token = xstrdup(json_string_value(json_object_get(creds, "token")));
    c->creds.refs = 1;
    c->region = xstrdup(json_string_value(json_object_get(root, "region")));
    c->service = xstrdup(json_string_value(json_object_get(root, "service")));
    if (!json_is_true(json_object_get(root, "normalize")))
        c->flags |= DR_SIGV4_NO_PATH_NORMALIZE;
    if (json_is_true(json_object_get(root, "omit_session_token")))
        c->flags |= DR_SIGV4_OMIT_SESSION_TOKEN;
    c->sign_body = json_is_true(json_object_get(root, "sign_body"));
    c->expires_in = (uint32_t)json_integer_value(json_object_get(root, "expiration_in_seconds"));
    ok = parse_iso8601(json_string_value(json_object_get(root, "timestamp")), &c->unix_time) &&
         c->creds.access_key_id && c->creds.secret_access_key && c->region && c->service;
    json_decref(root);
    return ok;
}

/* Compare one stage; on a mismatch print both sides. */
static int stage_matches(const char *name, const char *form, const char *stage,
                         const char *expected, const char *actual)
{
    if (strcmp(expected, actual) == 0)
        return 1;
    printf("  FAIL %s [%s] %s\n--- expected\n%s\n--- actual\n%s\n---\n", name, form, stage,
           expected, actual);
    return 0;
}

/* Sign one form and check the canonical request, string to sign and signature. */
static int check_form(dr_sigv4_signer *signer, const suite_case *c, const char *dir,
                      const char *name, int presign)
{
    const char *prefix = presign ? "query" : "header";
    char file[64];
    char *expected[3];
    const char *stages[3] = {"canonical-request", "string-to-sign", "signature"};
    dr_sigv4_request req = {c->method, c->path, c->query, c->headers, c->header_count,
                            c->body, c->body_len};
    dr_sigv4_params params;
    dr_sigv4_result res = DR_SIGV4_RESULT_INIT;
    int i, ok = 1;
    dr_status rc;

    params.creds = &c->creds;
    params.region = c->region;
    params.service = c->service;
    params.unix_time = c->unix_time;
    params.flags = c->flags | (presign ? DR_SIGV4_PRESIGN : 0);
    /* The suite adds x-amz-content-sha256 only to header-signed sign_body cases. */
    if (c->sign_body && !presign)
        params.flags |= DR_SIGV4_CONTENT_SHA256_HEADER;
    params.expires_in = c->expires_in;

    rc = dr__sigv4_sign(signer, &req, &params, &res);
    if (rc != DR_OK) {
        printf("  FAIL %s [%s] sign: %s\n", name, prefix, dr_last_error_message());
        return 0;
    }
    for (i = 0; i < 3; i++) {
        snprintf(file, sizeof(file), "%s-%s.txt", prefix, stages[i]);
        expected[i] = read_file(dir, file, NULL);
    }
    ok = expected[0] && expected[1] && expected[2] &&
         stage_matches(name, prefix, stages[0], expected[0], dr__buf_cstr(&res.canonical_request)) &&
         stage_matches(name, prefix, stages[1], expected[1], dr__buf_cstr(&res.string_to_sign)) &&
         stage_matches(name, prefix, stages[2], expected[2], res.signature);
    for (i = 0; i < 3; i++)
        free(expected[i]);
    dr__sigv4_result_free(&res);
    return ok;
}

/* Why a case cannot be checked, or NULL. Every file the checks read must exist. */
static const char *not_applicable_reason(const char *dir)
{
    static const char *const needed[] = {
        "request.txt", "context.json", "header-canonical-request.txt",
        "header-string-to-sign.txt", "header-signature.txt", "query-canonical-request.txt",
        "query-string-to-sign.txt", "query-signature.txt"};
    static char reason[128];
    size_t i;
    for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
        char *data = read_file(dir, needed[i], NULL);
        if (!data) {
            snprintf(reason, sizeof(reason), "no %s", needed[i]);
            return reason;
        }
        free(data);
    }
    return NULL;
}

static int name_cmp_qsort(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t list_cases(const char *v4, char ***names_out)
{
    DIR *d = opendir(v4);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof(*names));
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), name_cmp_qsort);
    *names_out = names;
    return n;
}

static void suite_dir(char *out, size_t cap)
{
    const char *env = getenv("DR_SIGV4_SUITE_DIR");
    const char *src = getenv("DR_SOURCE_DIR");
    if (env && *env)
        snprintf(out, cap, "%s", env);
    else
        snprintf(out, cap, "%s/tests/data/sigv4-test-suite", src ? src : ".");
}

static void test_aws_suite(void **state)
{
    char root[2048], v4[2100], dir[4200];
    char **names = NULL;
    size_t n, i, header_ok = 0, query_ok = 0, not_applicable = 0, checked = 0;
    dr_sigv4_signer *signer = NULL;
    (void)state;

    suite_dir(root, sizeof(root));
    snprintf(v4, sizeof(v4), "%s/v4", root);
    n = list_cases(v4, &names);
    if (n == 0)
        fail_msg("SigV4 test suite not found at %s (set DR_SIGV4_SUITE_DIR)", v4);
    assert_int_equal(dr__sigv4_signer_new(&signer), DR_OK);
    for (i = 0; i < n; i++) {
        suite_case c;
        const char *reason;
        memset(&c, 0, sizeof(c));
        snprintf(dir, sizeof(dir), "%s/%s", v4, names[i]);
        reason = not_applicable_reason(dir);
        if (!reason && !(parse_request(&c, dir) && parse_context(&c, dir)))
            reason = "request.txt or context.json could not be parsed";
        if (reason) {
            printf("  not applicable: %s: %s\n", names[i], reason);
            not_applicable++;
        } else {
            checked++;
            header_ok += (size_t)check_form(signer, &c, dir, names[i], 0);
            query_ok += (size_t)check_form(signer, &c, dir, names[i], 1);
        }
        case_free(&c);
        free(names[i]);
    }
    free(names);
    dr__sigv4_signer_free(signer);
    printf("sigv4 suite (%s): %zu cases; header form %zu/%zu passed, query form %zu/%zu "
           "passed; %zu not applicable\n",
           v4, n, header_ok, checked, query_ok, checked, not_applicable);
    assert_int_equal(header_ok, checked);
    assert_int_equal(query_ok, checked);
    assert_true(checked > 0);
}

/* ------------------------------------------------------------------------------ */
/* Pieces                                                                         */
/* ------------------------------------------------------------------------------ */

static const char *const AKID = "AKIDEXAMPLE";
static const char *const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

static void expect_path(const char *path, uint32_t flags, const char *expected)
{
    dr_buf b = DR_BUF_INIT;
    dr__sigv4_canonical_path(&b, path, flags);
    assert_string_equal(dr__buf_cstr(&b), expected);
    dr__buf_free(&b);
}

static void expect_query(const char *query, const char *expected)
{
    dr_buf b = DR_BUF_INIT;
    assert_int_equal(dr__sigv4_canonical_query(&b, query), DR_OK);
    assert_string_equal(dr__buf_cstr(&b), expected);
    dr__buf_free(&b);
}

static void expect_trim(const char *value, const char *expected)
{
    dr_buf b = DR_BUF_INIT;
    dr__sigv4_trim_value(&b, value);
    assert_string_equal(dr__buf_cstr(&b), expected);
    dr__buf_free(&b);
}

static void test_uri_encode(void **state)
{
    dr_buf b = DR_BUF_INIT;
    const char s[] = "aZ09-._~ /%+=\xc3\xa9";
    (void)state;
    dr__sigv4_uri_encode(&b, s, strlen(s), 1);
    assert_string_equal(dr__buf_cstr(&b), "aZ09-._~%20/%25%2B%3D%C3%A9");
    dr__buf_reset(&b);
    dr__sigv4_uri_encode(&b, s, strlen(s), 0);
    assert_string_equal(dr__buf_cstr(&b), "aZ09-._~%20%2F%25%2B%3D%C3%A9");
    dr__buf_free(&b);
}

static void test_canonical_path(void **state)
{
    (void)state;
    expect_path(NULL, 0, "/");
    expect_path("", 0, "/");
    expect_path("/", 0, "/");
    expect_path("//", 0, "/");
    expect_path("/a/./b/../c//d/", 0, "/a/c/d/");
    expect_path("/a/.", 0, "/a");          /* as aws-c-auth/smithy, not RFC 3986's "/a/" */
    expect_path("/a/b/..", 0, "/a");
    expect_path("/../..", 0, "/");
    expect_path("/.../..a/", 0, "/.../..a/"); /* only "." and ".." are special */
    expect_path("/a%20b", 0, "/a%2520b");   /* the wire encoding is encoded again */
    expect_path("/a b/\xe1\x88\xb4", 0, "/a%20b/%E1%88%B4");
    expect_path("/a//b/../c", DR_SIGV4_NO_PATH_NORMALIZE, "/a//b/../c");
    expect_path("/a//b/../%20", DR_SIGV4_S3, "/a//b/../%20");
}

static void test_canonical_query(void **state)
{
    dr_buf b = DR_BUF_INIT;
    (void)state;
    expect_query(NULL, "");
    expect_query("", "");
    expect_query("&&", "");
    expect_query("b=2&a=1&a=&c", "a=&a=1&b=2&c=");
    expect_query("a=2&a=10&a=1", "a=1&a=10&a=2");
    expect_query("=x&a=1", "=x&a=1");
    expect_query("%7e=%7E&k=%e1%88%b4", "k=%E1%88%B4&~=~");
    expect_query("a+b=%zz&p=%4", "a%2Bb=%25zz&p=%254");
    expect_query("Param-3=1&Param=2&%E1%88%B4=3", "%E1%88%B4=3&Param=2&Param-3=1");
    expect_query("k=a=b", "k=a%3Db");
    assert_int_equal(dr__sigv4_canonical_query(&b, "a=1&x-amz-signature=00"),
                     DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__sigv4_canonical_query(&b, "X-Amz-Credential=AKID"),
                     DR_E_INVALID_ARGUMENT);
    dr__buf_free(&b);
}

static void test_trim_value(void **state)
{
    (void)state;
    expect_trim("value", "value");
    expect_trim("  a \t b\r\n  c  ", "a b c");
    expect_trim("\"a   b   c\"", "\"a b c\"");
    expect_trim(" \t ", "");
    expect_trim("", "");
    assert_true(dr__sigv4_header_is_unsignable("User-Agent"));
    assert_true(dr__sigv4_header_is_unsignable("expect"));
    assert_true(dr__sigv4_header_is_unsignable("X-Amzn-Trace-Id"));
    assert_true(dr__sigv4_header_is_unsignable("Proxy-Authorization"));
    assert_true(dr__sigv4_header_is_unsignable("sec-fetch-mode"));
    assert_false(dr__sigv4_header_is_unsignable("host"));
    assert_false(dr__sigv4_header_is_unsignable("x-amz-target"));
    assert_false(dr__sigv4_header_is_unsignable("proxy"));
}

static dr_credentials make_creds(const char *akid, const char *secret, const char *token)
{
    dr_credentials c;
    memset(&c, 0, sizeof(c));
    c.access_key_id = xstrdup(akid);
    c.secret_access_key = xstrdup(secret);
    c.session_token = xstrdup(token);
    c.refs = 1;
    return c;
}

static void free_creds(dr_credentials *c)
{
    free(c->access_key_id);
    free(c->secret_access_key);
    free(c->session_token);
}

/* 2015-08-30T12:36:00Z, the suite's time. */
#define SUITE_TIME INT64_C(1440938160)

static dr_status sign_simple(dr_sigv4_signer *s, const dr_credentials *c,
                             const dr_sigv4_header *h, size_t n, int64_t t,
                             const char *query, dr_sigv4_result *res)
{
    dr_sigv4_request req = {"POST", "/", query, h, n, "{}", 2};
    dr_sigv4_params p = {c, "us-east-1", "dynamodb", t, 0, 0};
    return dr__sigv4_sign(s, &req, &p, res);
}

static void test_header_joining_and_validation(void **state)
{
    dr_sigv4_signer *s = NULL;
    dr_credentials c = make_creds(AKID, SECRET, "TOKEN");
    dr_sigv4_result res = DR_SIGV4_RESULT_INIT;
    const dr_sigv4_header joined[] = {
        {"Host", "example.com"}, {"X-A", " 1  "}, {"User-Agent", "dr/1.0"},
        {"x-a", "\t2 \t 3"}, {"Expect", "100-continue"}};
    const dr_sigv4_header no_host[] = {{"x-a", "1"}};
    const dr_sigv4_header owned[] = {{"host", "h"}, {"X-Amz-Date", "20150830T123600Z"}};
    const dr_sigv4_header bad_name[] = {{"host", "h"}, {"bad name", "1"}};
    (void)state;

    assert_int_equal(dr__sigv4_signer_new(&s), DR_OK);
    assert_int_equal(sign_simple(s, &c, joined, 5, SUITE_TIME, NULL, &res), DR_OK);
    assert_non_null(strstr(dr__buf_cstr(&res.canonical_request),
                           "\nhost:example.com\nx-a:1,2 3\nx-amz-date:20150830T123600Z\n"
                           "x-amz-security-token:TOKEN\n\nhost;x-a;x-amz-date;"
                           "x-amz-security-token\n"));
    assert_non_null(strstr(dr__buf_cstr(&res.authorization),
                           "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
                           "dynamodb/aws4_request, SignedHeaders=host;x-a;x-amz-date;"
                           "x-amz-security-token, Signature="));
    dr__sigv4_result_free(&res);

    assert_int_equal(sign_simple(s, &c, no_host, 1, SUITE_TIME, NULL, &res),
                     DR_E_INVALID_ARGUMENT);
    assert_int_equal(sign_simple(s, &c, owned, 2, SUITE_TIME, NULL, &res),
                     DR_E_INVALID_ARGUMENT);
    assert_int_equal(sign_simple(s, &c, bad_name, 2, SUITE_TIME, NULL, &res),
                     DR_E_INVALID_ARGUMENT);
    assert_int_equal(sign_simple(s, &c, joined, 1, -1, NULL, &res), DR_E_INVALID_ARGUMENT);
    assert_int_equal(sign_simple(s, &c, joined, 1, SUITE_TIME, "X-Amz-Signature=1", &res),
                     DR_E_INVALID_ARGUMENT);
    assert_null(strstr(dr_last_error_message(), SECRET));
    free(c.secret_access_key);
    c.secret_access_key = strdup("");
    assert_int_equal(sign_simple(s, &c, joined, 1, SUITE_TIME, NULL, &res),
                     DR_E_INVALID_ARGUMENT);
    assert_null(res.authorization.data);
    dr__sigv4_signer_free(s);
    free_creds(&c);
}

/* The X-Amz-Date and the scope date across a year end, through dr__sigv4_sign_http:
 * signing a request again replaces the signer's headers instead of adding more. */
static void test_sign_http_dates(void **state)
{
    dr_sigv4_signer *s = NULL;
    dr_credentials c = make_creds(AKID, SECRET, "token-1");
    dr_http_request req = DR_HTTP_REQUEST_INIT;
    dr_sigv4_params p = {0};
    size_t count;
    (void)state;

    assert_int_equal(dr__sigv4_signer_new(&s), DR_OK);
    req.method = "POST";
    req.url = "https://dynamodb.us-east-1.amazonaws.com";
    req.body = "{}";
    req.body_len = 2;
    assert_int_equal(dr__http_request_set_header(&req, "host",
                                                 "dynamodb.us-east-1.amazonaws.com"), DR_OK);
    p.creds = &c;
    p.region = "us-east-1";
    p.service = "dynamodb";
    p.unix_time = INT64_C(1704067199); /* 2023-12-31T23:59:59Z */
    assert_int_equal(dr__sigv4_sign_http(s, &p, &req), DR_OK);
    assert_string_equal(dr__http_request_header(&req, "x-amz-date"), "20231231T235959Z");
    assert_string_equal(dr__http_request_header(&req, "X-Amz-Security-Token"), "token-1");
    assert_non_null(strstr(dr__http_request_header(&req, "authorization"),
                           "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231231/"));
    assert_non_null(strstr(dr__http_request_header(&req, "authorization"),
                           "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature="));
    count = req.header_count;
    assert_int_equal(count, 4);

    p.unix_time = INT64_C(1704067200);
    assert_int_equal(dr__sigv4_sign_http(s, &p, &req), DR_OK);
    assert_string_equal(dr__http_request_header(&req, "X-Amz-Date"), "20240101T000000Z");
    assert_non_null(strstr(dr__http_request_header(&req, "Authorization"), "/20240101/"));
    assert_int_equal(req.header_count, count);

    /* A failed signature leaves none of the signer's headers behind. */
    p.region = "US-EAST-1";
    assert_int_equal(dr__sigv4_sign_http(s, &p, &req), DR_E_INVALID_ARGUMENT);
    assert_null(dr__http_request_header(&req, "Authorization"));
    assert_null(dr__http_request_header(&req, "X-Amz-Date"));
    assert_int_equal(req.header_count, 1);

    dr__http_request_free(&req);
    dr__sigv4_signer_free(s);
    free_creds(&c);
}

static void expect_stats(dr_sigv4_signer *s, uint64_t hits, uint64_t misses)
{
    uint64_t h, m;
    dr__sigv4_signer_cache_stats(s, &h, &m);
    assert_int_equal(h, hits);
    assert_int_equal(m, misses);
}

static void test_key_cache(void **state)
{
    dr_sigv4_signer *s = NULL;
    dr_credentials c = make_creds(AKID, SECRET, NULL);
    dr_credentials rotated = make_creds(AKID, "another-secret", NULL);
    const dr_sigv4_header h[] = {{"host", "example.com"}};
    dr_sigv4_result a = DR_SIGV4_RESULT_INIT, b = DR_SIGV4_RESULT_INIT;
    (void)state;

    assert_int_equal(dr__sigv4_signer_new(&s), DR_OK);
    assert_false(dr__sigv4_signer_has_key(s));
    assert_int_equal(sign_simple(s, &c, h, 1, SUITE_TIME, NULL, &a), DR_OK);
    expect_stats(s, 0, 1);
    assert_true(dr__sigv4_signer_has_key(s));
    /* Same day, later: the key is reused and the signature still right. */
    assert_int_equal(sign_simple(s, &c, h, 1, SUITE_TIME, NULL, &b), DR_OK);
    expect_stats(s, 1, 1);
    assert_string_equal(a.signature, b.signature);
    dr__sigv4_result_free(&b);
    /* Next day: a new scope date, a new key. */
    assert_int_equal(sign_simple(s, &c, h, 1, SUITE_TIME + 86400, NULL, &b), DR_OK);
    expect_stats(s, 1, 2);
    dr__sigv4_result_free(&b);
    /* Same key id, another secret: never the stale key. */
    assert_int_equal(sign_simple(s, &rotated, h, 1, SUITE_TIME, NULL, &b), DR_OK);
    expect_stats(s, 1, 3);
    assert_string_not_equal(a.signature, b.signature);
    dr__sigv4_result_free(&b);
    /* A cleared cache derives again and agrees. */
    dr__sigv4_signer_clear(s);
    assert_false(dr__sigv4_signer_has_key(s));
    assert_int_equal(sign_simple(s, &c, h, 1, SUITE_TIME, NULL, &b), DR_OK);
    expect_stats(s, 1, 4);
    assert_string_equal(a.signature, b.signature);
    dr__sigv4_result_free(&a);
    dr__sigv4_result_free(&b);
    dr__sigv4_signer_free(s);
    free_creds(&c);
    free_creds(&rotated);
}

/* Many threads share one signer while the cached key flips between two days: every
 * signature must still be the one a fresh signer computes. */
typedef struct thread_job {
    dr_sigv4_signer *signer;
    const dr_credentials *creds;
    const char *expected[2];
    int failures;
} thread_job;

static void *sign_many(void *arg)
{
    thread_job *job = arg;
    const dr_sigv4_header h[] = {{"host", "example.com"}};
    int i;
    for (i = 0; i < 2000; i++) {
        dr_sigv4_result r = DR_SIGV4_RESULT_INIT;
        int day = (i / 7) % 2;
        if (sign_simple(job->signer, job->creds, h, 1, SUITE_TIME + day * 86400, NULL, &r) !=
                DR_OK ||
            strcmp(r.signature, job->expected[day]) != 0)
            job->failures++;
        dr__sigv4_result_free(&r);
    }
    return NULL;
}

static void test_shared_signer_threads(void **state)
{
    dr_sigv4_signer *s = NULL;
    dr_credentials c = make_creds(AKID, SECRET, "TOKEN");
    const dr_sigv4_header h[] = {{"host", "example.com"}};
    dr_sigv4_result d0 = DR_SIGV4_RESULT_INIT, d1 = DR_SIGV4_RESULT_INIT;
    thread_job jobs[4];
    pthread_t tids[4];
    int i;
    (void)state;

    assert_int_equal(dr__sigv4_signer_new(&s), DR_OK);
    assert_int_equal(sign_simple(s, &c, h, 1, SUITE_TIME, NULL, &d0), DR_OK);
    assert_int_equal(sign_simple(s, &c, h, 1, SUITE_TIME + 86400, NULL, &d1), DR_OK);
    for (i = 0; i < 4; i++) {
        jobs[i].signer = s;
        jobs[i].creds = &c;
        jobs[i].expected[0] = d0.signature;
        jobs[i].expected[1] = d1.signature;
        jobs[i].failures = 0;
        assert_int_equal(pthread_create(&tids[i], NULL, sign_many, &jobs[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(tids[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    dr__sigv4_result_free(&d0);
    dr__sigv4_result_free(&d1);
    dr__sigv4_signer_free(s);
    free_creds(&c);
}

/* An allocator that looks inside every block the library frees (or moves by realloc)
 * for secret bytes: proof that key material is wiped, not just dropped. */
#define HDR 16
static const unsigned char *g_needles[3];
static size_t g_needle_len[3];
static int g_found_secret;

static void scan_block(const unsigned char *p, size_t n)
{
    size_t i, k;
    for (k = 0; k < 3; k++)
        for (i = 0; g_needles[k] && i + g_needle_len[k] <= n; i++)
            if (memcmp(p + i, g_needles[k], g_needle_len[k]) == 0)
                g_found_secret = 1;
}

static void *scan_malloc(size_t n)
{
    /* Zero-filled: scan_free reads whole blocks, also bytes the library never wrote,
     * and those must be defined for valgrind (and for a meaningful search). */
    unsigned char *p = calloc(1, n + HDR);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof(n));
    return p + HDR;
}

static void scan_free(void *ptr)
{
    unsigned char *p;
    size_t n;
    if (!ptr)
        return;
    p = (unsigned char *)ptr - HDR;
    memcpy(&n, p, sizeof(n));
    scan_block(p + HDR, n);
    free(p);
}

static void *scan_realloc(void *ptr, size_t n)
{
    void *q = scan_malloc(n);
    size_t old;
    if (!q)
        return NULL;
    if (ptr) {
        memcpy(&old, (unsigned char *)ptr - HDR, sizeof(old));
        memcpy(q, ptr, old < n ? old : n);
        scan_free(ptr);
    }
    return q;
}

static void derive_key(const char *date, unsigned char key[32])
{
    unsigned char k[32];
    char seed[64];
    unsigned int len = 32;
    snprintf(seed, sizeof(seed), "AWS4%s", SECRET);
    HMAC(EVP_sha256(), seed, (int)strlen(seed), (const unsigned char *)date, strlen(date), k, &len);
    HMAC(EVP_sha256(), k, 32, (const unsigned char *)"us-east-1", 9, k, &len);
    HMAC(EVP_sha256(), k, 32, (const unsigned char *)"dynamodb", 8, k, &len);
    HMAC(EVP_sha256(), k, 32, (const unsigned char *)"aws4_request", 12, key, &len);
}

static void test_key_material_wiped(void **state)
{
    unsigned char day1[32], day2[32];
    dr_sigv4_signer *s = NULL;
    dr_credentials c = make_creds(AKID, SECRET, NULL);
    const dr_sigv4_header h[] = {{"host", "example.com"}};
    dr_sigv4_result r = DR_SIGV4_RESULT_INIT;
    (void)state;

    derive_key("20150830", day1);
    derive_key("20150831", day2);
    g_needles[0] = day1;
    g_needles[1] = day2;
    g_needles[2] = (const unsigned char *)SECRET;
    g_needle_len[0] = g_needle_len[1] = 32;
    g_needle_len[2] = strlen(SECRET);
    g_found_secret = 0;

    /* Every block made under the scanning allocator is freed before it is removed. */
    assert_int_equal(dr_set_allocator(scan_malloc, scan_realloc, scan_free), DR_OK);
    assert_int_equal(dr__sigv4_signer_new(&s), DR_OK);
    assert_int_equal(sign_simple(s, &c, h, 1, SUITE_TIME, NULL, &r), DR_OK);
    dr__sigv4_result_free(&r);
    /* The next day's key replaces the first one (wiped in place), then free wipes. */
    assert_int_equal(sign_simple(s, &c, h, 1, SUITE_TIME + 86400, NULL, &r), DR_OK);
    dr__sigv4_result_free(&r);
    dr__sigv4_signer_free(s);
    assert_int_equal(dr_set_allocator(malloc, realloc, free), DR_OK);
    assert_false(g_found_secret);

    /* Self-check of the scanner: an unwiped copy is caught. */
    assert_int_equal(dr_set_allocator(scan_malloc, scan_realloc, scan_free), DR_OK);
    {
        unsigned char *copy = dr__malloc(32);
        memcpy(copy, day1, 32);
        dr__free(copy);
    }
    assert_int_equal(dr_set_allocator(malloc, realloc, free), DR_OK);
    assert_true(g_found_secret);
    free_creds(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aws_suite),
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_canonical_path),
        cmocka_unit_test(test_canonical_query),
        cmocka_unit_test(test_trim_value),
        cmocka_unit_test(test_header_joining_and_validation),
        cmocka_unit_test(test_sign_http_dates),
        cmocka_unit_test(test_key_cache),
        cmocka_unit_test(test_shared_signer_threads),
        cmocka_unit_test(test_key_material_wiped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
