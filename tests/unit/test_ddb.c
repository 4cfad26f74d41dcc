/* Pure parts of the DynamoDB transport: CRC32, error parsing and mapping, clock-skew
 * detection, HTTP dates, and the attribute-value encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "crc32.h"
#include "ddb.h"
#include "ddb_json.h"

static void test_crc32_known_values(void **state)
{
    (void)state;
    assert_int_equal(dr__crc32("123456789", 9), 0xCBF43926u);
    assert_int_equal(dr__crc32("", 0), 0);
    /* An empty ListTables reply; the value zlib.crc32 gives. */
    assert_int_equal(dr__crc32("{\"TableNames\":[]}", 17), 1315925753u);
}

static void test_parse_error_variants(void **state)
{
    dr_ddb_error e = DR_DDB_ERROR_INIT;
    const char *b1 = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ValidationException\","
                     "\"message\":\"One or more parameter values were invalid\"}";
    const char *b2 = "{\"__type\":\"com.amazon.coral.service#UnrecognizedClientException\","
                     "\"Message\":\"The security token included in the request is invalid.\"}";
    const char *b3 = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#TransactionCanceledException\","
                     "\"Message\":\"Transaction cancelled\",\"CancellationReasons\":"
                     "[{\"Code\":\"ConditionalCheckFailed\",\"Message\":\"The conditional request failed\"},"
                     "{\"Code\":\"None\"}]}";
    (void)state;
    assert_int_equal(dr__ddb_parse_error(NULL, b1, strlen(b1), &e), 0);
    assert_string_equal(e.type, "ValidationException");
    assert_string_equal(e.message, "One or more parameter values were invalid");
    assert_int_equal(dr__ddb_parse_error(NULL, b2, strlen(b2), &e), 0);
    assert_string_equal(e.type, "UnrecognizedClientException");
    assert_string_equal(e.message, "The security token included in the request is invalid.");
    assert_int_equal(dr__ddb_parse_error(NULL, b3, strlen(b3), &e), 0);
    assert_non_null(e.cancellation_reasons);
    assert_int_equal(json_array_size(e.cancellation_reasons), 2);
    dr__ddb_error_clear(&e);
    assert_null(e.cancellation_reasons);
    assert_int_equal(dr__ddb_parse_error(NULL, "not json", 8, &e), -1);
    assert_int_equal(dr__ddb_parse_error(NULL, "{\"message\":\"x\"}", 15, &e), -1);
    assert_int_equal(dr__ddb_parse_error(NULL, "{\"__type\":5}", 12, &e), -1);
    dr__ddb_error_clear(&e);
}

/* awsJson1_0: X-Amzn-Errortype wins over the body's __type, which wins over its code. */
static void test_parse_error_precedence(void **state)
{
    dr_ddb_error e = DR_DDB_ERROR_INIT;
    const char *both = "{\"__type\":\"ns#BodyType\",\"code\":\"CodeType\",\"message\":\"m\"}";
    const char *code = "{\"code\":\"ns#CodeType:http://x/\"}";
    (void)state;
    assert_int_equal(dr__ddb_parse_error("a.b#HeaderType:http://x/", both, strlen(both), &e), 0);
    assert_string_equal(e.type, "HeaderType");
    assert_string_equal(e.message, "m");
    assert_int_equal(dr__ddb_parse_error(NULL, both, strlen(both), &e), 0);
    assert_string_equal(e.type, "BodyType");
    assert_int_equal(dr__ddb_parse_error("", code, strlen(code), &e), 0);
    assert_string_equal(e.type, "CodeType");
    /* A header with no name left falls back to the body; no body, no type. */
    assert_int_equal(dr__ddb_parse_error("ns#:x", both, strlen(both), &e), 0);
    assert_string_equal(e.type, "BodyType");
    assert_int_equal(dr__ddb_parse_error("ns#", "", 0, &e), -1);
    assert_string_equal(e.type, "");
    assert_int_equal(dr__ddb_parse_error("Throttling", "", 0, &e), 0);
    assert_string_equal(e.type, "Throttling");
    dr__ddb_error_clear(&e);
}

