/* Transport and credentials rules from the 2026-12 review: the loopback rule (L1), IMDS
 * role names with '@' (L2), one region rule for configuration and signer, and secret
 * buffers that leave no unwiped copy behind when they grow (L5). The proxy rules (M3)
 * are in tests/integration/test_proxy_bypass.c: they need DynamoDB Local. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "buf.h"
#include "config.h"
#include "creds_sandbox.h"
#include "credentials.h"
#include "resolve.h"
#include "credentials_provider.h"
#include "http.h"
#include "mini_http.h"
#include "sigv4.h"

/* ---- L1: the loopback rule ---------------------------------------------------- */

static void test_loopback_hosts(void **state)
{
    static const char *const accepted[] = {"127.0.0.1", "127.255.255.254", "127.1.2.3",
                                           "localhost", "LocalHost", "::1",
                                           "0:0:0:0:0:0:0:1"};
    /* Host names to libcurl (a resolver decides where they go), or not loopback. */
    static const char *const refused[] = {
        "127.0.0.256", "127.999.1.1", "127.1", "127.0.1", "2130706433", "0x7f000001",
        "0177.0.0.1", "127.000.000.001", "127.0.0.1.", "127.0.0.1.evil.com",
        "127.example.com", "::ffff:127.0.0.1", "::1%lo", "128.0.0.1", "10.0.0.1",
        "169.254.169.254", "localhost.", "localhost.evil.com", "", "::"};
    size_t i;
    int wrong = 0;
    (void)state;
    for (i = 0; i < sizeof refused / sizeof *refused; i++)
        if (dr__host_is_loopback(refused[i]))
            wrong += fprintf(stderr, "accepted as loopback: \"%s\"\n", refused[i]) > 0;
    for (i = 0; i < sizeof accepted / sizeof *accepted; i++)
        if (!dr__host_is_loopback(accepted[i]))
            wrong += fprintf(stderr, "refused as loopback: \"%s\"\n", accepted[i]) > 0;
    assert_int_equal(wrong, 0);
}

/* The same rule as the endpoint option sees it, on whole URLs (the review's list). */
static void test_loopback_endpoints(void **state)
{
    static const char *const accepted[] = {"http://127.0.0.1:8000", "http://[::1]:8000/",
                                           "http://localhost:8000", "http://127.9.8.7",
                                           "https://dynamodb.eu-west-1.amazonaws.com"};
    static const char *const refused[] = {
        "http://127.0.0.1.evil.com", "http://localhost@evil", "http://[::ffff:127.0.0.1]",
        "http://2130706433", "http://127.0.0.1.", "http://127.0.0.256:8000",
        "http://127.999.1.1", "http://[::1%25lo]:8000", "http://example.com"};
    dr_config *cfg = NULL;
    size_t i;
    (void)state;
    int wrong = 0;
    assert_int_equal(dr_config_new(&cfg), DR_OK);
    for (i = 0; i < sizeof refused / sizeof *refused; i++)
        if (dr_config_set_endpoint(cfg, refused[i]) != DR_E_INVALID_ARGUMENT)
            wrong += fprintf(stderr, "endpoint accepted: %s\n", refused[i]) > 0;
    for (i = 0; i < sizeof accepted / sizeof *accepted; i++)
        if (dr_config_set_endpoint(cfg, accepted[i]) != DR_OK)
            wrong += fprintf(stderr, "endpoint refused: %s (%s)\n", accepted[i],
                             dr_last_error_message()) > 0;
    dr_config_free(cfg);
    assert_int_equal(wrong, 0);
}

/* localhost is pinned to the loopback addresses (CURLOPT_RESOLVE) and still works. */
static void test_localhost_request(void **state)
{
    mini_http *s = mini_http_start();
    dr_http_request req = {0};
    dr_http_response resp = DR_HTTP_RESPONSE_INIT;
    char url[64];
    (void)state;
    assert_non_null(s);
    mini_http_respond(s, "GET", "/ping", 200, "pong");
    snprintf(url, sizeof url, "http://localhost:%u/ping", (unsigned)mini_http_port(s));
    req.method = "GET";
    req.url = url;
    req.timeout_ms = 5000;
    assert_int_equal(dr__http_perform(NULL, &req, &resp), DR_OK);
    assert_int_equal(resp.status, 200);
    assert_string_equal(dr__buf_cstr(&resp.body), "pong");
    dr__http_response_free(&resp);
    mini_http_stop(s);
}

