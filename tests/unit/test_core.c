/* The frame: version, errors, configuration validation, buffers, URL checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "buf.h"
#include "dadratings.h"
#include "test_alloc.h"
#include "http.h"

static void test_version(void **state)
{
    (void)state;
    assert_string_equal(dr_version(), DR_VERSION_STRING);
    assert_int_equal(dr_version_num(), DR_VERSION_NUM);
    assert_int_equal(DR_VERSION_NUM, 0x010300);
}

static void test_strerror_never_null(void **state)
{
    int code;
    (void)state;
    for (code = -5; code < 100; code++)
        assert_non_null(dr_strerror((dr_status)code));
    assert_string_equal(dr_strerror(DR_OK), "success");
    assert_string_equal(dr_strerror((dr_status)9999), "unknown error");
}

static void test_config_validation(void **state)
{
    dr_config *c = NULL;
    (void)state;
    assert_int_equal(dr_config_new(&c), DR_OK);
    assert_int_equal(dr_config_set_region(c, "eu-west-1"), DR_OK);
    assert_int_equal(dr_config_set_region(c, "EU WEST"), DR_E_INVALID_ARGUMENT);
    assert_non_null(strstr(dr_last_error_message(), "region"));
    assert_int_equal(dr_last_error_code(), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_config_set_endpoint(c, "http://127.0.0.1:8000"), DR_OK);
    assert_int_equal(dr_config_set_endpoint(c, "http://example.com"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_config_set_endpoint(c, "ftp://127.0.0.1"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_config_set_endpoint(c, "https://dynamodb.eu-west-1.amazonaws.com"),
                     DR_OK);
    assert_int_equal(dr_config_set_credentials(c, "AKID", NULL, NULL), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_config_set_credentials(c, "AKID", "SECRET", "TOKEN"), DR_OK);
    assert_null(strstr(dr_last_error_message(), "SECRET"));
    assert_int_equal(dr_config_set_ratings_table(c, "a"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_config_set_ratings_table(c, "bad name!"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_config_set_ratings_table(c, "ratings-test_1.x"), DR_OK);
    assert_int_equal(dr_config_set_max_attempts(c, 11), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_config_set_max_attempts(c, 5), DR_OK);
    assert_int_equal(dr_config_set_global_shards(c, 0), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_config_set_global_shards(c, 65), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_config_set_global_shards(c, 8), DR_OK);
    assert_int_equal(dr_config_set_aggregation_mode(c, (dr_aggregation_mode)7),
                     DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_config_set_region(NULL, "x"), DR_E_INVALID_ARGUMENT);
    dr_config_free(c);
    dr_config_free(NULL);
}

static void test_client_new_and_counters(void **state)
{
    dr_config *c = NULL;
    dr_client *client = NULL;
    uint64_t v = 99;
    (void)state;
    assert_int_equal(dr_config_new(&c), DR_OK);
    assert_int_equal(dr_config_set_region(c, "us-east-1"), DR_OK);
    assert_int_equal(dr_config_set_endpoint(c, "http://127.0.0.1:1"), DR_OK);
    assert_int_equal(dr_client_new(&client, c), DR_OK);
    dr_config_free(c);
    assert_int_equal(dr_client_counter(client, DR_COUNTER_REQUESTS, &v), DR_OK);
    assert_int_equal(v, 0);
    assert_int_equal(dr_client_counter(client, (dr_counter)999, &v), DR_E_INVALID_ARGUMENT);
    assert_int_equal(v, 0);
    dr_client_free(client);
    dr_client_free(NULL);
}

static void test_client_needs_region(void **state)
{
    dr_client *client = (dr_client *)1;
    (void)state;
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    assert_int_equal(dr_client_new(&client, NULL), DR_E_CONFIG);
    assert_null(client);
    assert_non_null(strstr(dr_last_error_message(), "region"));
}

static void test_buf(void **state)
{
    dr_buf b = DR_BUF_INIT;
    const unsigned char bytes[] = {0x00, 0xab, 0xff};
    char *s;
    (void)state;
    assert_string_equal(dr__buf_cstr(&b), "");
    dr__buf_puts(&b, "abc");
    dr__buf_printf(&b, "-%d-", 42);
    dr__buf_hex(&b, bytes, sizeof bytes);
    assert_int_equal(dr__buf_ok(&b), DR_OK);
    assert_string_equal(dr__buf_cstr(&b), "abc-42-00abff");
    s = dr__buf_detach(&b);
    assert_string_equal(s, "abc-42-00abff");
    dr__free(s);
}

static void test_buf_oom_is_sticky(void **state)
{
    dr_buf b = DR_BUF_INIT;
    (void)state;
    dr_test_alloc_fail_after(1);
    dr__buf_puts(&b, "abc");
    dr_test_alloc_fail_after(0);
    dr__buf_puts(&b, "def");
    assert_int_equal(dr__buf_ok(&b), DR_E_NOMEM);
    assert_null(dr__buf_detach(&b));
}

static void test_url_parse(void **state)
{
    dr_url_parts u;
    (void)state;
    assert_int_equal(dr__url_parse("http://127.0.0.1:8000", &u), DR_OK);
    assert_string_equal(u.scheme, "http");
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 8000);
    assert_string_equal(u.path, "/");
    assert_int_equal(dr__url_parse("https://[::1]:443/x?y", &u), DR_OK);
    assert_string_equal(u.host, "::1");
    assert_string_equal(u.path, "/x");
    assert_int_equal(dr__url_parse("http://user@host/", &u), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__url_parse("http://host:99999/", &u), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__url_parse("http://:80/", &u), DR_E_INVALID_ARGUMENT);
    assert_true(dr__host_is_loopback("127.0.0.1"));
    assert_true(dr__host_is_loopback("localhost"));
    assert_true(dr__host_is_loopback("::1"));
    assert_false(dr__host_is_loopback("127.0.0.1.evil.com"));
    assert_false(dr__host_is_loopback("169.254.169.254"));
}

static void test_allocator_contract(void **state)
{
    (void)state;
    assert_int_equal(dr_set_allocator(NULL, realloc, free), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr_set_allocator(malloc, realloc, free), DR_OK);
    dr_free(NULL);
    dr_test_alloc_install(); /* back to the counting allocator of the other tests */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_strerror_never_null),
        cmocka_unit_test(test_config_validation),
        cmocka_unit_test(test_client_new_and_counters),
        cmocka_unit_test(test_client_needs_region),
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_buf_oom_is_sticky),
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_allocator_contract),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
