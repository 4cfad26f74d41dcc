/* The dadratings program (tools/dadratings, issue 13) run as a user runs it, against
 * DynamoDB Local: every subcommand's output and exit code, bad usage (2) and bad input (3,
 * nothing written), service errors (4, the library's message and no secret), partial
 * failure (5: a parked record), `stats --json` and `dashboard --json` byte-equal to the
 * library's JSON of the same tables, configuration from the environment alone, and the
 * progress of upgrade-tables as plain lines on a file and as a bar on a pseudo-terminal,
 * and import and verify of a directory in the old S3 layout on tables of their own.
 * The program is found through DR_CLI_BIN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dadratings.h"
#include "ddb.h"
#include "dr_test.h"
#include "schema.h"

#define TEST_SECRET "cli-test-secret-never-printed"
#define MAX_ARGS 40

typedef struct run_result {
    int code;
    char *out, *err;
} run_result;

static char g_ratings[96], g_stats[96];
static dr_client *g_client; /* the test's own view of the tables the program writes */

static char *read_all(int fd)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    ssize_t n;
    lseek(fd, 0, SEEK_SET);
    while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    close(fd);
    return buf;
}

static int temp_fd(void)
{
    char path[] = "/tmp/dr-cli-test.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    return fd;
}

static void result_free(run_result *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

/* Run dadratings with the arguments up to NULL; `with_tables` appends the global options
 * for DynamoDB Local and the test's tables (after the command, as users may). */
static run_result run_cli_v(int with_tables, va_list ap)
{
    const char *bin = getenv("DR_CLI_BIN");
    const char *given[MAX_ARGS];
    char *argv[MAX_ARGS];
    run_result r = {0, NULL, NULL};
    int argc = 0, i, out_fd = temp_fd(), err_fd = temp_fd(), status = 0;
    const char *a;
    pid_t pid;

    if (!bin || !*bin)
        fail_msg("DR_CLI_BIN is not set: run the test through ctest");
    given[argc++] = bin;
    while ((a = va_arg(ap, const char *)) && argc < MAX_ARGS - 12)
        given[argc++] = a;
    if (with_tables) {
        given[argc++] = "--endpoint";
        given[argc++] = dr_test_endpoint();
        given[argc++] = "--region";
        given[argc++] = "us-east-1";
        given[argc++] = "--ratings-table";
        given[argc++] = g_ratings;
        given[argc++] = "--stats-table";
        given[argc++] = g_stats;
    }
    for (i = 0; i < argc; i++)
        argv[i] = strdup(given[i]); /* execv's argv is not const */
    argv[argc] = NULL;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        execv(bin, argv);
        _exit(127);
    }
    for (i = 0; i < argc; i++)
        free(argv[i]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    r.code = WEXITSTATUS(status);
    r.out = read_all(out_fd);
    r.err = read_all(err_fd);
    assert_null(strstr(r.out, TEST_SECRET));
    assert_null(strstr(r.err, TEST_SECRET));
    return r;
}

/* On the test's tables. */
static run_result cli(const char *first, ...)
{
    run_result r;
    va_list ap;
    va_start(ap, first);
    r = run_cli_v(1, ap);
    va_end(ap);
    (void)first;
    return r;
}

/* Exactly the arguments given. */
static run_result cli_bare(const char *first, ...)
{
    run_result r;
    va_list ap;
    va_start(ap, first);
    r = run_cli_v(0, ap);
    va_end(ap);
    (void)first;
    return r;
}

#define ARGS(...) NULL, __VA_ARGS__, (const char *)NULL

static void expect(run_result *r, int code, const char *in_out, const char *in_err)
{
    if (r->code != code || (in_out && !strstr(r->out, in_out)) ||
        (in_err && !strstr(r->err, in_err)))
        fail_msg("exit %d (want %d)\nstdout: %s\nstderr: %s\nwanted stdout with \"%s\", "
                 "stderr with \"%s\"", r->code, code, r->out, r->err, in_out ? in_out : "",
                 in_err ? in_err : "");
    result_free(r);
}

static uint64_t total_ratings_on(dr_client *client, const char *joke)
{
    dr_stats *s = NULL;
    uint64_t n;
    if (dr_client_read_stats(client, joke, &s) != DR_OK)
        fail_msg("read_stats %s: %s", joke, dr_last_error_message());
    n = dr_stats_total_ratings(s);
    dr_stats_free(s);
    return n;
}

static uint64_t total_ratings(const char *joke)
{
    return total_ratings_on(g_client, joke);
}

static int setup(void **state)
{
    (void)state;
    setenv("AWS_ACCESS_KEY_ID", "AKIDCLITEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
    unsetenv("DYNAMODB_RATINGS_TABLE");
    unsetenv("DYNAMODB_STATS_TABLE");
    unsetenv("DR_GLOBAL_SHARDS");
    dr_test_unique_name(g_ratings, sizeof g_ratings, "cli-r");
    dr_test_unique_name(g_stats, sizeof g_stats, "cli-s");
    g_client = dr_test_client(NULL, g_ratings, g_stats, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_client)
        dr_test_close_tables(g_client, g_ratings, g_stats);
    return 0;
}

static void test_help_and_version(void **state)
{
    static const char *const commands[] = {"create-tables", "upgrade-tables", "rate",
                                           "stats", "dashboard", "follow", "dead-letters",
                                           "import", "verify"};
    char want[96];
    size_t i;
    run_result r;
    (void)state;

    r = cli_bare(ARGS("--version"));
    expect(&r, 0, "dadratings " DR_VERSION_STRING " (libdadratings ", NULL);
    r = cli_bare(ARGS("--help"));
    expect(&r, 0, "Exit status: 0 ok, 2 bad usage, 3 bad input", NULL);
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        snprintf(want, sizeof want, "usage: dadratings [GLOBAL OPTIONS] %s", commands[i]);
        r = cli_bare(ARGS(commands[i], "--help"));
        expect(&r, 0, want, NULL);
        r = cli_bare(ARGS("-h", commands[i])); /* a global option before the command */
        expect(&r, 0, want, NULL);
    }
}

static void test_bad_usage(void **state)
{
    run_result r;
    (void)state;
    r = cli_bare(ARGS("--region", "us-east-1"));
    expect(&r, 2, "", "usage: dadratings [GLOBAL OPTIONS] COMMAND");
    r = cli_bare(ARGS("frobnicate"));
    expect(&r, 2, "", "dadratings: unknown command frobnicate");
    r = cli(ARGS("stats", "j", "--colour"));
    expect(&r, 2, "", "dadratings: stats: unknown option --colour (see dadratings stats --help)");
    r = cli(ARGS("dashboard", "--wait")); /* create-tables' option */
    expect(&r, 2, "", "unknown option --wait");
    r = cli_bare(ARGS("stats", "j", "--region"));
    expect(&r, 2, "", "a value is missing after --region");
    r = cli(ARGS("rate", "j"));
    expect(&r, 2, "", "dadratings: rate: missing argument");
    r = cli(ARGS("stats", "j", "k"));
    expect(&r, 2, "", "dadratings: stats: too many arguments");
    r = cli(ARGS("dashboard", "--json=yes"));
    expect(&r, 2, "", "no value is taken by --json=yes");
    r = cli(ARGS("--mode", "daily", "dashboard"));
    expect(&r, 2, "", "--mode daily is for rate");
    r = cli(ARGS("dead-letters", "--json", "--requeue"));
    expect(&r, 2, "", "--json cannot go with --requeue");
    r = cli_bare(ARGS("import"));
    expect(&r, 2, "", "dadratings: import: missing argument\nusage: dadratings import SOURCE");
    r = cli_bare(ARGS("verify", "/tmp", "/var"));
    expect(&r, 2, "", "dadratings: verify: too many arguments");
    r = cli_bare(ARGS("verify", "/tmp", "--resume")); /* import's: verify writes nothing */
    expect(&r, 2, "", "dadratings: verify: unknown option --resume");
    r = cli_bare(ARGS("verify", "/tmp", "--dry-run"));
    expect(&r, 2, "", "dadratings: verify: unknown option --dry-run");
    r = cli_bare(ARGS("import", "/tmp", "--dry-run=yes"));
    expect(&r, 2, "", "no value is taken by --dry-run=yes");
    r = cli_bare(ARGS("import", "/tmp", "--page-size"));
    expect(&r, 2, "", "a value is missing after --page-size");
}

/* Bad values of import's and verify's options: refused before any request (the endpoint
 * is closed, so a request would end in 4), naming the option. */
static void test_import_bad_input(void **state)
{
    static const struct {
        const char *option, *value, *message;
    } bad[] = {
        {"--concurrency", "0", "--concurrency must be a whole number from 1 to 64, not \"0\""},
        {"--concurrency", "65", "--concurrency must be a whole number from 1 to 64, not \"65\""},
        {"--concurrency", "8x", "--concurrency must be a whole number from 1 to 64, not \"8x\""},
        {"--concurrency", "+8", "--concurrency must be a whole number from 1 to 64, not \"+8\""},
        {"--page-size", "0", "--page-size must be a whole number from 1 to 1000, not \"0\""},
        {"--page-size", "1001", "--page-size must be a whole number from 1 to 1000, not "
                                "\"1001\""},
        {"--page-size", " 5", "--page-size must be a whole number from 1 to 1000, not \" 5\""},
        {"--page-size", "99999999999999999999", "--page-size must be a whole number from 1 to "
                                                "1000"},
        {"--copy-of", "", "--copy-of must be BUCKET[/PREFIX], not \"\""},
        {"--copy-of", "/prefix", "--copy-of must be BUCKET[/PREFIX], not \"/prefix\""},
        /* checked as the walk opens, before its first listing: the library names it */
        {"--layout", "live/{nope}/{any}", "invalid argument: layout pattern 1: unknown "
                                          "placeholder"},
        {"--layout", "{mode:live}/{any}", "invalid argument: layout pattern 1: "},
    };
    static const char *const cmds[] = {"import", "verify"};
    size_t i, k;
    run_result r;
    (void)state;
    for (k = 0; k < 2; k++)
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            r = cli_bare(ARGS(cmds[k], "/tmp", bad[i].option, bad[i].value, "--region",
                              "us-east-1", "--endpoint", "http://127.0.0.1:1"));
            expect(&r, 3, "", bad[i].message);
        }
    r = cli_bare(ARGS("import", "s3://", "--region", "us-east-1", "--endpoint",
                      "http://127.0.0.1:1"));
    expect(&r, 3, "", "dadratings: import: ");
}

