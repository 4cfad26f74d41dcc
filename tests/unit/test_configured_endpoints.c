/* Configured endpoint URLs: the SDKs' cases (tests/data/configured-endpoint-urls/, from
 * botocore; its README.md says what they mean) run against dr__configured_endpoint
 * through a real shared config file, for every service they name (the function is
 * generic), then the Streams fallback and the DynamoDB client's use of it
 * (dr__resolve_endpoint). A missing suite fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "alloc.h"
#include "buf.h"
#include "configured_endpoint.h"
#include "creds_sandbox.h"
#include "resolve.h"
#include "test_alloc.h"

extern char **environ;

/* Unset every variable the lookup reads, whatever the environment the test started in. */
static void clear_endpoint_env(void)
{
    char names[64][128];
    size_t n = 0, i;
    char **e;
    for (e = environ; *e && n < 64; e++) {
        size_t len = strcspn(*e, "=");
        if ((strncmp(*e, "AWS_ENDPOINT_URL", 16) == 0 ||
             strncmp(*e, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", 35) == 0) &&
            len < sizeof names[0])
            snprintf(names[n++], sizeof names[0], "%.*s", (int)len, *e);
    }
    for (i = 0; i < n; i++)
        unsetenv(names[i]);
    unsetenv("AWS_PROFILE");
}

/* The suite's profiles and services as the config file a user would write. */
static void write_config(json_t *suite)
{
    json_t *props, *value, *blocks, *subs;
    const char *name, *key, *sub;
    dr_buf text = DR_BUF_INIT;

    json_object_foreach(json_object_get(suite, "profiles"), name, props) {
        if (strcmp(name, "default") == 0)
            dr__buf_puts(&text, "[default]\n");
        else
            dr__buf_printf(&text, "[profile %s]\n", name);
        json_object_foreach(props, key, value) {
            dr__buf_printf(&text, "%s = %s\n", key, json_string_value(value));
        }
    }
    json_object_foreach(json_object_get(suite, "services"), name, blocks) {
        dr__buf_printf(&text, "[services %s]\n", name);
        json_object_foreach(blocks, key, subs) {
            dr__buf_printf(&text, "%s =\n", key);
            json_object_foreach(subs, sub, value) {
                dr__buf_printf(&text, "  %s = %s\n", sub, json_string_value(value));
            }
        }
    }
    assert_int_equal(dr__buf_ok(&text), DR_OK);
    sandbox_write("config", dr__buf_cstr(&text));
    dr__buf_free(&text);
}

/* One case; 1 if the lookup gives the expected URL, else 0 and why. */
static int run_case(json_t *suite, json_t *c, char *why, size_t cap)
{
    const char *service = json_string_value(json_object_get(c, "service"));
    const char *profile = json_string_value(json_object_get(c, "profile"));
    const char *expected = json_string_value(json_object_get(json_object_get(c, "output"),
                                                             "endpointUrl"));
    json_t *client = json_object_get(json_object_get(suite, "client_configs"),
                                     json_string_value(json_object_get(c, "client_config")));
    json_t *env = json_object_get(json_object_get(suite, "environments"),
                                  json_string_value(json_object_get(c, "environment")));
    json_t *region = json_object_get(json_object_get(json_object_get(suite, "profiles"),
                                                     profile), "region");
    dr_endpoint_query q;
    char *url = NULL, fallback[256];
    const char *name, *got;
    json_t *value;
    dr_status rc;
    int ok;

    if (!service || !profile || !expected || !client || !env)
        return snprintf(why, cap, "case refers to something the suite does not define"), 0;
    clear_endpoint_env();
    json_object_foreach(env, name, value) {
        setenv(name, json_string_value(value), 1);
    }
    memset(&q, 0, sizeof q);
    q.service_id = service;
    q.profile = profile;
    q.configured = json_string_value(json_object_get(client, "endpoint_url"));
    q.ignore_configured = json_is_true(json_object_get(client, "ignore_configured_endpoint_urls"));
    rc = dr__configured_endpoint(&q, &url);
    if (rc != DR_OK)
        return snprintf(why, cap, "failed: %s", dr_last_error_message()), 0;
    /* Nothing configured: the SDK's default endpoint, which is not this lookup's job; the
     * suite's expectation for it is the plain regional one. */
    snprintf(fallback, sizeof fallback, "https://%s.%s.amazonaws.com", service,
             region ? json_string_value(region) : "?");
    got = url ? url : fallback;
    ok = strcmp(got, expected) == 0;
    if (!ok)
        snprintf(why, cap, "got %s%s, expected %s", got, url ? "" : " (nothing configured)",
                 expected);
    dr__free(url);
    return ok;
}

static void test_botocore_suite(void **state)
{
    const char *src = getenv("DR_SOURCE_DIR");
    char path[2048], why[1024];
    size_t i, n = 0, passed = 0, failed = 0;
    json_error_t err;
    json_t *root, *suite, *c;
    (void)state;

    snprintf(path, sizeof path, "%s/tests/data/configured-endpoint-urls/profile-tests.json",
             src ? src : ".");
    if (!(root = json_load_file(path, 0, &err)))
        fail_msg("cannot load %s (set DR_SOURCE_DIR): %s", path, err.text);
    suite = json_array_get(json_object_get(root, "testSuites"), 0);
    assert_int_equal(json_array_size(json_object_get(root, "testSuites")), 1);
    write_config(suite);
    json_array_foreach(json_object_get(suite, "endpointUrlTests"), i, c) {
        n++;
        if (run_case(suite, c, why, sizeof why)) {
            passed++;
        } else {
            failed++;
            printf("  FAILED: %s: %s\n", json_string_value(json_object_get(c, "name")), why);
        }
    }
    printf("profile-tests.json: %zu cases, %zu passed, %zu failed, %u unsupported\n", n, passed,
           failed, 0u);
    json_decref(root);
    assert_true(n > 0);
    assert_int_equal(failed, 0);
}

/* ---- beyond the suite ------------------------------------------------------------------ */

static void expect_endpoint(const dr_endpoint_query *q, const char *want)
{
    char *url = (char *)1;
    dr_status rc = dr__configured_endpoint(q, &url);
    if (rc != DR_OK)
        fail_msg("%s", dr_last_error_message());
    if (!want) {
        assert_null(url);
        return;
    }
    assert_non_null(url);
    assert_string_equal(url, want);
    dr__free(url);
}

static void test_service_names_and_fallback(void **state)
{
    dr_endpoint_query streams = {"dynamodb streams", "dynamodb", NULL, NULL, 0};
    (void)state;
    clear_endpoint_env();
    sandbox_write("config", "[default]\nservices = local\nendpoint_url = https://global.example\n"
                            "[services local]\ndynamodb =\n  endpoint_url = https://ddb.example\n"
                            "dynamodb_streams =\n  endpoint_url = https://streams.example\n"
                            "[profile shared]\nservices = ddb-only\n"
                            "[services ddb-only]\ndynamodb =\n"
                            "  endpoint_url = https://ddb.example\n"
                            "[profile empty]\nendpoint_url =\n");
    /* A service id's spaces are `_` in the services key... */
    expect_endpoint(&streams, "https://streams.example");
    /* ... a service without one of its own shares the fallback's... */
    streams.profile = "shared";
    expect_endpoint(&streams, "https://ddb.example");
    /* ... and the environment beats the profile, the service's own variable first. */
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000", 1);
    expect_endpoint(&streams, "http://127.0.0.1:8000");
    setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "http://127.0.0.1:8001", 1);
    expect_endpoint(&streams, "http://127.0.0.1:8001");
    /* Empty values are unset. */
    setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "", 1);
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "", 1);
    streams.profile = "empty";
    expect_endpoint(&streams, NULL);
    streams.configured = "";
    expect_endpoint(&streams, NULL);
    /* The switch is "true" in any case, nothing else. */
    streams.profile = NULL;
    streams.configured = NULL;
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "yes", 1);
    expect_endpoint(&streams, "https://streams.example");
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE", 1);
    expect_endpoint(&streams, NULL);
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    /* AWS_PROFILE chooses the profile when the client names none. */
    setenv("AWS_PROFILE", "empty", 1);
    expect_endpoint(&streams, NULL);
}

