/* The stream follower's loop and dead-letter commands, shared by `dadratings follow`,
 * `dadratings dead-letters` and dr_follow, so the two programs cannot drift apart. */
#ifndef DADRATINGS_CLI_FOLLOW_H
#define DADRATINGS_CLI_FOLLOW_H

#include <signal.h>
#include <stdint.h>

#include <dadratings.h>

/* Failed rounds in a row before --until-idle gives up. A round that parks a record (see
 * DR_FOLLOWER_MAX_DELIVERIES) made progress and starts the count again; the limit must
 * exceed the DR_FOLLOWER_MAX_DELIVERIES - 1 failed rounds before a record is parked. */
#define CLI_UNTIL_IDLE_MAX_FAILED_ROUNDS 5

/* A count from 1 to `max` written in decimal digits alone (no sign, no space); 0 if
 * `text` is not one. */
unsigned long cli_parse_count(const char *text, unsigned long max);

/* A GLOBAL shard count (dr_config_set_global_shards) from `text`: 1..64 in decimal digits;
 * 0 if it is not one. */
unsigned long cli_parse_global_shards(const char *text);

/* Counts one applied record when `message` is the library's per-record debug line (so the
 * log callback must receive DR_LOG_DEBUG). Returns the count so far when it was one, else
 * 0. Fine for a summary line; no interface to build on. */
long cli_follow_note_log(const char *message);
long cli_follow_applied(void);

/* Poll rounds until `*stop` is set or, with `until_idle`, a round reads nothing (DR_OK)
 * or CLI_UNTIL_IDLE_MAX_FAILED_ROUNDS rounds in a row fail (that round's error). Without
 * `until_idle` errors are retried forever with a backoff. Each failure is printed on
 * stderr as "<prog>: <status>: <message>". `records_read` receives the records read. */
dr_status cli_follow_run(dr_follower *follower, int until_idle, volatile sig_atomic_t *stop,
                         const char *prog, uint64_t *records_read);

/* Print every dead letter on stdout: one line each (shard, sequence number, attempts,
 * parked at, reason), or with `as_json` the dr_dead_letters_to_json() array. `count`
 * receives how many there are. */
dr_status cli_dead_letters_print(dr_follower *follower, int as_json, size_t *count);

/* Requeue every dead letter, printing "<prog>: N dead letters requeued, M still parked"
 * on stdout. `still_parked` receives M. */
dr_status cli_dead_letters_requeue(dr_follower *follower, const char *prog,
                                   size_t *still_parked);

#endif