static void test_create_tables(void **state)
{
    run_result r;
    (void)state;
    r = cli(ARGS("create-tables", "--wait"));
    expect(&r, 0, "create-tables: both tables are ACTIVE\n", NULL);
    r = cli(ARGS("create-tables")); /* they exist: left alone */
    expect(&r, 0, "create-tables: both tables exist or are being created\n", NULL);
    assert_int_equal(total_ratings("nobody"), 0);
}

/* Each refusal names the argument, and nothing reaches the tables. */
static void test_bad_input(void **state)
{
    static const char *const bad_stars[] = {"0", "6", "7", "x", "4.5", "-1", "", "05", "3 "};
    size_t i;
    run_result r;
    (void)state;
    for (i = 0; i < sizeof bad_stars / sizeof bad_stars[0]; i++) {
        r = cli(ARGS("rate", "bad-joke", bad_stars[i]));
        expect(&r, 3, "", "dadratings: rate: STARS must be a whole number from 1 to 5");
    }
    r = cli_bare(ARGS("--region", "us-east-1", "rate", "--", "bad-joke", "-3"));
    expect(&r, 3, "", "dadratings: rate: STARS must be a whole number from 1 to 5");
    r = cli(ARGS("rate", "bad-joke", "4", "--date", "2026-02-30"));
    expect(&r, 3, "", "dadratings: rate: --date: ");
    r = cli(ARGS("rate", "bad-joke", "4", "--date", "yesterday"));
    expect(&r, 3, "", "dadratings: rate: --date: ");
    r = cli(ARGS("rate", "bad#joke", "4"));
    expect(&r, 3, "", "dadratings: rate: JOKE: ");
    r = cli(ARGS("rate", "bad-joke", "4", "--key", "not a key!"));
    expect(&r, 3, "", "dadratings: rate: --key: ");
    r = cli(ARGS("rate", "bad-joke", "4", "--author", "A#B"));
    expect(&r, 3, "", "dadratings: rate: --author: ");
    r = cli(ARGS("rate", "bad-joke", "4", "--mode", "weekly"));
    expect(&r, 3, "", "--mode must be inline or stream (or, for rate, daily or live), not "
                      "\"weekly\"");
    r = cli(ARGS("rate", "bad-joke", "4", "--log-level", "loud"));
    expect(&r, 3, "", "--log-level must be error, warn, info or debug, not \"loud\"");
    r = cli(ARGS("rate", "bad-joke", "4", "--global-shards", "0"));
    expect(&r, 3, "", "--global-shards must be a whole number from 1 to 64, not \"0\"");
    r = cli(ARGS("rate", "bad-joke", "4", "--global-shards", "+5"));
    expect(&r, 3, "", "--global-shards must be a whole number from 1 to 64, not \"+5\"");
    r = cli(ARGS("rate", "bad-joke", "4", "--help")); /* help, and nothing written */
    expect(&r, 0, "usage: dadratings [GLOBAL OPTIONS] rate JOKE STARS", NULL);
    r = cli_bare(ARGS("rate", "bad-joke", "4", "--region", "Not A Region", "--endpoint",
                      dr_test_endpoint()));
    expect(&r, 3, "", "dadratings: --region: ");
    r = cli_bare(ARGS("stats", "bad-joke", "--region", "us-east-1", "--endpoint",
                      "http://example.com"));
    expect(&r, 3, "", "dadratings: --endpoint: ");
    assert_int_equal(total_ratings("bad-joke"), 0);
}

