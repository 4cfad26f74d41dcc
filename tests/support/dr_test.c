#include "dr_test.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ddb.h"

const char *dr_test_endpoint(void)
{
    const char *e = getenv("DR_TEST_ENDPOINT");
    if (!e || !*e)
        fail_msg("DR_TEST_ENDPOINT is not set: integration tests need DynamoDB Local; run "
                 "them through scripts/test.sh, which starts it");
    return e;
}

dr_client *dr_test_client(const char *endpoint, const char *ratings_table,
                          const char *stats_table, dr_config **config_out)
{
    dr_config *cfg = NULL;
    dr_client *client = NULL;
    assert_int_equal(dr_config_new(&cfg), DR_OK);
    assert_int_equal(dr_config_set_region(cfg, "us-east-1"), DR_OK);
    assert_int_equal(dr_config_set_endpoint(cfg, endpoint ? endpoint : dr_test_endpoint()),
                     DR_OK);
    assert_int_equal(dr_config_set_credentials(cfg, "AKIDLOCALTEST", "local-test-secret", NULL),
                     DR_OK);
    if (ratings_table)
        assert_int_equal(dr_config_set_ratings_table(cfg, ratings_table), DR_OK);
    if (stats_table)
        assert_int_equal(dr_config_set_stats_table(cfg, stats_table), DR_OK);
    if (dr_client_new(&client, cfg) != DR_OK)
        fail_msg("dr_client_new: %s", dr_last_error_message());
    if (config_out)
        *config_out = cfg;
    else
        dr_config_free(cfg);
    return client;
}

dr_client *dr_test_open_tables(char *ratings, char *stats, size_t cap, const char *tag,
                               dr_aggregation_mode mode, uint32_t shards)
{
    dr_config *cfg = NULL;
    dr_client *client = NULL;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s-r", tag);
    dr_test_unique_name(ratings, cap, prefix);
    snprintf(prefix, sizeof prefix, "%s-s", tag);
    dr_test_unique_name(stats, cap, prefix);
    dr_client_free(dr_test_client(NULL, ratings, stats, &cfg));
    assert_int_equal(dr_config_set_aggregation_mode(cfg, mode), DR_OK);
    assert_int_equal(dr_config_set_global_shards(cfg, shards), DR_OK);
    assert_int_equal(dr_client_new(&client, cfg), DR_OK);
    dr_config_free(cfg);
    if (dr_client_create_tables(client, DR_CREATE_TABLES_WAIT) != DR_OK)
        fail_msg("create_tables: %s", dr_last_error_message());
    return client;
}

void dr_test_close_tables(dr_client *client, const char *ratings, const char *stats)
{
    dr_test_delete_table(client, ratings);
    dr_test_delete_table(client, stats);
    dr_client_free(client);
}

void dr_test_unique_name(char *out, size_t cap, const char *prefix)
{
    static unsigned counter;
    snprintf(out, cap, "%s-%ld-%u-%ld", prefix, (long)getpid(), ++counter, (long)time(NULL));
}

void dr_test_create_simple_table(dr_client *client, const char *name)
{
    json_t *req = json_pack(
        "{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}], s:[{s:s, s:s}, {s:s, s:s}]}", "TableName", name,
        "BillingMode", "PAY_PER_REQUEST", "AttributeDefinitions", "AttributeName", "PK",
        "AttributeType", "S", "AttributeName", "SK", "AttributeType", "S", "KeySchema",
        "AttributeName", "PK", "KeyType", "HASH", "AttributeName", "SK", "KeyType", "RANGE");
    json_t *resp = NULL;
    int i;
    assert_non_null(req);
    if (dr__ddb_call(client, "CreateTable", req, NULL, NULL) != DR_OK)
        fail_msg("CreateTable %s: %s", name, dr_last_error_message());
    json_decref(req);
    req = json_pack("{s:s}", "TableName", name);
    for (i = 0; i < 100; i++) {
        const char *status;
        assert_int_equal(dr__ddb_call(client, "DescribeTable", req, &resp, NULL), DR_OK);
        status = json_string_value(json_object_get(json_object_get(resp, "Table"), "TableStatus"));
        if (status && !strcmp(status, "ACTIVE")) {
            json_decref(resp);
            break;
        }
        json_decref(resp);
        usleep(50 * 1000);
    }
    json_decref(req);
    assert_true(i < 100);
}

