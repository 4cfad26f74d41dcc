/* dadratings: the command-line tool of libdadratings, on the public header only.
 *
 *   dadratings [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]
 *
 * Global options may come before or after the command, as with the AWS CLI. What the user
 * does not give is left unset, so the library resolves it from the environment and the
 * shared files exactly as for every other program. docs/man/dadratings.1 is the manual;
 * docs/cli.md says how it is built. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dadratings.h>

#include "follow.h"
#include "progress.h"

#define PROG "dadratings"

/* The exit codes of docs/man/dadratings.1, "EXIT STATUS". */
enum {
    EXIT_OK = 0,
    EXIT_USAGE = 2,   /* unknown command or option, missing argument */
    EXIT_INPUT = 3,   /* an argument's value is invalid; nothing was written */
    EXIT_SERVICE = 4, /* AWS, the service or the library failed */
    EXIT_PARTIAL = 5, /* some of the work was not done (still parked, interrupted, rejected) */
    EXIT_DIFFERENCES = 6 /* verify: the stats table differs from the source */
};

/* Every dr_status and the exit code it ends the program with. DR_E_CONFIG is the user's
 * configuration (a bad endpoint, no region): input, not the service. */
static const struct {
    dr_status status;
    int exit_code;
} status_exit_codes[] = {
    {DR_OK, EXIT_OK},
    {DR_E_INVALID_ARGUMENT, EXIT_INPUT},
    {DR_E_CONFIG, EXIT_INPUT},
    {DR_E_NOMEM, EXIT_SERVICE},
    {DR_E_NOT_IMPLEMENTED, EXIT_SERVICE},
    {DR_E_CREDENTIALS, EXIT_SERVICE},
    {DR_E_AUTH, EXIT_SERVICE},
    {DR_E_NETWORK, EXIT_SERVICE},
    {DR_E_TIMEOUT, EXIT_SERVICE},
    {DR_E_THROTTLED, EXIT_SERVICE},
    {DR_E_SERVICE, EXIT_SERVICE},
    {DR_E_VALIDATION, EXIT_SERVICE},
    {DR_E_CONDITION_FAILED, EXIT_SERVICE},
    {DR_E_TRANSACTION_CANCELED, EXIT_SERVICE},
    {DR_E_TRANSACTION_CONFLICT, EXIT_SERVICE},
    {DR_E_NOT_FOUND, EXIT_SERVICE},
    {DR_E_CHECKSUM, EXIT_SERVICE},
    {DR_E_PROTOCOL, EXIT_SERVICE},
    {DR_E_IN_USE, EXIT_SERVICE},
    {DR_E_RETRY_QUOTA, EXIT_SERVICE},
    {DR_E_CLOSED, EXIT_SERVICE},
    {DR_E_INTERNAL, EXIT_SERVICE},
};

static int exit_code_for(dr_status rc)
{
    size_t i;
    for (i = 0; i < sizeof status_exit_codes / sizeof status_exit_codes[0]; i++)
        if (status_exit_codes[i].status == rc)
            return status_exit_codes[i].exit_code;
    return EXIT_SERVICE;
}

/* ---- options ----------------------------------------------------------------------- */

static struct {
    const char *region, *endpoint, *profile, *ratings_table, *stats_table, *log_level;
    const char *global_shards, *aggregation_mode;
    int quiet, help, version;
} g;

/* The commands' own options; each command accepts only those in its table. */
static struct {
    const char *author, *text, *rating_mode, *date, *key;
    const char *layout, *copy_of, *concurrency, *page_size;
    int wait, json, until_idle, requeue, resume, dry_run;
} o;

typedef struct option {
    const char *name;
    const char **value; /* takes a value */
    int *flag;          /* or is a flag */
} option;

static const option global_options[] = {
    {"--region", &g.region, NULL},
    {"--endpoint", &g.endpoint, NULL},
    {"--profile", &g.profile, NULL},
    {"--ratings-table", &g.ratings_table, NULL},
    {"--stats-table", &g.stats_table, NULL},
    {"--global-shards", &g.global_shards, NULL},
    {"--log-level", &g.log_level, NULL},
    {"--mode", NULL, NULL}, /* inline|stream here, daily|live for rate: see set_mode() */
    {"--quiet", NULL, &g.quiet},
    {"--help", NULL, &g.help},
    {"-h", NULL, &g.help},
    {"--version", NULL, &g.version},
    {NULL, NULL, NULL},
};

static const option no_options[] = {{NULL, NULL, NULL}};
static const option create_options[] = {{"--wait", NULL, &o.wait}, {NULL, NULL, NULL}};
static const option rate_options[] = {
    {"--author", &o.author, NULL}, {"--text", &o.text, NULL}, {"--date", &o.date, NULL},
    {"--key", &o.key, NULL},       {"--json", NULL, &o.json}, {NULL, NULL, NULL},
};
static const option json_options[] = {{"--json", NULL, &o.json}, {NULL, NULL, NULL}};
static const option follow_options[] = {{"--until-idle", NULL, &o.until_idle},
                                        {NULL, NULL, NULL}};
static const option dead_letter_options[] = {
    {"--json", NULL, &o.json}, {"--requeue", NULL, &o.requeue}, {NULL, NULL, NULL}};