static void test_rate_and_stats(void **state)
{
    dr_stats *stats = NULL;
    char *json = NULL, *want = NULL;
    int i;
    run_result r;
    (void)state;

    r = cli(ARGS("rate", "cli-joke-1", "5", "--author", "Ann", "--text", "I used to hate facial "
                 "hair, but then it grew on me.", "--mode", "daily", "--date", "2026-12-01",
                 "--key", "cli-key-1"));
    expect(&r, 0, "joke        cli-joke-1\nratings     1\naverage     5.00\n", NULL);
    r = cli(ARGS("rate", "cli-joke-1", "5", "--key", "cli-key-1", "--json"));
    expect(&r, 0, "\"totalRatings\":1,", NULL); /* the same key counts once */
    for (i = 0; i < 3; i++) {
        r = cli(ARGS("rate", "cli-joke-1", i ? "4" : "3", "--author", "Ann"));
        expect(&r, 0, "joke        cli-joke-1\n", NULL);
    }
    assert_int_equal(total_ratings("cli-joke-1"), 4);

    r = cli(ARGS("stats", "cli-joke-1"));
    expect(&r, 0, "joke        cli-joke-1\nratings     4\naverage     4.00\nlast rated  2026-",
           NULL);
    r = cli(ARGS("stats", "no-such-joke"));
    expect(&r, 0, "ratings     0\n", NULL);

    if (dr_client_read_stats(g_client, "cli-joke-1", &stats) != DR_OK)
        fail_msg("read_stats: %s", dr_last_error_message());
    assert_int_equal(dr_stats_to_json(stats, &json), DR_OK);
    want = malloc(strlen(json) + 2);
    sprintf(want, "%s\n", json);
    r = cli(ARGS("stats", "--json", "cli-joke-1"));
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, want);
    assert_string_equal(r.err, "");
    result_free(&r);
    free(want);
    dr_free(json);
    dr_stats_free(stats);
}

