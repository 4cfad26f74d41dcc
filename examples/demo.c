/* The library's main job on the local stack: create the tables, store a handful of
 * ratings across jokes and authors, then print one joke's statistics and the dashboard
 * as JSON (inline mode). Then the same in stream mode: ratings written with one PutItem
 * each, and the follower applying the table's stream to the stats. Uses only the public
 * header.
 *
 * Configuration comes from the environment as with the AWS SDKs: AWS_ENDPOINT_URL_DYNAMODB
 * (e.g. http://127.0.0.1:8000 for DynamoDB Local), AWS_REGION, AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, DYNAMODB_RATINGS_TABLE and DYNAMODB_STATS_TABLE. */
#include <stdio.h>

#include <dadratings.h>

struct sample {
    const char *joke_id;
    const char *joke;
    const char *author;
    int stars[5];
};

static const struct sample samples[] = {
    {"scarecrow", "Why did the scarecrow win an award? He was outstanding in his field.",
     "Fatherhood.gov", {5, 4, 5, 5, 4}},
    {"skeleton", "Why don't skeletons fight each other? They don't have the guts.",
     "Fatherhood.gov", {3, 4, 2, 0, 0}},
    {"cheese", "What do you call cheese that isn't yours? Nacho cheese.", "icanhazdadjoke",
     {5, 5, 3, 4, 0}},
    {"calendar", "I'm reading a book about anti-gravity. It's impossible to put down.",
     "icanhazdadjoke", {2, 1, 0, 0, 0}},
    {"coffee", "How does a penguin build its house? Igloos it together.", NULL, {4, 0, 0, 0, 0}},
};

static int fail(const char *what, dr_status rc)
{
    fprintf(stderr, "%s: %s: %s\n", what, dr_strerror(rc), dr_last_error_message());
    return 1;
}

static int write_samples(dr_client *client)
{
    size_t i, k;
    for (i = 0; i < sizeof samples / sizeof *samples; i++) {
        for (k = 0; k < 5 && samples[i].stars[k]; k++) {
            dr_rating *rating = NULL;
            dr_status rc = dr_rating_new(&rating, samples[i].joke_id, samples[i].stars[k]);
            if (rc == DR_OK)
                rc = dr_rating_set_joke_text(rating, samples[i].joke);
            if (rc == DR_OK && samples[i].author)
                rc = dr_rating_set_author(rating, samples[i].author);
            if (rc == DR_OK)
                rc = dr_rating_set_mode(rating, k % 2 ? "daily" : "live");
            if (rc == DR_OK)
                rc = dr_client_write_rating(client, rating, NULL);
            dr_rating_free(rating);
            if (rc != DR_OK)
                return fail("write_rating", rc);
        }
    }
    return 0;
}

static int print_json(const char *title, dr_status rc, char *json)
{
    if (rc != DR_OK)
        return fail(title, rc);
    printf("%s:\n%s\n", title, json);
    dr_free(json);
    return 0;
}

/* Stream mode on its own pair of tables: the submit's result is flagged pending until
 * the follower has applied the stream. */
static int stream_mode_demo(void)
{
    dr_config *config = NULL;
    dr_client *client = NULL;
    dr_follower *follower = NULL;
    dr_rating *rating = NULL;
    dr_stats *stats = NULL;
    char *json = NULL;
    uint64_t seen = 0, total = 0;
    int stars[] = {5, 3, 4}, status = 1;
    size_t i;
    dr_status rc;

    if ((rc = dr_config_new(&config)) != DR_OK ||
        (rc = dr_config_set_ratings_table(config, "demo-stream-ratings")) != DR_OK ||
        (rc = dr_config_set_stats_table(config, "demo-stream-stats")) != DR_OK ||
        (rc = dr_config_set_aggregation_mode(config, DR_AGGREGATION_STREAM)) != DR_OK ||
        (rc = dr_client_new(&client, config)) != DR_OK ||
        (rc = dr_client_create_tables(client, DR_CREATE_TABLES_WAIT)) != DR_OK) {
        fail("stream mode setup", rc);
        goto done;
    }
    for (i = 0; i < sizeof stars / sizeof *stars; i++) {
        dr_stats_free(stats);
        stats = NULL;
        dr_rating_free(rating);
        rating = NULL;
        if ((rc = dr_rating_new(&rating, "scarecrow", stars[i])) != DR_OK ||
            (rc = dr_client_write_rating(client, rating, &stats)) != DR_OK) {
            fail("stream mode write_rating", rc);
            goto done;
        }
    }
    rc = dr_stats_to_json(stats, &json);
    if (print_json("stream mode: write_rating's result (pending: the stream is not applied yet)",
                   rc, json) != 0)
        goto done;
    if ((rc = dr_follower_new(&follower, client)) != DR_OK) {
        fail("follower", rc);
        goto done;
    }
    do { /* until a round finds nothing new */
        if ((rc = dr_follower_poll(follower, &seen)) != DR_OK) {
            fail("follower", rc);
            goto done;
        }
        total += seen;
    } while (seen);
    printf("stream mode: the follower applied %llu stream records\n", (unsigned long long)total);
    dr_stats_free(stats);
    stats = NULL;
    if ((rc = dr_client_read_stats(client, "scarecrow", &stats)) != DR_OK) {
        fail("stream mode read_stats", rc);
        goto done;
    }
    rc = dr_stats_to_json(stats, &json);
    status = print_json("stream mode: read_stats(\"scarecrow\") after the follower", rc, json);
done:
    dr_follower_free(follower);
    dr_stats_free(stats);
    dr_rating_free(rating);
    dr_client_free(client);
    dr_config_free(config);
    return status;
}

int main(void)
{
    dr_client *client = NULL;
    dr_stats *stats = NULL;
    dr_dashboard *dashboard = NULL;
    char *json = NULL;
    dr_status rc;
    int status = 1;

    printf("libdadratings %s\n", dr_version());
    if ((rc = dr_client_new(&client, NULL)) != DR_OK)
        return fail("client", rc);
    if ((rc = dr_client_create_tables(client, DR_CREATE_TABLES_WAIT)) != DR_OK) {
        fail("create_tables", rc);
        goto done;
    }
    if (write_samples(client) != 0)
        goto done;

    if ((rc = dr_client_read_stats(client, "scarecrow", &stats)) != DR_OK) {
        fail("read_stats", rc);
        goto done;
    }
    rc = dr_stats_to_json(stats, &json);
    if (print_json("read_stats(\"scarecrow\")", rc, json) != 0)
        goto done;

    if ((rc = dr_client_dashboard_stats(client, &dashboard)) != DR_OK) {
        fail("dashboard_stats", rc);
        goto done;
    }
    rc = dr_dashboard_to_json(dashboard, &json);
    if (print_json("dashboard_stats()", rc, json) != 0)
        goto done;
    status = stream_mode_demo();
done:
    dr_dashboard_free(dashboard);
    dr_stats_free(stats);
    dr_client_free(client);
    return status;
}
