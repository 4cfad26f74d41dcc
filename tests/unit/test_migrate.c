/* The S3 side of the migration import (issue 13): layout patterns, payloads, identities,
 * the S3 requests (URLs, queries, the ListObjectsV2 answer) and a loopback "S3" served by
 * mini_http that checks each request's signature headers, and the directory source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "credentials_chain.h"
#include "identity.h"
#include "layout.h"
#include "mini_http.h"
#include "payload.h"
#include "s3.h"
#include "validate.h"
#include "source.h"

/* SHA-256 of "dadratings-import-v1\n6:bucket\n14:live/j1/a.json\n0", by Python's hashlib. */
#define IDENTITY_BUCKET_LIVE_J1_A_0 "7d57d371293b6350be6f1d3fe1501891f889d8e9734e9ec7d76db4b52f0f0149"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- layout ---------------------------------------------------------------------- */

static int span_is(dr_key_span s, const char *want)
{
    if (!want)
        return s.ptr == NULL;
    return s.ptr && s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static void test_layout_default(void **state)
{
    dr_layout *layout;
    dr_key_fields f;
    (void)state;
    assert_int_equal(dr__layout_parse(NULL, &layout), DR_OK);
    assert_true(dr__layout_match(layout, "live/joke-7/abc.json", &f));
    assert_true(span_is(f.mode, "live") && span_is(f.joke, "joke-7") && span_is(f.date, NULL));
    assert_true(dr__layout_match(layout, "daily/2026-01-30/j1/x", &f));
    assert_true(span_is(f.mode, "daily") && span_is(f.joke, "j1") &&
                span_is(f.date, "2026-01-30"));
    /* Not the old tree: wrong depth, empty segment, bad date, unknown tree. */
    assert_false(dr__layout_match(layout, "live/j1", &f));
    assert_false(dr__layout_match(layout, "live/j1/a/b", &f));
    assert_false(dr__layout_match(layout, "live//a", &f));
    assert_false(dr__layout_match(layout, "daily/2026-02-30/j1/x", &f));
    assert_false(dr__layout_match(layout, "daily/j1/x", &f));
    assert_false(dr__layout_match(layout, "other/j1/x", &f));
    assert_false(dr__layout_match(layout, "live/j1/", &f));
    dr__layout_free(layout);
}

static void test_layout_custom(void **state)
{
    static const char *const bad[] = {
        "",                    /* empty segment */
        "a//{joke}",           /* empty segment */
        "{any}/{x}",           /* unknown placeholder */
        "x{joke}",             /* text and placeholder in one segment */
        "{date}/{any}",        /* no joke */
        "{joke}/{joke}",       /* twice */
        "{mode:weekly}/{joke}",
        "{date:2026-13-01}/{joke}",
        "{any:x}/{joke}",
        "{joke},",
    };
    dr_layout *layout;
    dr_key_fields f;
    size_t i;
    (void)state;
    assert_int_equal(dr__layout_parse("archive/{author}/{mode}/{date}/{joke}/{any}", &layout),
                     DR_OK);
    assert_true(dr__layout_match(layout, "archive/Dad/daily/2025-12-31/j9/r.json", &f));
    assert_true(span_is(f.author, "Dad") && span_is(f.mode, "daily") &&
                span_is(f.date, "2025-12-31") && span_is(f.joke, "j9"));
    assert_false(dr__layout_match(layout, "archive/Dad/weekly/2025-12-31/j9/r.json", &f));
    dr__layout_free(layout);
    assert_int_equal(dr__layout_parse("{joke}/{any},{author:Dad}/{joke}/{date}/{any}", &layout),
                     DR_OK);
    assert_true(dr__layout_match(layout, "Dad/j1/2026-01-01/r", &f));
    assert_true(span_is(f.author, "Dad") && span_is(f.joke, "j1"));
    assert_false(dr__layout_match(layout, "Mum/j1/2026-01-01/r", &f));
    dr__layout_free(layout);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        layout = (dr_layout *)1;
        assert_int_equal(dr__layout_parse(bad[i], &layout), DR_E_INVALID_ARGUMENT);
        assert_null(layout);
        assert_non_null(strstr(dr_last_error_message(), "layout"));
    }
}

/* ---- payloads -------------------------------------------------------------------- */

static dr_payload parse(const char *key, const char *json, const char *layout_spec)
{
    dr_payload p = DR_PAYLOAD_INIT;
    dr_layout *layout = NULL;
    dr_key_fields f;
    int matched;
    assert_int_equal(dr__layout_parse(layout_spec, &layout), DR_OK);
    matched = dr__layout_match(layout, key, &f);
    assert_int_equal(dr__payload_parse(key, matched ? &f : NULL, json, strlen(json), &p), DR_OK);
    dr__layout_free(layout);
    return p;
}