static void test_dashboard(void **state)
{
    dr_dashboard *d = NULL;
    char *json = NULL, *want = NULL;
    run_result r;
    (void)state;

    if (dr_client_dashboard_stats(g_client, &d) != DR_OK)
        fail_msg("dashboard: %s", dr_last_error_message());
    assert_true(dr_dashboard_top_count(d) >= 1);
    assert_int_equal(dr_dashboard_to_json(d, &json), DR_OK);
    want = malloc(strlen(json) + 2);
    sprintf(want, "%s\n", json);
    r = cli(ARGS("dashboard", "--json"));
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, want);
    assert_string_equal(r.err, "");
    result_free(&r);
    free(want);
    dr_free(json);
    dr_dashboard_free(d);

    r = cli(ARGS("dashboard"));
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "Ratings     4, average 4.00, over 1 jokes\n"));
    assert_non_null(strstr(r.out, "Stars       5: 1  4: 2  3: 1  2: 0  1: 0\n"));
    assert_non_null(strstr(r.out, "\nAuthors\n"));
    assert_non_null(strstr(r.out, "  Ann                             4    4.00      1      2"));
    assert_non_null(strstr(r.out, "\nTop performers\n"));
    assert_non_null(strstr(r.out, "   1 cli-joke-1              4.00        4  Ann              "
                                  "I used to hate facial hair, but then ..."));
    assert_non_null(strstr(r.out, "\nRecent ratings\n"));
    assert_non_null(strstr(r.out, " cli-joke-1               5 daily 2026-12-01 Ann "));
    result_free(&r);
}

/* Stderr is a file here: the progress is plain lines, and --quiet silences it. */
static void test_upgrade_tables(void **state)
{
    run_result r;
    (void)state;
    r = cli(ARGS("upgrade-tables"));
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "upgrade-tables: "));
    assert_non_null(strstr(r.out, " stats items scanned, 0 updated, schema marker written\n"));
    assert_non_null(strstr(r.err, "upgrade-tables: adding the top-performers index"));
    assert_non_null(strstr(r.err, " (100%), ")); /* complete: the estimate no longer counts */
    assert_non_null(strstr(r.err, ", done\n"));
    assert_null(strchr(r.err, '\r'));
    assert_null(strchr(r.err, '\033'));
    result_free(&r);
    r = cli(ARGS("--quiet", "upgrade-tables"));
    expect(&r, 0, "schema marker written\n", NULL);
    r = cli(ARGS("--quiet", "upgrade-tables"));
    assert_string_equal(r.err, "");
    result_free(&r);
}

#define LEGACY_JOKES 30

/* A stats table as the original terraform made it (GSI1 only) holding joke items the
 * original aggregator wrote (no statsVersion): upgrade-tables adds GSI2 and updates every
 * item, showing its progress; a second run finds nothing left to do. */
