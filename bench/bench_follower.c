/* Stream aggregation throughput against DynamoDB Local: records applied per second by
 * dr_client_apply_stream_batch fed 1 record at a time and 100 at a time, and by
 * dr_follower_poll end to end (DescribeStream, GetShardIterator, GetRecords, apply,
 * checkpoint) until the stream is idle; the requests of one batch of every record, fresh
 * and redelivered; and, with --faults, the follower's time to drain the stream with every
 * request through dr_fault_proxy at that fault rate beside the same drain without faults.
 *
 * Usage: bench_follower [--endpoint URL] [--ratings N] [--jokes J] [--faults PCT] [--rtt MS]
 *   URL defaults to $DR_TEST_ENDPOINT; N (default 500) ratings over J jokes (default 100)
 *   and 8 authors are written once in stream mode, their records read once through the
 *   Streams API, and every run applies them into a fresh stats table, so that each run
 *   really applies (no markers from an earlier run). Tables are deleted at the end. Exit
 *   status 1 on any failure. --rtt adds MS to every request of one more run of batches of
 *   100 (through dr_fault_proxy), to model a region's round trip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"
#include "ddb.h"
#include "dadratings.h"
#include "fault_proxy_ctl.h"

static const char *g_endpoint;
static char g_ratings[64];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_follower: %s: %s\n", what, dr_last_error_message());
    exit(1);
}

/* A stream-mode client on the shared ratings table and stats table `stats`, created,
 * through `endpoint` (NULL: g_endpoint). */
static dr_client *client_via(const char *stats, const char *endpoint)
{
    dr_config *cfg = NULL;
    dr_client *c = NULL;
    if (dr_config_new(&cfg) != DR_OK || dr_config_set_region(cfg, "us-east-1") != DR_OK ||
        dr_config_set_endpoint(cfg, endpoint ? endpoint : g_endpoint) != DR_OK ||
        dr_config_set_credentials(cfg, "AKIDLOCALBENCH", "bench-secret", NULL) != DR_OK ||
        dr_config_set_ratings_table(cfg, g_ratings) != DR_OK ||
        dr_config_set_stats_table(cfg, stats) != DR_OK ||
        dr_config_set_aggregation_mode(cfg, DR_AGGREGATION_STREAM) != DR_OK ||
        dr_client_new(&c, cfg) != DR_OK)
        die("client");
    dr_config_free(cfg);
    if (!endpoint && dr_client_create_tables(c, DR_CREATE_TABLES_WAIT) != DR_OK)
        die("create_tables");
    return c;
}

static dr_client *client_for(const char *stats)
{
    return client_via(stats, NULL);
}

static uint64_t requests_of(dr_client *c)
{
    uint64_t n = 0;
    dr_client_counter(c, DR_COUNTER_REQUESTS, &n);
    return n;
}

static void drop_table(dr_client *c, const char *name)
{
    json_t *req = json_pack("{s:s}", "TableName", name);
    (void)dr__ddb_call(c, "DeleteTable", req, NULL, NULL);
    json_decref(req);
}

/* Every record of the ratings table's stream, read as test_stream.c does. */
static json_t *read_all_records(dr_client *c)
{
    json_t *req = json_pack("{s:s}", "TableName", g_ratings), *resp = NULL, *shards, *sh;
    json_t *all = json_array();
    char arn[512];
    size_t i;
    if (dr__ddb_call(c, "DescribeTable", req, &resp, NULL) != DR_OK)
        die("DescribeTable");
    json_decref(req);
    snprintf(arn, sizeof arn, "%s",
             json_string_value(json_object_get(json_object_get(resp, "Table"), "LatestStreamArn")));
    json_decref(resp);
    req = json_pack("{s:s}", "StreamArn", arn);
    if (dr__ddb_call_service(c, DR_SERVICE_STREAMS, "DescribeStream", req, &resp, NULL) != DR_OK)
        die("DescribeStream");
    json_decref(req);
    shards = json_incref(json_object_get(json_object_get(resp, "StreamDescription"), "Shards"));
    json_decref(resp);
    json_array_foreach(shards, i, sh) {
        json_t *it = NULL, *recs;
        char *iterator;
        req = json_pack("{s:s, s:O, s:s}", "StreamArn", arn, "ShardId",
                        json_object_get(sh, "ShardId"), "ShardIteratorType", "TRIM_HORIZON");
        if (dr__ddb_call_service(c, DR_SERVICE_STREAMS, "GetShardIterator", req, &it, NULL) !=
            DR_OK)
            die("GetShardIterator");
        json_decref(req);
        iterator = strdup(json_string_value(json_object_get(it, "ShardIterator")));
        json_decref(it);
        /* An open shard always has a next iterator: stop at the first empty page. */
        while (iterator) {
            req = json_pack("{s:s, s:i}", "ShardIterator", iterator, "Limit", 1000);
            if (dr__ddb_call_service(c, DR_SERVICE_STREAMS, "GetRecords", req, &resp, NULL) !=
                DR_OK)
                die("GetRecords");
            json_decref(req);
            free(iterator);
            recs = json_object_get(resp, "Records");
            json_array_extend(all, recs);
            iterator = json_array_size(recs) && json_object_get(resp, "NextShardIterator")
                           ? strdup(json_string_value(json_object_get(resp, "NextShardIterator")))
                           : NULL;
            json_decref(resp);
        }
    }
    json_decref(shards);
    return all;
}

