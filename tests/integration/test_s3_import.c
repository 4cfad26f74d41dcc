/* The S3 side of the import against a real S3-compatible server (issue 13): s3rver, started
 * and stopped around this test by tests/integration/with-s3-local.sh. The test fills a bucket with the old app's layout through the library's own
 * PutObject (signed for s3 with the payload's hash), then reads it back through the S3
 * source as the import will: AWS_ENDPOINT_URL_S3, path-style addressing, ListObjectsV2
 * pages, a start-after checkpoint, GetObject, the layout and the payload parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client.h"
#include "layout.h"
#include "payload.h"
#include "s3.h"
#include "sigv4.h"
#include "source.h"

#define BUCKET "old-ratings"
#define N_JOKES 9
#define PER_JOKE 3
#define PAGE 7

typedef struct fixture {
    dr_client *client;
    dr_s3_client s3;      /* for filling the bucket */
    char keys[64][128];   /* every object under the prefix, as put */
    size_t key_count;
    int stars_sum;        /* of the valid entries put */
    size_t valid, malformed;
} fixture;

static fixture g;

static dr_client *client_with(const char *access_key, const char *secret)
{
    dr_config *config;
    dr_client *client;
    assert_int_equal(dr_config_new(&config), DR_OK);
    assert_int_equal(dr_config_set_region(config, "us-east-1"), DR_OK);
    assert_int_equal(dr_config_set_credentials(config, access_key, secret, NULL), DR_OK);
    /* DynamoDB's endpoint is never called here; S3's comes from AWS_ENDPOINT_URL_S3. */
    assert_int_equal(dr_config_set_endpoint(config, "http://127.0.0.1:9"), DR_OK);
    assert_int_equal(dr_config_set_max_attempts(config, 1), DR_OK);
    if (dr_client_new(&client, config) != DR_OK)
        fail_msg("dr_client_new: %s", dr_last_error_message());
    dr_config_free(config);
    return client;
}

static void put(const char *key, const char *body, int under_prefix)
{
    if (dr__s3_put_object(&g.s3, BUCKET, key, body, strlen(body)) != DR_OK)
        fail_msg("PutObject %s: %s", key, dr_last_error_message());
    if (under_prefix)
        snprintf(g.keys[g.key_count++], sizeof g.keys[0], "%s", key);
}