static void test_payload_single_and_key_fill(void **state)
{
    dr_payload p = parse("daily/2026-01-30/fatherhood-123/a.json",
                         "{\"rating\":\"4\",\"joke\":\"Why?\",\"author\":\"Fatherhood.gov\","
                         "\"submittedAt\":\"2026-01-30T15:30:00.000Z\"}", NULL);
    (void)state;
    assert_int_equal(p.count, 1);
    assert_int_equal(p.reject_count, 0);
    assert_int_equal(p.entries[0].stars, 4);
    assert_string_equal(p.entries[0].joke_id, "fatherhood-123");
    assert_string_equal(p.entries[0].joke_text, "Why?");
    assert_string_equal(p.entries[0].author, "Fatherhood.gov");
    assert_string_equal(p.entries[0].mode, "daily");
    assert_string_equal(p.entries[0].date, "2026-01-30");
    assert_string_equal(p.entries[0].submitted_at, "2026-01-30T15:30:00.000Z");
    dr__payload_free(&p);

    /* The payload wins over the key; jokeText and dateKey are the second names. */
    p = parse("live/j1/b.json",
              "{\"rating\":5,\"jokeId\":\"j2\",\"jokeText\":\"T\",\"mode\":\"daily\","
              "\"dateKey\":\"2026-02-01\"}", NULL);
    assert_int_equal(p.count, 1);
    assert_string_equal(p.entries[0].joke_id, "j2");
    assert_string_equal(p.entries[0].joke_text, "T");
    assert_string_equal(p.entries[0].mode, "daily");
    assert_string_equal(p.entries[0].date, "2026-02-01");
    assert_null(p.entries[0].author);
    assert_null(p.entries[0].submitted_at);
    dr__payload_free(&p);
}

static void test_payload_lists_and_rejects(void **state)
{
    dr_payload p;
    (void)state;
    p = parse("live/j1/list.json",
              "[{\"rating\":1},{\"rating\":6},{\"rating\":\"2.5\"},{\"rating\":3.0},7,"
              "{\"rating\":2,\"author\":\"a#b\"},{\"rating\":2,\"author\":5},"
              "{\"rating\":\" 5 \",\"submittedAt\":\"yesterday\"},{\"rating\":null},"
              "{\"rating\":\"4\",\"date\":\"2026-02-30\"}]", NULL);
    assert_int_equal(p.count, 2);
    assert_int_equal(p.entries[0].index, 0);
    assert_int_equal(p.entries[0].stars, 1);
    assert_int_equal(p.entries[1].index, 3);
    assert_int_equal(p.entries[1].stars, 3);
    assert_int_equal(p.reject_count, 8);
    assert_string_equal(p.rejects[0].reason,
                        "live/j1/list.json entry 1: rating is not a whole number 1..5");
    assert_int_equal(p.rejects[1].index, 2);
    assert_string_equal(p.rejects[2].reason, "live/j1/list.json entry 4: not a JSON object");
    assert_non_null(strstr(p.rejects[3].reason, "entry 5: author"));
    assert_string_equal(p.rejects[4].reason, "live/j1/list.json entry 6: author is not a string");
    assert_non_null(strstr(p.rejects[5].reason, "entry 7: submittedAt"));
    assert_non_null(strstr(p.rejects[6].reason, "entry 8: no rating"));
    assert_non_null(strstr(p.rejects[7].reason, "entry 9: date"));
    dr__payload_free(&p);

    p = parse("live/j1/e.json", "{\"entries\":[{\"rating\":2},{\"rating\":3,\"jokeId\":17}]}",
              NULL);
    assert_int_equal(p.count, 2);
    assert_string_equal(p.entries[1].joke_id, "17");
    dr__payload_free(&p);
    p = parse("live/j1/s.json", "[{\"rating\":\"6\"},{\"rating\":6.0},{\"rating\":\"0\"},"
              "{\"rating\":\"nan\"},{\"rating\":true},{\"rating\":\"\"},{\"rating\":\"5.0\"}]",
              NULL);
    assert_int_equal(p.count, 1);
    assert_int_equal(p.entries[0].stars, 5);
    assert_int_equal(p.reject_count, 6);
    dr__payload_free(&p);
    p = parse("live/j1/r.json", "{\"ratings\":[{\"rating\":4}]}", NULL);
    assert_int_equal(p.count, 1);
    dr__payload_free(&p);

    /* Whole-object failures, and a key outside the layout gives no joke id. */
    p = parse("live/j1/bad.json", "{\"rating\":", NULL);
    assert_int_equal(p.count, 0);
    assert_int_equal(p.reject_count, 1);
    assert_int_equal(p.rejects[0].index, DR_PAYLOAD_WHOLE_OBJECT);
    assert_non_null(strstr(p.rejects[0].reason, "live/j1/bad.json: not valid JSON (line 1"));
    dr__payload_free(&p);
    p = parse("live/j1/n.json", "42", NULL);
    assert_string_equal(p.rejects[0].reason, "live/j1/n.json: neither a rating, an array of "
                                             "them nor an object with entries");
    dr__payload_free(&p);
    p = parse("live/j1/d.json", "{\"rating\":1,\"rating\":2}", NULL);
    assert_int_equal(p.reject_count, 1);
    dr__payload_free(&p);
    p = parse("elsewhere/x.json", "{\"rating\":3}", NULL);
    assert_string_equal(p.rejects[0].reason, "elsewhere/x.json entry 0: no joke id");
    dr__payload_free(&p);
    p = parse("live/j1/x.json", "{\"entries\":{}}", NULL);
    assert_non_null(strstr(p.rejects[0].reason, "not an array"));
    dr__payload_free(&p);
}