/* Apply `records` in batches of `size` into a fresh stats table, through `endpoint`
 * (NULL: directly); records/s. */
static double run_batches_via(json_t *records, size_t size, int run, const char *endpoint)
{
    char stats[64];
    dr_client *c, *direct;
    size_t n = json_array_size(records), from, applied = 0;
    double t0, elapsed;

    snprintf(stats, sizeof stats, "bench-fol-s-%ld-%d", (long)getpid(), run);
    direct = client_for(stats);
    c = endpoint ? client_via(stats, endpoint) : direct;
    t0 = now_s();
    for (from = 0; from < n; from += size) {
        json_t *slice = json_array();
        dr_batch_result *r = NULL;
        char *body;
        size_t i;
        for (i = from; i < n && i < from + size; i++)
            json_array_append(slice, json_array_get(records, i));
        body = json_dumps(slice, JSON_COMPACT);
        if (dr_client_apply_stream_batch(c, body, strlen(body), &r) != DR_OK ||
            dr_batch_result_failed_count(r))
            die("apply_stream_batch");
        applied += dr_batch_result_applied(r);
        dr_batch_result_free(r);
        free(body);
        json_decref(slice);
    }
    elapsed = now_s() - t0;
    if (applied != n) {
        fprintf(stderr, "bench_follower: applied %zu of %zu\n", applied, n);
        exit(1);
    }
    drop_table(direct, stats);
    if (c != direct)
        dr_client_free(c);
    dr_client_free(direct);
    return (double)n / elapsed;
}

static double run_batches(json_t *records, size_t size, int run)
{
    return run_batches_via(records, size, run, NULL);
}

/* Batches of 100 with every request `ms` later (dr_fault_proxy's delay rule): a model of
 * the round trip in a region, where the request count, not DynamoDB Local's time per
 * item, bounds the rate. */
static void batches_with_round_trip(json_t *records, long ms)
{
    char rule[32];
    const char *rules[2] = {rule, NULL}, *upstream = strstr(g_endpoint, "://");
    dr_test_proxy p;
    double rate;
    snprintf(rule, sizeof rule, "delay:ms=%ld", ms);
    if (dr_test_proxy_start(upstream ? upstream + 3 : g_endpoint, rules, &p) != 0)
        die("fault proxy");
    rate = run_batches_via(records, 100, 1000, p.endpoint);
    dr_test_proxy_stop(&p);
    printf("apply_stream_batch, batches of 100, %ld ms added to every request: %8.1f "
           "records/s\n", ms, rate);
}

/* dr_follower_poll until a round finds nothing, into a fresh stats table; records/s. */
static double run_follower(size_t n, double *idle_round_s)
{
    char stats[64];
    dr_client *c;
    dr_follower *f = NULL;
    uint64_t seen = 1, total = 0;
    double t0, t_last = 0, elapsed;

    snprintf(stats, sizeof stats, "bench-fol-s-%ld-follow", (long)getpid());
    c = client_for(stats);
    if (dr_follower_new(&f, c) != DR_OK)
        die("follower");
    t0 = now_s();
    while (seen) {
        if (dr_follower_poll(f, &seen) != DR_OK)
            die("follower_poll");
        total += seen;
        if (seen)
            t_last = now_s();
    }
    elapsed = t_last - t0;
    *idle_round_s = now_s() - t_last;
    if (total != n) {
        fprintf(stderr, "bench_follower: follower saw %llu of %zu\n", (unsigned long long)total,
                n);
        exit(1);
    }
    dr_follower_free(f);
    drop_table(c, stats);
    dr_client_free(c);
    return (double)n / elapsed;
}

