/* lambda/bootstrap end to end: the real binary as a child process, a fake Lambda Runtime
 * API on loopback handing it real DynamoDB Streams events, DynamoDB Local underneath.
 *
 * The script, in one run of the runtime (as Lambda reuses one environment):
 *   req-1  a batch of three INSERTs          -> {"batchItemFailures":[]}, stats exact
 *   req-2  the same batch again              -> no failures, nothing counted twice
 *   req-3  valid, rating 7 (invalid), valid  -> the bad record and the one after it fail;
 *                                               only the first is counted
 *   req-4  {"hello":1}, not a batch          -> an invocation error with a message
 *   req-5  rating 7 first, then valid        -> an invocation error (DadRatings.RecordFailed),
 *                                               so that Lambda bisects the batch rather
 *                                               than discard it whole; nothing counted
 *   then /next blocks; SIGTERM               -> the runtime exits 0
 * plus what it logs (one JSON line per batch, no secret), and init failures reported
 * to /runtime/init/error.
 *
 * DR_TEST_BOOTSTRAP_WRAPPER (e.g. "/usr/bin/valgrind --error-exitcode=97 ...") runs the
 * runtime under a tool: a leak or memory error then fails the exit-status check. The
 * child is always killed by pid in teardown, also when an assertion failed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "dadratings.h"
#include "dr_test.h"
#include "fake_runtime_api.h"

#define WAIT_MS 120000u /* generous: the runtime may run under valgrind */
#define SECRET "lambda-test-secret-never-logged"

typedef struct fixture {
    fake_api *api;
    dr_client *client;
    char ratings[128], stats[128];
    char dir[64], out_path[96], err_path[96];
    char run_tag[9]; /* makes each run's rating keys new, as real UUIDs would be */
    json_t *held;    /* the last parsed post: freed in teardown, also after a failure */
    pid_t pid;
} fixture;

/* ---- the child process ---------------------------------------------------- */

typedef struct envb {
    char *vars[40];
    size_t n;
} envb;

static void env_add(envb *e, const char *name, const char *value)
{
    char *v;
    if (!value || e->n + 1 >= sizeof e->vars / sizeof *e->vars)
        return;
    v = malloc(strlen(name) + strlen(value) + 2);
    assert_non_null(v);
    sprintf(v, "%s=%s", name, value);
    e->vars[e->n++] = v;
    e->vars[e->n] = NULL;
}

static void env_pass(envb *e, const char *name)
{
    env_add(e, name, getenv(name));
}

static void env_free(envb *e)
{
    size_t i;
    for (i = 0; i < e->n; i++)
        free(e->vars[i]);
    e->n = 0;
}

/* What Lambda gives a provided.al2023 runtime, pointed at the fakes. Nothing else of the
 * test's environment leaks in: no profile, no metadata service. */
