#include "creds_sandbox.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "credentials_chain.h"
#include "credentials_provider.h"
#include "sigv4.h"

static const char *const managed_vars[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "AWS_REGION",
    "AWS_DEFAULT_REGION", "HOME",
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
    "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_ACCOUNT_ID",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME", "AWS_ENDPOINT_URL_STS"};
#define N_VARS (sizeof managed_vars / sizeof managed_vars[0])

static char *saved[N_VARS];
static char tempdir[256];
static char written[64][300];
static int written_count;

int sandbox_setup(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < N_VARS; i++) {
        const char *v = getenv(managed_vars[i]);
        saved[i] = v ? strdup(v) : NULL;
        unsetenv(managed_vars[i]);
    }
    snprintf(tempdir, sizeof tempdir, "/tmp/dr-creds-XXXXXX");
    if (!mkdtemp(tempdir))
        return -1;
    written_count = 0;
    setenv("HOME", tempdir, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", sandbox_path("credentials"), 1);
    setenv("AWS_CONFIG_FILE", sandbox_path("config"), 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    dr__credentials_set_refresh_timing(-1, -1);
    return 0;
}

int sandbox_teardown(void **state)
{
    size_t i;
    int j;
    (void)state;
    for (j = 0; j < written_count; j++)
        unlink(written[j]);
    rmdir(tempdir);
    for (i = 0; i < N_VARS; i++) {
        if (saved[i])
            setenv(managed_vars[i], saved[i], 1);
        else
            unsetenv(managed_vars[i]);
        free(saved[i]);
        saved[i] = NULL;
    }
    dr__credentials_set_refresh_timing(-1, -1);
    return 0;
}

const char *sandbox_path(const char *name)
{
    static char slots[4][300];
    static int next;
    char *p = slots[next++ % 4];
    snprintf(p, 300, "%s/%s", tempdir, name);
    return p;
}

const char *sandbox_write(const char *name, const char *content)
{
    const char *path = sandbox_path(name);
    FILE *f = fopen(path, "wb");
    int j;
    if (!f)
        abort();
    fputs(content, f);
    fclose(f);
    for (j = 0; j < written_count; j++)
        if (strcmp(written[j], path) == 0)
            return path;
    if (written_count < 64)
        snprintf(written[written_count++], sizeof written[0], "%s", path);
    return path;
}

void sandbox_iso8601(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void creds_source_handler(const mini_http_request *req, int *status, char *body, size_t cap,
                          void *payload)
{
    creds_source *src = payload;
    int n = atomic_fetch_add(&src->served, 1) + 1;
    char expiration[64] = "";
    (void)req;
    if (src->lifetime_s) {
        char iso[32];
        sandbox_iso8601((int64_t)time(NULL) + src->lifetime_s, iso, sizeof iso);
        snprintf(expiration, sizeof expiration, ",\"Expiration\":\"%s\"", iso);
    }
    snprintf(body, cap, "{\"Code\":\"Success\",\"AccessKeyId\":\"%s%d\","
             "\"SecretAccessKey\":\"%s\",\"Token\":\"%s\"%s}",
             src->access_key_prefix ? src->access_key_prefix : "ASIATEST", n,
             src->secret ? src->secret : "test-secret", src->token ? src->token : "test-token",
             expiration);
    *status = 200;
}

void sandbox_script_imds(mini_http *s, creds_source *src)
{
    mini_http_respond(s, "PUT", "/latest/api/token", 200, "TOKEN-1");
    mini_http_require_header(s, "PUT", "/latest/api/token",
                             "X-aws-ec2-metadata-token-ttl-seconds", NULL);
    mini_http_respond(s, "GET", "/latest/meta-data/iam/security-credentials/", 200,
                      "test-role\n");
    mini_http_require_header(s, "GET", "/latest/meta-data/iam/security-credentials/",
                             "X-aws-ec2-metadata-token", "TOKEN-1");
    mini_http_handle(s, "GET", "/latest/meta-data/iam/security-credentials/test-role",
                     creds_source_handler, src);
    mini_http_require_header(s, "GET", "/latest/meta-data/iam/security-credentials/test-role",
                             "X-aws-ec2-metadata-token", "TOKEN-1");
}

dr_status sandbox_profile_credentials(const char *profile, dr_credentials **out)
{
    dr_provider_context ctx = {0};
    char id[DR_CREDENTIAL_SOURCE_MAX];
    ctx.profile = profile;
    ctx.profile_named = 1;
    ctx.region = "us-east-1";
    return dr__credentials_from_profile(&ctx, out, id, sizeof id);
}

int sandbox_time_scale(void)
{
    const char *v = getenv("DR_TEST_TIME_SCALE");
    int scale = v ? atoi(v) : 1;
    return scale >= 1 && scale <= 20 ? scale : 1;
}

typedef struct signing_worker {
    pthread_t thread;
    dr_credentials_chain *chain;
    dr_sigv4_signer *signer;
    time_t end;
    long calls, failures, expired, sign_failures;
    char first_error[1024];
} signing_worker;

static void *sign_until_end(void *arg)
{
    signing_worker *w = arg;
    while (time(NULL) < w->end) {
        dr_http_request req = DR_HTTP_REQUEST_INIT;
        dr_sigv4_params p = {0};
        dr_credentials *c = NULL;
        int64_t before = (int64_t)time(NULL);
        w->calls++;
        if (dr__credentials_chain_get(w->chain, &c) != DR_OK) {
            if (!w->failures++)
                snprintf(w->first_error, sizeof w->first_error, "%s", dr_last_error_message());
            continue;
        }
        if (c->expires_at <= before)
            w->expired++;
        req.method = "POST";
        req.url = "https://dynamodb.us-east-1.amazonaws.com/";
        req.body = "{}";
        req.body_len = 2;
        p.creds = c;
        p.region = "us-east-1";
        p.service = "dynamodb";
        p.unix_time = before;
        if (dr__http_request_set_header(&req, "host", "dynamodb.us-east-1.amazonaws.com") !=
                DR_OK ||
            dr__sigv4_sign_http(w->signer, &p, &req) != DR_OK)
            w->sign_failures++;
        dr__http_request_free(&req);
        dr__credentials_release(c);
    }
    return NULL;
}

long sandbox_sign_under_load(dr_credentials_chain *chain, int threads, int run_s)
{
    signing_worker *workers = calloc((size_t)threads, sizeof *workers);
    dr_sigv4_signer *signer = NULL;
    time_t end = time(NULL) + run_s;
    long calls = 0;
    int i;

    assert_non_null(workers);
    assert_int_equal(dr__sigv4_signer_new(&signer), DR_OK);
    for (i = 0; i < threads; i++) {
        workers[i].chain = chain;
        workers[i].signer = signer;
        workers[i].end = end;
        assert_int_equal(pthread_create(&workers[i].thread, NULL, sign_until_end, &workers[i]),
                         0);
    }
    for (i = 0; i < threads; i++) {
        assert_int_equal(pthread_join(workers[i].thread, NULL), 0);
        if (workers[i].failures)
            fail_msg("thread %d: %ld of %ld calls failed, first: %s", i, workers[i].failures,
                     workers[i].calls, workers[i].first_error);
        if (workers[i].expired || workers[i].sign_failures)
            fail_msg("thread %d: %ld calls got expired credentials, %ld signings failed", i,
                     workers[i].expired, workers[i].sign_failures);
        calls += workers[i].calls;
    }
    dr__sigv4_signer_free(signer);
    free(workers);
    return calls;
}
