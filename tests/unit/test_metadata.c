/* The container and instance-metadata providers: the SDKs' endpoint-resolution suites
 * (tests/data/credential-chain/, from smithy-rs; its README.md says what they mean) run
 * against dr__container_endpoint and dr__imds_endpoint, then the providers' retries and
 * profile settings against a loopback server (tests/support/mini_http). A missing suite
 * fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "credentials_chain.h"
#include "credentials_provider.h"
#include "creds_sandbox.h"
#include "mini_http.h"

/* The suites' error texts are smithy-rs's wording. Each maps to the library's message for
 * the same refusal; the case passes only when the library refuses and its message holds
 * that text. An expected error missing here fails its case. */
static const struct {
    const char *suite;   /* ErrorContains / Err */
    const char *library; /* what the library's message must contain */
} error_map[] = {
    /* ecs-tests.json */
    {"No environment variables were set to configure ECS provider",
     "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set"},
    /* FULL_URI "/credentials": a path, not an absolute URL. */
    {"URI did not specify a host",
     "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an absolute URL with a host"},
    /* imds-endpoint-tests.json: the library keeps the SDK's text and names the setting. */
    {"`error` is not a valid endpoint mode",
     "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: `error` is not a valid endpoint mode"},
    {"`IPv7` is not a valid endpoint mode",
     "ec2_metadata_service_endpoint_mode of profile default: `IPv7` is not a valid endpoint "
     "mode"},
    /* "not a uri": the http crate stops at the space; the library at the missing scheme. */
    {"invalid uri character",
     "AWS_EC2_METADATA_SERVICE_ENDPOINT must be an absolute URL with a host"},
};