/* ---- L2: IMDS role names with '@' ---------------------------------------------- */

static void test_imds_role_with_at(void **state)
{
    creds_source src = {.access_key_prefix = "ASIAROLEAT", .lifetime_s = 3600};
    mini_http *s = mini_http_start();
    dr_credentials *c = NULL;
    (void)state;
    assert_non_null(s);
    mini_http_respond(s, "PUT", "/latest/api/token", 200, "TOKEN-1");
    mini_http_respond(s, "GET", "/latest/meta-data/iam/security-credentials/", 200,
                      "deploy@ops-role\n");
    mini_http_handle(s, "GET", "/latest/meta-data/iam/security-credentials/deploy%40ops-role",
                     creds_source_handler, &src);
    mini_http_require_header(s, "GET",
                             "/latest/meta-data/iam/security-credentials/deploy%40ops-role",
                             "X-aws-ec2-metadata-token", "TOKEN-1");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", mini_http_url(s), 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");

    if (dr__credentials_from_imds(NULL, 0, &c) != DR_OK)
        fail_msg("role deploy@ops-role: %s", dr_last_error_message());
    assert_string_equal(c->access_key_id, "ASIAROLEAT1");
    dr__credentials_release(c);
    assert_int_equal(mini_http_count(s, "GET", "/latest/meta-data/iam/security-credentials/"
                                                "deploy%40ops-role"),
                     1);
    mini_http_stop(s);
}

/* ---- the request object ------------------------------------------------------- */

