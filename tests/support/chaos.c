/* The chaos run: see chaos.h. */
#include "chaos.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "dadratings.h"
#include "ddb.h"
#include "dr_test.h"
#include "fault_proxy_ctl.h"

extern char **environ;

static volatile sig_atomic_t g_stop_writing;

void dr_chaos_stop_writing(void)
{
    g_stop_writing = 1;
}

#define CHAOS_CALLER_TRIES 10
#define CHAOS_SOLO_JOKES 4
#define CHAOS_AUTHORS 6
#define CHAOS_MAX_THREADS 64
#define CHAOS_SHOWN_MISMATCHES 30
#define CHAOS_DRAIN_TRIES 5
#define CHAOS_FAULTED_DRAIN_TRIES 2
/* Writers give up an attempt after 2 s (on a loaded 2-core machine DynamoDB Local
 * answers a transaction in more than 1 s now and then); the delays outlast it. */
#define CHAOS_REQUEST_TIMEOUT_MS 2000
#define CHAOS_CONNECT_TIMEOUT_MS 1000

static const char *const author_names[CHAOS_AUTHORS] = {"Ann", "Bob", "Cleo", "Dmitri",
                                                        "Eve", "Fumiko"};

/* One rating the callers write: the write plan, and what became of it. */
typedef struct {
    char joke[48];
    char author[32];
    int stars;
    int use_stream;      /* mixed mode: written by a stream-mode client */
    int succeeded;
    int deleted;         /* deleted by the run's own DeleteItem */
    int stored;          /* rating items found holding it */
    int tried;           /* a writer took it (all of them, unless told to stop writing) */
    dr_status last_failure;
} chaos_rating;

typedef struct {
    const dr_chaos_options *o;
    char run_tag[64];
    char ratings_table[128], stats_table[128];
    char endpoint[128];           /* DynamoDB Local, http://host:port */
    dr_test_proxy writer_proxy, follower_proxy;
    dr_client *direct;            /* no faults: setup, changes, the check */
    dr_client *inline_client, *stream_client;
    chaos_rating *plan;
    long n_plan, cap_plan;
    long next_write;              /* next plan entry for a writer thread */
    long write_end;
    pthread_mutex_t lock;
    long failures_by_status[32];
    /* the follower supervisor */
    atomic_int stop_supervisor; /* set by the run's thread, read by the supervisor */
    long kills;
    char **child_env;
    long mismatches;
    double started;
    double phase[5]; /* ends of: setup, writes, changes, drain, check */
} chaos_run;

/* ---- small utilities ------------------------------------------------------------ */

