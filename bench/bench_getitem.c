/* GetItem latency and throughput against a DynamoDB endpoint (DynamoDB Local), through
 * the library and beside a raw floor measured in the same run.
 *
 * Rows, each at concurrency 1 and 8 (threads, one shared client):
 *   raw libcurl          the same GetItem, signed ONCE with the library's signer and sent
 *                        in a loop with bare libcurl, one easy handle per thread, kept
 *                        alive (DynamoDB Local does not check a signature's age). The
 *                        floor: no JSON, no signing, no pool, no checks.
 *   library call         dr__ddb_call("GetItem"): encode, sign, pool, CRC32 check,
 *                        parse, retry bookkeeping. What an operation pays.
 *   library http, pool   dr__http_perform with the client's pool and the pre-signed
 *                        request: the transport alone.
 *   library http, fresh  dr__http_perform with pool NULL: a new easy handle, hence a new
 *                        TCP connection, per request.
 * The last three against the first answer "keep-alive, a pool or per-thread handles?".
 *
 * Usage: bench_getitem [--endpoint URL] [--seconds S | --requests N] [--warmup S]
 *                      [--rounds R]
 *   URL defaults to $DR_TEST_ENDPOINT; S (per row, default 2) or N (per row, split over
 *   the threads) is spread over R rounds (default 5) in which the rows take turns; the
 *   warm-up (default 1 s) is not measured. It creates a table with one item and
 *   deletes it at the end. Exit status 1 if any request failed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "alloc.h"
#include "client.h"
#include "credentials.h"
#include "ddb.h"
#include "ddb_json.h"
#include "http.h"
#include "sigv4.h"

#define MAX_THREADS 64

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------------------- */
/* The request, pre-signed                                                      */

typedef struct presigned {
    char *body;
    dr_http_request req;      /* signed once: what dr__http_perform sends */
    struct curl_slist *slist; /* the same headers plus "Expect:": raw libcurl */
} presigned;

static int presign(dr_client *c, const char *body, presigned *out)
{
    dr_credentials *creds = dr__credentials_new("AKIDLOCALBENCH", "bench-secret", NULL, 0);
    dr_sigv4_signer *signer = NULL;
    dr_sigv4_params params = {0};
    char line[4096];
    size_t i;
    int rc = -1;

    memset(out, 0, sizeof *out);
    out->body = strdup(body);
    out->req.method = "POST";
    out->req.url = c->endpoint;
    out->req.body = out->body;
    out->req.body_len = out->body ? strlen(out->body) : 0;
    params.creds = creds;
    params.region = c->region;
    params.service = "dynamodb";
    params.unix_time = (int64_t)time(NULL);
    if (!creds || !out->body || dr__sigv4_signer_new(&signer) != DR_OK ||
        dr__http_request_set_header(&out->req, "Host", c->host_header) != DR_OK ||
        dr__http_request_set_header(&out->req, "Content-Type", "application/x-amz-json-1.0") !=
            DR_OK ||
        dr__http_request_set_header(&out->req, "X-Amz-Target", "DynamoDB_20120810.GetItem") !=
            DR_OK ||
        dr__sigv4_sign_http(signer, &params, &out->req) != DR_OK)
        goto done;
    for (i = 0; i < out->req.header_count; i++) {
        snprintf(line, sizeof line, "%s: %s", out->req.headers[i].name,
                 out->req.headers[i].value);
        out->slist = curl_slist_append(out->slist, line);
    }
    out->slist = curl_slist_append(out->slist, "Expect:");
    rc = out->slist ? 0 : -1;
done:
    dr__sigv4_signer_free(signer);
    dr__credentials_release(creds);
    return rc;
}

static void presigned_free(presigned *p)
{
    dr__http_request_free(&p->req);
    curl_slist_free_all(p->slist);
    free(p->body);
}

/* ---------------------------------------------------------------------------- */
/* Runs                                                                         */

typedef enum { M_RAW, M_LIB_CALL, M_LIB_HTTP_POOL, M_LIB_HTTP_FRESH } mode;

static const char *const mode_names[] = {
    "raw libcurl, handle per thread", "library dr__ddb_call (pool)",
    "library http, pool (presigned)", "library http, fresh handle/request"};

typedef struct run {
    mode m;
    int threads;
    double seconds;    /* used when requests == 0 */
    long requests;     /* per thread */
    dr_client *client;
    const json_t *request;
    const presigned *pre;
    pthread_barrier_t start;
} run;

typedef struct worker {
    run *r;
    double *lat_ms;
    size_t n, cap;
    long errors;
    double t0, t1;
    char first_error[256];
} worker;

static size_t discard(char *data, size_t size, size_t n, void *userp)
{
    size_t *bytes = userp;
    (void)data;
    *bytes += size * n;
    return size * n;
}