void dr_test_delete_table(dr_client *client, const char *name)
{
    json_t *req = json_pack("{s:s}", "TableName", name);
    (void)dr__ddb_call(client, "DeleteTable", req, NULL, NULL);
    json_decref(req);
}

json_t *dr_test_scan_table(dr_client *client, const char *table)
{
    json_t *all = json_array(), *start = NULL;
    do {
        json_t *req = json_pack("{s:s, s:b}", "TableName", table, "ConsistentRead", 1);
        json_t *resp = NULL;
        if (start)
            json_object_set(req, "ExclusiveStartKey", start);
        if (dr__ddb_call(client, "Scan", req, &resp, NULL) != DR_OK) {
            json_decref(req);
            json_decref(start);
            json_decref(all);
            return NULL;
        }
        json_array_extend(all, json_object_get(resp, "Items"));
        json_decref(start);
        start = json_incref(json_object_get(resp, "LastEvaluatedKey"));
        json_decref(resp);
        json_decref(req);
    } while (start);
    return all;
}

json_t *dr_test_scan_all(dr_client *client, const char *table)
{
    json_t *all = dr_test_scan_table(client, table);
    if (!all)
        fail_msg("Scan %s: %s", table, dr_last_error_message());
    return all;
}

void dr_test_tally_add(dr_test_tally *t, int stars)
{
    t->total++;
    t->score += (uint64_t)stars;
    t->count[stars - 1]++;
}

double dr_test_js_average(uint64_t score, uint64_t total)
{
    char digits[128], *dot;
    long whole, frac;
    if (!score || !total)
        return 0;
    snprintf(digits, sizeof digits, "%.60f", (double)score / (double)total);
    dot = strchr(digits, '.');
    whole = strtol(digits, NULL, 10);
    frac = (dot[1] - '0') * 10 + (dot[2] - '0');
    if (dot[3] >= '5')
        frac++;
    return (double)(whole * 100 + frac) / 100.0;
}

#define DR_TEST_MAX_THREADS 64

typedef struct test_thread {
    pthread_t id;
    dr_test_call_fn fn;
    void *ctx;
    int index, calls, failures;
    unsigned seed;
    char first_error[256];
} test_thread;

static void *test_thread_main(void *arg)
{
    test_thread *t = arg;
    int i;
    for (i = 0; i < t->calls; i++)
        if (t->fn(t->ctx, t->index, i, &t->seed) != DR_OK && t->failures++ == 0)
            snprintf(t->first_error, sizeof t->first_error, "%s", dr_last_error_message());
    return NULL;
}

double dr_test_run_threads(int threads, int calls, dr_test_call_fn fn, void *ctx,
                           unsigned seed)
{
    test_thread t[DR_TEST_MAX_THREADS];
    struct timespec t0, t1;
    int i, failures = 0;

    assert_true(threads >= 1 && threads <= DR_TEST_MAX_THREADS);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < threads; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i].fn = fn;
        t[i].ctx = ctx;
        t[i].index = i;
        t[i].calls = calls / threads + (i < calls % threads);
        t[i].seed = seed + (unsigned)i;
        assert_int_equal(pthread_create(&t[i].id, NULL, test_thread_main, &t[i]), 0);
    }
    for (i = 0; i < threads; i++) {
        assert_int_equal(pthread_join(t[i].id, NULL), 0);
        if (t[i].failures)
            print_error("thread %d: %d of %d calls failed, first: %s\n", i, t[i].failures,
                        t[i].calls, t[i].first_error);
        failures += t[i].failures;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(failures, 0);
    return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}