static const option import_options[] = {
    {"--layout", &o.layout, NULL},           {"--copy-of", &o.copy_of, NULL},
    {"--concurrency", &o.concurrency, NULL}, {"--page-size", &o.page_size, NULL},
    {"--resume", NULL, &o.resume},           {"--dry-run", NULL, &o.dry_run},
    {NULL, NULL, NULL},
};
/* import's, less what writes */
static const option verify_options[] = {
    {"--layout", &o.layout, NULL},           {"--copy-of", &o.copy_of, NULL},
    {"--concurrency", &o.concurrency, NULL}, {"--page-size", &o.page_size, NULL},
    {NULL, NULL, NULL},
};

typedef struct command {
    const char *name;
    int min_args, max_args;
    const option *options;
    int (*run)(char **args);
    const char *synopsis;
    const char *help;
} command;

static int run_create_tables(char **args);
static int run_upgrade_tables(char **args);
static int run_rate(char **args);
static int run_stats(char **args);
static int run_dashboard(char **args);
static int run_follow(char **args);
static int run_dead_letters(char **args);
static int run_import(char **args);
static int run_verify(char **args);

/* What import and verify say about SOURCE and the options they share. */
#define SOURCE_HELP \
    "SOURCE is s3://BUCKET[/PREFIX] or a local directory holding a copy of one (aws s3\n" \
    "sync); S3's endpoint is AWS_ENDPOINT_URL_S3, else S3's in the region.\n" \
    "  --layout P        what object keys hold (docs/migration.md, \"Layouts\"; default\n" \
    "                    {mode:live}/{joke}/{any},{mode:daily}/{date}/{joke}/{any})\n" \
    "  --copy-of B[/P]   a directory SOURCE is a copy of bucket B, prefix P: the ratings\n" \
    "                    then have the identities of the bucket's objects\n" \
    "  --concurrency N   objects fetched at once, 1..64 (default 8)\n" \
    "  --page-size N     keys listed per page, 1..1000 (default 1000)\n"