static void test_upgrade_tables_legacy(void **state)
{
    char legacy[96], pk[64], want[96];
    json_t *req;
    int i;
    run_result r;
    (void)state;
    dr_test_unique_name(legacy, sizeof legacy, "cli-legacy");
    req = json_pack("{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}], "
                    "s:[{s:s, s:s}, {s:s, s:s}], s:[{s:s, s:[{s:s, s:s}, {s:s, s:s}], "
                    "s:{s:s}}]}",
                    "TableName", legacy, "BillingMode", "PAY_PER_REQUEST",
                    "AttributeDefinitions", "AttributeName", "PK", "AttributeType", "S",
                    "AttributeName", "SK", "AttributeType", "S", "AttributeName", "GSI1PK",
                    "AttributeType", "S", "AttributeName", "GSI1SK", "AttributeType", "N",
                    "KeySchema", "AttributeName", "PK", "KeyType", "HASH", "AttributeName",
                    "SK", "KeyType", "RANGE", "GlobalSecondaryIndexes", "IndexName", "GSI1",
                    "KeySchema", "AttributeName", "GSI1PK", "KeyType", "HASH", "AttributeName",
                    "GSI1SK", "KeyType", "RANGE", "Projection", "ProjectionType", "ALL");
    assert_non_null(req);
    if (dr__ddb_call(g_client, "CreateTable", req, NULL, NULL) != DR_OK ||
        dr__table_wait_active(g_client, legacy, 60000) != DR_OK)
        fail_msg("CreateTable %s: %s", legacy, dr_last_error_message());
    json_decref(req);
    for (i = 0; i < LEGACY_JOKES; i++) {
        snprintf(pk, sizeof pk, "STATS#legacy-%d", i);
        req = json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, "
                        "s:{s:s}, s:{s:s}, s:{s:s}}}",
                        "TableName", legacy, "Item", "PK", "S", pk, "SK", "S", "AGGREGATE",
                        "totalRatings", "N", "3", "totalScore", "N", "12", "count4", "N", "3",
                        "author", "S", "Old", "lastRatedAt", "S", "2026-11-25T10:00:00.000Z",
                        "GSI1PK", "S", "TOP_PERFORMERS", "GSI1SK", "N", "4");
        assert_non_null(req);
        if (dr__ddb_call(g_client, "PutItem", req, NULL, NULL) != DR_OK)
            fail_msg("PutItem: %s", dr_last_error_message());
        json_decref(req);
    }

    snprintf(want, sizeof want, "upgrade-tables: %d stats items scanned, %d updated, ",
             LEGACY_JOKES, LEGACY_JOKES);
    r = cli_bare(ARGS("upgrade-tables", "--endpoint", dr_test_endpoint(), "--region",
                      "us-east-1", "--ratings-table", g_ratings, "--stats-table", legacy));
    if (r.code != 0 || !strstr(r.out, want) ||
        !strstr(r.err, "upgrade-tables: adding the top-performers index") ||
        !strstr(r.err, "/s, done\n"))
        fail_msg("exit %d\nstdout: %s\nstderr: %s", r.code, r.out, r.err);
    snprintf(want, sizeof want, "upgrade-tables: %d/%d (100%%), ", LEGACY_JOKES, LEGACY_JOKES);
    assert_non_null(strstr(r.err, want));
    result_free(&r);
    snprintf(want, sizeof want, "upgrade-tables: %d stats items scanned, 0 updated, ",
             LEGACY_JOKES);
    r = cli_bare(ARGS("upgrade-tables", "--quiet", "--endpoint", dr_test_endpoint(), "--region",
                      "us-east-1", "--ratings-table", g_ratings, "--stats-table", legacy));
    expect(&r, 0, want, NULL);
    dr_test_delete_table(g_client, legacy);
}

/* On a terminal the user sees the bar redrawn in place, and no plain line: the program
 * run under a pseudo-terminal, its screen read back. */
/* Run dadratings with `args` (NULL-ended, after the program's name) on a pseudo-terminal
 * and read its screen (stdout and stderr both) into `screen`. Returns the exit status. */