static void test_payload_times(void **state)
{
    (void)state;
    assert_true(dr__submitted_at_valid("2026-01-30T15:30:00Z"));
    assert_true(dr__submitted_at_valid("2026-01-30T15:30:00.123Z"));
    assert_true(dr__submitted_at_valid("2026-01-30T15:30:00+01:00"));
    assert_false(dr__submitted_at_valid("2026-01-30T15:30:00"));
    assert_false(dr__submitted_at_valid("2026-01-30T24:00:00Z"));
    assert_false(dr__submitted_at_valid("2026-02-30T10:00:00Z"));
    assert_false(dr__submitted_at_valid("2026-01-30T15:30:00.Z"));
    assert_false(dr__submitted_at_valid("2026-01-30T15:30:00Zx"));
}

/* ---- identity -------------------------------------------------------------------- */

static void test_identity(void **state)
{
    char a[DR_IMPORT_KEY_LEN + 1], b[DR_IMPORT_KEY_LEN + 1];
    dr_rating *r;
    (void)state;
    assert_int_equal(dr__import_identity("bucket", "live/j1/a.json", 0, a), DR_OK);
    assert_int_equal(strlen(a), DR_IMPORT_KEY_LEN);
    assert_int_equal(strncmp(a, "s3v1:", 5), 0);
    assert_int_equal(dr__import_identity("bucket", "live/j1/a.json", 0, b), DR_OK);
    assert_string_equal(a, b);
    /* The value is fixed for ever: runs of different versions must agree. */
    assert_string_equal(a, "s3v1:" IDENTITY_BUCKET_LIVE_J1_A_0);
    assert_int_equal(dr__import_identity("bucket", "live/j1/a.json", 1, b), DR_OK);
    assert_string_not_equal(a, b);
    assert_int_equal(dr__import_identity("bucke", "tlive/j1/a.json", 0, b), DR_OK);
    assert_string_not_equal(a, b);
    assert_int_equal(dr_rating_new(&r, "j1", 3), DR_OK);
    assert_int_equal(dr_rating_set_idempotency_key(r, a), DR_OK);
    dr_rating_free(r);
}

/* ---- S3 requests ----------------------------------------------------------------- */

static void test_s3_urls(void **state)
{
    dr_s3_client s3;
    dr_buf url = DR_BUF_INIT;
    dr_s3_list_args args;
    (void)state;
    memset(&s3, 0, sizeof s3);
    s3.endpoint = "https://s3.eu-west-1.amazonaws.com";
    assert_int_equal(dr__s3_object_url(&s3, "my-bucket", "live/j 1/ä+b.json", NULL, &url), DR_OK);
    assert_string_equal(dr__buf_cstr(&url),
                        "https://my-bucket.s3.eu-west-1.amazonaws.com/live/j%201/%C3%A4%2Bb.json");
    assert_int_equal(dr__s3_object_url(&s3, "my.bucket", "k", NULL, &url),
                     DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__s3_object_url(&s3, "My_Bucket", "k", NULL, &url),
                     DR_E_INVALID_ARGUMENT);
    s3.path_style = 1;
    s3.endpoint = "http://127.0.0.1:4568";
    assert_int_equal(dr__s3_object_url(&s3, "my.bucket", NULL, "list-type=2", &url), DR_OK);
    assert_string_equal(dr__buf_cstr(&url), "http://127.0.0.1:4568/my.bucket/?list-type=2");
    s3.endpoint = "http://127.0.0.1:4568/base";
    assert_int_equal(dr__s3_object_url(&s3, "b12", "k", NULL, &url), DR_E_INVALID_ARGUMENT);
    assert_false(dr__s3_bucket_is_virtual_hostable("ab"));
    assert_false(dr__s3_bucket_is_virtual_hostable("-ab"));
    assert_true(dr__s3_bucket_is_virtual_hostable("a-b"));

    memset(&args, 0, sizeof args);
    args.prefix = "ratings/live/";
    args.token = "1/abc=+";
    args.start_after = "ratings/live/j 1";
    args.max_keys = 5000;
    assert_int_equal(dr__s3_list_query(&args, &url), DR_OK);
    assert_string_equal(dr__buf_cstr(&url),
                        "list-type=2&continuation-token=1%2Fabc%3D%2B&max-keys=1000"
                        "&prefix=ratings%2Flive%2F&start-after=ratings%2Flive%2Fj%201");
    dr__buf_free(&url);
}