static void lambda_env(envb *e, const fixture *f, int with_region, const char *shards)
{
    memset(e, 0, sizeof *e);
    env_add(e, "AWS_LAMBDA_RUNTIME_API", fake_api_address(f->api));
    env_add(e, "AWS_ENDPOINT_URL_DYNAMODB", getenv("DR_TEST_ENDPOINT"));
    if (with_region)
        env_add(e, "AWS_REGION", "us-east-1");
    env_add(e, "AWS_ACCESS_KEY_ID", "AKIDLAMBDATEST");
    env_add(e, "AWS_SECRET_ACCESS_KEY", SECRET);
    env_add(e, "AWS_EC2_METADATA_DISABLED", "true");
    env_add(e, "AWS_CONFIG_FILE", "/nonexistent/config");
    env_add(e, "AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
    env_add(e, "HOME", "/nonexistent");
    env_add(e, "DYNAMODB_RATINGS_TABLE", f->ratings);
    env_add(e, "DYNAMODB_STATS_TABLE", f->stats);
    env_add(e, "DR_GLOBAL_SHARDS", shards);
    env_add(e, "DR_LOG_LEVEL", "debug");
    env_add(e, "AWS_LAMBDA_FUNCTION_NAME", "dadratings-aggregator");
    env_pass(e, "ASAN_OPTIONS");
    env_pass(e, "UBSAN_OPTIONS");
    env_pass(e, "LSAN_OPTIONS");
}

/* argv: the wrapper's words (split on spaces), then the bootstrap. */
static void build_argv(char *wrapper, char **argv, size_t cap, const char *bootstrap)
{
    size_t n = 0;
    char *save = NULL, *word = wrapper ? strtok_r(wrapper, " ", &save) : NULL;
    while (word && n + 2 < cap) {
        argv[n++] = word;
        word = strtok_r(NULL, " ", &save);
    }
    argv[n++] = (char *)(uintptr_t)bootstrap;
    argv[n] = NULL;
}

static void spawn(fixture *f, int with_region, const char *shards)
{
    const char *bootstrap = getenv("DR_LAMBDA_BOOTSTRAP");
    const char *wrapper_env = getenv("DR_TEST_BOOTSTRAP_WRAPPER");
    char *wrapper = wrapper_env && *wrapper_env ? strdup(wrapper_env) : NULL;
    char *argv[32];
    envb e;

    if (!bootstrap || !*bootstrap)
        fail_msg("DR_LAMBDA_BOOTSTRAP (the bootstrap binary) is not set; run through ctest");
    build_argv(wrapper, argv, sizeof argv / sizeof *argv, bootstrap);
    lambda_env(&e, f, with_region, shards);
    fflush(NULL);
    f->pid = fork();
    assert_true(f->pid >= 0);
    if (f->pid == 0) {
        int out = open(f->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(f->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(126);
        execve(argv[0], argv, e.vars);
        _exit(127);
    }
    env_free(&e);
    free(wrapper);
}

/* The child's exit status, or -1 if it is still running after timeout_ms. */
static int wait_exit(fixture *f, unsigned timeout_ms)
{
    struct timespec tick = {0, 20 * 1000000L};
    unsigned waited = 0;
    int status;
    for (;;) {
        pid_t r = waitpid(f->pid, &status, WNOHANG);
        if (r == f->pid) {
            f->pid = 0;
            return status;
        }
        if (waited >= timeout_ms)
            return -1;
        nanosleep(&tick, NULL);
        waited += 20;
    }
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *data;
    long n;
    if (!fp)
        return strdup("");
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    data = calloc(1, (size_t)n + 1);
    if (data && fread(data, 1, (size_t)n, fp) != (size_t)n)
        data[0] = '\0';
    fclose(fp);
    return data;
}

/* ---- fixtures -------------------------------------------------------------- */

static int setup_common(void **state, int with_tables)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/dr-lambda-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->out_path, sizeof f->out_path, "%s/stdout", f->dir);
    snprintf(f->err_path, sizeof f->err_path, "%s/stderr", f->dir);
    f->api = fake_api_start();
    assert_non_null(f->api);
    dr_test_unique_name(f->ratings, sizeof f->ratings, "lambda-ratings");
    dr_test_unique_name(f->stats, sizeof f->stats, "lambda-stats");
    snprintf(f->run_tag, sizeof f->run_tag, "%08lx",
             ((unsigned long)getpid() * 2654435761ul ^ (unsigned long)time(NULL)) & 0xfffffffful);
    *state = f;
    if (with_tables) {
        f->client = dr_test_client(NULL, f->ratings, f->stats, NULL);
        if (dr_client_create_tables(f->client, DR_CREATE_TABLES_WAIT) != DR_OK)
            fail_msg("create_tables: %s", dr_last_error_message());
    }
    return 0;
}

static int setup_tables(void **state)
{
    return setup_common(state, 1);
}

static int setup_no_tables(void **state)
{
    return setup_common(state, 0);
}

static void dump_child_output(const fixture *f)
{
    char *out = slurp(f->out_path), *err = slurp(f->err_path);
    fprintf(stderr, "---- bootstrap stdout ----\n%s---- bootstrap stderr ----\n%s----\n",
            out ? out : "", err ? err : "");
    free(out);
    free(err);
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->pid > 0) { /* a failed assertion left it running: never leave it behind */
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
    }
    fake_api_stop(f->api);
    json_decref(f->held);
    if (f->client) {
        dr_test_delete_table(f->client, f->ratings);
        dr_test_delete_table(f->client, f->stats);
        dr_client_free(f->client);
    }
    dump_child_output(f);
    unlink(f->out_path);
    unlink(f->err_path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- events ---------------------------------------------------------------- */

typedef struct rating_rec {
    const char *sequence_number;
    const char *joke_id;
    json_t *rating; /* the attribute value, e.g. {"N":"5"}; reference stolen */
    int second;     /* of submittedAt, to make each rating distinct */
} rating_rec;

/* A rating item exactly as the library writes it (src/ratings/ops_write.c rating_item). */
static json_t *rating_image(const rating_rec *r, const char *pk, const char *sk,
                            const char *submitted_at)
{
    return json_pack("{s:{s:s}, s:{s:s}, s:o, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s},"
                     " s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}",
                     "PK", "S", pk, "SK", "S", sk, "rating", r->rating, "jokeText", "S",
                     "Why did the lambda cross the stream? To get to the other shard.",
                     "author", "S", "Lambda Dad", "mode", "S", "live", "date", "S",
                     "2026-11-25", "submittedAt", "S", submitted_at, "GSI1PK", "S",
                     "ALL_RATINGS", "GSI1SK", "S", submitted_at, "GSI2PK", "S",
                     "AUTHOR#Lambda Dad", "GSI2SK", "S", submitted_at);
}

/* One record in the exact shape Lambda delivers from a DynamoDB stream. */
static json_t *stream_record(const fixture *f, const rating_rec *r)
{
    char pk[300], sk[160], submitted_at[32], arn[300], event_id[40];
    snprintf(submitted_at, sizeof submitted_at, "2026-11-25T10:00:%02d.000Z", r->second);
    snprintf(pk, sizeof pk, "JOKE#%s", r->joke_id);
    snprintf(sk, sizeof sk, "RATING#%s#%s-0000-4000-8000-%012d", submitted_at, f->run_tag,
             r->second);
    snprintf(arn, sizeof arn,
             "arn:aws:dynamodb:us-east-1:123456789012:table/%s/stream/2026-11-25T00:00:00.000",
             f->ratings);
    snprintf(event_id, sizeof event_id, "c4ca4238a0b923820dcc509a6f75%04d", r->second);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:i, s:{s:{s:s}, s:{s:s}}, s:o, s:s, s:i,"
                     " s:s}, s:s}",
                     "eventID", event_id, "eventName", "INSERT", "eventVersion", "1.1",
                     "eventSource", "aws:dynamodb", "awsRegion", "us-east-1", "dynamodb",
                     "ApproximateCreationDateTime", 1700000000, "Keys", "PK", "S", pk, "SK",
                     "S", sk, "NewImage", rating_image(r, pk, sk, submitted_at),
                     "SequenceNumber", r->sequence_number, "SizeBytes", 200, "StreamViewType",
                     "NEW_AND_OLD_IMAGES", "eventSourceARN", arn);
}

static char *event_json(const fixture *f, const rating_rec *recs, size_t n)
{
    json_t *records = json_array(), *event;
    char *s;
    size_t i;
    for (i = 0; i < n; i++)
        assert_int_equal(json_array_append_new(records, stream_record(f, &recs[i])), 0);
    event = json_pack("{s:o}", "Records", records);
    s = json_dumps(event, JSON_COMPACT);
    json_decref(event);
    assert_non_null(s);
    return s;
}

static void push(fixture *f, char *event)
{
    fake_api_push_event(f->api, event);
    free(event);
}

/* ---- checks ---------------------------------------------------------------- */

static json_t *post_json(fixture *f, size_t i, fake_post_kind kind, const char *request_id)
{
    const fake_post *p = fake_api_post(f->api, i);
    json_t *body;
    assert_non_null(p);
    assert_int_equal(p->kind, kind);
    assert_string_equal(p->request_id, request_id);
    body = json_loads(p->body, 0, NULL);
    if (!body)
        fail_msg("post %zu is not JSON: %s", i, p->body);
    json_decref(f->held);
    f->held = body;
    return body;
}

/* The response must be exactly {"batchItemFailures":[...]} with these identifiers. */
static void check_response(fixture *f, size_t i, const char *request_id, const char **failed,
                           size_t n_failed)
{
    json_t *body = post_json(f, i, FAKE_POST_RESPONSE, request_id);
    json_t *items = json_object_get(body, "batchItemFailures");
    size_t k;
    assert_int_equal(json_object_size(body), 1);
    assert_true(json_is_array(items));
    assert_int_equal(json_array_size(items), n_failed);
    for (k = 0; k < n_failed; k++) {
        json_t *item = json_array_get(items, k);
        assert_int_equal(json_object_size(item), 1);
        assert_string_equal(json_string_value(json_object_get(item, "itemIdentifier")),
                            failed[k]);
    }
}

static void check_stats(fixture *f, const char *joke_id, uint64_t total, uint64_t score,
                        const uint64_t counts[5])
{
    dr_stats *s = NULL;
    int star;
    if (dr_client_read_stats(f->client, joke_id, &s) != DR_OK)
        fail_msg("read_stats %s: %s", joke_id, dr_last_error_message());
    assert_int_equal(dr_stats_total_ratings(s), total);
    assert_int_equal(dr_stats_total_score(s), score);
    for (star = 1; star <= 5; star++)
        assert_int_equal(dr_stats_count(s, star), counts[star - 1]);
    dr_stats_free(s);
}

/* The batch lines of the runtime's stdout, each parsed; other lines must be JSON too. */
static json_t *batch_log_lines(const fixture *f)
{
    char *out = slurp(f->out_path), *save = NULL, *line;
    json_t *lines = json_array();
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *msg;
        if (!j)
            fail_msg("a log line is not JSON: %s", line);
        msg = json_string_value(json_object_get(j, "msg"));
        if (msg && (!strcmp(msg, "batch") || !strcmp(msg, "batch rejected")))
            json_array_append(lines, j);
        json_decref(j);
    }
    free(out);
    return lines;
}