static int run_on_terminal(const char *const *args, char *screen, size_t cap)
{
    const char *bin = getenv("DR_CLI_BIN");
    char *argv[MAX_ARGS];
    ssize_t n, len = 0;
    int master = -1, status, argc = 0;
    pid_t pid;
    assert_non_null(bin);
    argv[argc++] = strdup(bin);
    while (*args && argc < MAX_ARGS - 1)
        argv[argc++] = strdup(*args++);
    argv[argc] = NULL;
    fflush(NULL);
    pid = forkpty(&master, NULL, NULL, NULL);
    assert_true(pid >= 0);
    if (pid == 0) {
        execv(bin, argv);
        _exit(127);
    }
    while (argc > 0)
        free(argv[--argc]);
    while (len < (ssize_t)cap - 1 && (n = read(master, screen + len, cap - 1 - (size_t)len)) > 0)
        len += n; /* EIO once the program is gone */
    screen[len] = '\0';
    close(master);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_upgrade_tables_on_terminal(void **state)
{
    const char *const args[] = {"upgrade-tables", "--endpoint", dr_test_endpoint(), "--region",
                                "us-east-1", "--ratings-table", g_ratings, "--stats-table",
                                g_stats, NULL};
    char screen[8192] = "";
    int status;
    (void)state;
    status = run_on_terminal(args, screen, sizeof screen);
    if (status != 0 || !strstr(screen, "\rupgrade-tables [") ||
        !strstr(screen, "\033[K done in ") || strstr(screen, "upgrade-tables: 0") ||
        strstr(screen, ", done\r\n"))
        fail_msg("exit %d, screen:\n%s", status, screen);
    assert_non_null(strstr(screen, "schema marker written\r\n"));
}

/* A rating item written past the library with 7 stars: the follower parks it. */
static void put_poison_rating(const char *joke)
{
    char pk[64];
    json_t *req;
    snprintf(pk, sizeof pk, "JOKE#%s", joke);
    req = json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}", "TableName",
                    g_ratings, "Item", "PK", "S", pk, "SK", "S",
                    "RATING#2026-12-01T10:00:00.000Z#seven", "rating", "N", "7", "author", "S",
                    "Ann", "submittedAt", "S", "2026-12-01T10:00:00.000Z");
    assert_non_null(req);
    if (dr__ddb_call(g_client, "PutItem", req, NULL, NULL) != DR_OK)
        fail_msg("PutItem: %s", dr_last_error_message());
    json_decref(req);
}

static void test_follow_and_dead_letters(void **state)
{
    json_t *list;
    run_result r;
    (void)state;

    r = cli(ARGS("--mode", "stream", "rate", "cli-joke-2", "2", "--author", "Bob"));
    expect(&r, 0, "pending     the stream aggregator has not applied this rating yet\n", NULL);
    assert_int_equal(total_ratings("cli-joke-2"), 0);
    r = cli(ARGS("follow", "--until-idle"));
    expect(&r, 0, " applied, 0 dead-lettered\n", NULL);
    assert_int_equal(total_ratings("cli-joke-2"), 1);

    r = cli(ARGS("dead-letters"));
    expect(&r, 0, "", "dead-letters: none parked\n");
    r = cli(ARGS("dead-letters", "--json"));
    expect(&r, 0, "[]\n", NULL);

    put_poison_rating("cli-poison");
    r = cli(ARGS("follow", "--until-idle"));
    expect(&r, 5, ", 1 dead-lettered\n", NULL);
    r = cli(ARGS("dead-letters"));
    expect(&r, 0, " attempts=5 parked=", NULL);
    r = cli(ARGS("dead-letters", "--json"));
    assert_int_equal(r.code, 0);
    list = json_loads(r.out, 0, NULL);
    assert_non_null(list);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    result_free(&r);
    r = cli(ARGS("dead-letters", "--requeue"));
    expect(&r, 5, "dead-letters: 0 dead letters requeued, 1 still parked\n", NULL);
    assert_int_equal(total_ratings("cli-poison"), 0);
}

static void test_service_errors(void **state)
{
    run_result r;
    (void)state;
    r = cli_bare(ARGS("stats", "j", "--region", "us-east-1", "--endpoint", dr_test_endpoint(),
                      "--stats-table", "cli-no-such-table"));
    expect(&r, 4, "", "dadratings: stats: table or index not found: GetItem: "
                      "ResourceNotFoundException");
    r = cli_bare(ARGS("dashboard", "--region", "us-east-1", "--endpoint",
                      "http://127.0.0.1:1"));
    expect(&r, 4, "", "dadratings: dashboard: network error: ");
}

/* The old S3 tree, copied into a directory: what import and verify read. */
static const struct {
    const char *path, *content;
} g_tree[] = {
    {"live/imp-a/1.json", "{\"rating\":5,\"author\":\"Ann\"}"},
    {"live/imp-a/2.json", "[{\"rating\":4,\"author\":\"Ann\"},{\"rating\":\"3\",\"author\":"
                          "\"Bob\"}]"},
    {"live/imp-a/3.json", "{\"rating\":7,\"author\":\"Ann\"}"}, /* rejected: not 1..5 */
    {"daily/2026-11-02/imp-b/1.json", "{\"rating\":2,\"submittedAt\":"
                                      "\"2026-11-02T08:00:00.000Z\"}"},
    {"live/imp-b/bad.json", "{oops"}, /* rejected: not JSON */
    {"notes.txt", "not a rating"},   /* outside the layout: not even fetched */
};
static const char *const g_tree_dirs[] = {"live/imp-a", "live/imp-b", "live",
                                          "daily/2026-11-02/imp-b", "daily/2026-11-02", "daily"};