static void test_s3_parse_list(void **state)
{
    static const char *const bad[] = {
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
        "<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
        "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size>x</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Key>b</Key></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key></Contents>",
        "<!DOCTYPE x><ListBucketResult/>",
        "<ListBucketResult><Contents><Key>a</Key><LastModified>2026-01-30T15:30:00.000000000000000Z"
        "</LastModified></Contents></ListBucketResult>",
    };
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
        "<IsTruncated>true</IsTruncated>"
        "<Contents><Key>p/live/j1/a&amp;b.json</Key><LastModified>2026-01-30T15:30:00.000Z"
        "</LastModified><ETag>&quot;x&quot;</ETag><Size>41</Size>"
        "<StorageClass>STANDARD</StorageClass></Contents>"
        "<Contents><Key>p/live/j2/c.json</Key><Size>0</Size></Contents>"
        "<NextContinuationToken>tok/2==</NextContinuationToken></ListBucketResult>";
    dr_s3_list_page page = DR_S3_LIST_PAGE_INIT;
    size_t i;
    (void)state;
    assert_int_equal(dr__s3_parse_list(xml, strlen(xml), &page), DR_OK);
    assert_int_equal(page.count, 2);
    assert_string_equal(page.objects[0].key, "p/live/j1/a&b.json");
    assert_int_equal(page.objects[0].size, 41);
    assert_string_equal(page.objects[0].last_modified, "2026-01-30T15:30:00.000Z");
    assert_string_equal(page.objects[1].last_modified, "");
    assert_string_equal(page.objects[1].key, "p/live/j2/c.json");
    assert_true(page.is_truncated);
    assert_string_equal(page.next_token, "tok/2==");
    xml = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
    assert_int_equal(dr__s3_parse_list(xml, strlen(xml), &page), DR_OK);
    assert_int_equal(page.count, 0);
    assert_false(page.is_truncated);
    assert_null(page.next_token);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(dr__s3_parse_list(bad[i], strlen(bad[i]), &page), DR_E_PROTOCOL);
        assert_int_equal(page.count, 0);
        assert_non_null(strstr(dr_last_error_message(), "S3 listing"));
    }
    dr__s3_list_page_free(&page);
}

/* A loopback S3 of one bucket "bkt" holding N_KEYS objects, path-style, two keys a page. */
#define N_KEYS 5
static const char *const g_keys[N_KEYS] = {"p/daily/2026-01-01/j1/a", "p/live/j1/a",
                                           "p/live/j1/b", "p/live/j2/a", "p/other"};
static int g_bad_signatures;
static int g_flaky_left; /* answers of "p/flaky" that are still 503 SlowDown */