/* Every record as one batch into a fresh stats table, then the same batch again: the
 * requests each took. */
static void count_batch_requests(json_t *records, uint64_t *fresh, uint64_t *again)
{
    char stats[64], *body = json_dumps(records, JSON_COMPACT);
    dr_client *c;
    int round;
    snprintf(stats, sizeof stats, "bench-fol-s-%ld-count", (long)getpid());
    c = client_for(stats);
    for (round = 0; round < 2; round++) {
        dr_batch_result *r = NULL;
        uint64_t before = requests_of(c);
        if (dr_client_apply_stream_batch(c, body, strlen(body), &r) != DR_OK ||
            dr_batch_result_failed_count(r) ||
            (round ? dr_batch_result_duplicates(r) : dr_batch_result_applied(r)) !=
                json_array_size(records))
            die("apply_stream_batch (one batch)");
        *(round ? again : fresh) = requests_of(c) - before;
        dr_batch_result_free(r);
    }
    free(body);
    drop_table(c, stats);
    dr_client_free(c);
}

/* The follower, through `endpoint` (NULL: directly), polling until the stats table
 * (read directly) counts all n records, into a fresh stats table; seconds. Under faults
 * a round may fail: the follower keeps its checkpoints, and the next round goes on. */
static double drain(const char *endpoint, size_t n, const char *tag, long *failed_rounds)
{
    char stats[64];
    dr_client *direct, *c;
    dr_follower *f = NULL;
    uint64_t seen = 0;
    double t0, elapsed;
    size_t counted = 0;

    snprintf(stats, sizeof stats, "bench-fol-s-%ld-%s", (long)getpid(), tag);
    direct = client_for(stats);
    c = endpoint ? client_via(stats, endpoint) : direct;
    if (dr_follower_new(&f, c) != DR_OK)
        die("follower");
    *failed_rounds = 0;
    t0 = now_s();
    while (counted < n) {
        dr_dashboard *d = NULL;
        if (dr_follower_poll(f, &seen) != DR_OK)
            ++*failed_rounds;
        if (dr_client_dashboard_stats(direct, &d) != DR_OK)
            die("dashboard_stats");
        counted = (size_t)dr_dashboard_overall_ratings(d);
        dr_dashboard_free(d);
        if (now_s() - t0 > 1800) {
            fprintf(stderr, "bench_follower: %zu of %zu counted after 30 minutes\n", counted, n);
            exit(1);
        }
    }
    elapsed = now_s() - t0;
    if (counted != n) {
        fprintf(stderr, "bench_follower: %zu counted, not %zu\n", counted, n);
        exit(1);
    }
    dr_follower_free(f);
    drop_table(direct, stats);
    if (c != direct)
        dr_client_free(c);
    dr_client_free(direct);
    return elapsed;
}

/* The drain without faults, then through dr_fault_proxy at `pct` percent of requests:
 * every kind (throttling, a transaction cancelled for throttling, 500s, resets before and
 * after forwarding, corrupted checksums), or with `transient_only` all but the two
 * throttling ones, whose retries wait the SDKs' throttling backoff (up to 1 s, then 2 s:
 * src/aws/retry.h) and so dominate a short drain. */
static void drain_under_faults(size_t n, double pct, int transient_only)
{
    static const char *const all[] = {"throttle", "cancel-throttle", "error500",
                                      "reset", "forward-then-reset", "corrupt-crc"};
    const char *const *kinds = transient_only ? all + 2 : all;
    const size_t nk = transient_only ? 4 : 6;
    char text[8][96];
    const char *rules[9], *upstream = strstr(g_endpoint, "://");
    double each = pct / 100.0 / (double)nk, clean, faulty;
    dr_test_proxy p;
    dr_test_proxy_counts counts;
    long clean_failed, faulty_failed;
    size_t i;

    for (i = 0; i < nk; i++) { /* the proxy takes the first rule that matches */
        double rate = each / (1.0 - (double)i * each);
        snprintf(text[i], sizeof text[i], "%s:rate=%.6f", kinds[i], rate);
        rules[i] = text[i];
    }
    rules[nk] = NULL;
    clean = drain(NULL, n, "clean", &clean_failed);
    if (dr_test_proxy_start(upstream ? upstream + 3 : g_endpoint, rules, &p) != 0)
        die("fault proxy");
    faulty = drain(p.endpoint, n, "faulty", &faulty_failed);
    if (dr_test_proxy_stats(&p, &counts) != 0)
        die("fault proxy stats");
    dr_test_proxy_stop(&p);
    printf("follower drain of %zu records: %.2f s without faults; %.2f s with %.0f%% of "
           "requests faulted, %s (%ld requests, %ld failed rounds): x%.2f\n",
           n, clean, faulty, pct, transient_only ? "no throttling" : "every kind",
           counts.requests, faulty_failed, faulty / clean);
}