static void test_broken_config_file(void **state)
{
    dr_endpoint_query q = {"dynamodb", NULL, NULL, NULL, 0};
    char *url = (char *)1;
    (void)state;
    clear_endpoint_env();
    sandbox_write("config", "[default]\nendpoint_url = http://127.0.0.1:8000\n[broken\n");
    /* The profile could switch the environment's URL off: it must be readable. */
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9000", 1);
    assert_int_equal(dr__configured_endpoint(&q, &url), DR_E_CONFIG);
    assert_null(url);
    assert_non_null(strstr(dr_last_error_message(), "endpoint: error parsing"));
    /* The client's own URL needs no file. */
    q.configured = "http://127.0.0.1:7000";
    expect_endpoint(&q, "http://127.0.0.1:7000");
    /* Switched off, nothing is read either. */
    q.configured = NULL;
    q.ignore_configured = 1;
    expect_endpoint(&q, NULL);
}

/* What the DynamoDB client resolves from the same settings. */
static void expect_resolved(const char *configured, const char *profile,
                            dr_endpoint_service service, const char *want)
{
    char *endpoint = NULL, *host = NULL;
    const char *signing_region = NULL;
    dr_status rc = dr__resolve_endpoint(configured, "eu-west-1", profile, service, &endpoint,
                                        &host, &signing_region);
    if (rc != DR_OK)
        fail_msg("%s: %s", want, dr_last_error_message());
    assert_string_equal(endpoint, want);
    assert_string_equal(signing_region, "eu-west-1");
    dr__free(endpoint);
    dr__free(host);
}