/* Every variable the two resolutions read, unset before each case. */
static const char *const metadata_vars[] = {
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_PROFILE"};

static void clear_metadata_env(void)
{
    size_t i;
    for (i = 0; i < sizeof metadata_vars / sizeof metadata_vars[0]; i++)
        unsetenv(metadata_vars[i]);
    /* No shared files unless a case writes them. */
    setenv("AWS_CONFIG_FILE", sandbox_path("no-config"), 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", sandbox_path("no-credentials"), 1);
}

static json_t *load_suite(const char *name)
{
    const char *src = getenv("DR_SOURCE_DIR");
    char path[2048];
    json_error_t err;
    json_t *root;
    snprintf(path, sizeof path, "%s/tests/data/credential-chain/%s", src ? src : ".", name);
    if (!(root = json_load_file(path, 0, &err)))
        fail_msg("cannot load %s (set DR_SOURCE_DIR): %s", path, err.text);
    return root;
}

/* Compare a resolution's outcome with the case's: 1 if they agree, else 0 and why. */
static int check_outcome(dr_status rc, const char *got, const char *want_ok,
                         const char *want_err, char *why, size_t cap)
{
    size_t i;
    if (want_ok) {
        if (rc != DR_OK)
            return snprintf(why, cap, "refused (%s), expected %s", dr_last_error_message(),
                            want_ok), 0;
        if (strcmp(got, want_ok) != 0)
            return snprintf(why, cap, "got %s, expected %s", got, want_ok), 0;
        return 1;
    }
    if (!want_err)
        return snprintf(why, cap, "case has neither an Ok nor an error result"), 0;
    if (rc == DR_OK)
        return snprintf(why, cap, "accepted (%s), expected an error like \"%s\"", got,
                        want_err), 0;
    for (i = 0; i < sizeof error_map / sizeof error_map[0]; i++)
        if (strcmp(error_map[i].suite, want_err) == 0)
            break;
    if (i == sizeof error_map / sizeof error_map[0])
        return snprintf(why, cap, "no mapping for the suite's error \"%s\" (got \"%s\")",
                        want_err, dr_last_error_message()), 0;
    if (rc == DR_E_NOMEM || !strstr(dr_last_error_message(), error_map[i].library))
        return snprintf(why, cap, "message \"%s\" lacks \"%s\"", dr_last_error_message(),
                        error_map[i].library), 0;
    return 1;
}

static void set_case_env(json_t *env, const char *fs_prefix)
{
    const char *name;
    json_t *value;
    json_object_foreach(env, name, value) {
        const char *v = json_string_value(value);
        char file[128];
        /* The suites' file paths are relative to their fake file system. */
        if ((strcmp(name, "AWS_CONFIG_FILE") == 0 ||
             strcmp(name, "AWS_SHARED_CREDENTIALS_FILE") == 0) && v[0] != '/' && v[0] != '~') {
            snprintf(file, sizeof file, "%s%s", fs_prefix, v);
            v = sandbox_path(file);
        }
        setenv(name, v, 1);
    }
}

static void report(const char *suite, size_t n, size_t passed, size_t failed)
{
    printf("%s: %zu cases, %zu passed, %zu failed, %u unsupported\n", suite, n, passed, failed,
           0u);
    assert_true(n > 0);
    assert_int_equal(failed, 0);
}

/* ---- ecs-tests.json ------------------------------------------------------------------ */

static int run_ecs_case(json_t *c, char *why, size_t cap)
{
    json_t *result = json_object_get(c, "result");
    dr_buf url = DR_BUF_INIT;
    dr_status rc;
    int ok;

    clear_metadata_env();
    set_case_env(json_object_get(c, "env"), "");
    rc = dr__container_endpoint(&url);
    ok = check_outcome(rc, dr__buf_cstr(&url), json_string_value(json_object_get(result, "Ok")),
                       json_string_value(json_object_get(result, "ErrorContains")), why, cap);
    dr__buf_free(&url);
    return ok;
}

static void test_ecs_suite(void **state)
{
    json_t *root = load_suite("ecs-tests.json"), *c;
    size_t i, n = 0, passed = 0, failed = 0;
    char why[1024];
    (void)state;
    dr__credentials_container_set_relative_base(NULL); /* the real 169.254.170.2 */
    json_array_foreach(json_object_get(root, "tests"), i, c) {
        n++;
        if (run_ecs_case(c, why, sizeof why)) {
            passed++;
        } else {
            failed++;
            printf("  FAILED: %s: %s\n", json_string_value(json_object_get(c, "docs")), why);
        }
    }
    json_decref(root);
    report("ecs-tests.json", n, passed, failed);
}

/* ---- imds-endpoint-tests.json -------------------------------------------------------- */

static int run_imds_case(json_t *c, size_t index, char *why, size_t cap)
{
    json_t *result = json_object_get(c, "result"), *content;
    dr_imds_endpoint_override code = {NULL, NULL};
    dr_buf base = DR_BUF_INIT;
    char prefix[32], file[160];
    const char *name;
    dr_status rc;
    int ok;

    /* Each case's files under their own names: no case sees another's. */
    snprintf(prefix, sizeof prefix, "imds-case-%zu-", index);
    clear_metadata_env();
    json_object_foreach(json_object_get(c, "fs"), name, content) {
        snprintf(file, sizeof file, "%s%s", prefix, name);
        sandbox_write(file, json_string_value(content));
    }
    set_case_env(json_object_get(c, "env"), prefix);
    code.endpoint = json_string_value(json_object_get(c, "endpoint_override"));
    code.mode = json_string_value(json_object_get(c, "mode_override"));
    rc = dr__imds_endpoint(NULL, &code, &base);
    /* The suite names the first URL the client requests: the token's. */
    if (rc == DR_OK)
        dr__buf_puts(&base, DR_IMDS_TOKEN_PATH);
    ok = check_outcome(rc, dr__buf_cstr(&base), json_string_value(json_object_get(result, "Ok")),
                       json_string_value(json_object_get(result, "Err")), why, cap);
    dr__buf_free(&base);
    return ok;
}

static void test_imds_endpoint_suite(void **state)
{
    json_t *root = load_suite("imds-endpoint-tests.json"), *c;
    size_t i, n = 0, passed = 0, failed = 0;
    char why[1024];
    (void)state;
    json_array_foreach(json_object_get(root, "tests"), i, c) {
        n++;
        if (run_imds_case(c, i, why, sizeof why)) {
            passed++;
        } else {
            failed++;
            printf("  FAILED: %s: %s\n", json_string_value(json_object_get(c, "docs")), why);
        }
    }
    json_decref(root);
    report("imds-endpoint-tests.json", n, passed, failed);
}

/* ---- beyond the suites: the profile, files and retries ------------------------------- */

static void assert_message_has(const char *needle)
{
    if (!strstr(dr_last_error_message(), needle))
        fail_msg("message \"%s\" lacks \"%s\"", dr_last_error_message(), needle);
}

static void expect_imds_base(const char *profile, const char *want)
{
    dr_buf base = DR_BUF_INIT;
    dr_status rc = dr__imds_endpoint(profile, NULL, &base);
    if (rc != DR_OK)
        fail_msg("%s: %s", want, dr_last_error_message());
    assert_string_equal(dr__buf_cstr(&base), want);
    dr__buf_free(&base);
}

static void test_imds_endpoint_sources(void **state)
{
    dr_buf base = DR_BUF_INIT;
    (void)state;
    clear_metadata_env();
    setenv("AWS_CONFIG_FILE", sandbox_write("config",
           "[default]\nec2_metadata_service_endpoint_mode = ipv6\n"
           "[profile custom]\nec2_metadata_service_endpoint = http://127.0.0.1:9/x//\n"
           "[profile bad-url]\nec2_metadata_service_endpoint = 169.254.169.254\n"), 1);
    /* The profile in use: the caller's, else AWS_PROFILE, else default. */
    expect_imds_base(NULL, "http://[fd00:ec2::254]");
    expect_imds_base("custom", "http://127.0.0.1:9/x");
    setenv("AWS_PROFILE", "custom", 1);
    expect_imds_base(NULL, "http://127.0.0.1:9/x");
    expect_imds_base("ghost", "http://169.254.169.254");
    /* An environment mode loses to the profile's endpoint, wins over its mode. */
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPV4", 1);
    expect_imds_base("custom", "http://127.0.0.1:9/x");
    expect_imds_base("default", "http://169.254.169.254");
    /* Empty counts as unset. */
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "", 1);
    expect_imds_base("default", "http://[fd00:ec2::254]");
    assert_int_equal(dr__imds_endpoint("bad-url", NULL, &base), DR_E_CONFIG);
    assert_message_has("ec2_metadata_service_endpoint of profile bad-url must be an absolute "
                       "URL with a host");
    /* A broken config file matters only when the environment does not decide. */
    sandbox_write("config", "[default]\nec2_metadata_service_endpoint_mode = IPv6\n[broken\n");
    assert_int_equal(dr__imds_endpoint(NULL, NULL, &base), DR_E_CONFIG);
    assert_message_has("IMDS endpoint: error parsing");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:7", 1);
    expect_imds_base(NULL, "http://127.0.0.1:7");
    dr__buf_free(&base);
}

/* Answers `failures` requests with `status` (0: hangs up), then serves `ok_body`, or
 * credentials from `src`. */
typedef struct flaky {
    int failures;
    int status;
    const char *ok_body;
    creds_source *src;
    atomic_int seen;
} flaky;

static void flaky_handler(const mini_http_request *req, int *status, char *body, size_t cap,
                          void *payload)
{
    flaky *f = payload;
    if (atomic_fetch_add(&f->seen, 1) < f->failures) {
        *status = f->status;
        snprintf(body, cap, "{\"message\":\"scripted failure\"}");
    } else if (f->src) {
        creds_source_handler(req, status, body, cap, f->src);
    } else {
        *status = 200;
        snprintf(body, cap, "%s", f->ok_body);
    }
}

#define ROLE_PATH "/latest/meta-data/iam/security-credentials/"
#define CREDS_PATH ROLE_PATH "test-role"

static mini_http *imds_server(creds_source *src)
{
    mini_http *s = mini_http_start();
    assert_non_null(s);
    sandbox_script_imds(s, src);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", mini_http_url(s), 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    return s;
}

static void test_imds_retries(void **state)
{
    creds_source src = {.access_key_prefix = "ASIARETRY"};
    mini_http *s = imds_server(&src);
    flaky role = {.failures = 2, .status = 503, .ok_body = "test-role"};
    flaky creds = {.failures = 1, .status = 500, .src = &src};
    dr_credentials *c = NULL;
    (void)state;
    /* 5xx, on the listing and on the document, passes within the 4 attempts. */
    mini_http_handle(s, "GET", ROLE_PATH, flaky_handler, &role);
    mini_http_handle(s, "GET", CREDS_PATH, flaky_handler, &creds);
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIARETRY1");
    dr__credentials_release(c);
    assert_int_equal(mini_http_count(s, "GET", ROLE_PATH), 3);
    assert_int_equal(mini_http_count(s, "GET", CREDS_PATH), 2);
    assert_int_equal(mini_http_count(s, "PUT", NULL), 1);

    /* A 5xx that persists: exactly 4 attempts, and the message says so. */
    mini_http_reset(s);
    sandbox_script_imds(s, &src);
    mini_http_respond(s, "PUT", DR_IMDS_TOKEN_PATH, 503, "");
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_E_CREDENTIALS);
    assert_message_has("after 4 attempts: instance metadata endpoint answered HTTP 503");
    assert_int_equal(mini_http_count(s, "PUT", DR_IMDS_TOKEN_PATH), 4);

    /* Other 4xx are final: 400, and 403/404 where older SDKs would try IMDSv1. */
    mini_http_respond(s, "PUT", DR_IMDS_TOKEN_PATH, 403, "");
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_E_CREDENTIALS);
    assert_message_has("IMDSv2 session token (there is no IMDSv1 fallback): instance metadata "
                       "endpoint answered HTTP 403");
    assert_int_equal(mini_http_count(s, "PUT", DR_IMDS_TOKEN_PATH), 5);
    mini_http_respond(s, "PUT", DR_IMDS_TOKEN_PATH, 200, "TOKEN-1");
    mini_http_respond(s, "GET", CREDS_PATH, 400, "");
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_E_CREDENTIALS);
    assert_message_has("HTTP 400");
    assert_int_equal(mini_http_count(s, "GET", CREDS_PATH), 1);
    mini_http_stop(s);
}

