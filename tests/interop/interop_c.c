/* The C side of tests/interop: writes ratings and prints results as the library's JSON,
 * through the public header only. Configured from the environment (AWS_ENDPOINT_URL_DYNAMODB,
 * AWS_REGION, credentials, DYNAMODB_RATINGS_TABLE, DYNAMODB_STATS_TABLE).
 *
 *   dr_interop_c write JOKE_ID STARS AUTHOR MODE DATE TEXT   prints the returned stats
 *   dr_interop_c stats JOKE_ID...                            one stats JSON per line
 *   dr_interop_c dashboard                                   the dashboard JSON
 *
 * An empty AUTHOR, MODE, DATE or TEXT leaves that field unset. Exit status 0 on success, 1
 * with "function: strerror: message" on stderr otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dadratings.h>

static int fail(const char *what, dr_status rc)
{
    fprintf(stderr, "%s: %s: %s\n", what, dr_strerror(rc), dr_last_error_message());
    return 1;
}

static int print_stats(const char *what, dr_status rc, dr_stats *stats)
{
    char *json = NULL;
    if (rc == DR_OK)
        rc = dr_stats_to_json(stats, &json);
    dr_stats_free(stats);
    if (rc != DR_OK)
        return fail(what, rc);
    printf("%s\n", json);
    dr_free(json);
    return 0;
}

static dr_status set_opt(dr_status rc, dr_rating *r, dr_status (*set)(dr_rating *, const char *),
                         const char *value)
{
    return rc == DR_OK && *value ? set(r, value) : rc;
}

static int cmd_write(dr_client *client, char **a)
{
    dr_rating *rating = NULL;
    dr_stats *stats = NULL;
    dr_status rc = dr_rating_new(&rating, a[0], (int32_t)atoi(a[1]));
    rc = set_opt(rc, rating, dr_rating_set_author, a[2]);
    rc = set_opt(rc, rating, dr_rating_set_mode, a[3]);
    rc = set_opt(rc, rating, dr_rating_set_date, a[4]);
    rc = set_opt(rc, rating, dr_rating_set_joke_text, a[5]);
    if (rc == DR_OK)
        rc = dr_client_write_rating(client, rating, &stats);
    else
        fail("rating", rc);
    dr_rating_free(rating);
    return print_stats("write_rating", rc, stats);
}

int main(int argc, char **argv)
{
    dr_client *client = NULL;
    dr_status rc;
    int status = 2, i;

    if (argc < 2) {
        fprintf(stderr, "usage: %s write|stats|dashboard ARGS...\n", argv[0]);
        return 2;
    }
    if ((rc = dr_client_new(&client, NULL)) != DR_OK)
        return fail("dr_client_new", rc);
    if (!strcmp(argv[1], "write") && argc == 8) {
        status = cmd_write(client, argv + 2);
    } else if (!strcmp(argv[1], "stats") && argc >= 3) {
        status = 0;
        for (i = 2; i < argc && status == 0; i++) {
            dr_stats *stats = NULL;
            rc = dr_client_read_stats(client, argv[i], &stats);
            status = print_stats("read_stats", rc, stats);
        }
    } else if (!strcmp(argv[1], "dashboard") && argc == 2) {
        dr_dashboard *dashboard = NULL;
        char *json = NULL;
        rc = dr_client_dashboard_stats(client, &dashboard);
        if (rc == DR_OK)
            rc = dr_dashboard_to_json(dashboard, &json);
        dr_dashboard_free(dashboard);
        if (rc != DR_OK) {
            status = fail("dashboard_stats", rc);
        } else {
            printf("%s\n", json);
            dr_free(json);
            status = 0;
        }
    } else {
        fprintf(stderr, "%s: bad arguments\n", argv[0]);
    }
    dr_client_free(client);
    return status;
}