static void make_tree(const char *root)
{
    char path[256];
    size_t i;
    for (i = sizeof g_tree_dirs / sizeof g_tree_dirs[0]; i-- > 0;) {
        snprintf(path, sizeof path, "%s/%s", root, g_tree_dirs[i]);
        assert_int_equal(mkdir(path, 0700), 0);
    }
    for (i = 0; i < sizeof g_tree / sizeof g_tree[0]; i++) {
        FILE *f;
        snprintf(path, sizeof path, "%s/%s", root, g_tree[i].path);
        assert_non_null(f = fopen(path, "w"));
        fputs(g_tree[i].content, f);
        fclose(f);
    }
}

static void remove_tree(const char *root)
{
    char path[256];
    size_t i;
    for (i = 0; i < sizeof g_tree / sizeof g_tree[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", root, g_tree[i].path);
        unlink(path);
    }
    for (i = 0; i < sizeof g_tree_dirs / sizeof g_tree_dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", root, g_tree_dirs[i]);
        rmdir(path);
    }
    rmdir(root);
}

/* dadratings on the import test's own tables (verify compares every aggregate: the other
 * tests' ratings would be differences). */
#define ON_IMPORT_TABLES(...) \
    NULL, __VA_ARGS__, "--endpoint", dr_test_endpoint(), "--region", "us-east-1", \
        "--ratings-table", ratings, "--stats-table", stats, (const char *)NULL

static void test_import_and_verify(void **state)
{
    char root[] = "/tmp/dr-cli-import.XXXXXX", ratings[96], stats[96];
    dr_client *client = dr_test_open_tables(ratings, stats, sizeof ratings, "cli-imp",
                                            DR_AGGREGATION_INLINE, 1);
    run_result r;
    (void)state;

    assert_non_null(mkdtemp(root));
    make_tree(root);

    r = cli_bare(ON_IMPORT_TABLES("import", root, "--dry-run"));
    expect(&r, 5, "import: 5 objects, 4 entries, 0 written, 0 already present, 2 rejected "
                  "(dry run: nothing written)\n", NULL);
    r = cli_bare(ON_IMPORT_TABLES("verify", root)); /* nothing imported: all differs */
    expect(&r, 6, "", "dadratings: verify: joke imp-a: no stats item in the stats table, 3 "
                      "ratings in the source\n");

    /* Each rejected entry is one line naming its object; progress is plain lines here. */
    r = cli_bare(ON_IMPORT_TABLES("import", root, "--concurrency", "2", "--page-size", "2"));
    if (r.code != 5 ||
        strcmp(r.out, "import: 5 objects, 4 entries, 4 written, 0 already present, 2 "
                      "rejected\n") != 0 ||
        !strstr(r.err, "dadratings: import: live/imp-a/3.json entry 0: ") ||
        !strstr(r.err, "dadratings: import: live/imp-b/bad.json: not valid JSON") ||
        !strstr(r.err, "import: 4 entries, 5 objects, ") || !strstr(r.err, ", done\n") ||
        strchr(r.err, '\r'))
        fail_msg("exit %d\nstdout: %s\nstderr: %s", r.code, r.out, r.err);
    result_free(&r);
    assert_int_equal(total_ratings_on(client, "imp-a"), 3);

    /* On a terminal: the bar (entries, objects, rate; no total to show a percentage of),
     * erased before each line printed over it. */
    {
        const char *const args[] = {"import", root, "--dry-run", "--endpoint",
                                    dr_test_endpoint(), "--region", "us-east-1",
                                    "--ratings-table", ratings, "--stats-table", stats, NULL};
        char screen[8192] = "";
        int status = run_on_terminal(args, screen, sizeof screen);
        if (status != 5 || !strstr(screen, "\r\033[Kdadratings: import: live/imp-b/bad.json: ") ||
            !strstr(screen, "\rimport 4 entries, 5 objects ") ||
            !strstr(screen, "/s\033[K done in 0 s\r\n") || strstr(screen, "import: 4 entries") ||
            !strstr(screen, "import: 5 objects, 4 entries, 0 written, 0 already present, 2 "
                            "rejected (dry run: nothing written)\r\n"))
            fail_msg("exit %d, screen:\n%s", status, screen);
    }

    r = cli_bare(ON_IMPORT_TABLES("--quiet", "import", root)); /* a rerun counts nothing */
    expect(&r, 5, "import: 5 objects, 4 entries, 0 written, 4 already present, 2 rejected\n",
           NULL);
    /* Resumed after the checkpoint of the last object: nothing left to read. */
    r = cli_bare(ON_IMPORT_TABLES("--quiet", "import", root, "--resume"));
    expect(&r, 0, "import: 0 objects, 0 entries, 0 written, 0 already present, 0 rejected\n",
           NULL);

    r = cli_bare(ON_IMPORT_TABLES("verify", root, "--page-size", "1"));
    if (r.code != 0 || strcmp(r.out, "verify: 5 objects, 4 entries, 2 rejected, 0 differences\n") ||
        !strstr(r.err, "dadratings: verify: live/imp-b/bad.json: not valid JSON") ||
        strstr(r.err, "in the source"))
        fail_msg("exit %d\nstdout: %s\nstderr: %s", r.code, r.out, r.err);
    result_free(&r);

    /* A rating the source does not hold: each aggregate it touched is a difference. */
    r = cli_bare(ON_IMPORT_TABLES("rate", "imp-b", "5", "--author", "Bob"));
    expect(&r, 0, "ratings     2\n", NULL);
    r = cli_bare(ON_IMPORT_TABLES("--quiet", "verify", root));
    if (r.code != 6 ||
        strcmp(r.out, "verify: 5 objects, 4 entries, 2 rejected, 9 differences\n") != 0 ||
        !strstr(r.err, "dadratings: verify: joke imp-b: totalRatings is 1 in the source, 2 in "
                       "the stats table\n") ||
        !strstr(r.err, "dadratings: verify: joke imp-b: count5 is 0 in the source, 1 in the "
                       "stats table\n") ||
        !strstr(r.err, "dadratings: verify: global: totalScore is 14 in the source, 19 in the "
                       "stats table\n") ||
        !strstr(r.err, "dadratings: verify: author Bob: totalRatings is 1 in the source, 2 in "
                       "the stats table\n") ||
        strstr(r.err, ", done\n"))
        fail_msg("exit %d\nstdout: %s\nstderr: %s", r.code, r.out, r.err);
    result_free(&r);

    remove_tree(root);
    dr_test_close_tables(client, ratings, stats);
}

/* Nothing given on the command line: the library resolves it, as for any program. */
static void test_environment(void **state)
{
    dr_stats *stats = NULL;
    char *json = NULL;
    run_result r;
    (void)state;
    setenv("AWS_ENDPOINT_URL_DYNAMODB", dr_test_endpoint(), 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("DYNAMODB_RATINGS_TABLE", g_ratings, 1);
    setenv("DYNAMODB_STATS_TABLE", g_stats, 1);
    r = cli_bare(ARGS("stats", "cli-joke-1", "--json"));
    assert_int_equal(dr_client_read_stats(g_client, "cli-joke-1", &stats), DR_OK);
    assert_int_equal(dr_stats_to_json(stats, &json), DR_OK);
    assert_int_equal(r.code, 0);
    assert_memory_equal(r.out, json, strlen(json));
    result_free(&r);
    dr_free(json);
    dr_stats_free(stats);
    unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
    unsetenv("AWS_REGION");

    /* --profile: the region and endpoint come from that profile of the shared config. */
    {
        char path[] = "/tmp/dr-cli-config.XXXXXX";
        int fd = mkstemp(path);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        assert_non_null(f);
        fprintf(f, "[profile cli-test]\nregion = us-east-1\nendpoint_url = %s\n",
                dr_test_endpoint());
        fclose(f);
        setenv("AWS_CONFIG_FILE", path, 1);
        setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/dr-cli-credentials", 1);
        r = cli_bare(ARGS("stats", "cli-joke-1", "--profile", "cli-test"));
        expect(&r, 0, "ratings     4\n", NULL);
        r = cli_bare(ARGS("--profile", "no-such-profile", "stats", "cli-joke-1"));
        expect(&r, 3, "", "dadratings: configuration: invalid or incomplete configuration: "
                          "no region: ");
        unsetenv("AWS_CONFIG_FILE");
        unsetenv("AWS_SHARED_CREDENTIALS_FILE");
        unlink(path);
    }
    setenv("AWS_ENDPOINT_URL_DYNAMODB", dr_test_endpoint(), 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("DR_GLOBAL_SHARDS", "65", 1);
    r = cli_bare(ARGS("dashboard"));
    expect(&r, 3, "", "DR_GLOBAL_SHARDS must be a whole number from 1 to 64, not \"65\"");
    unsetenv("DR_GLOBAL_SHARDS");
    unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
    unsetenv("AWS_REGION");
    unsetenv("DYNAMODB_RATINGS_TABLE");
    unsetenv("DYNAMODB_STATS_TABLE");
}

int main(void)
{
    /* In order: the tables the later tests use are made by create-tables. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_bad_usage),
        cmocka_unit_test(test_import_bad_input),
        cmocka_unit_test(test_create_tables),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_rate_and_stats),
        cmocka_unit_test(test_dashboard),
        cmocka_unit_test(test_upgrade_tables),
        cmocka_unit_test(test_upgrade_tables_on_terminal),
        cmocka_unit_test(test_upgrade_tables_legacy),
        cmocka_unit_test(test_follow_and_dead_letters),
        cmocka_unit_test(test_service_errors),
        cmocka_unit_test(test_import_and_verify),
        cmocka_unit_test(test_environment),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
