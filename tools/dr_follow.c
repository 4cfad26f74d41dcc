/* dr_follow: runs stream mode without AWS Lambda. Follows the ratings table's DynamoDB
 * Stream (DynamoDB Local has one) and keeps the stats table up to date, resuming from
 * its checkpoints after a restart. Uses only the public header.
 *
 *   dr_follow [--until-idle] [--crash-after-applied N]
 *
 * Configuration comes from the environment, as for every program on the library
 * (AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, credentials, DYNAMODB_*_TABLE).
 * --until-idle          exit 0 after the first round that finds no record, 1 after
 *                       5 failed rounds in a row (without it, errors are retried forever)
 * --crash-after-applied kill itself with SIGKILL right after the Nth record is applied
 *                       (before its checkpoint): for crash-recovery tests
 * SIGINT and SIGTERM stop it cleanly between rounds. */
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
#define UNTIL_IDLE_MAX_FAILED_ROUNDS 5

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
    if (strstr(message, "stream record ") && strstr(message, ": applied") &&
        ++g_applied == g_crash_after)
        raise(SIGKILL);
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
    dr_status rc;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--until-idle")) {
            until_idle = 1;
        } else if (!strcmp(argv[i], "--crash-after-applied") && i + 1 < argc) {
            g_crash_after = strtol(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: %s [--until-idle] [--crash-after-applied N]\n", argv[0]);
            return 2;
        }
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if ((rc = dr_config_new(&config)) != DR_OK ||
        (rc = dr_config_set_log(config, on_log, DR_LOG_DEBUG, NULL)) != DR_OK ||
        (rc = dr_client_new(&client, config)) != DR_OK ||
        (rc = dr_follower_new(&follower, client)) != DR_OK) {
        fprintf(stderr, "dr_follow: %s: %s\n", dr_strerror(rc), dr_last_error_message());
        goto done;
    }
    while (!g_stop) {
        uint64_t seen = 0;
        rc = dr_follower_poll(follower, &seen);
        if (rc != DR_OK) {
            /* Checkpoints hold: the next round redoes only what was not applied. */
            fprintf(stderr, "dr_follow: %s: %s\n", dr_strerror(rc), dr_last_error_message());
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
    printf("dr_follow: %llu records read, %ld applied\n", (unsigned long long)total, g_applied);
    status = 0;
done:
    dr_follower_free(follower);
    dr_client_free(client);
    dr_config_free(config);
    return status;
}
