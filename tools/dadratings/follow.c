#define _POSIX_C_SOURCE 200809L
#include "follow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IDLE_BACKOFF_MIN_MS 100
#define IDLE_BACKOFF_MAX_MS 2000
#if CLI_UNTIL_IDLE_MAX_FAILED_ROUNDS < DR_FOLLOWER_MAX_DELIVERIES
#error "--until-idle would give up before a poison record is parked"
#endif

static long g_applied;

unsigned long cli_parse_count(const char *text, unsigned long max)
{
    char *end = NULL;
    unsigned long v;
    if (!text || *text < '0' || *text > '9') /* strtoul would take " 5", "+5" and "-1" */
        return 0;
    errno = 0;
    v = strtoul(text, &end, 10);
    return errno || *end || v < 1 || v > max ? 0 : v;
}

unsigned long cli_parse_global_shards(const char *text)
{
    return cli_parse_count(text, 64);
}

long cli_follow_note_log(const char *message)
{
    if (strstr(message, "stream record ") && strstr(message, ": applied"))
        return ++g_applied;
    return 0;
}

long cli_follow_applied(void)
{
    return g_applied;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a signal cuts it short, which is what we want */
}

static void print_failure(const char *prog, dr_status rc)
{
    fprintf(stderr, "%s: %s: %s\n", prog, dr_strerror(rc), dr_last_error_message());
}

dr_status cli_follow_run(dr_follower *follower, int until_idle, volatile sig_atomic_t *stop,
                         const char *prog, uint64_t *records_read)
{
    long backoff = IDLE_BACKOFF_MIN_MS;
    int failed_rounds = 0;
    dr_status rc = DR_OK;

    *records_read = 0;
    while (!*stop) {
        uint64_t seen = 0, parked = dr_follower_dead_lettered(follower);
        rc = dr_follower_poll(follower, &seen);
        if (dr_follower_dead_lettered(follower) != parked)
            failed_rounds = 0; /* past a poison record: progress */
        if (rc != DR_OK) {
            /* Checkpoints hold: the next round redoes only what was not applied. */
            print_failure(prog, rc);
            if (until_idle && ++failed_rounds >= CLI_UNTIL_IDLE_MAX_FAILED_ROUNDS)
                return rc;
        } else if (seen == 0 && until_idle) {
            break;
        } else {
            failed_rounds = 0;
        }
        *records_read += seen;
        if (seen == 0 || rc != DR_OK) {
            sleep_ms(backoff);
            backoff = backoff * 2 > IDLE_BACKOFF_MAX_MS ? IDLE_BACKOFF_MAX_MS : backoff * 2;
        } else {
            backoff = IDLE_BACKOFF_MIN_MS;
        }
    }
    return DR_OK;
}

dr_status cli_dead_letters_print(dr_follower *follower, int as_json, size_t *count)
{
    dr_dead_letters *list = NULL;
    char *json = NULL;
    size_t i;
    dr_status rc = dr_follower_list_dead_letters(follower, &list);
    *count = 0;
    if (rc != DR_OK)
        return rc;
    *count = dr_dead_letters_count(list);
    if (as_json) {
        if ((rc = dr_dead_letters_to_json(list, &json)) != DR_OK) {
            dr_dead_letters_free(list);
            return rc;
        }
        printf("%s\n", json);
        dr_free(json);
    }
    for (i = 0; !as_json && i < *count; i++)
        printf("%s %s attempts=%lu parked=%s %s\n", dr_dead_letters_shard_id(list, i),
               dr_dead_letters_sequence_number(list, i),
               (unsigned long)dr_dead_letters_attempts(list, i),
               dr_dead_letters_parked_at(list, i), dr_dead_letters_reason(list, i));
    dr_dead_letters_free(list);
    return DR_OK;
}

dr_status cli_dead_letters_requeue(dr_follower *follower, const char *prog,
                                   size_t *still_parked)
{
    size_t requeued = 0;
    dr_status rc;
    *still_parked = 0;
    rc = dr_follower_requeue_dead_letters(follower, &requeued, still_parked);
    printf("%s: %lu dead letters requeued, %lu still parked\n", prog, (unsigned long)requeued,
           (unsigned long)*still_parked);
    return rc;
}