int main(int argc, char **argv)
{
    char stats0[64];
    dr_client *writer;
    json_t *records;
    int i, n = 500, jokes = 100;
    long rtt = 0;
    double t0, idle_s, r1, r100, rf, faults = 0;
    uint64_t fresh = 0, again = 0;

    g_endpoint = getenv("DR_TEST_ENDPOINT");
    setenv("DR_FAULT_PROXY", DR_BENCH_FAULT_PROXY, 0); /* where fault_proxy_ctl finds it */
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--endpoint") && i + 1 < argc)
            g_endpoint = argv[++i];
        else if (!strcmp(argv[i], "--ratings") && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--jokes") && i + 1 < argc)
            jokes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--faults") && i + 1 < argc)
            faults = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rtt") && i + 1 < argc)
            rtt = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_follower [--endpoint URL] [--ratings N] [--jokes J] "
                            "[--faults PCT] [--rtt MS]\n");
            return 2;
        }
    }
    if (!g_endpoint || n < 1 || jokes < 1 || faults < 0 || faults > 90 || rtt < 0) {
        fprintf(stderr, "bench_follower: give --endpoint or set DR_TEST_ENDPOINT\n");
        return 2;
    }
    snprintf(g_ratings, sizeof g_ratings, "bench-fol-r-%ld", (long)getpid());
    snprintf(stats0, sizeof stats0, "bench-fol-s-%ld-w", (long)getpid());
    writer = client_for(stats0);

    /* Ratings over `jokes` jokes and 8 authors; no contention between runs (each has its
     * own stats table). */
    t0 = now_s();
    for (i = 0; i < n; i++) {
        static const char *const authors[] = {"Ann", "Bob", "Cid", "Dee",
                                              "Eve", "Fay", "Gus", "Hal"};
        dr_rating *r = NULL;
        char id[24];
        snprintf(id, sizeof id, "bench-%03d", i % jokes);
        if (dr_rating_new(&r, id, i % 5 + 1) != DR_OK ||
            dr_rating_set_author(r, authors[i / jokes % 8]) != DR_OK ||
            dr_client_write_rating(writer, r, NULL) != DR_OK)
            die("write_rating");
        dr_rating_free(r);
    }
    printf("wrote %d ratings over %d jokes and 8 authors in stream mode: %.0f writes/s "
           "(PutItem)\n", n, jokes, n / (now_s() - t0));
    records = read_all_records(writer);
    if (json_array_size(records) != (size_t)n) {
        fprintf(stderr, "bench_follower: the stream holds %zu records, not %d\n",
                json_array_size(records), n);
        return 1;
    }

    r1 = run_batches(records, 1, 1);
    printf("apply_stream_batch, batches of 1:   %8.1f records/s\n", r1);
    r100 = run_batches(records, 100, 100);
    printf("apply_stream_batch, batches of 100: %8.1f records/s\n", r100);
    rf = run_follower((size_t)n, &idle_s);
    printf("dr_follower_poll end to end:        %8.1f records/s (until the last record; the "
           "idle round that confirms it took %.3f s)\n",
           rf, idle_s);

    if (rtt > 0)
        batches_with_round_trip(records, rtt);
    count_batch_requests(records, &fresh, &again);
    printf("one batch of all %d records: %llu requests fresh, %llu redelivered (x%.2f)\n", n,
           (unsigned long long)fresh, (unsigned long long)again,
           fresh ? (double)again / (double)fresh : 0.0);
    if (faults > 0) {
        drain_under_faults((size_t)n, faults, 0);
        drain_under_faults((size_t)n, faults, 1);
    }

    json_decref(records);
    drop_table(writer, stats0);
    drop_table(writer, g_ratings);
    dr_client_free(writer);
    return 0;
}