static void s3_handler(const mini_http_request *req, int *status, char *body, size_t cap,
                       void *payload)
{
    const char *auth = strstr(req->headers, "Authorization: AWS4-HMAC-SHA256 Credential=AKID/");
    char path[1024];
    size_t i, first = 0, n = 0, len;
    (void)payload;
    /* Virtual-hosted requests (through the test redirect) name the bucket in Host. */
    if (strstr(req->headers, "Host: bkt.s3.us-east-1.amazonaws.com\r\n"))
        snprintf(path, sizeof path, "/bkt%s", req->path);
    else
        snprintf(path, sizeof path, "%s", req->path);
    if (!auth || !strstr(auth, "/us-east-1/s3/aws4_request") ||
        !strstr(auth, "SignedHeaders=host;x-amz-content-sha256;x-amz-date") ||
        !strstr(req->headers, "x-amz-content-sha256: " EMPTY_SHA256)) {
        g_bad_signatures++;
        *status = 403;
        snprintf(body, cap, "<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message>"
                            "<StringToSign>AKIA-must-not-show</StringToSign></Error>");
        return;
    }
    if (strcmp(path, "/bkt/p/flaky") == 0 && g_flaky_left > 0) {
        g_flaky_left--;
        *status = 503;
        snprintf(body, cap, "<Error><Code>SlowDown</Code><Message>Reduce your request rate."
                            "</Message></Error>");
        return;
    }
    if (strcmp(path, "/bkt/p/flaky") == 0) {
        snprintf(body, cap, "ok");
        *status = 200;
        return;
    }
    if (strncmp(path, "/bkt/?list-type=2", 17) == 0) {
        const char *tok = strstr(path, "continuation-token=t");
        if (tok)
            first = (size_t)atoi(tok + strlen("continuation-token=t"));
        len = (size_t)snprintf(body, cap, "<ListBucketResult><IsTruncated>%s</IsTruncated>",
                               first + 2 < N_KEYS ? "true" : "false");
        for (i = first; i < N_KEYS && n < 2; i++, n++)
            len += (size_t)snprintf(body + len, cap - len,
                                    "<Contents><Key>%s</Key><Size>2</Size></Contents>",
                                    g_keys[i]);
        if (i < N_KEYS)
            len += (size_t)snprintf(body + len, cap - len,
                                    "<NextContinuationToken>t%zu</NextContinuationToken>", i);
        snprintf(body + len, cap - len, "</ListBucketResult>");
        *status = 200;
        return;
    }
    for (i = 0; i < N_KEYS; i++) {
        if (strncmp(path, "/bkt/", 5) == 0 && strcmp(path + 5, g_keys[i]) == 0) {
            snprintf(body, cap, "{\"rating\":%zu}", i + 1);
            *status = 200;
            return;
        }
    }
    *status = 404;
    snprintf(body, cap, "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code>"
                        "<Message>The specified key does not exist.</Message></Error>");
}

static void test_s3_loopback(void **state)
{
    mini_http *server = mini_http_start();
    dr_credentials_options copts;
    dr_credentials_chain *chain;
    dr_s3_client s3;
    dr_s3_list_page page = DR_S3_LIST_PAGE_INIT;
    dr_s3_list_args args;
    dr_buf body = DR_BUF_INIT;
    char *token = NULL, redirect[64];
    size_t seen = 0, pages = 0;
    (void)state;
    assert_non_null(server);
    mini_http_handle(server, "*", "*", s3_handler, NULL);
    memset(&copts, 0, sizeof copts);
    copts.access_key_id = "AKID";
    copts.secret_access_key = "SECRET-must-not-show";
    assert_int_equal(dr__credentials_chain_new(&chain, &copts), DR_OK);
    memset(&s3, 0, sizeof s3);
    s3.endpoint = mini_http_url(server);
    s3.region = "us-east-1";
    s3.path_style = 1;
    s3.credentials = chain;
    assert_int_equal(dr__sigv4_signer_new(&s3.signer), DR_OK);

    memset(&args, 0, sizeof args);
    args.prefix = "p/";
    do {
        if (dr__s3_list_objects(&s3, "bkt", &args, &page) != DR_OK)
            fail_msg("%s", dr_last_error_message());
        for (size_t i = 0; i < page.count; i++)
            assert_string_equal(page.objects[i].key, g_keys[seen++]);
        pages++;
        dr__free(token);
        args.token = token = page.next_token ? dr__strdup(page.next_token) : NULL;
    } while (page.is_truncated);
    assert_int_equal(seen, N_KEYS);
    assert_int_equal(pages, 3);

    assert_int_equal(dr__s3_get_object(&s3, "bkt", "p/live/j1/b", 1024, &body), DR_OK);
    assert_string_equal(dr__buf_cstr(&body), "{\"rating\":3}");
    assert_int_equal(dr__s3_get_object(&s3, "bkt", "p/live/j1/b", 4, &body), DR_E_PROTOCOL);
    assert_int_equal(dr__s3_get_object(&s3, "bkt", "p/none", 1024, &body), DR_E_NOT_FOUND);
    assert_string_equal(dr_last_error_message(),
                        "S3 GetObject s3://bkt/p/none: HTTP 404 NoSuchKey: The specified key "
                        "does not exist.");
    assert_int_equal(g_bad_signatures, 0);

    /* 5xx answers are tried again, three attempts in all. */
    g_flaky_left = 2;
    assert_int_equal(dr__s3_get_object(&s3, "bkt", "p/flaky", 1024, &body), DR_OK);
    assert_string_equal(dr__buf_cstr(&body), "ok");
    g_flaky_left = 3;
    assert_int_equal(dr__s3_get_object(&s3, "bkt", "p/flaky", 1024, &body), DR_E_THROTTLED);
    assert_string_equal(dr_last_error_message(), "S3 GetObject s3://bkt/p/flaky: HTTP 503 "
                                                 "SlowDown: Reduce your request rate.");
    assert_int_equal(g_flaky_left, 0);

    /* Virtual-hosted addressing on AWS's endpoint, the test redirect bringing the request
     * here with its Host header: the bucket is in the host name, not in the path. */
    s3.endpoint = "https://s3.us-east-1.amazonaws.com";
    s3.path_style = 0;
    snprintf(redirect, sizeof redirect, "127.0.0.1:%u", (unsigned)mini_http_port(server));
    dr__http_set_test_redirect(redirect);
    assert_int_equal(dr__s3_get_object(&s3, "bkt", "p/live/j2/a", 1024, &body), DR_OK);
    assert_string_equal(dr__buf_cstr(&body), "{\"rating\":4}");
    memset(&args, 0, sizeof args);
    assert_int_equal(dr__s3_list_objects(&s3, "bkt", &args, &page), DR_OK);
    assert_int_equal(page.count, 2);
    dr__http_set_test_redirect(NULL);
    s3.endpoint = mini_http_url(server);
    s3.path_style = 1;
    assert_int_equal(g_bad_signatures, 0);

    /* A PUT's body hash is not the empty one: this server refuses it, and says nothing
     * secret in the message. */
    assert_int_equal(dr__s3_put_object(&s3, "bkt", "p/x", "{}", 2), DR_E_AUTH);
    assert_non_null(strstr(dr_last_error_message(), "SignatureDoesNotMatch"));
    assert_null(strstr(dr_last_error_message(), "must-not-show"));

    dr__s3_list_page_free(&page);
    dr__buf_free(&body);
    dr__sigv4_signer_free(s3.signer);
    dr__credentials_chain_free(chain);
    mini_http_stop(server);
}