static void test_client_endpoints(void **state)
{
    const dr_endpoint_service DDB = DR_ENDPOINT_DYNAMODB, STREAMS = DR_ENDPOINT_STREAMS;
    char *endpoint = NULL, *host = NULL;
    const char *signing_region = NULL;
    (void)state;
    clear_endpoint_env();
    expect_resolved(NULL, NULL, DDB, "https://dynamodb.eu-west-1.amazonaws.com");
    expect_resolved(NULL, NULL, STREAMS, "https://streams.dynamodb.eu-west-1.amazonaws.com");
    sandbox_write("config", "[profile local]\nendpoint_url = http://localhost:8000\n"
                            "[profile split]\nservices = split\n"
                            "[services split]\ndynamodb =\n  endpoint_url = http://127.0.0.1:1\n"
                            "dynamodb_streams =\n  endpoint_url = http://127.0.0.1:2\n"
                            "[profile remote]\nendpoint_url = http://example.com\n");
    /* One override serves both APIs, as DynamoDB Local does... */
    expect_resolved(NULL, "local", DDB, "http://localhost:8000");
    expect_resolved(NULL, "local", STREAMS, "http://localhost:8000");
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000", 1);
    expect_resolved(NULL, "local", STREAMS, "http://127.0.0.1:8000");
    unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
    /* ... unless Streams has its own. */
    expect_resolved(NULL, "split", DDB, "http://127.0.0.1:1");
    expect_resolved(NULL, "split", STREAMS, "http://127.0.0.1:2");
    expect_resolved("http://127.0.0.1:3", "split", STREAMS, "http://127.0.0.1:3");
    /* A URL from the file is held to the same rules as any other. */
    assert_int_equal(dr__resolve_endpoint(NULL, "eu-west-1", "remote", DDB, &endpoint, &host,
                                          &signing_region),
                     DR_E_CONFIG);
    assert_non_null(strstr(dr_last_error_message(), "plain http"));
}

/* Every allocation failure is DR_E_NOMEM, never "nothing configured" (and leaks nothing:
 * valgrind and ASan check that). */
static void test_allocation_failures(void **state)
{
    dr_endpoint_query q = {"dynamodb streams", "dynamodb", "split", NULL, 0};
    long n;
    (void)state;
    clear_endpoint_env();
    sandbox_write("config", "[profile split]\nservices = split\nregion = eu-west-1\n"
                            "[services split]\ndynamodb =\n  endpoint_url = http://127.0.0.1:1\n");
    for (n = 1; n < 200; n++) {
        char *url = NULL;
        dr_status rc;
        dr_test_alloc_fail_after(n);
        rc = dr__configured_endpoint(&q, &url);
        dr_test_alloc_fail_after(0);
        if (rc == DR_OK) {
            assert_string_equal(url, "http://127.0.0.1:1");
            dr__free(url);
            return;
        }
        if (rc != DR_E_NOMEM)
            fail_msg("allocation %ld: %d: %s", n, rc, dr_last_error_message());
    }
    fail_msg("never succeeded");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sandbox_setup, sandbox_teardown)
    const struct CMUnitTest tests[] = {
        T(test_botocore_suite),
        T(test_service_names_and_fallback),
        T(test_broken_config_file),
        T(test_client_endpoints),
        T(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