static void check_log(json_t *line, const char *request_id, json_int_t records,
                      json_int_t applied, json_int_t duplicates, json_int_t failed)
{
    assert_string_equal(json_string_value(json_object_get(line, "requestId")), request_id);
    assert_int_equal(json_integer_value(json_object_get(line, "records")), records);
    assert_int_equal(json_integer_value(json_object_get(line, "applied")), applied);
    assert_int_equal(json_integer_value(json_object_get(line, "skipped")), 0);
    assert_int_equal(json_integer_value(json_object_get(line, "duplicates")), duplicates);
    assert_int_equal(json_integer_value(json_object_get(line, "failed")), failed);
    assert_true(json_is_integer(json_object_get(line, "durationMs")));
}

static void check_no_secret(const fixture *f)
{
    char *out = slurp(f->out_path), *err = slurp(f->err_path);
    assert_null(strstr(out, SECRET));
    assert_null(strstr(err, SECRET));
    free(out);
    free(err);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_batches_end_to_end(void **state)
{
    fixture *f = *state;
    char joke_a[96], joke_b[96];
    const char *failed_c[] = {"1000000000000000002002", "1000000000000000002003"};
    const uint64_t counts_a[5] = {0, 1, 0, 1, 1}, counts_b[5] = {0, 0, 1, 0, 0};
    json_t *body, *logs;
    dr_dashboard *d = NULL;
    int status;

    dr_test_unique_name(joke_a, sizeof joke_a, "lambda-joke-a");
    dr_test_unique_name(joke_b, sizeof joke_b, "lambda-joke-b");
    {
        rating_rec a[] = {{"1000000000000000000001", joke_a, json_pack("{s:s}", "N", "5"), 1},
                          {"1000000000000000000002", joke_a, json_pack("{s:s}", "N", "4"), 2},
                          {"1000000000000000000003", joke_b, json_pack("{s:s}", "N", "3"), 3}};
        char *ev = event_json(f, a, 3);
        fake_api_push_event(f->api, ev); /* (a) */
        push(f, ev);                     /* (b) the very same batch again */
    }
    {
        rating_rec c[] = {{"1000000000000000002001", joke_a, json_pack("{s:s}", "N", "2"), 11},
                          {"1000000000000000002002", joke_a, json_pack("{s:s}", "N", "7"), 12},
                          {"1000000000000000002003", joke_a, json_pack("{s:s}", "N", "1"), 13}};
        push(f, event_json(f, c, 3)); /* (c) */
    }
    fake_api_push_event(f->api, "{\"hello\":1}"); /* (d) */
    {
        rating_rec e[] = {{"1000000000000000003001", joke_b, json_pack("{s:s}", "N", "7"), 21},
                          {"1000000000000000003002", joke_b, json_pack("{s:s}", "N", "5"), 22}};
        push(f, event_json(f, e, 2)); /* (e) */
    }

    spawn(f, 1, "1");
    if (fake_api_wait(f->api, 5, WAIT_MS) < 5)
        fail_msg("the runtime answered %zu of 5 invocations", fake_api_wait(f->api, 5, 0));

    check_response(f, 0, "req-1", NULL, 0);
    check_response(f, 1, "req-2", NULL, 0);
    check_response(f, 2, "req-3", failed_c, 2);

    body = post_json(f, 3, FAKE_POST_INVOCATION_ERROR, "req-4");
    assert_string_equal(json_string_value(json_object_get(body, "errorType")),
                        "DadRatings.InvalidEvent");
    assert_true(strlen(json_string_value(json_object_get(body, "errorMessage"))) > 0);
    assert_string_equal(fake_api_post(f->api, 3)->error_type, "DadRatings.InvalidEvent");
    body = post_json(f, 4, FAKE_POST_INVOCATION_ERROR, "req-5");
    assert_string_equal(json_string_value(json_object_get(body, "errorType")),
                        "DadRatings.RecordFailed");
    assert_non_null(strstr(json_string_value(json_object_get(body, "errorMessage")),
                           "1000000000000000003001"));

    /* (a)+(b)+(c)+(e): A got 5, 4 and 2 (the 7 and the 1 after it were not applied), B
     * got 3 (not the 5 after (e)'s 7). */
    check_stats(f, joke_a, 3, 11, counts_a);
    check_stats(f, joke_b, 1, 3, counts_b);
    if (dr_client_dashboard_stats(f->client, &d) != DR_OK)
        fail_msg("dashboard: %s", dr_last_error_message());
    assert_int_equal(dr_dashboard_overall_ratings(d), 4);
    assert_int_equal(dr_dashboard_rating_count(d, 5), 1);
    assert_int_equal(dr_dashboard_rating_count(d, 1), 0);
    dr_dashboard_free(d);

    /* (f) idle in /next, then Lambda's shutdown signal. */
    assert_true(fake_api_wait_next(f->api, 6, WAIT_MS) >= 6);
    assert_int_equal(kill(f->pid, SIGTERM), 0);
    status = wait_exit(f, WAIT_MS);
    assert_true(status != -1);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("bootstrap ended with status 0x%x, want exit 0", status);

    logs = batch_log_lines(f);
    json_decref(f->held);
    f->held = logs;
    assert_int_equal(json_array_size(logs), 5);
    check_log(json_array_get(logs, 0), "req-1", 3, 3, 0, 0);
    check_log(json_array_get(logs, 1), "req-2", 3, 0, 3, 0);
    check_log(json_array_get(logs, 2), "req-3", 3, 1, 0, 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(logs, 3), "requestId")),
                        "req-4");
    check_log(json_array_get(logs, 4), "req-5", 2, 0, 0, 2);
    check_no_secret(f);
}