/* ---- the directory source -------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_dir_source(void **state)
{
    char root[] = "/tmp/dr-migrate-XXXXXX", path[512];
    dr_source_options opts;
    dr_source *src;
    dr_s3_list_page page = DR_S3_LIST_PAGE_INIT;
    dr_buf body = DR_BUF_INIT;
    const char *want[] = {"ratings/daily/2026-01-01/j1/x.json", "ratings/live/j1/a.json",
                          "ratings/live/j1/b.json"};
    size_t seen = 0;
    (void)state;
    assert_non_null(mkdtemp(root));
    snprintf(path, sizeof path, "%s/live", root), mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/live/j1", root), mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/daily", root), mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/daily/2026-01-01", root), mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/daily/2026-01-01/j1", root), mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/live/j1/b.json", root), write_file(path, "{\"rating\":2}");
    snprintf(path, sizeof path, "%s/live/j1/a.json", root), write_file(path, "{\"rating\":1}");
    snprintf(path, sizeof path, "%s/daily/2026-01-01/j1/x.json", root);
    write_file(path, "{\"rating\":5}");

    memset(&opts, 0, sizeof opts);
    opts.location = root;
    opts.bucket = "old-bucket";
    opts.prefix = "ratings";
    opts.page_size = 2;
    assert_int_equal(dr__source_open(NULL, &opts, &src), DR_OK);
    assert_string_equal(dr__source_bucket(src), "old-bucket");
    assert_string_equal(dr__source_relative_key(src, want[1]), "live/j1/a.json");
    do {
        assert_int_equal(dr__source_next_page(src, &page), DR_OK);
        for (size_t i = 0; i < page.count; i++) {
            assert_string_equal(page.objects[i].key, want[seen++]);
            assert_int_equal(page.objects[i].size, 12);
            assert_int_equal(strlen(page.objects[i].last_modified), 24);
        }
    } while (page.is_truncated);
    assert_int_equal(seen, 3);
    assert_int_equal(dr__source_get(src, want[2], 1024, &body), DR_OK);
    assert_string_equal(dr__buf_cstr(&body), "{\"rating\":2}");
    assert_int_equal(dr__source_get(src, want[2], 4, &body), DR_E_PROTOCOL);
    assert_int_equal(dr__source_start_after(src, want[1]), DR_OK);
    assert_int_equal(dr__source_next_page(src, &page), DR_OK);
    assert_int_equal(page.count, 1);
    assert_string_equal(page.objects[0].key, want[2]);
    dr__source_free(src);

    opts.location = "/nonexistent/dr-migrate";
    assert_int_equal(dr__source_open(NULL, &opts, &src), DR_E_NOT_FOUND);
    opts.location = "s3://Bad_Bucket/x";
    assert_int_equal(dr__source_open(NULL, &opts, &src), DR_E_INVALID_ARGUMENT);

    dr__s3_list_page_free(&page);
    dr__buf_free(&body);
    snprintf(path, sizeof path, "rm -rf '%s'", root);
    assert_int_equal(system(path), 0);
}

/* The lazy walk lists keys in S3's byte order, which is not the order of a depth-first
 * walk by names: "a-" and "a.b" sort before "a/x" ('-' and '.' are below '/'), "a0" and
 * "a~" after it. A tree of such names at three depths, files and directories mixed, is
 * compared with the sorted list of its keys, from the start and after every key. */