static int compare(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int setup(void **state)
{
    const char *endpoint = getenv("DR_TEST_S3_ENDPOINT");
    char key[128], body[256];
    int j, i;
    (void)state;
    if (!endpoint || !*endpoint) {
        fprintf(stderr, "DR_TEST_S3_ENDPOINT is not set: run through "
                        "tests/integration/with-s3-local.sh (ctest does)\n");
        return -1;
    }
    setenv("AWS_ENDPOINT_URL_S3", endpoint, 1);
    setenv("AWS_CONFIG_FILE", "/dev/null", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
    g.client = client_with("S3RVER", "S3RVER");
    g.s3.endpoint = endpoint;
    g.s3.region = "us-east-1";
    g.s3.path_style = 1;
    g.s3.credentials = g.client->credentials;
    if (dr__sigv4_signer_new(&g.s3.signer) != DR_OK)
        return -1;

    /* The old tree: live/<joke>/<object> and daily/<date>/<joke>/<object>, one rating per
     * object as the old app wrote them, with a few arrays, {entries} and broken ones. */
    for (j = 0; j < N_JOKES; j++) {
        for (i = 0; i < PER_JOKE; i++) {
            int stars = 1 + (j + i) % 5;
            if (j % 2)
                snprintf(key, sizeof key, "ratings/live/joke-%d/%d-%d.json", j, j, i);
            else
                snprintf(key, sizeof key, "ratings/daily/2026-01-%02d/joke-%d/%d-%d.json",
                         1 + i, j, j, i);
            snprintf(body, sizeof body, "{\"rating\":\"%d\",\"joke\":\"Joke %d\",\"author\":"
                     "\"Author %d\",\"submittedAt\":\"2026-01-0%dT10:00:00.000Z\"}", stars, j,
                     j % 3, 1 + i);
            put(key, body, 1);
            g.stars_sum += stars;
            g.valid++;
        }
    }
    put("ratings/live/joke 10/ä b+c.json", "[{\"rating\":5},{\"rating\":9},{\"rating\":2}]", 1);
    g.stars_sum += 7, g.valid += 2, g.malformed++;
    put("ratings/live/joke-11/e.json", "{\"entries\":[{\"rating\":4,\"jokeId\":\"j-11\"}]}", 1);
    g.stars_sum += 4, g.valid++;
    put("ratings/live/joke-12/broken.json", "{\"rating\": 4", 1);
    g.malformed++;
    put("ratings/notes.txt", "not a rating", 1); /* outside the layout: skipped */
    put("elsewhere/live/joke-1/x.json", "{\"rating\":1}", 0);
    qsort(g.keys, g.key_count, sizeof g.keys[0], compare);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dr__sigv4_signer_free(g.s3.signer);
    dr_client_free(g.client);
    return 0;
}

static dr_source *open_source(dr_client *client)
{
    dr_source_options opts;
    dr_source *src;
    memset(&opts, 0, sizeof opts);
    opts.location = "s3://" BUCKET "/ratings";
    opts.page_size = PAGE;
    if (dr__source_open(client, &opts, &src) != DR_OK)
        fail_msg("open: %s", dr_last_error_message());
    return src;
}

static void test_list_pages_and_read(void **state)
{
    dr_source *src = open_source(g.client);
    dr_s3_list_page page = DR_S3_LIST_PAGE_INIT;
    dr_payload payload = DR_PAYLOAD_INIT;
    dr_buf body = DR_BUF_INIT;
    dr_layout *layout;
    size_t seen = 0, pages = 0, valid = 0, rejected = 0, skipped = 0, i;
    int stars = 0;
    (void)state;

    assert_string_equal(dr__source_endpoint(src), getenv("DR_TEST_S3_ENDPOINT"));
    assert_true(dr__source_path_style(src));
    assert_int_equal(dr__layout_parse(NULL, &layout), DR_OK);
    do {
        if (dr__source_next_page(src, &page) != DR_OK)
            fail_msg("list: %s", dr_last_error_message());
        assert_true(page.count <= PAGE);
        pages++;
        for (i = 0; i < page.count; i++) {
            const char *key = page.objects[i].key;
            dr_key_fields fields;
            assert_true(seen < g.key_count);
            assert_string_equal(key, g.keys[seen++]);
            assert_int_equal(strlen(page.objects[i].last_modified), 24); /* ...T..:..:...000Z */
            if (!dr__layout_match(layout, dr__source_relative_key(src, key), &fields)) {
                skipped++;
                continue;
            }
            if (dr__source_get(src, key, DR_PAYLOAD_MAX_BYTES, &body) != DR_OK)
                fail_msg("get %s: %s", key, dr_last_error_message());
            assert_int_equal(body.len, page.objects[i].size);
            assert_int_equal(dr__payload_parse(key, &fields, body.data, body.len, &payload),
                             DR_OK);
            for (size_t e = 0; e < payload.count; e++)
                stars += payload.entries[e].stars;
            valid += payload.count;
            rejected += payload.reject_count;
        }
    } while (page.is_truncated);
    assert_int_equal(seen, g.key_count);
    assert_int_equal(pages, (g.key_count + PAGE - 1) / PAGE);
    assert_int_equal(skipped, 1);
    assert_int_equal(valid, g.valid);
    assert_int_equal(rejected, g.malformed);
    assert_int_equal(stars, g.stars_sum);
    printf("s3 import read: %zu objects in %zu pages, %zu entries, %zu rejected, %zu skipped\n",
           seen, pages, valid, rejected, skipped);

    /* A checkpoint: the listing resumes after the tenth key. */
    assert_int_equal(dr__source_start_after(src, g.keys[9]), DR_OK);
    seen = 10;
    do {
        assert_int_equal(dr__source_next_page(src, &page), DR_OK);
        for (i = 0; i < page.count; i++)
            assert_string_equal(page.objects[i].key, g.keys[seen++]);
    } while (page.is_truncated);
    assert_int_equal(seen, g.key_count);

    assert_int_equal(dr__source_get(src, "ratings/live/none.json", 1024, &body), DR_E_NOT_FOUND);
    assert_non_null(strstr(dr_last_error_message(), "NoSuchKey"));
    assert_int_equal(dr__source_get(src, g.keys[0], 4, &body), DR_E_PROTOCOL);

    dr__payload_free(&payload);
    dr__buf_free(&body);
    dr__s3_list_page_free(&page);
    dr__layout_free(layout);
    dr__source_free(src);
}

static void test_refusals(void **state)
{
    /* s3rver checks the access key of a V4 signature, not the signature itself
     * (its lib/middleware/authentication.js): the signature's correctness is the SigV4
     * suite's and the differential test's to prove. */
    dr_client *wrong = client_with("AKIDUNKNOWN", "not-the-secret-0123456789");
    dr_source *src = open_source(wrong);
    dr_s3_list_page page = DR_S3_LIST_PAGE_INIT;
    dr_source_options opts;
    (void)state;
    assert_int_equal(dr__source_next_page(src, &page), DR_E_AUTH);
    assert_non_null(strstr(dr_last_error_message(), "HTTP 403 InvalidAccessKeyId"));
    assert_null(strstr(dr_last_error_message(), "not-the-secret"));
    dr__source_free(src);
    dr_client_free(wrong);

    memset(&opts, 0, sizeof opts);
    opts.location = "s3://no-such-bucket-here";
    assert_int_equal(dr__source_open(g.client, &opts, &src), DR_OK);
    assert_int_equal(dr__source_next_page(src, &page), DR_E_NOT_FOUND);
    assert_non_null(strstr(dr_last_error_message(), "NoSuchBucket"));
    dr__source_free(src);
    dr__s3_list_page_free(&page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_pages_and_read),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
