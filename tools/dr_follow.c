/* dr_follow: runs stream mode without AWS Lambda. Follows the ratings table's DynamoDB
 * Stream (DynamoDB Local has one) and keeps the stats table up to date, resuming from
 * its checkpoints after a restart. Uses only the public header.
 *
 * Kept for the scripts and tests written against it: `dadratings follow` and
 * `dadratings dead-letters` are the same loop and commands (tools/dadratings/follow.c),
 * with the CLI's options and exit codes; dr_follow keeps its own (0, 1, 2).
 *
 *   dr_follow [--global-shards N] [--until-idle]
 *   dr_follow [--global-shards N] --dead-letters [--json]
 *   dr_follow [--global-shards N] --requeue-dead-letters
 *
 * Configuration comes from the environment, as for every program on the library
 * (AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, credentials, DYNAMODB_*_TABLE).
 * --global-shards N     the deployment's GLOBAL shard count (dr_config_set_global_shards;
 *                       default: DR_GLOBAL_SHARDS from the environment, as the Lambda
 *                       bootstrap reads it, else 1). It must be the writers' count: it
 *                       decides the shard and the index keys every change is counted on.
 * --until-idle          exit 0 after the first round that finds no record, 1 after
 *                       5 failed rounds in a row without parking a record (without it,
 *                       errors are retried forever)
 * --dead-letters        list the records the follower parked (docs/aggregation.md, "Dead
 *                       letters"), one line each: shard, sequence number, attempts,
 *                       parked at, reason; with --json, the JSON array instead
 * --requeue-dead-letters apply each parked record again, deleting those that apply;
 *                       exit 0 when none is left parked, 1 otherwise
 * A record the follower parks is logged on stderr at ERROR with its shard, sequence
 * number and reason.
 * SIGINT and SIGTERM stop it cleanly between rounds.
 *
 * Built with DR_FOLLOW_CRASH_SWITCH (only as tests/'s dr_follow_crashable, never
 * installed) it also takes --crash-after-applied N: kill itself with SIGKILL right after
 * the Nth record is applied, before its checkpoint, for the crash-recovery tests. It
 * counts records by the library's per-record debug line, which is fine for a test and
 * no interface for a shipped program. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dadratings.h>

#include "dadratings/follow.h"

#ifdef DR_FOLLOW_CRASH_SWITCH
#define CRASH_USAGE " [--crash-after-applied N]"
#else
#define CRASH_USAGE ""
#endif

static const char usage[] =
    "usage: %s [--global-shards N] [--until-idle]" CRASH_USAGE "\n"
    "       %s [--global-shards N] --dead-letters [--json]\n"
    "       %s [--global-shards N] --requeue-dead-letters\n";

static volatile sig_atomic_t g_stop;
static long g_crash_after = -1;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* Counts applied records through the library's per-record debug line. */
static void on_log(dr_log_level level, const char *message, void *payload)
{
    long applied;
    (void)payload;
    if (level <= DR_LOG_WARN)
        fprintf(stderr, "dr_follow: %s\n", message);
    applied = cli_follow_note_log(message);
#ifdef DR_FOLLOW_CRASH_SWITCH
    if (applied && applied == g_crash_after)
        raise(SIGKILL);
#else
    (void)applied;
#endif
}

static int fail(dr_status rc)
{
    fprintf(stderr, "dr_follow: %s: %s\n", dr_strerror(rc), dr_last_error_message());
    return 1;
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    dr_config *config = NULL;
    dr_client *client = NULL;
    dr_follower *follower = NULL;
    uint64_t total = 0;
    int until_idle = 0, status = 1, i;
    int dead_letters = 0, as_json = 0, requeue = 0;
    const char *shards_text = getenv("DR_GLOBAL_SHARDS"), *shards_from = "DR_GLOBAL_SHARDS";
    unsigned long shards = 1;
    dr_status rc;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--global-shards") && i + 1 < argc) {
            shards_text = argv[++i];
            shards_from = "--global-shards";
        } else if (!strcmp(argv[i], "--until-idle")) {
            until_idle = 1;
#ifdef DR_FOLLOW_CRASH_SWITCH
        } else if (!strcmp(argv[i], "--crash-after-applied") && i + 1 < argc) {
            g_crash_after = strtol(argv[++i], NULL, 10);
#endif
        } else if (!strcmp(argv[i], "--dead-letters")) {
            dead_letters = 1;
        } else if (!strcmp(argv[i], "--json")) {
            as_json = 1;
        } else if (!strcmp(argv[i], "--requeue-dead-letters")) {
            requeue = 1;
        } else {
            fprintf(stderr, usage, argv[0], argv[0], argv[0]);
            return 2;
        }
    }
    if ((as_json && !dead_letters) || (dead_letters && requeue) ||
        ((dead_letters || requeue) && (until_idle || g_crash_after >= 0))) {
        fprintf(stderr, usage, argv[0], argv[0], argv[0]);
        return 2;
    }
    if (shards_text && *shards_text && !(shards = cli_parse_global_shards(shards_text))) {
        fprintf(stderr, "dr_follow: %s must be a whole number from 1 to 64, not \"%s\"\n",
                shards_from, shards_text);
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if ((rc = dr_config_new(&config)) != DR_OK ||
        (rc = dr_config_set_log(config, on_log, DR_LOG_DEBUG, NULL)) != DR_OK ||
        (rc = dr_config_set_global_shards(config, (uint32_t)shards)) != DR_OK ||
        (rc = dr_client_new(&client, config)) != DR_OK ||
        (rc = dr_follower_new(&follower, client)) != DR_OK) {
        fail(rc);
        goto done;
    }
    if (dead_letters) {
        size_t count = 0;
        status = (rc = cli_dead_letters_print(follower, as_json, &count)) != DR_OK ? fail(rc) : 0;
    } else if (requeue) {
        size_t still = 0;
        if ((rc = cli_dead_letters_requeue(follower, "dr_follow", &still)) != DR_OK)
            status = fail(rc);
        else
            status = still ? 1 : 0;
    } else if (cli_follow_run(follower, until_idle, &g_stop, "dr_follow", &total) == DR_OK) {
        printf("dr_follow: %llu records read, %ld applied, %llu dead-lettered\n",
               (unsigned long long)total, cli_follow_applied(),
               (unsigned long long)dr_follower_dead_lettered(follower));
        status = 0;
    }
done:
    dr_follower_free(follower);
    dr_client_free(client);
    dr_config_free(config);
    return status;
}