/* The first token handed out is already stale: the server takes only the second. */
static void token_handler(const mini_http_request *req, int *status, char *body, size_t cap,
                          void *payload)
{
    atomic_int *issued = payload;
    (void)req;
    *status = 200;
    snprintf(body, cap, "TOKEN-%d", atomic_fetch_add(issued, 1) + 1);
}

static void test_imds_token_refresh(void **state)
{
    creds_source src = {.access_key_prefix = "ASIAREFRESH"};
    mini_http *s = imds_server(&src);
    atomic_int issued = 0;
    dr_credentials *c = NULL;
    (void)state;
    mini_http_handle(s, "PUT", DR_IMDS_TOKEN_PATH, token_handler, &issued);
    mini_http_require_header(s, "GET", ROLE_PATH, "X-aws-ec2-metadata-token", "TOKEN-2");
    mini_http_require_header(s, "GET", CREDS_PATH, "X-aws-ec2-metadata-token", "TOKEN-2");
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIAREFRESH1");
    dr__credentials_release(c);
    /* 401, a new token, the listing again, then the document with the new token. */
    assert_int_equal(mini_http_count(s, "PUT", DR_IMDS_TOKEN_PATH), 2);
    assert_int_equal(mini_http_count(s, "GET", ROLE_PATH), 2);
    assert_int_equal(mini_http_count(s, "GET", CREDS_PATH), 1);
    mini_http_stop(s);
}