static const command commands[] = {
    {"create-tables", 0, 0, create_options, run_create_tables, "create-tables [--wait]",
     "Create the ratings and stats tables (tables that exist are left alone).\n"
     "  --wait         wait until both are ACTIVE and write the schema marker\n"},
    {"upgrade-tables", 0, 0, no_options, run_upgrade_tables, "upgrade-tables",
     "Bring tables of the original JavaScript services to this library's layout: add\n"
     "the top-performers index, backfill the stats items, write the schema marker.\n"
     "Shows progress on stderr; interrupted (Ctrl-C), a rerun continues (exit 5).\n"},
    {"rate", 2, 2, rate_options, run_rate,
     "rate JOKE STARS [--author A] [--text T] [--mode daily|live] [--date YYYY-MM-DD]\n"
     "                     [--key K] [--json]",
     "Store a rating of 1 to 5 STARS for JOKE and print the joke's statistics.\n"
     "  --author A     the joke's author (default \"Unknown\")\n"
     "  --text T       the joke's text\n"
     "  --mode M       daily or live (default live); inline or stream is the global option\n"
     "  --date D       the day the joke belongs to, YYYY-MM-DD (default: today, UTC)\n"
     "  --key K        idempotency key: the same key counts once\n"
     "  --json         print the statistics as dr_stats_to_json() renders them\n"},
    {"stats", 1, 1, json_options, run_stats, "stats JOKE [--json]",
     "Print one joke's statistics.\n"
     "  --json         exactly dr_stats_to_json()\n"},
    {"dashboard", 0, 0, json_options, run_dashboard, "dashboard [--json]",
     "Print the dashboard: overall figures, authors, top performers, recent ratings.\n"
     "  --json         exactly dr_dashboard_to_json()\n"},
    {"follow", 0, 0, follow_options, run_follow, "follow [--until-idle]",
     "Follow the ratings table's stream and keep the stats table up to date (stream mode\n"
     "without Lambda), resuming from its checkpoints. Ctrl-C stops it between rounds.\n"
     "  --until-idle   stop after the first round that reads nothing\n"
     "Exit 5 when it parked a record as a dead letter.\n"},
    {"dead-letters", 0, 0, dead_letter_options, run_dead_letters,
     "dead-letters [--json | --requeue]",
     "List the stream records the follower parked: shard, sequence number, attempts,\n"
     "parked at, reason.\n"
     "  --json         the dr_dead_letters_to_json() array\n"
     "  --requeue      apply each again, deleting those that apply (exit 5 if any stays)\n"},
    {"import", 1, 1, import_options, run_import,
     "import SOURCE [--layout P] [--copy-of BUCKET[/PREFIX]]\n"
     "                     [--resume] [--dry-run] [--concurrency N] [--page-size N]",
     "Import the ratings the old app stored in S3, each exactly once: a rerun or a\n"
     "resumed run counts nothing twice. Unreadable entries are printed on stderr and\n"
     "skipped; progress on stderr, a summary on stdout.\n" SOURCE_HELP
     "  --resume          continue after the checkpoint a previous run left\n"
     "  --dry-run         read and check everything, write nothing\n"
     "Exit 5 when entries were rejected.\n"},
    {"verify", 1, 1, verify_options, run_verify,
     "verify SOURCE [--layout P] [--copy-of BUCKET[/PREFIX]]\n"
     "                     [--concurrency N] [--page-size N]",
     "Recompute every aggregate from the source (per joke, per author, global,\n"
     "uniqueJokes, the top 8) and compare it with the stats table; each difference is\n"
     "printed on stderr, a summary on stdout. Writes nothing.\n" SOURCE_HELP
     "Exit 6 when there are differences.\n"},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static const char global_help[] =
    "Global options (before or after the command):\n"
    "  --region R           AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, profile)\n"
    "  --endpoint URL       DynamoDB endpoint (default: AWS_ENDPOINT_URL_DYNAMODB, ...)\n"
    "  --profile P          shared config/credentials profile (default: AWS_PROFILE)\n"
    "  --ratings-table T    ratings table (default: DYNAMODB_RATINGS_TABLE)\n"
    "  --stats-table T      stats table (default: DYNAMODB_STATS_TABLE)\n"
    "  --mode inline|stream how writes maintain the statistics (default inline)\n"
    "  --global-shards N    the deployment's GLOBAL shard count, 1..64 (default:\n"
    "                       DR_GLOBAL_SHARDS, else 1)\n"
    "  --log-level L        error, warn (default), info or debug, on stderr\n"
    "  --quiet              no progress and no notes on stderr\n"
    "  --help, --version\n"
    "Exit status: 0 ok, 2 bad usage, 3 bad input (nothing written), 4 AWS, service or\n"
    "library error, 5 partial failure, 6 differences found (verify). See dadratings(1).\n";

static void print_global_usage(FILE *out)
{
    size_t i;
    fprintf(out, "usage: " PROG " [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n\nCommands:\n");
    for (i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  " PROG " %s\n", commands[i].synopsis);
    fprintf(out, "\n%s", global_help);
}

static void print_command_help(const command *cmd)
{
    printf("usage: " PROG " [GLOBAL OPTIONS] %s\n\n%s\n%s", cmd->synopsis, cmd->help,
           global_help);
}

static const command *find_command(const char *name)
{
    size_t i;
    for (i = 0; i < COMMAND_COUNT; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

static const option *find_option(const option *table, const char *name, size_t len)
{
    for (; table->name; table++)
        if (strlen(table->name) == len && !strncmp(table->name, name, len))
            return table;
    return NULL;
}

/* "dadratings: rate: unknown option --foo (see dadratings rate --help)" */
static int usage_error(const command *cmd, const char *problem, const char *what)
{
    fprintf(stderr, PROG ": %s%s%s %s (see " PROG " %s%s--help)\n", cmd ? cmd->name : "",
            cmd ? ": " : "", problem, what, cmd ? cmd->name : "", cmd ? " " : "");
    return EXIT_USAGE;
}

/* --mode takes inline|stream (global) or daily|live (rate's): the sets are disjoint. */
static int set_mode(const char *value)
{
    if (!strcmp(value, "inline") || !strcmp(value, "stream")) {
        g.aggregation_mode = value;
        return EXIT_OK;
    }
    if (!strcmp(value, "daily") || !strcmp(value, "live")) {
        o.rating_mode = value;
        return EXIT_OK;
    }
    fprintf(stderr, PROG ": --mode must be inline or stream (or, for rate, daily or live), "
                    "not \"%s\"\n", value);
    return EXIT_INPUT;
}

/* Parse argv into g, o, the command and its positional arguments (`args`, NULL-ended).
 * Returns EXIT_OK or the exit code to end with. */
static int parse_args(int argc, char **argv, const command **cmd_out, char **args,
                      int *nargs)
{
    const command *cmd = NULL;
    int i, positional_only = 0, rc;

    *nargs = 0;
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i], *eq, *value = NULL;
        const option *opt = NULL;
        size_t name_len;

        /* No option starts with a digit: "-1" is an argument (a bad STARS). */
        if (positional_only || arg[0] != '-' || !arg[1] || (arg[1] >= '0' && arg[1] <= '9')) {
            if (!cmd && !positional_only) {
                if (!(cmd = find_command(arg)))
                    return usage_error(NULL, "unknown command", arg);
            } else {
                args[(*nargs)++] = argv[i];
            }
            continue;
        }
        if (!strcmp(arg, "--")) {
            positional_only = 1;
            continue;
        }
        eq = strchr(arg, '=');
        name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (cmd)
            opt = find_option(cmd->options, arg, name_len);
        if (!opt)
            opt = find_option(global_options, arg, name_len);
        if (!opt)
            return usage_error(cmd, "unknown option", arg);
        if (opt->flag) {
            if (eq)
                return usage_error(cmd, "no value is taken by", arg);
            *opt->flag = 1;
            continue;
        }
        if (eq)
            value = eq + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        else
            return usage_error(cmd, "a value is missing after", arg);
        if (opt->value)
            *opt->value = value;
        else if ((rc = set_mode(value)) != EXIT_OK)
            return rc;
    }
    args[*nargs] = NULL;
    *cmd_out = cmd;
    return EXIT_OK;
}

/* ---- the client ---------------------------------------------------------------------- */

static volatile sig_atomic_t g_stop;
static dr_log_level g_log_level = DR_LOG_WARN;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void stop_on_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void on_log(dr_log_level level, const char *message, void *payload)
{
    static const char *const names[] = {"", "error", "warn", "info", "debug"};
    (void)payload;
    cli_follow_note_log(message);
    if (level <= g_log_level)
        fprintf(stderr, PROG ": %s: %s\n", names[level], message);
}

/* The library's message for a failed call; it never holds a secret. */
static int fail(const char *what, dr_status rc)
{
    fprintf(stderr, PROG ": %s: %s: %s\n", what, dr_strerror(rc), dr_last_error_message());
    return exit_code_for(rc);
}

static int parse_log_level(void)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    int i;
    if (!g.log_level)
        return EXIT_OK;
    for (i = 0; i < 4; i++)
        if (!strcmp(g.log_level, names[i])) {
            g_log_level = (dr_log_level)(DR_LOG_ERROR + i);
            return EXIT_OK;
        }
    fprintf(stderr, PROG ": --log-level must be error, warn, info or debug, not \"%s\"\n",
            g.log_level);
    return EXIT_INPUT;
}

/* Shard count 1..64 from --global-shards, else DR_GLOBAL_SHARDS (as dr_follow and the
 * Lambda bootstrap read it), else 1. */
static int parse_global_shards(uint32_t *shards)
{
    const char *text = g.global_shards, *from = "--global-shards";
    if (!text) {
        text = getenv("DR_GLOBAL_SHARDS");
        from = "DR_GLOBAL_SHARDS";
    }
    *shards = 1;
    if (!text || (!*text && !g.global_shards)) /* an empty variable is an unset one */
        return EXIT_OK;
    if (!(*shards = (uint32_t)cli_parse_global_shards(text))) {
        fprintf(stderr, PROG ": %s must be a whole number from 1 to 64, not \"%s\"\n", from,
                text);
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

/* A setting the user gave: a refusal names the option. */
static int set_given(dr_status (*setter)(dr_config *, const char *), dr_config *config,
                     const char *option_name, const char *value)
{
    dr_status rc;
    if (!value || (rc = setter(config, value)) == DR_OK)
        return EXIT_OK;
    return fail(option_name, rc);
}

/* A client with what the user gave and nothing else. `debug_log`: the log callback
 * receives every level (the follower's applied count reads the debug lines). */
static int open_client(dr_client **client, int debug_log)
{
    dr_config *config = NULL;
    uint32_t shards;
    dr_status rc;
    int code;

    *client = NULL;
    if ((code = parse_log_level()) != EXIT_OK || (code = parse_global_shards(&shards)) != EXIT_OK)
        return code;
    if ((rc = dr_config_new(&config)) != DR_OK)
        return fail("configuration", rc);
    if ((code = set_given(dr_config_set_region, config, "--region", g.region)) ||
        (code = set_given(dr_config_set_endpoint, config, "--endpoint", g.endpoint)) ||
        (code = set_given(dr_config_set_profile, config, "--profile", g.profile)) ||
        (code = set_given(dr_config_set_ratings_table, config, "--ratings-table",
                          g.ratings_table)) ||
        (code = set_given(dr_config_set_stats_table, config, "--stats-table", g.stats_table)))
        goto done;
    if ((rc = dr_config_set_global_shards(config, shards)) != DR_OK ||
        (rc = dr_config_set_log(config, on_log, debug_log ? DR_LOG_DEBUG : g_log_level,
                                NULL)) != DR_OK ||
        (g.aggregation_mode && !strcmp(g.aggregation_mode, "stream") &&
         (rc = dr_config_set_aggregation_mode(config, DR_AGGREGATION_STREAM)) != DR_OK)) {
        code = fail("configuration", rc);
        goto done;
    }
    if ((rc = dr_client_new(client, config)) != DR_OK)
        code = fail("configuration", rc);
done:
    dr_config_free(config);
    return code;
}

/* ---- output -------------------------------------------------------------------------- */

/* A line for the user on stderr, unless --quiet. */
static void note(const char *line)
{
    if (!g.quiet)
        fputs(line, stderr);
}

/* Print what a dr_X_to_json() made, exactly, and a newline. */
static int print_json(dr_status rc, char **json, const char *what)
{
    if (rc != DR_OK)
        return fail(what, rc);
    printf("%s\n", *json);
    dr_free(*json);
    return EXIT_OK;
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* At most `max` bytes of `s`, cut at a UTF-8 character boundary, "..." when cut. */
static void print_clipped(const char *s, size_t max)
{
    size_t len = strlen(or_dash(s));
    s = or_dash(s);
    if (len <= max) {
        printf("%s", s);
        return;
    }
    len = max - 3;
    while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
        len--;
    printf("%.*s...", (int)len, s);
}

static void print_star_counts(uint64_t (*count)(const void *, int32_t), const void *of)
{
    int32_t star;
    for (star = 5; star >= 1; star--)
        printf("  %d: %llu", star, (unsigned long long)count(of, star));
    printf("\n");
}

static uint64_t stats_count(const void *s, int32_t star)
{
    return dr_stats_count(s, star);
}

static uint64_t dashboard_count(const void *d, int32_t star)
{
    return dr_dashboard_rating_count(d, star);
}

static int print_stats(dr_stats *stats)
{
    char *json = NULL;
    if (o.json)
        return print_json(dr_stats_to_json(stats, &json), &json, "stats");
    printf("joke        %s\n", dr_stats_joke_id(stats));
    printf("ratings     %llu\n", (unsigned long long)dr_stats_total_ratings(stats));
    printf("average     %.2f\n", dr_stats_average(stats));
    printf("last rated  %s\n", or_dash(dr_stats_last_rated_at(stats)));
    printf("stars     ");
    print_star_counts(stats_count, stats);
    if (dr_stats_pending(stats))
        printf("pending     the stream aggregator has not applied this rating yet\n");
    return EXIT_OK;
}

static void print_dashboard(const dr_dashboard *d)
{
    size_t i;
    printf("Ratings     %llu, average %.2f, over %llu jokes\n",
           (unsigned long long)dr_dashboard_overall_ratings(d), dr_dashboard_overall_average(d),
           (unsigned long long)dr_dashboard_unique_jokes(d));
    printf("Stars     ");
    print_star_counts(dashboard_count, d);
    if (dr_dashboard_inconsistent(d))
        printf("Warning     %lu stored items held impossible figures (clamped; see the log)\n",
               (unsigned long)dr_dashboard_inconsistent(d));

    printf("\nAuthors\n  %-24s %8s %7s %6s %6s %6s %6s %6s\n", "AUTHOR", "RATINGS", "AVERAGE",
           "5", "4", "3", "2", "1");
    for (i = 0; i < dr_dashboard_author_count(d); i++) {
        int32_t star;
        printf("  ");
        printf("%-24s", dr_dashboard_author_name(d, i));
        printf(" %8llu %7.2f", (unsigned long long)dr_dashboard_author_total_ratings(d, i),
               dr_dashboard_author_average(d, i));
        for (star = 5; star >= 1; star--)
            printf(" %6llu", (unsigned long long)dr_dashboard_author_rating_count(d, i, star));
        printf("\n");
    }

    printf("\nTop performers\n  %2s %-20s %7s %8s  %-16s %s\n", "#", "JOKE", "AVERAGE",
           "RATINGS", "AUTHOR", "TEXT");
    for (i = 0; i < dr_dashboard_top_count(d); i++) {
        printf("  %2lu %-20s %7.2f %8llu  %-16s ", (unsigned long)(i + 1),
               dr_dashboard_top_joke_id(d, i), dr_dashboard_top_average(d, i),
               (unsigned long long)dr_dashboard_top_total_ratings(d, i),
               or_dash(dr_dashboard_top_author(d, i)));
        print_clipped(dr_dashboard_top_joke_text(d, i), 40);
        printf("\n");
    }

    printf("\nRecent ratings\n  %-24s %-20s %5s %-5s %-10s %-16s %s\n", "SUBMITTED", "JOKE",
           "STARS", "MODE", "DATE", "AUTHOR", "TEXT");
    for (i = 0; i < dr_dashboard_recent_count(d); i++) {
        printf("  %-24s %-20s %5ld %-5s %-10s %-16s ",
               or_dash(dr_dashboard_recent_submitted_at(d, i)), dr_dashboard_recent_joke_id(d, i),
               (long)dr_dashboard_recent_rating(d, i), or_dash(dr_dashboard_recent_mode(d, i)),
               or_dash(dr_dashboard_recent_date(d, i)), or_dash(dr_dashboard_recent_author(d, i)));
        print_clipped(dr_dashboard_recent_joke_text(d, i), 40);
        printf("\n");
    }
}

/* ---- commands ------------------------------------------------------------------------ */

static int run_create_tables(char **args)
{
    dr_client *client = NULL;
    dr_status rc;
    int code = open_client(&client, 0);
    (void)args;
    if (code != EXIT_OK)
        return code;
    rc = dr_client_create_tables(client, o.wait ? DR_CREATE_TABLES_WAIT : 0);
    if (rc != DR_OK)
        code = fail("create-tables", rc);
    else if (o.wait)
        printf("create-tables: both tables are ACTIVE\n");
    else
        printf("create-tables: both tables exist or are being created\n");
    dr_client_free(client);
    return code;
}

typedef struct upgrade_progress {
    cli_progress *bar;
    int started_index;
    uint64_t scanned, updated;
} upgrade_progress;

static int on_upgrade(dr_upgrade_phase phase, uint64_t scanned, uint64_t updated,
                      uint64_t total_estimate, void *payload)
{
    upgrade_progress *p = payload;
    if (phase == DR_UPGRADE_INDEX && !p->started_index) {
        p->started_index = 1;
        note("upgrade-tables: adding the top-performers index, waiting until it is ACTIVE\n");
    } else if (phase == DR_UPGRADE_BACKFILL) {
        if (!p->bar)
            p->bar = cli_progress_start("upgrade-tables", total_estimate, g.quiet);
        else
            cli_progress_set_total(p->bar, total_estimate);
        cli_progress_advance(p->bar, scanned - p->scanned);
    } else if (phase == DR_UPGRADE_DONE) {
        /* The estimate is the whole table's ItemCount, the scan counts joke items only:
         * once the upgrade is complete, what was scanned was the total. */
        cli_progress_set_total(p->bar, scanned);
    }
    if (phase != DR_UPGRADE_DONE) {
        p->scanned = scanned;
        p->updated = updated;
    }
    return g_stop;
}

static int run_upgrade_tables(char **args)
{
    upgrade_progress progress = {NULL, 0, 0, 0};
    dr_client *client = NULL;
    dr_status rc;
    int code = open_client(&client, 0);
    (void)args;
    if (code != EXIT_OK)
        return code;
    stop_on_signals();
    rc = dr_client_upgrade_tables(client, 0, on_upgrade, &progress);
    cli_progress_finish(progress.bar);
    if (rc != DR_OK) {
        code = fail("upgrade-tables", rc);
    } else {
        printf("upgrade-tables: %llu stats items scanned, %llu updated, %s\n",
               (unsigned long long)progress.scanned, (unsigned long long)progress.updated,
               g_stop ? "interrupted: run it again to continue" : "schema marker written");
        code = g_stop ? EXIT_PARTIAL : EXIT_OK;
    }
    dr_client_free(client);
    return code;
}

/* STARS: a whole number from 1 to 5, nothing else. */
static int parse_stars(const char *text, int32_t *stars)
{
    if (text[0] >= '1' && text[0] <= '5' && !text[1]) {
        *stars = text[0] - '0';
        return EXIT_OK;
    }
    fprintf(stderr, PROG ": rate: STARS must be a whole number from 1 to 5, not \"%s\"\n", text);
    return EXIT_INPUT;
}

static int set_rating_field(dr_status (*setter)(dr_rating *, const char *), dr_rating *rating,
                            const char *option_name, const char *value)
{
    dr_status rc;
    if (!value || (rc = setter(rating, value)) == DR_OK)
        return EXIT_OK;
    fprintf(stderr, PROG ": rate: %s: %s\n", option_name, dr_last_error_message());
    return exit_code_for(rc);
}

static int run_rate(char **args)
{
    dr_rating *rating = NULL;
    dr_client *client = NULL;
    dr_stats *stats = NULL;
    int32_t stars = 0;
    dr_status rc;
    int code;

    /* Every argument is checked before the client exists: bad input writes nothing. */
    if ((code = parse_stars(args[1], &stars)) != EXIT_OK)
        return code;
    if ((rc = dr_rating_new(&rating, args[0], stars)) != DR_OK) {
        fprintf(stderr, PROG ": rate: JOKE: %s\n", dr_last_error_message());
        return exit_code_for(rc);
    }
    if ((code = set_rating_field(dr_rating_set_author, rating, "--author", o.author)) ||
        (code = set_rating_field(dr_rating_set_joke_text, rating, "--text", o.text)) ||
        (code = set_rating_field(dr_rating_set_mode, rating, "--mode", o.rating_mode)) ||
        (code = set_rating_field(dr_rating_set_date, rating, "--date", o.date)) ||
        (code = set_rating_field(dr_rating_set_idempotency_key, rating, "--key", o.key)) ||
        (code = open_client(&client, 0)))
        goto done;
    if ((rc = dr_client_write_rating(client, rating, &stats)) != DR_OK)
        code = fail("rate", rc);
    else
        code = print_stats(stats);
done:
    dr_stats_free(stats);
    dr_client_free(client);
    dr_rating_free(rating);
    return code;
}

static int run_stats(char **args)
{
    dr_client *client = NULL;
    dr_stats *stats = NULL;
    dr_status rc;
    int code = open_client(&client, 0);
    if (code != EXIT_OK)
        return code;
    if ((rc = dr_client_read_stats(client, args[0], &stats)) != DR_OK)
        code = fail("stats", rc);
    else
        code = print_stats(stats);
    dr_stats_free(stats);
    dr_client_free(client);
    return code;
}

static int run_dashboard(char **args)
{
    dr_client *client = NULL;
    dr_dashboard *dashboard = NULL;
    char *json = NULL;
    dr_status rc;
    int code = open_client(&client, 0);
    (void)args;
    if (code != EXIT_OK)
        return code;
    if ((rc = dr_client_dashboard_stats(client, &dashboard)) != DR_OK)
        code = fail("dashboard", rc);
    else if (o.json)
        code = print_json(dr_dashboard_to_json(dashboard, &json), &json, "dashboard");
    else
        print_dashboard(dashboard);
    dr_dashboard_free(dashboard);
    dr_client_free(client);
    return code;
}

static int run_follow(char **args)
{
    dr_client *client = NULL;
    dr_follower *follower = NULL;
    uint64_t records = 0;
    dr_status rc;
    int code = open_client(&client, 1);
    (void)args;
    if (code != EXIT_OK)
        return code;
    stop_on_signals();
    if ((rc = dr_follower_new(&follower, client)) != DR_OK) {
        code = fail("follow", rc);
    } else if ((rc = cli_follow_run(follower, o.until_idle, &g_stop, PROG ": follow",
                                    &records)) != DR_OK) {
        code = exit_code_for(rc); /* each failed round was printed */
    } else {
        printf("follow: %llu records read, %ld applied, %llu dead-lettered\n",
               (unsigned long long)records, cli_follow_applied(),
               (unsigned long long)dr_follower_dead_lettered(follower));
        code = dr_follower_dead_lettered(follower) ? EXIT_PARTIAL : EXIT_OK;
    }
    dr_follower_free(follower);
    dr_client_free(client);
    return code;
}

static int run_dead_letters(char **args)
{
    dr_client *client = NULL;
    dr_follower *follower = NULL;
    size_t count = 0;
    dr_status rc;
    int code;
    (void)args;
    if (o.json && o.requeue)
        return usage_error(find_command("dead-letters"), "--json cannot go with", "--requeue");
    if ((code = open_client(&client, 0)) != EXIT_OK)
        return code;
    if ((rc = dr_follower_new(&follower, client)) != DR_OK) {
        code = fail("dead-letters", rc);
    } else if (o.requeue) {
        rc = cli_dead_letters_requeue(follower, "dead-letters", &count);
        code = rc != DR_OK ? fail("dead-letters", rc) : count ? EXIT_PARTIAL : EXIT_OK;
    } else if ((rc = cli_dead_letters_print(follower, o.json, &count)) != DR_OK) {
        code = fail("dead-letters", rc);
    } else if (!count && !o.json) {
        note("dead-letters: none parked\n");
    }
    dr_follower_free(follower);
    dr_client_free(client);
    return code;
}

/* ---- import and verify --------------------------------------------------------------- */

/* The progress and messages of one import or verification. */
typedef struct import_view {
    const char *name; /* "import" or "verify" */
    cli_progress *bar;
    int started; /* a page was read: a source that cannot be opened shows no progress */
    uint64_t entries;
} import_view;

static void on_import_progress(void *ctx, const dr_import_report *so_far)
{
    import_view *v = ctx;
    uint64_t entries = dr_import_report_get(so_far, DR_IMPORT_ENTRIES);
    char detail[64];
    v->started = 1;
    if (!v->bar)
        return;
    /* The total is not known before the listing ends: entries, objects and the rate. */
    snprintf(detail, sizeof detail, "entries, %llu objects",
             (unsigned long long)dr_import_report_get(so_far, DR_IMPORT_OBJECTS));
    cli_progress_set_detail(v->bar, detail);
    cli_progress_advance(v->bar, entries - v->entries);
    v->entries = entries;
}

/* A rejected entry or a difference: one line on stderr, whatever --quiet says. */
static void on_import_message(void *ctx, const char *message)
{
    import_view *v = ctx;
    cli_progress_clear(v->bar);
    fprintf(stderr, PROG ": %s: %s\n", v->name, message);
}

/* A count option: 1..max, or EXIT_INPUT with a message naming it. */
static int parse_count_option(const char *name, const char *text, unsigned long max,
                              uint32_t *out)
{
    if (!text)
        return EXIT_OK;
    if (!(*out = (uint32_t)cli_parse_count(text, max))) {
        fprintf(stderr, PROG ": %s must be a whole number from 1 to %lu, not \"%s\"\n", name,
                max, text);
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

/* A setter's refusal of what the user gave: the option and the library's reason. */
static int option_refused(const char *cmd, const char *option_name, dr_status rc)
{
    fprintf(stderr, PROG ": %s: %s: %s\n", cmd, option_name, dr_last_error_message());
    return exit_code_for(rc);
}

/* --copy-of BUCKET[/PREFIX]: the bucket ends at the first '/'. */
static dr_status set_copy_of(dr_import_options *opts, const char *value)
{
    const char *slash = strchr(value, '/');
    size_t len = slash ? (size_t)(slash - value) : strlen(value);
    char *bucket = malloc(len + 1);
    dr_status rc;
    if (!bucket)
        return DR_E_NOMEM;
    memcpy(bucket, value, len);
    bucket[len] = '\0';
    rc = dr_import_options_set_copy_of(opts, bucket, slash && slash[1] ? slash + 1 : NULL);
    free(bucket);
    return rc;
}

/* The options of import or verify from the command line, checked before any request. */
static int import_options_from_args(const char *cmd, const char *source,
                                    dr_import_options **out, import_view *view)
{
    dr_import_options *opts = NULL;
    uint32_t concurrency = 0, page_size = 0;
    const char *refused = NULL;
    dr_status rc;
    int code;

    *out = NULL;
    if ((code = parse_count_option("--concurrency", o.concurrency, 64, &concurrency)) ||
        (code = parse_count_option("--page-size", o.page_size, 1000, &page_size)))
        return code;
    if (o.copy_of && (!*o.copy_of || *o.copy_of == '/')) {
        fprintf(stderr, PROG ": %s: --copy-of must be BUCKET[/PREFIX], not \"%s\"\n", cmd,
                o.copy_of);
        return EXIT_INPUT;
    }
    if ((rc = dr_import_options_new(&opts, source)) != DR_OK)
        refused = "SOURCE";
    else if (o.copy_of && (rc = set_copy_of(opts, o.copy_of)) != DR_OK)
        refused = "--copy-of";
    else if (o.layout && (rc = dr_import_options_set_layout(opts, o.layout)) != DR_OK)
        refused = "--layout";
    else if (concurrency && (rc = dr_import_options_set_concurrency(opts, concurrency)) != DR_OK)
        refused = "--concurrency";
    else if (page_size && (rc = dr_import_options_set_page_size(opts, page_size)) != DR_OK)
        refused = "--page-size";
    else if ((rc = dr_import_options_set_resume(opts, o.resume)) != DR_OK)
        refused = "--resume";
    else if ((rc = dr_import_options_set_dry_run(opts, o.dry_run)) != DR_OK)
        refused = "--dry-run";
    else if ((rc = dr_import_options_set_callbacks(opts, on_import_progress, on_import_message,
                                                   view)) != DR_OK)
        refused = "callbacks";
    if (refused) {
        dr_import_options_free(opts);
        return option_refused(cmd, refused, rc);
    }
    *out = opts;
    return EXIT_OK;
}

/* Run import or verify on SOURCE: `run` is dr_client_import or dr_client_verify. The
 * summary line is printed also when it stopped on an error (what was done until then). */
static int run_import_or_verify(const char *cmd, const char *source,
                                dr_status (*run)(dr_client *, const dr_import_options *,
                                                 dr_import_report **),
                                dr_import_report **report)
{
    import_view view;
    dr_import_options *opts = NULL;
    dr_client *client = NULL;
    dr_status rc;
    int code;

    memset(&view, 0, sizeof view);
    view.name = cmd;
    *report = NULL;
    if ((code = import_options_from_args(cmd, source, &opts, &view)) != EXIT_OK ||
        (code = open_client(&client, 0)) != EXIT_OK) {
        dr_import_options_free(opts);
        return code;
    }
    view.bar = cli_progress_start(cmd, 0, g.quiet);
    rc = run(client, opts, report);
    if (view.started)
        cli_progress_finish(view.bar);
    else
        cli_progress_discard(view.bar);
    if (rc != DR_OK) {
        if (*report)
            printf("%s: stopped after %llu objects, %llu entries\n", cmd,
                   (unsigned long long)dr_import_report_get(*report, DR_IMPORT_OBJECTS),
                   (unsigned long long)dr_import_report_get(*report, DR_IMPORT_ENTRIES));
        code = fail(cmd, rc);
    }
    dr_client_free(client);
    dr_import_options_free(opts);
    return code;
}

static unsigned long long figure(const dr_import_report *r, dr_import_figure f)
{
    return (unsigned long long)dr_import_report_get(r, f);
}

static int run_import(char **args)
{
    dr_import_report *r = NULL;
    int code = run_import_or_verify("import", args[0], dr_client_import, &r);
    if (code == EXIT_OK) {
        printf("import: %llu objects, %llu entries, %llu written, %llu already present, "
               "%llu rejected%s\n",
               figure(r, DR_IMPORT_OBJECTS), figure(r, DR_IMPORT_ENTRIES),
               figure(r, DR_IMPORT_WRITTEN), figure(r, DR_IMPORT_ALREADY_PRESENT),
               figure(r, DR_IMPORT_REJECTED), o.dry_run ? " (dry run: nothing written)" : "");
        if (figure(r, DR_IMPORT_REJECTED))
            code = EXIT_PARTIAL;
    } else if (r) {
        fprintf(stderr, PROG ": import: what was committed stays; run it again with --resume\n");
    }
    dr_import_report_free(r);
    return code;
}

static int run_verify(char **args)
{
    dr_import_report *r = NULL;
    int code = run_import_or_verify("verify", args[0], dr_client_verify, &r);
    if (code == EXIT_OK) {
        printf("verify: %llu objects, %llu entries, %llu rejected, %llu differences\n",
               figure(r, DR_IMPORT_OBJECTS), figure(r, DR_IMPORT_ENTRIES),
               figure(r, DR_IMPORT_REJECTED), figure(r, DR_IMPORT_DIFFERENCES));
        if (figure(r, DR_IMPORT_DIFFERENCES))
            code = EXIT_DIFFERENCES;
    }
    dr_import_report_free(r);
    return code;
}

int main(int argc, char **argv)
{
    const command *cmd = NULL;
    char **args = calloc((size_t)argc + 1, sizeof *args);
    int nargs = 0, code;

    if (!args) {
        fprintf(stderr, PROG ": out of memory\n");
        return EXIT_SERVICE;
    }
    code = parse_args(argc, argv, &cmd, args, &nargs);
    if (code != EXIT_OK)
        goto done;
    if (g.version) {
        printf(PROG " %s (libdadratings %s)\n", DR_VERSION_STRING, dr_version());
    } else if (g.help) {
        if (cmd)
            print_command_help(cmd);
        else
            print_global_usage(stdout);
    } else if (!cmd) {
        print_global_usage(stderr);
        code = EXIT_USAGE;
    } else if (nargs < cmd->min_args || nargs > cmd->max_args) {
        fprintf(stderr, PROG ": %s: %s\nusage: " PROG " %s\n", cmd->name,
                nargs < cmd->min_args ? "missing argument" : "too many arguments",
                cmd->synopsis);
        code = EXIT_USAGE;
    } else if (o.rating_mode && cmd->run != run_rate) {
        fprintf(stderr, PROG ": --mode %s is for rate; %s takes --mode inline|stream\n",
                o.rating_mode, cmd->name);
        code = EXIT_USAGE;
    } else {
        code = cmd->run(args);
    }
done:
    free(args);
    return code;
}
