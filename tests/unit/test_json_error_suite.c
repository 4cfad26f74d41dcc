/* The awsJson1_0 protocol's error-parsing cases (tests/data/awsjson1_0-protocol/, from
 * botocore; its README.md says where they come from), run against the library: every case
 * of output-json_1_0.json that names an error (12 of its 32; the others parse results,
 * which this library's operations do themselves) becomes the HTTP response the transport
 * would receive (status, headers, body) and goes through dr__ddb_response_error, the
 * transport's reader of failed responses. The error type it finds must be the case's
 * errorCode, and a "Message" the case expects must be the message it keeps. The test
 * service is JsonRpc10, not DynamoDB: only the extraction is checked, not DynamoDB's
 * mapping of types to statuses.
 * A missing suite fails: a silent skip would hide that nothing was checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "ddb.h"

#define SUITE_FILE "output-json_1_0.json"

static json_t *load_suite(void)
{
    const char *src = getenv("DR_SOURCE_DIR");
    char path[2048];
    json_error_t err;
    json_t *root;
    snprintf(path, sizeof path, "%s/tests/data/awsjson1_0-protocol/" SUITE_FILE,
             src ? src : ".");
    root = json_load_file(path, 0, &err);
    if (!root)
        fail_msg("cannot load %s (set DR_SOURCE_DIR): %s", path, err.text);
    return root;
}

static void build_response(const json_t *response, dr_http_response *resp)
{
    const char *body = json_string_value(json_object_get(response, "body"));
    const char *name;
    json_t *value;

    resp->status = (long)json_integer_value(json_object_get(response, "status_code"));
    json_object_foreach(json_object_get(response, "headers"), name, value) {
        dr__buf_printf(&resp->headers, "%s: %s\r\n", name, json_string_value(value));
    }
    dr__buf_append(&resp->headers, "", 0);
    if (body)
        dr__buf_puts(&resp->body, body);
}

/* 1 if the library reads the case's error as the case says, else 0 and why. */
static int check_case(const json_t *c, char *why, size_t cap)
{
    const char *want = json_string_value(json_object_get(c, "errorCode"));
    const char *want_message =
        json_string_value(json_object_get(json_object_get(c, "error"), "Message"));
    dr_http_response resp = DR_HTTP_RESPONSE_INIT;
    dr_ddb_error err = DR_DDB_ERROR_INIT;
    int ok = 1;

    build_response(json_object_get(c, "response"), &resp);
    if (dr__ddb_response_error("Suite", &resp, &err) == DR_OK)
        ok = 0, snprintf(why, cap, "a failed response read as a success");
    else if (!want || strcmp(err.type, want) != 0)
        ok = 0, snprintf(why, cap, "error type \"%s\", expected \"%s\"", err.type,
                         want ? want : "(none)");
    else if (want_message && strcmp(err.message, want_message) != 0)
        ok = 0, snprintf(why, cap, "message \"%s\", expected \"%s\"", err.message,
                         want_message);
    else if (err.http_status != resp.status)
        ok = 0, snprintf(why, cap, "HTTP status %ld kept as %ld", resp.status,
                         err.http_status);
    dr__ddb_error_clear(&err);
    dr__http_response_free(&resp);
    return ok;
}

static void test_error_cases(void **state)
{
    json_t *root = load_suite(), *suite;
    size_t n = 0, passed = 0, failed = 0, i, k;
    (void)state;

    json_array_foreach(root, i, suite) {
        json_t *cases = json_object_get(suite, "cases"), *c;
        json_array_foreach(cases, k, c) {
            const char *id = json_string_value(json_object_get(c, "id"));
            char why[1280] = "";
            if (!json_object_get(c, "error") && !json_object_get(c, "errorCode"))
                continue;
            n++;
            if (check_case(c, why, sizeof why)) {
                passed++;
            } else {
                failed++;
                print_message("FAIL %s: %s\n", id ? id : "(no id)", why);
            }
        }
    }
    printf("%s: %zu cases, %zu passed, %zu failed, %u unsupported\n", SUITE_FILE, n, passed,
           failed, 0u);
    json_decref(root);
    assert_int_equal(n, 12);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_cases),
    };
    return cmocka_run_group_tests_name("json_error_suite", tests, NULL, NULL);
}