static void test_imds_timeouts_not_retried(void **state)
{
    creds_source src = {0};
    mini_http *s = imds_server(&src);
    dr_credentials *c = NULL;
    (void)state;
    /* Off EC2 nothing answers: one timeout ends the provider. */
    mini_http_set_delay_ms(s, 500);
    assert_int_equal(dr__credentials_from_imds(NULL, 150, &c), DR_E_TIMEOUT);
    mini_http_set_delay_ms(s, 0);
    assert_int_equal(mini_http_count(s, "PUT", NULL), 1);
    /* So does a connection that closes without an answer. */
    mini_http_respond(s, "PUT", DR_IMDS_TOKEN_PATH, 0, NULL);
    assert_int_not_equal(dr__credentials_from_imds(NULL, 0, &c), DR_OK);
    assert_int_equal(mini_http_count(s, "PUT", NULL), 2);
    mini_http_stop(s);
}

/* The chain hands its profile to IMDS. */
static void test_imds_profile_from_chain(void **state)
{
    creds_source src = {.access_key_prefix = "ASIAPROFILE"};
    mini_http *s = imds_server(&src);
    dr_credentials_options opts = {0};
    dr_credentials_chain *chain = NULL;
    dr_credentials *c = NULL;
    char config[256];
    (void)state;
    unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    snprintf(config, sizeof config, "[profile metadata]\nec2_metadata_service_endpoint = %s\n",
             mini_http_url(s));
    sandbox_write("config", config);
    opts.profile = "metadata";
    assert_int_equal(dr__credentials_chain_new(&chain, &opts), DR_OK);
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIAPROFILE1");
    dr__credentials_release(c);
    dr__credentials_chain_free(chain);
    /* A mode that is not one is the provider's reason, naming the value. */
    sandbox_write("config", "[default]\nec2_metadata_service_endpoint_mode = IPv5\n");
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_E_CONFIG);
    assert_message_has("ec2_metadata_service_endpoint_mode of profile default: `IPv5` is not a "
                       "valid endpoint mode (IPv4 or IPv6)");
    mini_http_stop(s);
}

