/* The DynamoDB client against DynamoDB Local over real HTTP: table management, item
 * round trips, paging, transactions with cancellation reasons, service errors, and
 * one client shared by 16 threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include <cmocka.h>

#include "client.h"
#include "ddb.h"
#include "ddb_json.h"
#include "dr_test.h"

typedef struct fixture {
    dr_client *client;
    char table[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->client = dr_test_client(NULL, NULL, NULL, NULL);
    dr_test_unique_name(f->table, sizeof f->table, "ddbclient");
    dr_test_create_simple_table(f->client, f->table);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    dr_test_delete_table(f->client, f->table);
    dr_client_free(f->client);
    free(f);
    return 0;
}

static json_t *key(const char *pk, const char *sk)
{
    json_t *k = json_object();
    dr__item_set(k, "PK", dr__av_s(pk));
    dr__item_set(k, "SK", dr__av_s(sk));
    return k;
}

static void put(dr_client *c, const char *table, const char *pk, const char *sk, uint64_t n)
{
    json_t *item = key(pk, sk);
    json_t *req;
    dr__item_set(item, "n", dr__av_n_u64(n));
    req = json_pack("{s:s, s:o}", "TableName", table, "Item", item);
    if (dr__ddb_call(c, "PutItem", req, NULL, NULL) != DR_OK)
        fail_msg("PutItem: %s", dr_last_error_message());
    json_decref(req);
}

static void test_describe_put_get_roundtrip(void **state)
{
    fixture *f = *state;
    json_t *req, *resp = NULL, *item;
    uint64_t n = 0;

    item = key("JOKE#a", "RATING#1");
    dr__item_set(item, "big", dr__av_n_u64(UINT64_MAX));
    dr__item_set(item, "text", dr__av_s("Why did the \"scarecrow\" win? \xc3\xa9\xe2\x9c\x93"));
    dr__item_set(item, "ok", dr__av_bool(1));
    req = json_pack("{s:s, s:o}", "TableName", f->table, "Item", item);
    assert_int_equal(dr__ddb_call(f->client, "PutItem", req, NULL, NULL), DR_OK);
    json_decref(req);

    req = json_pack("{s:s, s:o, s:b}", "TableName", f->table, "Key", key("JOKE#a", "RATING#1"),
                    "ConsistentRead", 1);
    assert_int_equal(dr__ddb_call(f->client, "GetItem", req, &resp, NULL), DR_OK);
    item = json_object_get(resp, "Item");
    assert_non_null(item);
    assert_int_equal(dr__av_get_u64(item, "big", &n), 0);
    assert_true(n == UINT64_MAX); /* no lossy double on the way */
    assert_string_equal(dr__av_get_s(item, "text"),
                        "Why did the \"scarecrow\" win? \xc3\xa9\xe2\x9c\x93");
    json_decref(resp);
    json_decref(req);
}

static void test_query_pagination(void **state)
{
    fixture *f = *state;
    json_t *start = NULL;
    int i, pages = 0;
    size_t total = 0;
    char sk[32];

    for (i = 0; i < 25; i++) {
        snprintf(sk, sizeof sk, "RATING#%03d", i);
        put(f->client, f->table, "JOKE#paged", sk, (uint64_t)i);
    }
    do {
        json_t *resp = NULL;
        json_t *req = json_pack("{s:s, s:s, s:{s:{s:s}}, s:i}", "TableName", f->table,
                                "KeyConditionExpression", "PK = :pk",
                                "ExpressionAttributeValues", ":pk", "S", "JOKE#paged", "Limit", 10);
        if (start)
            json_object_set_new(req, "ExclusiveStartKey", start);
        assert_int_equal(dr__ddb_call(f->client, "Query", req, &resp, NULL), DR_OK);
        total += json_array_size(json_object_get(resp, "Items"));
        pages++;
        start = json_incref(json_object_get(resp, "LastEvaluatedKey"));
        json_decref(resp);
        json_decref(req);
    } while (start && pages < 10);
    assert_int_equal(total, 25);
    assert_true(pages == 3 || pages == 4); /* the last page may come back empty */
}