#define TREE_NAMES 6
static const char *const tree_names[TREE_NAMES] = {"a", "a-", "a.b", "a0", "b", "a~"};

static void grow_tree(const char *dir, const char *key, int depth, unsigned *seed,
                      char keys[][64], size_t *count)
{
    char path[512], sub[64];
    for (int i = 0; i < TREE_NAMES; i++) {
        int kind = (int)((*seed = *seed * 1103515245u + 12345u) >> 16) % 3; /* 0: none */
        snprintf(path, sizeof path, "%s/%s", dir, tree_names[i]);
        snprintf(sub, sizeof sub, "%s%s", key, tree_names[i]);
        if (kind == 1 || (kind == 2 && depth == 2)) {
            write_file(path, "{}");
            snprintf(keys[(*count)++], 64, "%s", sub);
        } else if (kind == 2) {
            assert_int_equal(mkdir(path, 0700), 0);
            strcat(sub, "/");
            grow_tree(path, sub, depth + 1, seed, keys, count);
        }
    }
}

static int compare_key_rows(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Every key after `after` (NULL: all), pages of 3, against want[from..count). */
static void expect_listing(dr_source *src, const char *after, char want[][64], size_t from,
                           size_t count)
{
    dr_s3_list_page page = DR_S3_LIST_PAGE_INIT;
    assert_int_equal(dr__source_start_after(src, after), DR_OK);
    do {
        assert_int_equal(dr__source_next_page(src, &page), DR_OK);
        assert_true(page.count <= 3);
        for (size_t i = 0; i < page.count; i++) {
            assert_true(from < count);
            assert_string_equal(page.objects[i].key, want[from++]);
        }
    } while (page.is_truncated);
    assert_int_equal(from, count);
    dr__s3_list_page_free(&page);
}

static void test_dir_source_order(void **state)
{
    static char keys[TREE_NAMES * TREE_NAMES * TREE_NAMES + TREE_NAMES * TREE_NAMES + 8][64];
    char root[] = "/tmp/dr-migrate-XXXXXX", path[512], probe[80];
    dr_source_options opts;
    dr_source *src;
    (void)state;
    for (unsigned seed = 1; seed <= 8; seed++) {
        unsigned s = seed;
        size_t count = 0;
        assert_non_null(mkdtemp(root));
        grow_tree(root, "", 0, &s, keys, &count);
        snprintf(path, sizeof path, "%s/link", root); /* a link is no object of the copy */
        assert_int_equal(symlink("a", path), 0);
        qsort(keys, count, sizeof keys[0], compare_key_rows);

        memset(&opts, 0, sizeof opts);
        opts.location = root;
        opts.bucket = "b";
        opts.page_size = 3;
        assert_int_equal(dr__source_open(NULL, &opts, &src), DR_OK);
        expect_listing(src, NULL, keys, 0, count);
        for (size_t i = 0; i < count; i++) {
            expect_listing(src, keys[i], keys, i + 1, count);
            /* A checkpoint that is no key (a removed object): what sorts after it. */
            snprintf(probe, sizeof probe, "%.63s!", keys[i]);
            expect_listing(src, probe, keys, i + 1, count);
        }
        dr__source_free(src);
        snprintf(path, sizeof path, "rm -rf '%s'", root);
        assert_int_equal(system(path), 0);
        strcpy(root, "/tmp/dr-migrate-XXXXXX");
    }
}

/* ---- the S3 source's endpoint and addressing -------------------------------------- */

static dr_client *region_client(const char *region)
{
    dr_config *config;
    dr_client *client;
    assert_int_equal(dr_config_new(&config), DR_OK);
    assert_int_equal(dr_config_set_region(config, region), DR_OK);
    assert_int_equal(dr_config_set_credentials(config, "AKID", "SECRET", NULL), DR_OK);
    assert_int_equal(dr_client_new(&client, config), DR_OK);
    dr_config_free(config);
    return client;
}

/* Open `location` with the config file holding `config_text` (NULL: none); the status,
 * and the endpoint and addressing when it opened. */
static dr_status resolve(dr_client *client, const char *location, const char *config_text,
                         dr_addressing_style style, char *endpoint, size_t cap, int *path_style)
{
    char path[] = "/tmp/dr-migrate-config-XXXXXX";
    dr_source_options opts;
    dr_source *src;
    dr_status rc;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, config_text ? config_text : "", config_text ? strlen(config_text)
                                                                            : 0),
                     (ssize_t)(config_text ? strlen(config_text) : 0));
    close(fd);
    setenv("AWS_CONFIG_FILE", path, 1);
    memset(&opts, 0, sizeof opts);
    opts.location = location;
    opts.addressing = style;
    rc = dr__source_open(client, &opts, &src);
    if (rc == DR_OK) {
        snprintf(endpoint, cap, "%s", dr__source_endpoint(src));
        *path_style = dr__source_path_style(src);
        dr__source_free(src);
    }
    unlink(path);
    unsetenv("AWS_CONFIG_FILE");
    return rc;
}