static double now_seconds(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void mismatch(chaos_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mismatch(chaos_run *r, const char *fmt, ...)
{
    va_list ap;
    if (++r->mismatches > CHAOS_SHOWN_MISMATCHES)
        return;
    fputs("chaos: MISMATCH ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

static const char *mode_name(dr_chaos_mode m)
{
    return m == DR_CHAOS_INLINE ? "inline" : m == DR_CHAOS_STREAM ? "stream" : "mixed";
}

/* FNV-1a (32 bit) mod shards: docs/aggregation.md's shard of a joke, computed here
 * independently of the library. */
static uint32_t shard_of(uint32_t shards, const char *joke)
{
    uint32_t h = 2166136261u;
    const unsigned char *p;
    if (shards <= 1)
        return 0;
    for (p = (const unsigned char *)joke; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h % shards;
}

static const char *attr_s(const json_t *item, const char *name)
{
    return json_string_value(json_object_get(json_object_get(item, name), "S"));
}

/* A number attribute, or -1 when absent. */
static long long attr_n(const json_t *item, const char *name)
{
    const char *n = json_string_value(json_object_get(json_object_get(item, name), "N"));
    return n ? strtoll(n, NULL, 10) : -1;
}

static double attr_double(const json_t *item, const char *name)
{
    const char *n = json_string_value(json_object_get(json_object_get(item, name), "N"));
    return n ? strtod(n, NULL) : -1;
}

/* ---- tables and clients --------------------------------------------------------- */

static dr_client *make_client(chaos_run *r, const char *endpoint, dr_aggregation_mode mode,
                              int short_timeouts)
{
    dr_config *cfg = NULL;
    dr_client *c = NULL;
    if (dr_config_new(&cfg) != DR_OK)
        return NULL;
    if (dr_config_set_region(cfg, "us-east-1") != DR_OK ||
        dr_config_set_endpoint(cfg, endpoint) != DR_OK ||
        dr_config_set_credentials(cfg, "AKIDLOCALTEST", "local-test-secret", NULL) != DR_OK ||
        dr_config_set_ratings_table(cfg, r->ratings_table) != DR_OK ||
        dr_config_set_stats_table(cfg, r->stats_table) != DR_OK ||
        dr_config_set_aggregation_mode(cfg, mode) != DR_OK ||
        dr_config_set_global_shards(cfg, r->o->shards) != DR_OK ||
        (short_timeouts &&
         (dr_config_set_request_timeout_ms(cfg, CHAOS_REQUEST_TIMEOUT_MS) != DR_OK ||
          dr_config_set_connect_timeout_ms(cfg, CHAOS_CONNECT_TIMEOUT_MS) != DR_OK)) ||
        dr_client_new(&c, cfg) != DR_OK) {
        fprintf(stderr, "chaos: client for %s: %s\n", endpoint, dr_last_error_message());
        c = NULL;
    }
    dr_config_free(cfg);
    return c;
}

static void delete_table(dr_client *c, const char *name)
{
    json_t *req = json_pack("{s:s}", "TableName", name);
    if (dr__ddb_call(c, "DeleteTable", req, NULL, NULL) != DR_OK)
        fprintf(stderr, "chaos: DeleteTable %s: %s\n", name, dr_last_error_message());
    json_decref(req);
}

/* ---- proxies -------------------------------------------------------------------- */

/* Rules giving each of `kinds` faults the marginal rate rate/kinds: the proxy takes the
 * first rule that matches, so rule i fires with rate/kinds / (1 - i*rate/kinds) of what
 * the rules before it left. */
static int start_proxy(chaos_run *r, const char *const *kinds, size_t n, double fault_rate,
                       unsigned long seed, dr_test_proxy *p)
{
    char text[16][96];
    const char *rules[17];
    const char *upstream = strstr(r->endpoint, "://");
    double each = fault_rate / (double)n;
    size_t i;
    upstream = upstream ? upstream + 3 : r->endpoint;
    for (i = 0; i < n && i < 16; i++) {
        double rate = each / (1.0 - (double)i * each);
        snprintf(text[i], sizeof text[i], "%s%srate=%.6f", kinds[i],
                 strchr(kinds[i], ':') ? "," : ":", rate > 1 ? 1.0 : rate);
        rules[i] = text[i];
    }
    rules[i] = NULL;
    return dr_test_proxy_start_seeded(upstream, fault_rate > 0 ? rules : NULL, seed, p);
}

static void format_faults(dr_test_proxy *p, char *out, size_t cap)
{
    dr_test_proxy_counts c;
    size_t i, used = 0;
    long total = 0;
    out[0] = '\0';
    if (dr_test_proxy_stats(p, &c) != 0) {
        snprintf(out, cap, "(stats unavailable)");
        return;
    }
    for (i = 0; i < c.n_faults; i++)
        total += c.faults[i].count;
    used += (size_t)snprintf(out + used, cap - used, "%ld of %ld requests:", total, c.requests);
    for (i = 0; i < c.n_faults && used < cap; i++)
        if (c.faults[i].count)
            used += (size_t)snprintf(out + used, cap - used, " %s=%ld", c.faults[i].name,
                                     c.faults[i].count);
}

/* ---- followers ------------------------------------------------------------------ */

/* The environment of a follower child: ours with its endpoint and tables set. */
static char **follower_env(chaos_run *r)
{
    static const char *const names[] = {"AWS_ENDPOINT_URL_DYNAMODB=", "AWS_ENDPOINT_URL=",
                                        "AWS_REGION=", "AWS_ACCESS_KEY_ID=",
                                        "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=",
                                        "DYNAMODB_RATINGS_TABLE=", "DYNAMODB_STATS_TABLE=",
                                        "AWS_EC2_METADATA_DISABLED="};
    size_t n = 0, k = 0, i, j;
    char **env;
    char buf[512];
    while (environ[n])
        n++;
    env = calloc(n + 16, sizeof *env);
    for (i = 0; i < n; i++) {
        int skip = 0;
        for (j = 0; j < sizeof names / sizeof names[0]; j++)
            skip |= !strncmp(environ[i], names[j], strlen(names[j]));
        if (!skip)
            env[k++] = strdup(environ[i]);
    }
    snprintf(buf, sizeof buf, "AWS_ENDPOINT_URL_DYNAMODB=%s", r->follower_proxy.endpoint);
    env[k++] = strdup(buf);
    env[k++] = strdup("AWS_REGION=us-east-1");
    env[k++] = strdup("AWS_ACCESS_KEY_ID=AKIDLOCALTEST");
    env[k++] = strdup("AWS_SECRET_ACCESS_KEY=local-test-secret");
    env[k++] = strdup("AWS_EC2_METADATA_DISABLED=true");
    snprintf(buf, sizeof buf, "DYNAMODB_RATINGS_TABLE=%s", r->ratings_table);
    env[k++] = strdup(buf);
    snprintf(buf, sizeof buf, "DYNAMODB_STATS_TABLE=%s", r->stats_table);
    env[k++] = strdup(buf);
    return env;
}

static void free_env(char **env)
{
    size_t i;
    for (i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

/* Starts a follower; only async-signal-safe calls between fork and exec. */
static pid_t spawn_follower(chaos_run *r, int until_idle)
{
    char shards[16], program[4096], idle[] = "--until-idle", shards_flag[] = "--global-shards";
    char *argv[5];
    pid_t pid;
    snprintf(shards, sizeof shards, "%u", (unsigned)(r->o->shards ? r->o->shards : 1));
    snprintf(program, sizeof program, "%s", r->o->follow_bin);
    argv[0] = program;
    argv[1] = shards_flag;
    argv[2] = shards;
    argv[3] = until_idle ? idle : NULL;
    argv[4] = NULL;
    pid = fork();
    if (pid == 0) {
        int devnull;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Its per-failure lines would drown the summary: faults are the point here. */
        devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0 && !until_idle)
            dup2(devnull, 2);
        dup2(devnull, 1);
        execve(argv[0], argv, r->child_env);
        _exit(127);
    }
    return pid;
}

/* Kills and restarts the follower at random moments until told to stop. */
static void *supervisor_main(void *arg)
{
    chaos_run *r = arg;
    unsigned seed = r->o->seed * 7919u + 1;
    while (!atomic_load(&r->stop_supervisor)) {
        pid_t pid = spawn_follower(r, 0);
        /* Lives of 0.5..4 s: a follower killed sooner than it applies one batch never
         * checkpoints, and each restart redoes the batch (exactly, but without progress). */
        long life = 500 + rand_r(&seed) % 3500, waited = 0;
        int status;
        if (pid < 0) {
            perror("chaos: fork");
            return NULL;
        }
        while (waited < life && !atomic_load(&r->stop_supervisor)) {
            sleep_ms(50);
            waited += 50;
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        r->kills++;
    }
    return NULL;
}

/* Runs the follower with --until-idle until it exits 0, at most `max_tries` times.
 * Returns 0, 1 when it never exited 0, -1 when it cannot run. */
static int drain(chaos_run *r, int max_tries)
{
    int tries;
    for (tries = 0; tries < max_tries; tries++) {
        int status = 0;
        pid_t pid = spawn_follower(r, 1);
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
            return -1;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            return 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
            fprintf(stderr, "chaos: cannot run the follower %s\n", r->o->follow_bin);
            return -1;
        }
    }
    return 1;
}

/* ---- writers -------------------------------------------------------------------- */

static chaos_rating *plan_add(chaos_run *r, const char *joke, const char *author, int stars,
                              int use_stream)
{
    chaos_rating *p;
    if (r->n_plan == r->cap_plan) {
        r->cap_plan = r->cap_plan ? r->cap_plan * 2 : 256;
        r->plan = realloc(r->plan, (size_t)r->cap_plan * sizeof *r->plan);
    }
    p = &r->plan[r->n_plan++];
    memset(p, 0, sizeof *p);
    snprintf(p->joke, sizeof p->joke, "%s", joke);
    snprintf(p->author, sizeof p->author, "%s", author);
    p->stars = stars;
    p->use_stream = use_stream;
    return p;
}

/* Writes plan entry i as a caller would: the same idempotency key on every try. */
static void write_one(chaos_run *r, long i, unsigned *seed)
{
    chaos_rating *p = &r->plan[i];
    dr_client *c = p->use_stream ? r->stream_client : r->inline_client;
    dr_rating *rating = NULL;
    char key[96], text[128];
    int tries;
    p->tried = 1;
    snprintf(key, sizeof key, "%s.%ld", r->run_tag, i);
    snprintf(text, sizeof text, "Chaos joke %s rating #%ld#", p->joke, i);
    if (dr_rating_new(&rating, p->joke, p->stars) != DR_OK ||
        dr_rating_set_author(rating, p->author) != DR_OK ||
        dr_rating_set_joke_text(rating, text) != DR_OK ||
        dr_rating_set_idempotency_key(rating, key) != DR_OK) {
        fprintf(stderr, "chaos: rating %ld: %s\n", i, dr_last_error_message());
        dr_rating_free(rating);
        return;
    }
    for (tries = 0; tries < CHAOS_CALLER_TRIES; tries++) {
        dr_status rc = dr_client_write_rating(c, rating, NULL);
        if (rc == DR_OK) {
            p->succeeded = 1;
            break;
        }
        p->last_failure = rc;
        pthread_mutex_lock(&r->lock);
        r->failures_by_status[(unsigned)rc < 32 ? rc : 31]++;
        pthread_mutex_unlock(&r->lock);
        /* As a caller would: back off, and longer while the client's retry quota is
         * empty (it refills with successes). */
        sleep_ms((rc == DR_E_RETRY_QUOTA ? 200 : 20) + rand_r(seed) % (50 * (tries + 1)));
    }
    dr_rating_free(rating);
}

typedef struct {
    chaos_run *r;
    int index;
} writer_arg;

static void *writer_main(void *arg)
{
    writer_arg *w = arg;
    chaos_run *r = w->r;
    unsigned seed = r->o->seed + 31u * (unsigned)w->index;
    for (;;) {
        long i;
        pthread_mutex_lock(&r->lock);
        i = r->next_write < r->write_end && !g_stop_writing ? r->next_write++ : -1;
        /* Soak sizes: a line per tenth, so a run stopped early says how far it got. */
        if (i > 0 && r->write_end >= 10000 && i % (r->write_end / 10) == 0) {
            printf("chaos %s: %ld of %ld ratings written, %.0f s\n", mode_name(r->o->mode), i,
                   r->write_end, now_seconds() - r->started);
            fflush(stdout);
        }
        pthread_mutex_unlock(&r->lock);
        if (i < 0)
            return NULL;
        write_one(r, i, &seed);
    }
}

/* Writes plan entries [from, to) on `threads` threads. */
static void write_range(chaos_run *r, long from, long to, int threads)
{
    pthread_t ids[CHAOS_MAX_THREADS];
    writer_arg args[CHAOS_MAX_THREADS];
    int t;
    r->next_write = from;
    r->write_end = to;
    for (t = 0; t < threads; t++) {
        args[t].r = r;
        args[t].index = t;
        pthread_create(&ids[t], NULL, writer_main, &args[t]);
    }
    for (t = 0; t < threads; t++)
        pthread_join(ids[t], NULL);
}

/* The plan: the solo jokes first (one rating each), then ratings of jokes/8 jokes, each
 * joke by one author. Mixed mode: even entries through the inline client. */
static void make_plan(chaos_run *r)
{
    unsigned seed = r->o->seed;
    long jokes = r->o->ratings / 8 > 4 ? r->o->ratings / 8 : 4, i;
    char joke[48];
    for (i = 0; i < CHAOS_SOLO_JOKES && i < r->o->ratings; i++) {
        snprintf(joke, sizeof joke, "solo%ld", i);
        plan_add(r, joke, author_names[i % CHAOS_AUTHORS], 1 + (int)(i % 5),
                 r->o->mode == DR_CHAOS_STREAM || (r->o->mode == DR_CHAOS_MIXED && (i & 1)));
    }
    for (; i < r->o->ratings; i++) {
        long j = rand_r(&seed) % jokes;
        snprintf(joke, sizeof joke, "joke%ld", j);
        plan_add(r, joke, author_names[j % CHAOS_AUTHORS], 1 + rand_r(&seed) % 5,
                 r->o->mode == DR_CHAOS_STREAM || (r->o->mode == DR_CHAOS_MIXED && (i & 1)));
    }
}

/* ---- changes made directly in the ratings table ----------------------------------- */

/* The plan index a rating item carries in its text, or -1. */
static long plan_index_of(const json_t *item)
{
    const char *text = attr_s(item, "jokeText"), *hash;
    if (!text || !(hash = strstr(text, "rating #")))
        return -1;
    return strtol(hash + 8, NULL, 10);
}

static json_t *rating_items(chaos_run *r)
{
    json_t *all = dr_test_scan_table(r->direct, r->ratings_table), *out, *item;
    size_t i;
    if (!all)
        return NULL;
    out = json_array();
    json_array_foreach(all, i, item) {
        const char *sk = attr_s(item, "SK");
        if (sk && !strncmp(sk, "RATING#", 7))
            json_array_append(out, item);
    }
    json_decref(all);
    return out;
}

static int update_rating(chaos_run *r, const json_t *item, int stars, const char *author)
{
    json_t *values = json_object(), *req;
    char n[4], gsi2[64], expr[128] = "SET ";
    dr_status rc;
    if (stars) {
        snprintf(n, sizeof n, "%d", stars);
        json_object_set_new(values, ":r", json_pack("{s:s}", "N", n));
        strcat(expr, "rating = :r");
    }
    if (author) {
        snprintf(gsi2, sizeof gsi2, "AUTHOR#%s", author);
        json_object_set_new(values, ":a", json_pack("{s:s}", "S", author));
        json_object_set_new(values, ":g", json_pack("{s:s}", "S", gsi2));
        strcat(expr, stars ? ", author = :a, GSI2PK = :g" : "author = :a, GSI2PK = :g");
    }
    req = json_pack("{s:s, s:{s:O, s:O}, s:s, s:s, s:o}", "TableName", r->ratings_table, "Key",
                    "PK", json_object_get(item, "PK"), "SK", json_object_get(item, "SK"),
                    "UpdateExpression", expr, "ConditionExpression", "attribute_exists(PK)",
                    "ExpressionAttributeValues", values);
    rc = dr__ddb_call(r->direct, "UpdateItem", req, NULL, NULL);
    if (rc != DR_OK)
        fprintf(stderr, "chaos: UpdateItem: %s\n", dr_last_error_message());
    json_decref(req);
    return rc == DR_OK ? 0 : -1;
}

static int delete_rating(chaos_run *r, const json_t *item)
{
    json_t *req = json_pack("{s:s, s:{s:O, s:O}}", "TableName", r->ratings_table, "Key", "PK",
                            json_object_get(item, "PK"), "SK", json_object_get(item, "SK"));
    dr_status rc = dr__ddb_call(r->direct, "DeleteItem", req, NULL, NULL);
    long i = plan_index_of(item);
    if (rc != DR_OK)
        fprintf(stderr, "chaos: DeleteItem: %s\n", dr_last_error_message());
    else if (i >= 0 && i < r->n_plan)
        r->plan[i].deleted = 1;
    json_decref(req);
    return rc == DR_OK ? 0 : -1;
}

static long long stats_total(chaos_run *r, const char *joke)
{
    char pk[80];
    json_t *req, *resp = NULL;
    long long total = -1;
    snprintf(pk, sizeof pk, "STATS#%s", joke);
    req = json_pack("{s:s, s:{s:{s:s}, s:{s:s}}, s:b}", "TableName", r->stats_table, "Key", "PK",
                    "S", pk, "SK", "S", "AGGREGATE", "ConsistentRead", 1);
    if (dr__ddb_call(r->direct, "GetItem", req, &resp, NULL) == DR_OK)
        total = attr_n(json_object_get(resp, "Item"), "totalRatings");
    json_decref(resp);
    json_decref(req);
    return total;
}

/* Waits (up to 20 s of wall time) until the stats of the jokes of plan entries
 * [from, n_plan) show no rating. */
static void wait_uncounted(chaos_run *r, long from)
{
    double deadline = now_seconds() + 20;
    long k;
    while (now_seconds() < deadline) {
        int pending = 0;
        for (k = from; k < r->n_plan && !pending; k++)
            pending = stats_total(r, r->plan[k].joke) != 0;
        if (!pending)
            return;
        sleep_ms(100);
    }
    fprintf(stderr, "chaos: the follower had not un-counted the solo jokes after 20 s\n");
}

/* Author changes, stars changes, both, deletions (about 2% of the ratings each, at least
 * 2), and each solo joke's only rating deleted; then the solo jokes are rated again
 * through the faults. Returns 0 or -1. */
static int change_ratings(chaos_run *r, dr_chaos_summary *s)
{
    json_t *items = rating_items(r), *item;
    size_t i, n, each;
    unsigned seed = r->o->seed ^ 0x5bd1e995u;
    long first_rerate = r->n_plan;
    int failed = 0;
    if (!items)
        return -1;
    n = json_array_size(items);
    /* Shuffle, so the changes land on random ratings. */
    for (i = n; i > 1; i--) {
        size_t j = (size_t)rand_r(&seed) % i;
        json_t *a = json_incref(json_array_get(items, i - 1));
        json_array_set(items, i - 1, json_array_get(items, j));
        json_array_set_new(items, j, a);
    }
    each = n / 50 > 2 ? n / 50 : 2;
    {
        size_t done_changes = 0;
        json_array_foreach(items, i, item) {
            const char *pk = attr_s(item, "PK");
            int stars = (int)attr_n(item, "rating");
            const char *author = attr_s(item, "author");
            size_t pick = (size_t)rand_r(&seed) % CHAOS_AUTHORS;
            const char *other = author_names[pick];
            int new_stars = 1 + (stars % 5);
            if (!pk || !strncmp(pk, "JOKE#solo", 9))
                continue;
            if (author && !strcmp(other, author))
                other = author_names[(pick + 1) % CHAOS_AUTHORS];
            if (done_changes < each)
                failed |= update_rating(r, item, 0, other);
            else if (done_changes < 2 * each)
                failed |= update_rating(r, item, new_stars, NULL);
            else if (done_changes < 3 * each)
                failed |= update_rating(r, item, new_stars, other);
            else if (done_changes < 4 * each)
                failed |= delete_rating(r, item);
            else
                break;
            if (done_changes < 3 * each)
                s->modified++;
            else
                s->deleted++;
            done_changes++;
        }
    }
    json_array_foreach(items, i, item) {
        const char *pk = attr_s(item, "PK");
        if (pk && !strncmp(pk, "JOKE#solo", 9)) {
            long k = plan_index_of(item);
            failed |= delete_rating(r, item);
            s->deleted++;
            if (k >= 0 && k < r->n_plan) {
                chaos_rating old = r->plan[k]; /* plan_add may move the plan */
                plan_add(r, old.joke, old.author, 1 + (old.stars % 5), old.use_stream);
            }
        }
    }
    json_decref(items);
    if (failed)
        return -1;
    /* The joke is rated again only once the follower has un-counted its last rating:
     * that order is the one that once counted it twice in uniqueJokes. */
    wait_uncounted(r, first_rerate);
    write_range(r, first_rerate, r->n_plan, r->o->threads);
    return 0;
}

/* ---- the check ------------------------------------------------------------------ */

typedef struct {
    char name[64];
    uint64_t total, score, count[5];
    int seen_stats;  /* a stats item was found for it */
} tally;

typedef struct {
    tally *v;
    size_t n, cap;
} tally_set;

static tally *tally_get(tally_set *set, const char *name)
{
    size_t i;
    for (i = 0; i < set->n; i++)
        if (!strcmp(set->v[i].name, name))
            return &set->v[i];
    if (set->n == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 64;
        set->v = realloc(set->v, set->cap * sizeof *set->v);
    }
    memset(&set->v[set->n], 0, sizeof set->v[0]);
    snprintf(set->v[set->n].name, sizeof set->v[0].name, "%s", name);
    return &set->v[set->n++];
}

static void tally_add(tally *t, int stars)
{
    t->total++;
    t->score += (uint64_t)stars;
    t->count[stars - 1]++;
}

static void check_counters(chaos_run *r, const char *what, const json_t *item, const tally *t)
{
    static const char *const names[5] = {"count1", "count2", "count3", "count4", "count5"};
    long long total = attr_n(item, "totalRatings"), score = attr_n(item, "totalScore");
    int i;
    if (total < 0)
        total = 0;
    if (score < 0)
        score = 0;
    if ((uint64_t)total != t->total || (uint64_t)score != t->score)
        mismatch(r, "%s: totalRatings %lld totalScore %lld, the ratings sum to %" PRIu64
                 " and %" PRIu64, what, total, score, t->total, t->score);
    for (i = 0; i < 5; i++) {
        long long c = attr_n(item, names[i]);
        if ((uint64_t)(c < 0 ? 0 : c) != t->count[i])
            mismatch(r, "%s: %s %lld, the ratings hold %" PRIu64, what, names[i], c,
                     t->count[i]);
    }
}

/* The index keys a stats item must carry: GSI2 from the third rating on (GSI1 too with
 * one shard), none below. */
static void check_index_keys(chaos_run *r, const json_t *item, const tally *t)
{
    const char *gsi2pk = attr_s(item, "GSI2PK"), *gsi2sk = attr_s(item, "GSI2SK");
    const char *gsi1pk = attr_s(item, "GSI1PK");
    char partition[48], rank[160];
    double avg = dr_test_js_average(t->score, t->total);
    uint32_t k = shard_of(r->o->shards, t->name);
    if (t->total < 3) {
        if (gsi2pk || gsi1pk)
            mismatch(r, "joke %s: %" PRIu64 " ratings but index keys %s / %s", t->name,
                     t->total, gsi1pk ? gsi1pk : "-", gsi2pk ? gsi2pk : "-");
        return;
    }
    if (r->o->shards <= 1)
        snprintf(partition, sizeof partition, "TOP_PERFORMERS");
    else
        snprintf(partition, sizeof partition, "TOP_PERFORMERS#%u", (unsigned)k);
    snprintf(rank, sizeof rank, "%03ld#%020" PRIu64 "#%s", (long)(avg * 100 + 0.5), t->total,
             t->name);
    if (!gsi2pk || strcmp(gsi2pk, partition) || !gsi2sk || strcmp(gsi2sk, rank))
        mismatch(r, "joke %s: GSI2 %s / %s, expected %s / %s", t->name, gsi2pk ? gsi2pk : "-",
                 gsi2sk ? gsi2sk : "-", partition, rank);
    if (r->o->shards <= 1) {
        double gsi1sk = attr_double(item, "GSI1SK");
        if (!gsi1pk || strcmp(gsi1pk, "TOP_PERFORMERS") || gsi1sk != avg)
            mismatch(r, "joke %s: GSI1 %s / %.2f, expected TOP_PERFORMERS / %.2f (%" PRIu64
                     "/%" PRIu64 ")", t->name, gsi1pk ? gsi1pk : "-", gsi1sk, avg, t->score,
                     t->total);
    } else if (gsi1pk) {
        mismatch(r, "joke %s: GSI1PK %s with %u shards (the library writes none)", t->name,
                 gsi1pk, (unsigned)r->o->shards);
    }
}

static void check_read_stats(chaos_run *r, const tally *t)
{
    dr_stats *st = NULL;
    int i;
    if (dr_client_read_stats(r->direct, t->name, &st) != DR_OK) {
        mismatch(r, "read_stats %s: %s", t->name, dr_last_error_message());
        return;
    }
    if (dr_stats_total_ratings(st) != t->total || dr_stats_total_score(st) != t->score ||
        dr_stats_average(st) != dr_test_js_average(t->score, t->total))
        mismatch(r, "read_stats %s: %" PRIu64 " ratings, score %" PRIu64 ", average %.2f; "
                 "the ratings: %" PRIu64 ", %" PRIu64 ", %.2f", t->name,
                 dr_stats_total_ratings(st), dr_stats_total_score(st), dr_stats_average(st),
                 t->total, t->score, dr_test_js_average(t->score, t->total));
    for (i = 0; i < 5; i++)
        if (dr_stats_count(st, i + 1) != t->count[i])
            mismatch(r, "read_stats %s: count%d %" PRIu64 ", the ratings hold %" PRIu64,
                     t->name, i + 1, dr_stats_count(st, i + 1), t->count[i]);
    dr_stats_free(st);
}

/* Top performers as docs/data-model.md orders them: >= 3 ratings, best average, then more
 * ratings, then joke id descending. */
static int top_cmp(const void *a, const void *b)
{
    const tally *x = *(const tally *const *)a, *y = *(const tally *const *)b;
    double ax = dr_test_js_average(x->score, x->total), ay = dr_test_js_average(y->score, y->total);
    if (ax != ay)
        return ax > ay ? -1 : 1;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    return -strcmp(x->name, y->name);
}

static void check_dashboard(chaos_run *r, const tally_set *jokes, const tally_set *authors,
                            const tally *global, uint64_t unique)
{
    dr_dashboard *d = NULL;
    const tally **top;
    size_t i, n_top = 0, a;
    if (dr_client_dashboard_stats(r->direct, &d) != DR_OK) {
        mismatch(r, "dashboard_stats: %s", dr_last_error_message());
        return;
    }
    if (dr_dashboard_overall_ratings(d) != global->total ||
        dr_dashboard_unique_jokes(d) != unique ||
        dr_dashboard_overall_average(d) != dr_test_js_average(global->score, global->total))
        mismatch(r, "dashboard: %" PRIu64 " ratings, %" PRIu64 " jokes, average %.2f; the "
                 "ratings: %" PRIu64 ", %" PRIu64 ", %.2f", dr_dashboard_overall_ratings(d),
                 dr_dashboard_unique_jokes(d), dr_dashboard_overall_average(d), global->total,
                 unique, dr_test_js_average(global->score, global->total));
    for (i = 0; i < 5; i++)
        if (dr_dashboard_rating_count(d, (int32_t)i + 1) != global->count[i])
            mismatch(r, "dashboard: %zu-star count %" PRIu64 ", the ratings hold %" PRIu64,
                     i + 1, dr_dashboard_rating_count(d, (int32_t)i + 1), global->count[i]);
    for (a = 0; a < authors->n; a++) {
        const tally *t = &authors->v[a];
        size_t j, found = (size_t)-1;
        for (j = 0; j < dr_dashboard_author_count(d); j++)
            if (!strcmp(dr_dashboard_author_name(d, j), t->name))
                found = j;
        if (found == (size_t)-1) {
            if (t->total)
                mismatch(r, "dashboard: author %s missing", t->name);
            continue;
        }
        if (dr_dashboard_author_total_ratings(d, found) != t->total ||
            dr_dashboard_author_average(d, found) != dr_test_js_average(t->score, t->total))
            mismatch(r, "dashboard: author %s %" PRIu64 " ratings average %.2f; the ratings: %"
                     PRIu64 ", %.2f", t->name, dr_dashboard_author_total_ratings(d, found),
                     dr_dashboard_author_average(d, found), t->total,
                     dr_test_js_average(t->score, t->total));
        for (j = 0; j < 5; j++)
            if (dr_dashboard_author_rating_count(d, found, (int32_t)j + 1) != t->count[j])
                mismatch(r, "dashboard: author %s %zu-star count %" PRIu64 ", expected %" PRIu64,
                         t->name, j + 1,
                         dr_dashboard_author_rating_count(d, found, (int32_t)j + 1), t->count[j]);
    }
    top = calloc(jokes->n + 1, sizeof *top);
    for (i = 0; i < jokes->n; i++)
        if (jokes->v[i].total >= 3)
            top[n_top++] = &jokes->v[i];
    qsort(top, n_top, sizeof *top, top_cmp);
    if (n_top > 8)
        n_top = 8;
    if (dr_dashboard_top_count(d) != n_top)
        mismatch(r, "dashboard: %zu top performers, expected %zu", dr_dashboard_top_count(d),
                 n_top);
    for (i = 0; i < n_top && i < dr_dashboard_top_count(d); i++)
        if (strcmp(dr_dashboard_top_joke_id(d, i), top[i]->name) ||
            dr_dashboard_top_total_ratings(d, i) != top[i]->total ||
            dr_dashboard_top_average(d, i) != dr_test_js_average(top[i]->score, top[i]->total))
            mismatch(r, "dashboard: top performer %zu is %s (%" PRIu64 ", %.2f), expected %s (%"
                     PRIu64 ", %.2f)", i, dr_dashboard_top_joke_id(d, i),
                     dr_dashboard_top_total_ratings(d, i), dr_dashboard_top_average(d, i),
                     top[i]->name, top[i]->total,
                     dr_test_js_average(top[i]->score, top[i]->total));
    free(top);
    dr_dashboard_free(d);
}

/* Everything the stored items, read_stats and dashboard_stats say, against the sums over
 * the stored rating items. uniqueJokes: the jokes ever rated, a joke whose ratings were
 * all deleted included (docs/aggregation.md). */
static int check(chaos_run *r, dr_chaos_summary *s)
{
    json_t *ratings = rating_items(r), *stats = NULL, *item;
    tally_set jokes = {0}, authors = {0}, shards = {0};
    tally global;
    uint64_t unique_stored = 0, unique_sum = 0;
    size_t ever_rated;
    size_t i;
    long k;
    char name[64];
    int rc = -1;

    memset(&global, 0, sizeof global);
    if (!ratings || !(stats = dr_test_scan_table(r->direct, r->stats_table)))
        goto done;
    for (k = 0; k < r->n_plan; k++) {
        r->plan[k].stored = 0;
        if (r->plan[k].deleted)
            tally_get(&jokes, r->plan[k].joke); /* ever rated, even if nothing remains */
    }
    json_array_foreach(ratings, i, item) {
        const char *pk = attr_s(item, "PK"), *author = attr_s(item, "author");
        long long stars = attr_n(item, "rating");
        long idx = plan_index_of(item);
        if (!pk || strncmp(pk, "JOKE#", 5) || !author || stars < 1 || stars > 5 || idx < 0 ||
            idx >= r->n_plan) {
            mismatch(r, "a rating item the run did not write: %s / %s", pk ? pk : "-",
                     attr_s(item, "SK") ? attr_s(item, "SK") : "-");
            continue;
        }
        r->plan[idx].stored++;
        s->stored++;
        tally_add(tally_get(&jokes, pk + 5), (int)stars);
        tally_add(tally_get(&authors, author), (int)stars);
        snprintf(name, sizeof name, "%u", (unsigned)shard_of(r->o->shards, pk + 5));
        tally_add(tally_get(&shards, name), (int)stars);
        tally_add(&global, (int)stars);
    }
    for (k = 0; k < r->n_plan; k++) {
        const chaos_rating *p = &r->plan[k];
        if (p->stored > 1) {
            s->duplicated++;
            mismatch(r, "rating #%ld (%s) stored %d times", k, p->joke, p->stored);
        }
        if (p->succeeded && !p->deleted && !p->stored) {
            s->lost++;
            mismatch(r, "rating #%ld (%s, %s, %d stars, %s) returned success but is not stored",
                     k, p->joke, p->author, p->stars, p->use_stream ? "stream" : "inline");
        }
        if (!p->succeeded && p->stored)
            s->unacknowledged++;
    }

    ever_rated = jokes.n; /* before the stats items add jokes no stored rating names */
    json_array_foreach(stats, i, item) {
        const char *pk = attr_s(item, "PK"), *sk = attr_s(item, "SK");
        if (!pk || !sk)
            continue;
        if (!strncmp(pk, "STATS#", 6) && !strcmp(sk, "AGGREGATE")) {
            tally *t = tally_get(&jokes, pk + 6);
            char what[96];
            snprintf(what, sizeof what, "joke %s", t->name);
            t->seen_stats = 1;
            check_counters(r, what, item, t);
            check_index_keys(r, item, t);
            if (attr_n(item, "statsVersion") >= 0)
                unique_stored++;
        } else if (!strcmp(pk, "GLOBAL") && !strncmp(sk, "AUTHOR#", 7)) {
            tally *t = tally_get(&authors, sk + 7);
            char what[96];
            snprintf(what, sizeof what, "author %s", t->name);
            t->seen_stats = 1;
            check_counters(r, what, item, t);
        } else if (!strncmp(pk, "GLOBAL", 6) && !strcmp(sk, "AGGREGATE")) {
            unsigned shard = pk[6] == '#' ? (unsigned)strtoul(pk + 7, NULL, 10) : 0;
            tally *t;
            char what[96];
            snprintf(name, sizeof name, "%u", shard);
            t = tally_get(&shards, name);
            t->seen_stats = 1;
            snprintf(what, sizeof what, "GLOBAL shard %u (%s)", shard, pk);
            if (shard >= r->o->shards)
                mismatch(r, "%s exists with %u shards", what, (unsigned)r->o->shards);
            check_counters(r, what, item, t);
            if (attr_n(item, "uniqueJokes") > 0)
                unique_sum += (uint64_t)attr_n(item, "uniqueJokes");
        }
    }
    for (i = 0; i < jokes.n; i++) {
        if (!jokes.v[i].seen_stats)
            mismatch(r, "joke %s: no stats item (%" PRIu64 " ratings stored)", jokes.v[i].name,
                     jokes.v[i].total);
        check_read_stats(r, &jokes.v[i]);
    }
    for (i = 0; i < authors.n; i++)
        if (!authors.v[i].seen_stats && authors.v[i].total)
            mismatch(r, "author %s: no counters item", authors.v[i].name);
    for (i = 0; i < shards.n; i++)
        if (!shards.v[i].seen_stats && shards.v[i].total)
            mismatch(r, "GLOBAL shard %s: no item, %" PRIu64 " ratings belong there",
                     shards.v[i].name, shards.v[i].total);
    if (unique_sum != ever_rated)
        mismatch(r, "uniqueJokes sums to %" PRIu64 " over the shards; %zu jokes were ever rated",
                 unique_sum, ever_rated);
    if (unique_stored != ever_rated)
        mismatch(r, "%" PRIu64 " stats items carry statsVersion; %zu jokes were ever rated",
                 unique_stored, ever_rated);
    check_dashboard(r, &jokes, &authors, &global, ever_rated);
    rc = 0;
done:
    free(jokes.v);
    free(authors.v);
    free(shards.v);
    json_decref(ratings);
    json_decref(stats);
    return rc;
}

/* ---- the run -------------------------------------------------------------------- */

int dr_chaos_run(const dr_chaos_options *o, dr_chaos_summary *s)
{
    static const char *const writer_kinds[] = {
        "throttle", "cancel-throttle", "error500", "reset", "forward-then-reset",
        "delay:ms=2500", "forward-then-delay:ms=2500", "corrupt-crc"};
    static const char *const follower_kinds[] = {"throttle", "cancel-throttle", "error500",
                                                 "reset", "forward-then-reset", "corrupt-crc"};
    chaos_run run, *r = &run;
    pthread_t supervisor;
    int supervising = 0, status = -1, threads = o->threads;
    const char *endpoint = getenv("DR_TEST_ENDPOINT");
    char writer_faults[512], follower_faults[512];
    double started = now_seconds();
    long i;

    memset(r, 0, sizeof *r);
    memset(s, 0, sizeof *s);
    r->o = o;
    r->started = started;
    pthread_mutex_init(&r->lock, NULL);
    if (threads < 1 || threads > CHAOS_MAX_THREADS)
        threads = 8;
    if (!endpoint || !*endpoint) {
        fprintf(stderr, "chaos: DR_TEST_ENDPOINT (DynamoDB Local) is not set\n");
        return -1;
    }
    snprintf(r->endpoint, sizeof r->endpoint, "%s", endpoint);
    dr_test_unique_name(r->run_tag, sizeof r->run_tag, "chaos");
    snprintf(r->ratings_table, sizeof r->ratings_table, "%.100s-r", r->run_tag);
    snprintf(r->stats_table, sizeof r->stats_table, "%.100s-s", r->run_tag);
    /* Idempotency keys: A-Za-z0-9._:- only. */
    for (i = 0; r->run_tag[i]; i++)
        if (r->run_tag[i] == '-')
            r->run_tag[i] = '.';

    r->direct = make_client(r, r->endpoint, DR_AGGREGATION_INLINE, 0);
    if (!r->direct)
        goto cleanup;
    if (dr_client_create_tables(r->direct, DR_CREATE_TABLES_WAIT) != DR_OK) {
        fprintf(stderr, "chaos: create_tables: %s\n", dr_last_error_message());
        dr_client_free(r->direct);
        r->direct = NULL;
        goto cleanup;
    }
    /* The follower at half the rate: one of its rounds is a dozen requests or more, and
     * at 30% few rounds got through whole, so it spent the run backing off. */
    if (start_proxy(r, writer_kinds, sizeof writer_kinds / sizeof writer_kinds[0],
                    o->fault_rate, 2ul * o->seed + 1, &r->writer_proxy) != 0 ||
        start_proxy(r, follower_kinds, sizeof follower_kinds / sizeof follower_kinds[0],
                    o->fault_rate / 2, 2ul * o->seed + 2, &r->follower_proxy) != 0)
        goto cleanup;
    r->inline_client = make_client(r, r->writer_proxy.endpoint, DR_AGGREGATION_INLINE, 1);
    r->stream_client = make_client(r, r->writer_proxy.endpoint, DR_AGGREGATION_STREAM, 1);
    if (!r->inline_client || !r->stream_client)
        goto cleanup;
    r->child_env = follower_env(r);

    make_plan(r);
    if (pthread_create(&supervisor, NULL, supervisor_main, r) != 0)
        goto cleanup;
    supervising = 1;
    r->phase[0] = now_seconds();
    write_range(r, 0, r->n_plan, threads);
    r->phase[1] = now_seconds();
    if (change_ratings(r, s) != 0)
        goto cleanup;
    r->phase[2] = now_seconds();
    atomic_store(&r->stop_supervisor, 1);
    pthread_join(supervisor, NULL);
    supervising = 0;
    /* Drain through the faults (a few tries: at 30% a round of many requests rarely
     * gets through whole, and each failed round backs off), then without faults until
     * it exits 0: nothing may be left. */
    if (drain(r, CHAOS_FAULTED_DRAIN_TRIES) < 0 ||
        dr_test_proxy_set_rules(&r->follower_proxy, NULL) != 0)
        goto cleanup;
    if (drain(r, CHAOS_DRAIN_TRIES) != 0) {
        fprintf(stderr, "chaos: the follower did not drain the stream without faults\n");
        goto cleanup;
    }
    r->phase[3] = now_seconds();
    for (i = 0; i < r->n_plan; i++) {
        s->succeeded += r->plan[i].succeeded;
        s->attempted += r->plan[i].tried;
    }
    s->follower_kills = r->kills;
    if (check(r, s) != 0)
        goto cleanup;
    r->phase[4] = now_seconds();
    s->mismatches = r->mismatches;
    if (r->mismatches > CHAOS_SHOWN_MISMATCHES)
        printf("chaos: ... %ld more mismatches\n", r->mismatches - CHAOS_SHOWN_MISMATCHES);
    status = r->mismatches || s->lost || s->duplicated ? 1 : 0;

cleanup:
    if (supervising) {
        atomic_store(&r->stop_supervisor, 1);
        pthread_join(supervisor, NULL);
    }
    s->seconds = now_seconds() - started;
    format_faults(&r->writer_proxy, writer_faults, sizeof writer_faults);
    format_faults(&r->follower_proxy, follower_faults, sizeof follower_faults);
    printf("chaos %s shards=%u faults=%.0f%% (follower %.0f%%) follower=dr_follow: attempted %ld, succeeded %ld, "
           "stored %ld, lost %ld, duplicated %ld, unacknowledged-but-stored %ld, modified %ld, "
           "deleted %ld, aggregate mismatches %ld, follower kills %ld; writer faults %s; "
           "follower faults %s; caller retries by status:",
           mode_name(o->mode), (unsigned)o->shards, o->fault_rate * 100, o->fault_rate * 50,
           s->attempted, s->succeeded, s->stored,
           s->lost, s->duplicated, s->unacknowledged, s->modified, s->deleted, s->mismatches,
           s->follower_kills, writer_faults, follower_faults);
    for (i = 0; i < 32; i++)
        if (r->failures_by_status[i])
            printf(" %s=%ld", dr_strerror((dr_status)i), r->failures_by_status[i]);
    printf("; wall %.1f s", s->seconds);
    if (status >= 0)
        printf(" (setup %.1f, writes %.1f, changes %.1f, drain %.1f, check %.1f)",
               r->phase[0] - started, r->phase[1] - r->phase[0], r->phase[2] - r->phase[1],
               r->phase[3] - r->phase[2], r->phase[4] - r->phase[3]);
    printf("%s\n", status < 0 ? " (RUN NOT COMPLETED)" : "");
    fflush(stdout);
    dr_test_proxy_stop(&r->writer_proxy);
    dr_test_proxy_stop(&r->follower_proxy);
    dr_client_free(r->inline_client);
    dr_client_free(r->stream_client);
    if (r->direct) {
        delete_table(r->direct, r->ratings_table);
        delete_table(r->direct, r->stats_table);
        dr_client_free(r->direct);
    }
    free_env(r->child_env);
    free(r->plan);
    pthread_mutex_destroy(&r->lock);
    return status;
}