static void test_transaction_cancellation_reasons(void **state)
{
    fixture *f = *state;
    dr_ddb_error err = DR_DDB_ERROR_INIT;
    json_t *req, *resp = NULL;
    const char *code0, *code1;

    put(f->client, f->table, "JOKE#tx", "EXISTS", 1);
    req = json_pack(
        "{s:[{s:{s:s, s:o, s:s}}, {s:{s:s, s:o}}], s:s}", "TransactItems", "Put", "TableName",
        f->table, "Item", key("JOKE#tx", "EXISTS"), "ConditionExpression",
        "attribute_not_exists(PK)", "Put", "TableName", f->table, "Item", key("JOKE#tx", "OTHER"),
        "ClientRequestToken", "tx-cancel-test-token");
    assert_int_equal(dr__ddb_call(f->client, "TransactWriteItems", req, NULL, &err),
                     DR_E_TRANSACTION_CANCELED);
    assert_string_equal(err.type, "TransactionCanceledException");
    assert_non_null(strstr(dr_last_error_message(), "TransactionCanceledException"));
    assert_int_equal(json_array_size(err.cancellation_reasons), 2);
    code0 = json_string_value(json_object_get(json_array_get(err.cancellation_reasons, 0), "Code"));
    code1 = json_string_value(json_object_get(json_array_get(err.cancellation_reasons, 1), "Code"));
    assert_string_equal(code0, "ConditionalCheckFailed");
    assert_string_equal(code1, "None");
    dr__ddb_error_clear(&err);
    json_decref(req);

    /* Nothing of the cancelled transaction was written. */
    req = json_pack("{s:s, s:o}", "TableName", f->table, "Key", key("JOKE#tx", "OTHER"));
    assert_int_equal(dr__ddb_call(f->client, "GetItem", req, &resp, NULL), DR_OK);
    assert_null(json_object_get(resp, "Item"));
    json_decref(resp);
    json_decref(req);
}

static void test_validation_error_keeps_service_message(void **state)
{
    fixture *f = *state;
    dr_ddb_error err = DR_DDB_ERROR_INIT;
    uint64_t attempts_before = 0, attempts_after = 0;
    json_t *bad_key = json_pack("{s:{s:s}}", "nope", "S", "x");
    json_t *req = json_pack("{s:s, s:o}", "TableName", f->table, "Key", bad_key);

    dr_client_counter(f->client, DR_COUNTER_ATTEMPTS, &attempts_before);
    assert_int_equal(dr__ddb_call(f->client, "GetItem", req, NULL, &err), DR_E_VALIDATION);
    dr_client_counter(f->client, DR_COUNTER_ATTEMPTS, &attempts_after);
    assert_string_equal(err.type, "ValidationException");
    assert_true(strlen(err.message) > 0);
    assert_non_null(strstr(dr_last_error_message(), err.message));
    assert_true(attempts_after - attempts_before == 1); /* never retried */
    dr__ddb_error_clear(&err);
    json_decref(req);
}

static void test_missing_table_is_not_found(void **state)
{
    fixture *f = *state;
    json_t *req = json_pack("{s:s, s:o}", "TableName", "no-such-table-here", "Key",
                            key("a", "b"));
    assert_int_equal(dr__ddb_call(f->client, "GetItem", req, NULL, NULL), DR_E_NOT_FOUND);
    assert_non_null(strstr(dr_last_error_message(), "ResourceNotFoundException"));
    json_decref(req);
}

/* --- 16 threads, one client ------------------------------------------------ */

/* Even calls put an item in the thread's own partition, odd ones get one back; for
 * dr_test_run_threads. */
static dr_status put_or_get(void *ctx, int thread, int call, unsigned *seed)
{
    fixture *f = ctx;
    json_t *req, *resp = NULL;
    char pk[32], sk[32];
    dr_status rc;
    (void)seed;
    snprintf(pk, sizeof pk, "JOKE#t%d", thread);
    snprintf(sk, sizeof sk, "RATING#%d", call % 50);
    if (call % 2 == 0) {
        json_t *item = key(pk, sk);
        dr__item_set(item, "n", dr__av_n_u64((uint64_t)call));
        req = json_pack("{s:s, s:o}", "TableName", f->table, "Item", item);
        rc = dr__ddb_call(f->client, "PutItem", req, NULL, NULL);
    } else {
        req = json_pack("{s:s, s:o}", "TableName", f->table, "Key", key(pk, sk));
        rc = dr__ddb_call(f->client, "GetItem", req, &resp, NULL);
    }
    json_decref(resp);
    json_decref(req);
    return rc;
}

static void test_sixteen_threads_share_one_client(void **state)
{
    enum { THREADS = 16 };
    fixture *f = *state;
    const char *scale = getenv("DR_TEST_THREAD_REQUESTS"); /* smaller under TSan */
    int per_thread = scale ? atoi(scale) : 625;            /* 16 x 625 = 10,000 */
    uint64_t before = 0, after = 0;

    dr_client_counter(f->client, DR_COUNTER_REQUESTS, &before);
    dr_test_run_threads(THREADS, THREADS * per_thread, put_or_get, f, 0);
    dr_client_counter(f->client, DR_COUNTER_REQUESTS, &after);
    assert_true(after - before == (uint64_t)(THREADS * per_thread));
    print_message("16 threads sent %d requests through one client\n", THREADS * per_thread);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_describe_put_get_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_pagination, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transaction_cancellation_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation_error_keeps_service_message, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_table_is_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sixteen_threads_share_one_client, setup, teardown),
    };
    return cmocka_run_group_tests_name("ddb_client", tests, NULL, NULL);
}
