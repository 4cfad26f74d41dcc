/* soak_chaos: the chaos run of tests/integration/test_chaos.c (tests/support/chaos.h) at
 * soak size: by default 100,000 ratings at 20% faults, once in inline mode (one GLOBAL
 * shard) and once in stream mode (four), each on fresh tables, each printing the same
 * summary line as the test. Stops by itself; its proxies, follower children and tables
 * are cleaned up at the end of each run.
 *
 *   DR_TEST_ENDPOINT=http://127.0.0.1:PORT DR_FAULT_PROXY=.../dr_fault_proxy \
 *   DR_FOLLOW_BIN=.../dr_follow nice ./bench/soak_chaos [--ratings N] [--rate P]
 *       [--threads T] [--mode inline|stream|mixed|all] [--seed S] [--shards N]
 *
 * --shards sets the GLOBAL shards of every run (default: 1 inline, 4 stream, 1 mixed);
 * the follower, tools/dr_follow, is given the same count.
 * SIGINT or SIGTERM: the writers stop, and the run goes on to check what was written
 * (a second signal ends the program at once); later runs are skipped.
 *
 * Exit status: 0 when every run's checks held, 1 when one did not, 2 when a run could
 * not be carried out.
 *
 * Stream mode on DynamoDB Local: a write to a stream-enabled table costs server time that
 * grows with the records its streams hold (also the streams of tables deleted earlier in
 * the same process). Give stream mode a DynamoDB Local of its own, started fresh, on an
 * otherwise idle machine. Measured on 2026-12-02 after the 100,000-rating inline run on
 * the same instance, beside two fuzzers: writes slowed to 1.5 a second, most requests
 * timed out, the retry quota emptied, and 4,024 ratings took 48 minutes (all exact). */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chaos.h"

static volatile sig_atomic_t g_signalled;

static void on_signal(int sig)
{
    if (g_signalled) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
    g_signalled = 1;
    dr_chaos_stop_writing();
}

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--ratings N] [--rate P] [--threads T] "
                    "[--mode inline|stream|mixed|all] [--seed S] [--shards N]\n",
            argv0);
    return 2;
}

int main(int argc, char **argv)
{
    dr_chaos_options o;
    const char *mode = "all";
    int i, worst = 0, shards = 0;

    memset(&o, 0, sizeof o);
    o.ratings = 100000;
    o.fault_rate = 0.20;
    o.threads = 8;
    o.seed = 1;
    for (i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            return usage(argv[0]);
        if (!strcmp(argv[i], "--ratings"))
            o.ratings = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rate"))
            o.fault_rate = atof(argv[++i]);
        else if (!strcmp(argv[i], "--threads"))
            o.threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mode"))
            mode = argv[++i];
        else if (!strcmp(argv[i], "--shards"))
            shards = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed"))
            o.seed = (unsigned)strtoul(argv[++i], NULL, 10);
        else
            return usage(argv[0]);
    }
    if (o.ratings < 1 || o.fault_rate < 0 || o.fault_rate > 0.9 || o.threads < 1 ||
        o.threads > 64 || shards < 0 || shards > 64)
        return usage(argv[0]);
    if (!(o.follow_bin = getenv("DR_FOLLOW_BIN"))) {
        fprintf(stderr, "soak_chaos: needs DR_FOLLOW_BIN (tools/dr_follow)\n");
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    for (i = 0; i < 3 && !g_signalled; i++) {
        static const char *const names[] = {"inline", "stream", "mixed"};
        dr_chaos_summary s;
        int rc;
        if (strcmp(mode, names[i]) && !(strcmp(mode, "all") == 0 && i < 2))
            continue;
        o.mode = (dr_chaos_mode)i;
        o.shards = shards ? (uint32_t)shards : i == 1 ? 4 : 1;
        rc = dr_chaos_run(&o, &s);
        if (rc < 0)
            worst = 2;
        else if (rc > 0 && worst < 1)
            worst = 1;
        o.seed++;
    }
    return worst;
}