static void test_container_retries(void **state)
{
    creds_source src = {.access_key_prefix = "ASIAECS"};
    flaky server_error = {.failures = 2, .status = 502, .src = &src};
    flaky hang_up = {.failures = 1, .status = 0, .src = &src};
    flaky garbled = {.failures = 0, .ok_body = "{\"AccessKeyId\": "};
    mini_http *s = mini_http_start();
    dr_credentials *c = NULL;
    char url[128];
    (void)state;
    assert_non_null(s);
    snprintf(url, sizeof url, "%s/creds", mini_http_url(s));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);

    /* 5xx and a dropped connection pass within the 3 attempts. */
    mini_http_handle(s, "GET", "/creds", flaky_handler, &server_error);
    assert_int_equal(dr__credentials_from_container(0, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIAECS1");
    dr__credentials_release(c);
    assert_int_equal(mini_http_count(s, "GET", "/creds"), 3);
    mini_http_handle(s, "GET", "/creds", flaky_handler, &hang_up);
    assert_int_equal(dr__credentials_from_container(0, &c), DR_OK);
    dr__credentials_release(c);
    assert_int_equal(mini_http_count(s, "GET", "/creds"), 5);

    /* A 200 without a usable document is tried again too, up to 3 times. */
    mini_http_handle(s, "GET", "/creds", flaky_handler, &garbled);
    assert_int_equal(dr__credentials_from_container(0, &c), DR_E_CREDENTIALS);
    assert_message_has("after 3 attempts: container endpoint returned malformed JSON");
    assert_int_equal(mini_http_count(s, "GET", "/creds"), 8);

    /* A 4xx is the endpoint's final word. */
    mini_http_respond(s, "GET", "/creds", 403, "{}");
    assert_int_equal(dr__credentials_from_container(0, &c), DR_E_CREDENTIALS);
    assert_message_has("container endpoint answered HTTP 403");
    assert_null(strstr(dr_last_error_message(), "attempts"));
    assert_int_equal(mini_http_count(s, "GET", "/creds"), 9);

    /* Timeouts are retried: the container endpoint is only asked when configured. */
    mini_http_respond(s, "GET", "/creds", 200, "{}");
    mini_http_set_delay_ms(s, 400);
    assert_int_equal(dr__credentials_from_container(100, &c), DR_E_TIMEOUT);
    assert_message_has("after 3 attempts");
    mini_http_set_delay_ms(s, 0);
    mini_http_stop(s);
    assert_null(c);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sandbox_setup, sandbox_teardown)
    const struct CMUnitTest tests[] = {
        T(test_ecs_suite),
        T(test_imds_endpoint_suite),
        T(test_imds_endpoint_sources),
        T(test_imds_retries),
        T(test_imds_token_refresh),
        T(test_imds_timeouts_not_retried),
        T(test_imds_profile_from_chain),
        T(test_container_retries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