static void expect_init_error(fixture *f, const char *needle)
{
    json_t *body;
    const char *message;
    int status;
    if (fake_api_wait(f->api, 1, WAIT_MS) < 1)
        fail_msg("no init error was posted");
    body = post_json(f, 0, FAKE_POST_INIT_ERROR, "");
    assert_string_equal(json_string_value(json_object_get(body, "errorType")),
                        "DadRatings.InitFailed");
    assert_string_equal(fake_api_post(f->api, 0)->error_type, "DadRatings.InitFailed");
    message = json_string_value(json_object_get(body, "errorMessage"));
    assert_non_null(message);
    if (!strstr(message, needle))
        fail_msg("init error message \"%s\" does not mention %s", message, needle);
    status = wait_exit(f, WAIT_MS);
    assert_true(status != -1);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 0);
    assert_int_equal(fake_api_wait_next(f->api, 1, 0), 0); /* it never asked for work */
    check_no_secret(f);
}

static void test_init_error_without_region(void **state)
{
    fixture *f = *state;
    spawn(f, 0, NULL);
    expect_init_error(f, "region");
}

static void test_init_error_bad_setting(void **state)
{
    fixture *f = *state;
    spawn(f, 1, "65");
    expect_init_error(f, "DR_GLOBAL_SHARDS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batches_end_to_end, setup_tables, teardown),
        cmocka_unit_test_setup_teardown(test_init_error_without_region, setup_no_tables,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_init_error_bad_setting, setup_no_tables, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