static void test_error_mapping(void **state)
{
    (void)state;
    assert_int_equal(dr__ddb_error_status("ThrottlingException", 400), DR_E_THROTTLED);
    assert_int_equal(dr__ddb_error_status("ProvisionedThroughputExceededException", 400),
                     DR_E_THROTTLED);
    assert_int_equal(dr__ddb_error_status("RequestLimitExceeded", 400), DR_E_THROTTLED);
    assert_int_equal(dr__ddb_error_status("TransactionInProgressException", 400), DR_E_THROTTLED);
    assert_int_equal(dr__ddb_error_status("ValidationException", 400), DR_E_VALIDATION);
    assert_int_equal(dr__ddb_error_status("SerializationException", 400), DR_E_VALIDATION);
    assert_int_equal(dr__ddb_error_status("ConditionalCheckFailedException", 400),
                     DR_E_CONDITION_FAILED);
    assert_int_equal(dr__ddb_error_status("TransactionCanceledException", 400),
                     DR_E_TRANSACTION_CANCELED);
    assert_int_equal(dr__ddb_error_status("TransactionConflictException", 400),
                     DR_E_TRANSACTION_CONFLICT);
    assert_int_equal(dr__ddb_error_status("ResourceNotFoundException", 400), DR_E_NOT_FOUND);
    assert_int_equal(dr__ddb_error_status("ResourceInUseException", 400), DR_E_IN_USE);
    assert_int_equal(dr__ddb_error_status("AccessDeniedException", 400), DR_E_AUTH);
    assert_int_equal(dr__ddb_error_status("UnrecognizedClientException", 400), DR_E_AUTH);
    assert_int_equal(dr__ddb_error_status("InvalidSignatureException", 400), DR_E_AUTH);
    assert_int_equal(dr__ddb_error_status("InternalServerError", 500), DR_E_SERVICE);
    assert_int_equal(dr__ddb_error_status("ServiceUnavailable", 503), DR_E_SERVICE);
    assert_int_equal(dr__ddb_error_status("AnythingElse", 502), DR_E_SERVICE);
    assert_int_equal(dr__ddb_error_status("AnythingElse", 429), DR_E_THROTTLED);
}

static void test_clock_skew_detection(void **state)
{
    (void)state;
    assert_true(dr__ddb_is_clock_skew("InvalidSignatureException",
                                      "Signature expired: 20261125T100000Z is now earlier "
                                      "than 20261125T110000Z (20261125T111500Z - 15 min.)"));
    assert_true(dr__ddb_is_clock_skew("InvalidSignatureException",
                                      "Signature not yet current: 20261125T130000Z is still "
                                      "later than 20261125T121500Z"));
    assert_true(dr__ddb_is_clock_skew("RequestTimeTooSkewed", ""));
    assert_false(dr__ddb_is_clock_skew("InvalidSignatureException",
                                       "The request signature we calculated does not match"));
    assert_false(dr__ddb_is_clock_skew("ValidationException", "Signature expired"));
}

static void test_http_date(void **state)
{
    (void)state;
    assert_int_equal(dr__http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    assert_int_equal(dr__http_date_parse("Wed, 25 Nov 2026 11:48:18 GMT"), 1795607298);
    assert_int_equal(dr__http_date_parse("garbage"), -1);
    assert_int_equal(dr__http_date_parse("Sun, 06 Foo 1994 08:49:37 GMT"), -1);
    assert_int_equal(dr__http_date_parse("Sun, 06 Nov 1994 25:49:37 GMT"), -1);
}

static void test_attribute_values(void **state)
{
    json_t *item = json_object();
    uint64_t v = 0;
    int b = 0;
    char *s;
    (void)state;
    assert_int_equal(dr__item_set(item, "s", dr__av_s("x\"y")), 0);
    assert_int_equal(dr__item_set(item, "n", dr__av_n_u64(UINT64_MAX)), 0);
    assert_int_equal(dr__item_set(item, "f", dr__av_n_str("4.25")), 0);
    assert_int_equal(dr__item_set(item, "t", dr__av_bool(1)), 0);
    assert_int_equal(dr__item_set(item, "bad", NULL), -1);
    assert_string_equal(dr__av_get_s(item, "s"), "x\"y");
    assert_null(dr__av_get_s(item, "n"));
    assert_int_equal(dr__av_get_u64(item, "n", &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(dr__av_get_u64(item, "f", &v), -2); /* not an integer */
    assert_int_equal(dr__av_get_u64(item, "missing", &v), -1);
    assert_int_equal(dr__av_get_bool(item, "t", &b), 0);
    assert_true(b);
    s = dr__json_dump(item);
    assert_non_null(strstr(s, "\"n\":{\"N\":\"18446744073709551615\"}"));
    assert_non_null(strstr(s, "\"t\":{\"BOOL\":true}"));
    dr__free(s);
    json_decref(item);
}

static void test_parse_u64(void **state)
{
    uint64_t v = 7;
    (void)state;
    assert_int_equal(dr__parse_u64("0", &v), 0);
    assert_true(v == 0);
    assert_int_equal(dr__parse_u64("18446744073709551615", &v), 0);
    assert_int_equal(dr__parse_u64("18446744073709551616", &v), -1);
    assert_int_equal(dr__parse_u64("-1", &v), -1);
    assert_int_equal(dr__parse_u64("1e3", &v), -1);
    assert_int_equal(dr__parse_u64("", &v), -1);
    assert_int_equal(dr__parse_u64(NULL, &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_known_values),
        cmocka_unit_test(test_parse_error_variants),
        cmocka_unit_test(test_parse_error_precedence),
        cmocka_unit_test(test_error_mapping),
        cmocka_unit_test(test_clock_skew_detection),
        cmocka_unit_test(test_http_date),
        cmocka_unit_test(test_attribute_values),
        cmocka_unit_test(test_parse_u64),
    };
    return cmocka_run_group_tests_name("ddb", tests, NULL, NULL);
}