static void test_s3_source_resolution(void **state)
{
    dr_client *client = region_client("eu-west-1"), *cn = region_client("cn-north-1");
    char endpoint[256];
    int path_style = -1;
    (void)state;
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_PROFILE");

    /* AWS: virtual-hosted where the bucket can be a host name (auto). */
    assert_int_equal(resolve(client, "s3://old-ratings/ratings", NULL, DR_ADDRESSING_UNSET,
                             endpoint, sizeof endpoint, &path_style), DR_OK);
    assert_string_equal(endpoint, "https://s3.eu-west-1.amazonaws.com");
    assert_int_equal(path_style, 0);
    assert_int_equal(resolve(client, "s3://old.ratings", NULL, DR_ADDRESSING_UNSET, endpoint,
                             sizeof endpoint, &path_style), DR_OK);
    assert_int_equal(path_style, 1);
    assert_int_equal(resolve(cn, "s3://old-ratings", NULL, DR_ADDRESSING_UNSET, endpoint,
                             sizeof endpoint, &path_style), DR_OK);
    assert_string_equal(endpoint, "https://s3.cn-north-1.amazonaws.com.cn");

    /* The profile's s3 addressing_style, and the caller's choice over it. */
    assert_int_equal(resolve(client, "s3://old-ratings", "[default]\ns3 =\n  addressing_style = "
                             "path\n", DR_ADDRESSING_UNSET, endpoint, sizeof endpoint,
                             &path_style), DR_OK);
    assert_int_equal(path_style, 1);
    assert_int_equal(resolve(client, "s3://old-ratings", "[default]\ns3 =\n  addressing_style = "
                             "path\n", DR_ADDRESSING_VIRTUAL, endpoint, sizeof endpoint,
                             &path_style), DR_OK);
    assert_int_equal(path_style, 0);
    assert_int_equal(resolve(client, "s3://old-ratings", "[default]\ns3 =\n  addressing_style = "
                             "sideways\n", DR_ADDRESSING_UNSET, endpoint, sizeof endpoint,
                             &path_style), DR_E_CONFIG);
    assert_non_null(strstr(dr_last_error_message(), "addressing_style"));

    /* A configured endpoint: path-style unless virtual is asked for. */
    setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4568/", 1);
    assert_int_equal(resolve(client, "s3://old-ratings", NULL, DR_ADDRESSING_UNSET, endpoint,
                             sizeof endpoint, &path_style), DR_OK);
    assert_string_equal(endpoint, "http://127.0.0.1:4568");
    assert_int_equal(path_style, 1);
    assert_int_equal(resolve(client, "s3://old-ratings", "[default]\ns3 =\n  addressing_style = "
                             "virtual\n", DR_ADDRESSING_UNSET, endpoint, sizeof endpoint,
                             &path_style), DR_OK);
    assert_int_equal(path_style, 0);
    unsetenv("AWS_ENDPOINT_URL_S3");
    assert_int_equal(resolve(client, "s3://ab", NULL, DR_ADDRESSING_UNSET, endpoint,
                             sizeof endpoint, &path_style), DR_E_INVALID_ARGUMENT);
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    dr_client_free(client);
    dr_client_free(cn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_default),
        cmocka_unit_test(test_layout_custom),
        cmocka_unit_test(test_payload_single_and_key_fill),
        cmocka_unit_test(test_payload_lists_and_rejects),
        cmocka_unit_test(test_payload_times),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_s3_urls),
        cmocka_unit_test(test_s3_parse_list),
        cmocka_unit_test(test_s3_loopback),
        cmocka_unit_test(test_dir_source),
        cmocka_unit_test(test_dir_source_order),
        cmocka_unit_test(test_s3_source_resolution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
