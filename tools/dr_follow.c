/* dr_follow: runs stream mode without AWS Lambda. Follows the ratings table's DynamoDB
 * Stream (DynamoDB Local has one) and keeps the stats table up to date, resuming from
 * its checkpoints after a restart. Uses only the public header.
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
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dadratings.h>

#define IDLE_BACKOFF_MIN_MS 100
#define IDLE_BACKOFF_MAX_MS 2000
/* Failed rounds in a row before --until-idle gives up. A round that parks a record (see
 * DR_FOLLOWER_MAX_DELIVERIES) made progress and starts the count again; the limit must
 * exceed the DR_FOLLOWER_MAX_DELIVERIES - 1 failed rounds before a record is parked. */
#define UNTIL_IDLE_MAX_FAILED_ROUNDS 5
#if UNTIL_IDLE_MAX_FAILED_ROUNDS < DR_FOLLOWER_MAX_DELIVERIES
#error "--until-idle would give up before a poison record is parked"
#endif

#ifdef DR_FOLLOW_CRASH_SWITCH
#define CRASH_USAGE " [--crash-after-applied N]"
#else
#define CRASH_USAGE ""
#endif

static const char usage[] =
    "usage: %s [--global-shards N] [--until-idle]" CRASH_USAGE "\n"
    "       %s [--global-shards N] --dead-letters [--json]\n"
    "       %s [--global-shards N] --requeue-dead-letters\n";

/* A shard count 1..64 from `text`; 0 if it is not one. */
static unsigned long parse_shards(const char *text)
{
    char *end = NULL;
    unsigned long v;
    if (!text || !*text)
        return 0;
    errno = 0;
    v = strtoul(text, &end, 10);
    return errno || *end || v < 1 || v > 64 ? 0 : v;
}

static volatile sig_atomic_t g_stop;
static long g_crash_after = -1;
static long g_applied;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* Counts applied records through the library's per-record debug line. */
static void on_log(dr_log_level level, const char *message, void *payload)
{
    (void)payload;
    if (level <= DR_LOG_WARN)
        fprintf(stderr, "dr_follow: %s\n", message);
    if (strstr(message, "stream record ") && strstr(message, ": applied")) {
        g_applied++;
#ifdef DR_FOLLOW_CRASH_SWITCH
        if (g_applied == g_crash_after)
            raise(SIGKILL);
#endif
    }
}

static int fail(dr_status rc)
{
    fprintf(stderr, "dr_follow: %s: %s\n", dr_strerror(rc), dr_last_error_message());
    return 1;
}

static int list_dead_letters(dr_follower *follower, int as_json)
{
    dr_dead_letters *list = NULL;
    char *json = NULL;
    size_t i;
    dr_status rc = dr_follower_list_dead_letters(follower, &list);
    if (rc != DR_OK)
        return fail(rc);
    if (as_json) {
        if ((rc = dr_dead_letters_to_json(list, &json)) != DR_OK) {
            dr_dead_letters_free(list);
            return fail(rc);
        }
        printf("%s\n", json);
        dr_free(json);
    }
    for (i = 0; !as_json && i < dr_dead_letters_count(list); i++)
        printf("%s %s attempts=%lu parked=%s %s\n", dr_dead_letters_shard_id(list, i),
               dr_dead_letters_sequence_number(list, i),
               (unsigned long)dr_dead_letters_attempts(list, i),
               dr_dead_letters_parked_at(list, i), dr_dead_letters_reason(list, i));
    dr_dead_letters_free(list);
    return 0;
}

static int requeue_dead_letters(dr_follower *follower)
{
    size_t requeued = 0, still = 0;
    dr_status rc = dr_follower_requeue_dead_letters(follower, &requeued, &still);
    printf("dr_follow: %lu dead letters requeued, %lu still parked\n", (unsigned long)requeued,
           (unsigned long)still);
    if (rc != DR_OK)
        return fail(rc);
    return still ? 1 : 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a signal cuts it short, which is what we want */
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    dr_config *config = NULL;
    dr_client *client = NULL;
    dr_follower *follower = NULL;
    long backoff = IDLE_BACKOFF_MIN_MS;
    uint64_t total = 0;
    int until_idle = 0, failed_rounds = 0, status = 1, i;
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
    if (shards_text && *shards_text && !(shards = parse_shards(shards_text))) {
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
    if (dead_letters || requeue) {
        status = dead_letters ? list_dead_letters(follower, as_json) : requeue_dead_letters(follower);
        goto done;
    }
    while (!g_stop) {
        uint64_t seen = 0, parked = dr_follower_dead_lettered(follower);
        rc = dr_follower_poll(follower, &seen);
        if (dr_follower_dead_lettered(follower) != parked)
            failed_rounds = 0; /* past a poison record: progress */
        if (rc != DR_OK) {
            /* Checkpoints hold: the next round redoes only what was not applied. */
            fail(rc);
            if (until_idle && ++failed_rounds >= UNTIL_IDLE_MAX_FAILED_ROUNDS)
                goto done;
        } else if (seen == 0 && until_idle) {
            break;
        } else {
            failed_rounds = 0;
        }
        total += seen;
        if (seen == 0 || rc != DR_OK) {
            sleep_ms(backoff);
            backoff = backoff * 2 > IDLE_BACKOFF_MAX_MS ? IDLE_BACKOFF_MAX_MS : backoff * 2;
        } else {
            backoff = IDLE_BACKOFF_MIN_MS;
        }
    }
    printf("dr_follow: %llu records read, %ld applied, %llu dead-lettered\n",
           (unsigned long long)total, g_applied,
           (unsigned long long)dr_follower_dead_lettered(follower));
    status = 0;
done:
    dr_follower_free(follower);
    dr_client_free(client);
    dr_config_free(config);
    return status;
}
