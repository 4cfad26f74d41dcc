/* Client instructions per operation, counted by callgrind (repeatable on a noisy machine,
 * unlike time): N calls of one operation against DynamoDB Local, on tables holding 30
 * ratings of 10 jokes and 4 authors (so the dashboard has its 20 recent ratings).
 *
 * Usage: valgrind --tool=callgrind --toggle-collect=dr_client_read_stats \
 *            bench_instructions --op read [--calls N] [--endpoint URL]
 *   --op read (dr_client_read_stats), dashboard (dr_client_dashboard_stats) or many
 *   (dr_client_read_stats_many of the 10 jokes); N defaults to 200. Then instructions
 *   per call = the "Collected" Ir of callgrind_annotate / N. The tables are created first
 *   and deleted at the end, outside the collected function. Exit status 1 on a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ddb.h"
#include "dadratings.h"

static void die(const char *what)
{
    fprintf(stderr, "bench_instructions: %s: %s\n", what, dr_last_error_message());
    exit(1);
}

int main(int argc, char **argv)
{
    const char *endpoint = getenv("DR_TEST_ENDPOINT"), *op = "read";
    static char ids[10][16];
    const char *list[10];
    char ratings[64], stats[64];
    dr_config *cfg = NULL;
    dr_client *c = NULL;
    long calls = 200, i;
    int j;

    for (j = 1; j < argc; j++) {
        if (!strcmp(argv[j], "--endpoint") && j + 1 < argc)
            endpoint = argv[++j];
        else if (!strcmp(argv[j], "--op") && j + 1 < argc)
            op = argv[++j];
        else if (!strcmp(argv[j], "--calls") && j + 1 < argc)
            calls = atol(argv[++j]);
        else {
            fprintf(stderr, "usage: bench_instructions --op read|dashboard|many [--calls N] "
                            "[--endpoint URL]\n");
            return 2;
        }
    }
    if (!endpoint || calls < 1 || (strcmp(op, "read") && strcmp(op, "dashboard") &&
                                   strcmp(op, "many"))) {
        fprintf(stderr, "bench_instructions: give --op read|dashboard|many and an endpoint\n");
        return 2;
    }
    snprintf(ratings, sizeof ratings, "bench-ins-r-%ld", (long)getpid());
    snprintf(stats, sizeof stats, "bench-ins-s-%ld", (long)getpid());
    if (dr_config_new(&cfg) != DR_OK || dr_config_set_region(cfg, "us-east-1") != DR_OK ||
        dr_config_set_endpoint(cfg, endpoint) != DR_OK ||
        dr_config_set_credentials(cfg, "AKIDLOCALBENCH", "bench-secret", NULL) != DR_OK ||
        dr_config_set_ratings_table(cfg, ratings) != DR_OK ||
        dr_config_set_stats_table(cfg, stats) != DR_OK || dr_client_new(&c, cfg) != DR_OK ||
        dr_client_create_tables(c, DR_CREATE_TABLES_WAIT) != DR_OK)
        die("setup");
    dr_config_free(cfg);
    for (j = 0; j < 10; j++) {
        snprintf(ids[j], sizeof ids[j], "ins-%d", j);
        list[j] = ids[j];
    }
    for (j = 0; j < 30; j++) {
        static const char *const authors[] = {"Ann", "Bob", "Cid", "Dee"};
        dr_rating *r = NULL;
        if (dr_rating_new(&r, ids[j % 10], j % 5 + 1) != DR_OK ||
            dr_rating_set_author(r, authors[j % 4]) != DR_OK ||
            dr_rating_set_joke_text(r, "Why did the scarecrow win an award?") != DR_OK ||
            dr_client_write_rating(c, r, NULL) != DR_OK)
            die("write_rating");
        dr_rating_free(r);
    }
    for (i = 0; i < calls; i++) {
        if (!strcmp(op, "read")) {
            dr_stats *s = NULL;
            if (dr_client_read_stats(c, ids[i % 10], &s) != DR_OK)
                die("read_stats");
            dr_stats_free(s);
        } else if (!strcmp(op, "many")) {
            dr_stats *out[10];
            if (dr_client_read_stats_many(c, list, 10, out) != DR_OK)
                die("read_stats_many");
            for (j = 0; j < 10; j++)
                dr_stats_free(out[j]);
        } else {
            dr_dashboard *d = NULL;
            if (dr_client_dashboard_stats(c, &d) != DR_OK)
                die("dashboard_stats");
            dr_dashboard_free(d);
        }
    }
    {
        const char *tables[2] = {ratings, stats};
        for (j = 0; j < 2; j++) {
            json_t *req = json_pack("{s:s}", "TableName", tables[j]);
            (void)dr__ddb_call(c, "DeleteTable", req, NULL, NULL);
            json_decref(req);
        }
    }
    dr_client_free(c);
    printf("bench_instructions: %ld calls of %s\n", calls, op);
    return 0;
}