static void test_request_headers(void **state)
{
    dr_http_request req = DR_HTTP_REQUEST_INIT;
    int i;
    (void)state;

    assert_int_equal(dr__http_request_set_header(&req, "Host", "a.example"), DR_OK);
    assert_int_equal(dr__http_request_set_header(&req, "X-One", "1"), DR_OK);
    /* Same name in another case: replaced in place, order kept. */
    assert_int_equal(dr__http_request_set_header(&req, "host", "b.example"), DR_OK);
    assert_int_equal(req.header_count, 2);
    assert_string_equal(req.headers[0].name, "host");
    assert_string_equal(dr__http_request_header(&req, "HOST"), "b.example");
    /* Refused: they would split or corrupt the request; nothing changes. */
    assert_int_equal(dr__http_request_set_header(&req, "X-Two", "a\r\nX-Evil: 1"),
                     DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__http_request_set_header(&req, "Bad Name", "1"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__http_request_set_header(&req, "", "1"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__http_request_set_header(&req, "X:Colon", "1"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(req.header_count, 2);
    /* Growth past the first block of slots keeps every header. */
    for (i = 0; i < 20; i++) {
        char name[16];
        snprintf(name, sizeof name, "X-N%d", i);
        assert_int_equal(dr__http_request_set_header(&req, name, name), DR_OK);
    }
    assert_int_equal(req.header_count, 22);
    assert_string_equal(dr__http_request_header(&req, "x-n19"), "X-N19");
    dr__http_request_remove_header(&req, "x-one");
    dr__http_request_remove_header(&req, "not-there");
    assert_int_equal(req.header_count, 21);
    assert_null(dr__http_request_header(&req, "X-One"));
    assert_string_equal(req.headers[1].name, "X-N0");
    dr__http_request_free(&req);
    assert_int_equal(req.header_count, 0);
    dr__http_request_free(&req); /* twice is fine */
}

static void expect_target(const char *url, const char *path, const char *query)
{
    const char *p, *q;
    size_t pn, qn;
    dr__http_url_target(url, &p, &pn, &q, &qn);
    if (pn != strlen(path) || memcmp(p, path, pn) != 0 || qn != strlen(query) ||
        memcmp(q, query, qn) != 0)
        fail_msg("%s: path \"%.*s\" query \"%.*s\", expected \"%s\" and \"%s\"", url, (int)pn, p,
                 (int)qn, q, path, query);
}

static void test_url_target(void **state)
{
    (void)state;
    expect_target("http://127.0.0.1:8000", "/", "");
    expect_target("https://h.example/", "/", "");
    expect_target("https://h.example?a=1", "/", "a=1");
    expect_target("https://h.example:443/x/y%20z?a=1&b=2#frag", "/x/y%20z", "a=1&b=2");
    expect_target("https://[::1]:9/p#f?notquery", "/p", "");
}

/* What the request object holds is what goes on the wire. */
static void test_request_on_the_wire(void **state)
{
    mini_http *s = mini_http_start();
    dr_http_request req = DR_HTTP_REQUEST_INIT;
    dr_http_response resp = DR_HTTP_RESPONSE_INIT;
    char url[64], value[64];
    (void)state;
    assert_non_null(s);
    mini_http_respond(s, "POST", "/", 200, "{}");
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", (unsigned)mini_http_port(s));
    req.method = "POST";
    req.url = url;
    req.body = "{}";
    req.body_len = 2;
    req.timeout_ms = 5000;
    assert_int_equal(dr__http_request_set_header(&req, "X-Amz-Target", "old"), DR_OK);
    assert_int_equal(dr__http_request_set_header(&req, "X-Amz-Target", "DynamoDB_20120810.X"),
                     DR_OK);
    assert_int_equal(dr__http_perform(NULL, &req, &resp), DR_OK);
    assert_int_equal(resp.status, 200);
    assert_true(mini_http_last_header(s, "POST", "/", "x-amz-target", value, sizeof value));
    assert_string_equal(value, "DynamoDB_20120810.X");
    dr__http_response_free(&resp);
    dr__http_request_free(&req);
    mini_http_stop(s);
}

/* ---- one region rule ----------------------------------------------------------- */

/* Sign a minimal request for `region`: what the transport does on every attempt. */
static dr_status sign_for_region(dr_sigv4_signer *signer, dr_credentials *creds,
                                 const char *region)
{
    dr_http_request req = DR_HTTP_REQUEST_INIT;
    dr_sigv4_params p = {0};
    dr_status rc;

    req.method = "POST";
    req.url = "https://dynamodb.example/";
    req.body = "{}";
    req.body_len = 2;
    p.creds = creds;
    p.region = region;
    p.service = "dynamodb";
    p.unix_time = 1700000000;
    rc = dr__http_request_set_header(&req, "host", "dynamodb.example");
    if (rc == DR_OK)
        rc = dr__sigv4_sign_http(signer, &p, &req);
    dr__http_request_free(&req);
    return rc;
}

static void test_region_rule_shared(void **state)
{
    char longest[DR_REGION_MAX + 1], too_long[DR_REGION_MAX + 2];
    dr_credentials *creds = dr__credentials_new("AKIDEXAMPLE", "secret", NULL, 0);
    dr_sigv4_signer *signer = NULL;
    dr_config *cfg = NULL;
    char *resolved = NULL;
    (void)state;

    memset(longest, 'a', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    memset(too_long, 'a', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    assert_non_null(creds);
    assert_int_equal(dr__sigv4_signer_new(&signer), DR_OK);
    assert_int_equal(dr_config_new(&cfg), DR_OK);

    /* What the configuration takes, the signer signs with. */
    assert_int_equal(dr_config_set_region(cfg, longest), DR_OK);
    if (sign_for_region(signer, creds, longest) != DR_OK)
        fail_msg("signer refused a region the configuration took: %s",
                 dr_last_error_message());

    /* One more character: both refuse, and so does the environment. */
    assert_int_equal(dr_config_set_region(cfg, too_long), DR_E_INVALID_ARGUMENT);
    assert_non_null(strstr(dr_last_error_message(), "region"));
    assert_int_equal(sign_for_region(signer, creds, too_long), DR_E_INVALID_ARGUMENT);
    setenv("AWS_REGION", too_long, 1);
    assert_int_equal(dr__resolve_region(NULL, NULL, &resolved), DR_E_CONFIG);
    assert_null(resolved);
    setenv("AWS_REGION", longest, 1);
    assert_int_equal(dr__resolve_region(NULL, NULL, &resolved), DR_OK);
    assert_string_equal(resolved, longest);
    dr__free(resolved);

    /* Upper case is refused by both as well (the signer used to take it). */
    assert_int_equal(dr_config_set_region(cfg, "US-EAST-1"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(sign_for_region(signer, creds, "US-EAST-1"), DR_E_INVALID_ARGUMENT);

    dr_config_free(cfg);
    dr__sigv4_signer_free(signer);
    dr__credentials_release(creds);
}

/* ---- L5: secret buffers leave no unwiped copy when they grow -------------------- */

/* An allocator that knows every live block's size and looks into each block as it is
 * freed; realloc is malloc + copy + free, so the block realloc gives up is seen too. */
#define MARK "SECRETMARK"
#define MAX_BLOCKS 4096

static struct {
    void *ptr[MAX_BLOCKS];
    size_t size[MAX_BLOCKS];
    int frees, dirty_frees; /* freed blocks, and those still holding MARK */
} g_heap;

static size_t *block_size(void *p)
{
    size_t i;
    for (i = 0; i < MAX_BLOCKS; i++)
        if (g_heap.ptr[i] == p)
            return &g_heap.size[i];
    return NULL;
}

static void *inspect_malloc(size_t n)
{
    void *p = malloc(n);
    size_t *slot = p ? block_size(NULL) : NULL;
    if (p)
        /* Recycled heap may still hold a secret someone else freed (jansson's strings):
         * only what the library writes into the block may count against it. */
        memset(p, 0xa5, n);
    if (slot) {
        g_heap.ptr[slot - g_heap.size] = p;
        *slot = n;
    }
    return p;
}

static void inspect_free(void *p)
{
    size_t *slot = p ? block_size(p) : NULL;
    if (slot) {
        const char *b = p;
        size_t i, mlen = sizeof MARK - 1;
        g_heap.frees++;
        for (i = 0; i + mlen <= *slot; i++)
            if (memcmp(b + i, MARK, mlen) == 0) {
                if (getenv("DR_TEST_VERBOSE"))
                    fprintf(stderr, "dirty block of %zu bytes: %.*s\n", *slot,
                            (int)(*slot < 80 ? *slot : 80), b);
                g_heap.dirty_frees++;
                break;
            }
        g_heap.ptr[slot - g_heap.size] = NULL;
    }
    free(p);
}

static void *inspect_realloc(void *p, size_t n)
{
    size_t *slot = p ? block_size(p) : NULL;
    void *q;
    if (p && !slot)
        return realloc(p, n); /* allocated before the test: not ours to watch */
    q = inspect_malloc(n);
    if (q && p) {
        memcpy(q, p, *slot < n ? *slot : n);
        inspect_free(p);
    }
    return q;
}

static void install_inspector(void)
{
    memset(&g_heap, 0, sizeof g_heap);
    assert_int_equal(dr_set_allocator(inspect_malloc, inspect_realloc, inspect_free), DR_OK);
}

static void remove_inspector(void)
{
    assert_int_equal(dr_set_allocator(malloc, realloc, free), DR_OK);
}

static void test_secret_buf_growth_wipes(void **state)
{
    dr_buf secret = DR_BUF_SECRET_INIT, marked = DR_BUF_INIT;
    char chunk[100];
    size_t i;
    (void)state;

    memset(chunk, 'x', sizeof chunk);
    memcpy(chunk, MARK, sizeof MARK - 1);
    install_inspector();
    for (i = 0; i < 100; i++) /* 10,000 bytes: seven doublings past 64, two past 4 KiB */
        dr__buf_append(&secret, chunk, sizeof chunk);
    dr__buf_mark_secret(&marked);
    for (i = 0; i < 100; i++)
        dr__buf_printf(&marked, "%.*s", (int)sizeof chunk, chunk);
    assert_int_equal(dr__buf_ok(&secret), DR_OK);
    assert_int_equal(dr__buf_ok(&marked), DR_OK);
    assert_int_equal(secret.len, 10000);
    assert_int_equal(marked.len, 10000);
    for (i = 0; i < 100; i++) {
        assert_memory_equal(secret.data + i * sizeof chunk, chunk, sizeof chunk);
        assert_memory_equal(marked.data + i * sizeof chunk, chunk, sizeof chunk);
    }
    assert_true(g_heap.frees >= 14); /* the blocks given up while growing */
    dr__buf_reset(&marked);
    dr__buf_puts(&marked, "short");
    dr__buf_free(&secret);
    dr__buf_free(&marked);
    remove_inspector();
    if (g_heap.dirty_frees)
        fail_msg("%d of %d freed blocks still held the secret", g_heap.dirty_frees,
                 g_heap.frees);
}

/* The inspector sees what it should: an unmarked buffer leaves its copies as they were. */
static void test_inspector_sees_plain_buffers(void **state)
{
    dr_buf plain = DR_BUF_INIT;
    size_t i;
    (void)state;
    install_inspector();
    for (i = 0; i < 1000; i++)
        dr__buf_puts(&plain, MARK);
    dr__buf_free(&plain);
    remove_inspector();
    assert_true(g_heap.dirty_frees > 0);
}

/* A credentials file over one 4 KiB read: every block that held it is wiped. */
static void test_profile_file_growth_wipes(void **state)
{
    dr_buf text = DR_BUF_INIT;
    dr_credentials *c = NULL;
    int i;
    (void)state;

    dr__buf_puts(&text, "[default]\naws_access_key_id = AKIDPROFILE\n"
                        "aws_secret_access_key = " MARK "-profile-secret\n"
                        "aws_session_token = " MARK "-profile-token\n");
    for (i = 0; i < 300; i++)
        dr__buf_printf(&text, "# padding line %03d so that the file is read in pieces\n", i);
    assert_true(text.len > 3 * 4096);
    setenv("AWS_SHARED_CREDENTIALS_FILE", sandbox_write("credentials", dr__buf_cstr(&text)), 1);
    dr__buf_free(&text);

    install_inspector();
    if (sandbox_profile_credentials("default", &c) != DR_OK) {
        remove_inspector();
        fail_msg("profile: %s", dr_last_error_message());
    }
    dr__credentials_release(c);
    remove_inspector();
    if (g_heap.dirty_frees)
        fail_msg("%d of %d freed blocks still held the profile's secrets", g_heap.dirty_frees,
                 g_heap.frees);
}

/* A container token file and a metadata answer of several kilobytes. */
static void test_container_growth_wipes(void **state)
{
    creds_source src = {.secret = MARK "-container-secret", .token = MARK "-session-token"};
    mini_http *s = mini_http_start();
    dr_buf token = DR_BUF_INIT;
    dr_credentials *c = NULL;
    char url[96];
    int i;
    (void)state;

    assert_non_null(s);
    dr__buf_puts(&token, MARK);
    for (i = 0; i < 6000; i++)
        dr__buf_putc(&token, (char)('a' + i % 26));
    dr__buf_putc(&token, '\n');
    mini_http_handle(s, "GET", "/creds", creds_source_handler, &src);
    snprintf(url, sizeof url, "%s/creds", mini_http_url(s));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
           sandbox_write("token", dr__buf_cstr(&token)), 1);
    dr__buf_free(&token);

    install_inspector();
    if (dr__credentials_from_container(5000, &c) != DR_OK) {
        remove_inspector();
        fail_msg("container: %s", dr_last_error_message());
    }
    dr__credentials_release(c);
    remove_inspector();
    mini_http_stop(s);
    if (g_heap.dirty_frees)
        fail_msg("%d of %d freed blocks still held the token or credentials",
                 g_heap.dirty_frees, g_heap.frees);
}

#define T(f) cmocka_unit_test_setup_teardown(f, sandbox_setup, sandbox_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_loopback_hosts),
        T(test_loopback_endpoints),
        T(test_localhost_request),
        T(test_request_headers),
        T(test_url_target),
        T(test_request_on_the_wire),
        T(test_imds_role_with_at),
        T(test_region_rule_shared),
        T(test_secret_buf_growth_wipes),
        T(test_inspector_sees_plain_buffers),
        T(test_profile_file_growth_wipes),
        T(test_container_growth_wipes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