static void record(worker *w, double ms)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 4096;
        double *grown = realloc(w->lat_ms, cap * sizeof *grown);
        if (!grown)
            return;
        w->lat_ms = grown;
        w->cap = cap;
    }
    w->lat_ms[w->n++] = ms;
}

static void error_once(worker *w, const char *detail)
{
    if (!w->errors++)
        snprintf(w->first_error, sizeof w->first_error, "%s", detail);
}

static void *worker_main(void *p)
{
    worker *w = p;
    run *r = w->r;
    CURL *h = NULL;
    size_t bytes = 0;
    dr_http_response resp = DR_HTTP_RESPONSE_INIT;
    dr_http_request req = r->pre->req; /* shares the signed headers: read-only here */
    long i = 0;

    req.timeout_ms = 10000;
    if (r->m == M_RAW) {
        h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, r->pre->req.url);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->pre->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->pre->req.body_len);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->pre->slist);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &bytes);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    }

    pthread_barrier_wait(&r->start);
    w->t0 = now_s();
    for (;;) {
        double t;
        if (r->requests ? i >= r->requests : now_s() - w->t0 >= r->seconds)
            break;
        i++;
        t = now_s();
        switch (r->m) {
        case M_RAW: {
            long status = 0;
            CURLcode cc = curl_easy_perform(h);
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            if (cc != CURLE_OK)
                error_once(w, curl_easy_strerror(cc));
            else if (status != 200)
                error_once(w, "HTTP status not 200");
            break;
        }
        case M_LIB_CALL: {
            json_t *out = NULL;
            if (dr__ddb_call(r->client, "GetItem", r->request, &out, NULL) != DR_OK)
                error_once(w, dr_last_error_message());
            else if (!json_object_get(out, "Item"))
                error_once(w, "no Item in the response");
            json_decref(out);
            break;
        }
        case M_LIB_HTTP_POOL:
        case M_LIB_HTTP_FRESH:
            if (dr__http_perform(r->m == M_LIB_HTTP_POOL ? r->client->pool : NULL, &req,
                                 &resp) != DR_OK)
                error_once(w, dr_last_error_message());
            else if (resp.status != 200)
                error_once(w, "HTTP status not 200");
            break;
        }
        record(w, (now_s() - t) * 1e3);
    }
    w->t1 = now_s();
    if (h)
        curl_easy_cleanup(h);
    dr__http_response_free(&resp);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, size_t n, double p)
{
    size_t rank;
    if (!n)
        return 0;
    rank = (size_t)(p / 100.0 * (double)n + 0.999999); /* nearest rank */
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

/* One row: latencies of every round, and the wall time the rounds took together. */
typedef struct result {
    double *lat_ms;
    size_t n;
    long errors;
    double wall_s;
    double rps, p50, p95, p99;
} result;

static void result_finish(result *res)
{
    qsort(res->lat_ms, res->n, sizeof *res->lat_ms, cmp_double);
    res->rps = res->wall_s > 0 ? (double)res->n / res->wall_s : 0;
    res->p50 = percentile(res->lat_ms, res->n, 50);
    res->p95 = percentile(res->lat_ms, res->n, 95);
    res->p99 = percentile(res->lat_ms, res->n, 99);
}

/* Runs `r` once and appends what it measured to `res`. */
static int do_run(run *r, result *res)
{
    pthread_t tids[MAX_THREADS];
    worker ws[MAX_THREADS];
    double t0 = 1e300, t1 = 0, *all;
    size_t total = 0, k;
    int i;

    memset(ws, 0, sizeof ws);
    if (pthread_barrier_init(&r->start, NULL, (unsigned)r->threads) != 0)
        return -1;
    for (i = 0; i < r->threads; i++) {
        ws[i].r = r;
        if (pthread_create(&tids[i], NULL, worker_main, &ws[i]) != 0) {
            fprintf(stderr, "bench_getitem: pthread_create failed\n");
            exit(1); /* the barrier would never open */
        }
    }
    for (i = 0; i < r->threads; i++) {
        pthread_join(tids[i], NULL);
        total += ws[i].n;
        res->errors += ws[i].errors;
        if (ws[i].t0 < t0)
            t0 = ws[i].t0;
        if (ws[i].t1 > t1)
            t1 = ws[i].t1;
        if (ws[i].errors)
            fprintf(stderr, "  %s, thread %d: %ld errors, first: %s\n", mode_names[r->m], i,
                    ws[i].errors, ws[i].first_error);
    }
    pthread_barrier_destroy(&r->start);
    all = realloc(res->lat_ms, (res->n + total + 1) * sizeof *all);
    k = res->n;
    for (i = 0; i < r->threads; i++) {
        if (all)
            memcpy(all + k, ws[i].lat_ms, ws[i].n * sizeof *all);
        k += ws[i].n;
        free(ws[i].lat_ms);
    }
    if (!all)
        return -1;
    res->lat_ms = all;
    res->n += total;
    if (t1 > t0)
        res->wall_s += t1 - t0;
    return 0;
}

/* ---------------------------------------------------------------------------- */
/* Table setup                                                                  */

static json_t *item_key(void)
{
    json_t *k = json_object();
    dr__item_set(k, "PK", dr__av_s("JOKE#bench-0001"));
    dr__item_set(k, "SK", dr__av_s("STATS"));
    return k;
}

static int create_table(dr_client *c, const char *name)
{
    json_t *req = json_pack(
        "{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}], s:[{s:s, s:s}, {s:s, s:s}]}", "TableName", name,
        "BillingMode", "PAY_PER_REQUEST", "AttributeDefinitions", "AttributeName", "PK",
        "AttributeType", "S", "AttributeName", "SK", "AttributeType", "S", "KeySchema",
        "AttributeName", "PK", "KeyType", "HASH", "AttributeName", "SK", "KeyType", "RANGE");
    json_t *item, *resp = NULL;
    int i, rc = -1;

    if (dr__ddb_call(c, "CreateTable", req, NULL, NULL) != DR_OK)
        goto done;
    json_decref(req);
    req = json_pack("{s:s}", "TableName", name);
    for (i = 0;; i++) {
        const char *status;
        int active;
        if (dr__ddb_call(c, "DescribeTable", req, &resp, NULL) != DR_OK)
            goto done;
        status = json_string_value(json_object_get(json_object_get(resp, "Table"), "TableStatus"));
        active = status && !strcmp(status, "ACTIVE");
        json_decref(resp);
        if (active)
            break;
        if (i == 200) {
            dr__fail(DR_E_TIMEOUT, "table %s is not ACTIVE after 10 s", name);
            goto done;
        }
        {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    json_decref(req);
    /* A stats item as the library stores it: a few hundred bytes back. */
    item = item_key();
    dr__item_set(item, "jokeText", dr__av_s("I'm reading a book about anti-gravity. It's "
                                            "impossible to put down."));
    dr__item_set(item, "author", dr__av_s("Unknown"));
    dr__item_set(item, "totalRatings", dr__av_n_u64(1234));
    dr__item_set(item, "totalScore", dr__av_n_u64(4321));
    dr__item_set(item, "count1", dr__av_n_u64(10));
    dr__item_set(item, "count2", dr__av_n_u64(20));
    dr__item_set(item, "count3", dr__av_n_u64(100));
    dr__item_set(item, "count4", dr__av_n_u64(404));
    dr__item_set(item, "count5", dr__av_n_u64(700));
    dr__item_set(item, "lastRatedAt", dr__av_s("2026-01-01T12:00:00.000Z"));
    req = json_pack("{s:s, s:o}", "TableName", name, "Item", item);
    if (dr__ddb_call(c, "PutItem", req, NULL, NULL) == DR_OK)
        rc = 0;
done:
    if (rc)
        fprintf(stderr, "bench_getitem: table setup failed: %s\n", dr_last_error_message());
    json_decref(req);
    return rc;
}

static void delete_table(dr_client *c, const char *name)
{
    json_t *req = json_pack("{s:s}", "TableName", name);
    if (dr__ddb_call(c, "DeleteTable", req, NULL, NULL) != DR_OK)
        fprintf(stderr, "bench_getitem: DeleteTable %s: %s\n", name, dr_last_error_message());
    json_decref(req);
}

/* ---------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: bench_getitem [--endpoint URL] [--seconds S | --requests N] "
                    "[--warmup S] [--rounds R]\n  URL defaults to $DR_TEST_ENDPOINT\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const int concurrency[] = {1, 8};
    static const mode modes[] = {M_RAW, M_LIB_CALL, M_LIB_HTTP_POOL, M_LIB_HTTP_FRESH};
    const char *endpoint = getenv("DR_TEST_ENDPOINT");
    double seconds = 2.0, warmup = 1.0;
    long requests = 0;
    int rounds = 5;
    dr_config *cfg = NULL;
    dr_client *client = NULL;
    json_t *request = NULL;
    presigned pre;
    char table[96], *body;
    size_t ci, mi;
    int i, failed = 0;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--endpoint") && i + 1 < argc)
            endpoint = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--requests") && i + 1 < argc)
            requests = atol(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
            warmup = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else
            usage();
    }
    if (!endpoint || !*endpoint || seconds <= 0 || requests < 0 || warmup < 0 || rounds < 1)
        usage();

    if (dr_config_new(&cfg) != DR_OK || dr_config_set_region(cfg, "us-east-1") != DR_OK ||
        dr_config_set_endpoint(cfg, endpoint) != DR_OK ||
        dr_config_set_credentials(cfg, "AKIDLOCALBENCH", "bench-secret", NULL) != DR_OK ||
        dr_client_new(&client, cfg) != DR_OK) {
        fprintf(stderr, "bench_getitem: %s\n", dr_last_error_message());
        return 1;
    }
    dr_config_free(cfg);
    snprintf(table, sizeof table, "bench-getitem-%ld-%ld", (long)getpid(), (long)time(NULL));
    if (create_table(client, table) != 0) {
        dr_client_free(client);
        return 1;
    }
    request = json_pack("{s:s, s:o}", "TableName", table, "Key", item_key());
    body = dr__json_dump(request);
    if (!body || presign(client, body, &pre) != 0) {
        fprintf(stderr, "bench_getitem: could not pre-sign the request\n");
        delete_table(client, table);
        dr_client_free(client);
        return 1;
    }
    dr__free(body);

    /* Warm DynamoDB Local's JIT and the pool before anything is measured. */
    if (warmup > 0) {
        run r;
        result res;
        memset(&r, 0, sizeof r);
        memset(&res, 0, sizeof res);
        r.m = M_LIB_CALL;
        r.threads = 8;
        r.seconds = warmup;
        r.client = client;
        r.request = request;
        r.pre = &pre;
        do_run(&r, &res);
        free(res.lat_ms);
    }
    {
        dr_http_response resp = DR_HTTP_RESPONSE_INIT;
        if (dr__http_perform(client->pool, &pre.req, &resp) != DR_OK || resp.status != 200) {
            fprintf(stderr, "bench_getitem: the pre-signed request failed (HTTP %ld): %s\n",
                    resp.status, dr__buf_cstr(&resp.body));
            failed = 1;
        }
        printf("GetItem at %s: %zu-byte request, %zu-byte response\n", endpoint,
               pre.req.body_len, resp.body.len);
        dr__http_response_free(&resp);
    }
    if (requests)
        printf("libcurl %s, %ld CPUs online, %ld requests per row\n", curl_version_info(CURLVERSION_NOW)->version,
               sysconf(_SC_NPROCESSORS_ONLN), requests);
    else
        printf("libcurl %s, %ld CPUs online, %.1f s per row\n", curl_version_info(CURLVERSION_NOW)->version,
               sysconf(_SC_NPROCESSORS_ONLN), seconds);
    printf("%d interleaved rounds; latency in ms; last columns: p50 and req/s against the raw "
           "libcurl row of the same concurrency\n\n", rounds);
    printf("%-36s %4s %9s %9s %8s %8s %8s %6s  %6s %5s\n", "transport", "conc", "requests",
           "req/s", "p50", "p95", "p99", "errors", "p50", "req/s");
    for (ci = 0; ci < sizeof concurrency / sizeof *concurrency; ci++) {
        enum { N_MODES = sizeof modes / sizeof *modes };
        result res[N_MODES];
        int t = concurrency[ci], round;
        memset(res, 0, sizeof res);
        /* Modes take turns in short rounds, so that drift on a shared machine (other
         * processes, DynamoDB Local's JIT and garbage collector) spreads over all rows
         * instead of landing on one. */
        for (round = 0; round < rounds; round++) {
            for (mi = 0; mi < N_MODES; mi++) {
                run r;
                memset(&r, 0, sizeof r);
                r.m = modes[mi];
                r.threads = t;
                r.seconds = seconds / rounds;
                r.requests = requests ? (requests + (long)t * rounds - 1) / ((long)t * rounds) : 0;
                r.client = client;
                r.request = request;
                r.pre = &pre;
                if (do_run(&r, &res[mi]) != 0) {
                    fprintf(stderr, "bench_getitem: run failed\n");
                    failed = 1;
                }
            }
        }
        for (mi = 0; mi < N_MODES; mi++) {
            result_finish(&res[mi]);
            printf("%-36s %4d %9zu %9.0f %8.3f %8.3f %8.3f %6ld", mode_names[modes[mi]], t,
                   res[mi].n, res[mi].rps, res[mi].p50, res[mi].p95, res[mi].p99,
                   res[mi].errors);
            if (modes[mi] != M_RAW && res[0].rps > 0 && res[0].p50 > 0)
                printf("  %5.2fx %4.0f%%", res[mi].p50 / res[0].p50,
                       100.0 * res[mi].rps / res[0].rps);
            printf("\n");
            failed |= res[mi].errors != 0;
            free(res[mi].lat_ms);
        }
        fflush(stdout);
    }

    presigned_free(&pre);
    json_decref(request);
    delete_table(client, table);
    dr_client_free(client);
    return failed;
}
