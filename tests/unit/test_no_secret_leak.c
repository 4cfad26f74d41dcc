/* No secret in any error message or log line. A recognisable secret key and session
 * token are planted everywhere a secret can come from (configuration, environment,
 * shared files, container token, metadata responses, credential_process output, the SSO
 * token cache and portal), every reachable error path is driven, and everything the
 * library said is searched for them.
 *
 * To add a case: write `static void case_x(void)` that provokes failures, calling
 * check(rc) after each fallible call (it records dr_last_error_message()) and using
 * leak_log / leak_log_config() so log lines are captured too; then add it to `cases`.
 * The harness sandboxes the environment and does the searching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pthread.h>

#include <cmocka.h>

#include "creds_sandbox.h"
#include "credentials_chain.h"
#include "resolve.h"
#include "credentials_provider.h"
#include "dadratings.h"
#include "http.h"
#include "mini_http.h"
#include "sts.h"

/* Distinctive enough that a substring match on the first 12 characters is proof. */
#define SECRET "SECRETSECRETSECRETSECRETSECRETSECRET0123"
#define TOKEN "TOKENTOKENTOKENTOKENTOKENTOKENTOKENTOKEN4567"
#define CREDS_JSON_WITH_SECRETS                                                            \
    "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIALEAK\",\"SecretAccessKey\":\"" SECRET    \
    "\",\"Token\":\"" TOKEN "\",\"Expiration\":\"2001-01-01T00:00:00Z\"}"

/* Everything said during one case. The log callback runs on whichever thread logs,
 * several at once (dashboard_stats reads on four threads), hence the lock. */
static char *g_said;
static size_t g_said_len;
static pthread_mutex_t g_said_lock = PTHREAD_MUTEX_INITIALIZER;

static void say(const char *what, const char *text)
{
    size_t n = strlen(what) + strlen(text) + 3;
    pthread_mutex_lock(&g_said_lock);
    g_said = realloc(g_said, g_said_len + n + 1);
    if (g_said)
        g_said_len += (size_t)snprintf(g_said + g_said_len, n + 1, "%s: %s\n", what, text);
    pthread_mutex_unlock(&g_said_lock);
    assert_non_null(g_said);
}

static void leak_log(dr_log_level level, const char *message, void *payload)
{
    (void)level;
    (void)payload;
    say("log", message);
}

/* Record the message of a failed call (and of a successful one: harmless). */
static void check(dr_status rc)
{
    if (rc != DR_OK)
        say("error", dr_last_error_message());
}

/* Chain options that log everything. */
static dr_credentials_options leak_chain_options(void)
{
    dr_credentials_options opts = {0};
    opts.log.fn = leak_log;
    opts.log.level = DR_LOG_DEBUG;
    opts.metadata_timeout_ms = 300;
    return opts;
}

/* Resolve once through a fresh chain; record what it said. */
static void resolve_once(dr_credentials_options opts)
{
    dr_credentials_chain *chain = NULL;
    dr_credentials *c = NULL;
    check(dr__credentials_chain_new(&chain, &opts));
    if (chain)
        check(dr__credentials_chain_get(chain, &c));
    dr__credentials_release(c);
    dr__credentials_chain_free(chain);
}

static void plant_env_secrets(void)
{
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    setenv("AWS_SESSION_TOKEN", TOKEN, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", TOKEN, 1);
}

/* ---- cases --------------------------------------------------------------------- */

static void case_config_and_client(void)
{
    dr_config *cfg = NULL;
    dr_client *client = NULL;
    check(dr_config_new(&cfg));
    check(dr_config_set_log(cfg, leak_log, DR_LOG_DEBUG, NULL));
    check(dr_config_set_credentials(cfg, NULL, SECRET, TOKEN));
    check(dr_config_set_credentials(cfg, "AKID", NULL, TOKEN));
    check(dr_config_set_credentials(cfg, "AKID", SECRET, TOKEN));
    check(dr_config_set_endpoint(cfg, "http://user:" SECRET "@example.com/"));
    check(dr_config_set_endpoint(cfg, "ftp://" TOKEN));
    check(dr_config_set_region(cfg, SECRET));
    check(dr_config_set_profile(cfg, "no-such-profile"));
    /* Missing region, then a bad endpoint from the environment. */
    check(dr_client_new(&client, cfg));
    dr_client_free(client);
    client = NULL;
    check(dr_config_set_region(cfg, "eu-west-1"));
    /* The endpoint is configuration, not a secret: messages may quote it. */
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://example.com/", 1);
    check(dr_client_new(&client, cfg));
    dr_client_free(client);
    client = NULL;
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1/path", 1);
    check(dr_client_new(&client, cfg));
    dr_client_free(client);
    client = NULL;
    /* A client that comes up logs its settings. */
    unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
    check(dr_client_new(&client, cfg));
    dr_client_free(client);
    dr_config_free(cfg);
}

static void case_region(void)
{
    char *region = NULL;
    setenv("AWS_REGION", SECRET "/x", 1);
    check(dr__resolve_region(NULL, NULL, &region));
    unsetenv("AWS_REGION");
    sandbox_write("config", "[default]\nregion = " TOKEN ".evil\naws_secret_access_key = "
                  SECRET "\n");
    check(dr__resolve_region(NULL, NULL, &region));
    check(dr__resolve_region(NULL, "ghost", &region));
    free(region);
}

static void case_environment(void)
{
    plant_env_secrets();
    resolve_once(leak_chain_options()); /* no AWS_ACCESS_KEY_ID: every provider fails */
    setenv("AWS_ACCESS_KEY_ID", "AKIDLEAK", 1);
    resolve_once(leak_chain_options()); /* succeeds; logs the source at DEBUG */
}

static void case_profile_files(void)
{
    dr_credentials_options opts = leak_chain_options();
    plant_env_secrets();
    sandbox_write("credentials", "[half]\naws_secret_access_key = " SECRET "\n"
                  "aws_session_token = " TOKEN "\n[broken " SECRET "\nx = " TOKEN "\n"
                  "[dup]\naws_access_key_id = A\n");
    sandbox_write("config", "[profile half]\naws_session_token = " TOKEN "\n"
                  "[profile " TOKEN "]\naws_access_key_id = B\n");
    opts.profile = "half";
    resolve_once(opts);
    opts.profile = "dup";
    resolve_once(opts);
    opts.profile = "missing";
    resolve_once(opts);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/dir/credentials", 1);
    resolve_once(opts);
}

static void case_container(void)
{
    mini_http *s = mini_http_start();
    char url[160];
    const char *token_file;
    assert_non_null(s);
    plant_env_secrets();
    snprintf(url, sizeof url, "%s/creds", mini_http_url(s));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    /* Malformed documents quoting the secrets, error statuses echoing them. */
    mini_http_respond(s, "GET", "/creds", 200, "{\"SecretAccessKey\": \"" SECRET "\" ,, }");
    resolve_once(leak_chain_options());
    mini_http_respond(s, "GET", "/creds", 200, SECRET TOKEN);
    resolve_once(leak_chain_options());
    mini_http_respond(s, "GET", "/creds", 200, "{\"Code\":\"" SECRET "\",\"SecretAccessKey\":\""
                      SECRET "\",\"AccessKeyId\":\"A\"}");
    resolve_once(leak_chain_options());
    mini_http_respond(s, "GET", "/creds", 200, "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\""
                      SECRET "\",\"Token\":\"" TOKEN "\",\"Expiration\":\"" TOKEN "\"}");
    resolve_once(leak_chain_options());
    mini_http_respond(s, "GET", "/creds", 500, "{\"message\":\"" SECRET TOKEN "\"}");
    resolve_once(leak_chain_options());
    /* A wrong token from a file, then tokens that cannot be sent. */
    mini_http_require_header(s, "GET", "/creds", "Authorization", "something-else");
    token_file = sandbox_write("token", TOKEN "\n");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file, 1);
    resolve_once(leak_chain_options());
    sandbox_write("token", TOKEN "\r\nX-Other: " SECRET);
    resolve_once(leak_chain_options());
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    /* URLs carrying secrets in user info, path or query (never in the host name: a host
     * is configuration, and messages name it): refused, or unreachable. */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/" SECRET "?t=" TOKEN, 1);
    resolve_once(leak_chain_options());
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://u:" SECRET "@127.0.0.1/", 1);
    resolve_once(leak_chain_options());
    mini_http_stop(s);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/" SECRET "?t=" TOKEN,
             (unsigned)mini_http_closed_port());
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    resolve_once(leak_chain_options());
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/" SECRET " x", 1);
    resolve_once(leak_chain_options());
}

static void case_instance_metadata(void)
{
    creds_source src = {.secret = SECRET, .token = TOKEN, .lifetime_s = 3600};
    mini_http *s = mini_http_start();
    assert_non_null(s);
    plant_env_secrets();
    sandbox_script_imds(s, &src);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", mini_http_url(s), 1);
    resolve_once(leak_chain_options()); /* works: logs at DEBUG */
    /* Already-expired credentials from the endpoint. */
    mini_http_respond(s, "GET", "/latest/meta-data/iam/security-credentials/test-role", 200,
                      CREDS_JSON_WITH_SECRETS);
    resolve_once(leak_chain_options());
    mini_http_respond(s, "GET", "/latest/meta-data/iam/security-credentials/test-role", 200,
                      "{\"Code\":\"Success\",\"Token\":\"" TOKEN "\"");
    resolve_once(leak_chain_options());
    /* The IMDS session token is a secret too. */
    mini_http_respond(s, "PUT", "/latest/api/token", 200, TOKEN);
    resolve_once(leak_chain_options()); /* GETs now get 401 */
    mini_http_respond(s, "PUT", "/latest/api/token", 200, TOKEN " " SECRET);
    resolve_once(leak_chain_options());
    mini_http_respond(s, "PUT", "/latest/api/token", 200, "TOKEN-1");
    mini_http_respond(s, "GET", "/latest/meta-data/iam/security-credentials/", 200,
                      SECRET "/" TOKEN);
    resolve_once(leak_chain_options());
    mini_http_set_delay_ms(s, 500);
    resolve_once(leak_chain_options()); /* timeout */
    mini_http_stop(s);
    resolve_once(leak_chain_options()); /* refused */
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://example.com/" SECRET, 1);
    resolve_once(leak_chain_options());
}

static void case_expired_with_failing_refresh(void)
{
    creds_source src = {.secret = SECRET, .token = TOKEN, .lifetime_s = 2};
    dr_credentials_chain *chain = NULL;
    dr_credentials *c = NULL;
    mini_http *s = mini_http_start();
    assert_non_null(s);
    sandbox_script_imds(s, &src);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", mini_http_url(s), 1);
    dr__credentials_set_refresh_timing(2, 0);
    {
        dr_credentials_options opts = leak_chain_options();
        check(dr__credentials_chain_new(&chain, &opts));
    }
    check(dr__credentials_chain_get(chain, &c));
    dr__credentials_release(c);
    c = NULL;
    mini_http_respond(s, "GET", "/latest/meta-data/iam/security-credentials/test-role", 503,
                      SECRET TOKEN);
    check(dr__credentials_chain_get(chain, &c)); /* refresh fails, still valid: logs WARN */
    dr__credentials_release(c);
    c = NULL;
    sleep(3);
    check(dr__credentials_chain_get(chain, &c)); /* expired: DR_E_CREDENTIALS */
    dr__credentials_release(c);
    dr__credentials_chain_free(chain);
    mini_http_stop(s);
}

/* credential_process and SSO through the profile: outputs carrying the secrets in every
 * failing shape, then a cached SSO token (the token is a secret too) met by portal
 * errors that echo it. */
static void case_process_and_sso(void)
{
    static const char *const outputs[] = {
        "echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"" SECRET
        "\",\"SessionToken\":\"" TOKEN "\"}'; exit 2",
        "echo '" SECRET " " TOKEN "'",
        "echo '{\"Version\":\"" SECRET "\",\"SecretAccessKey\":\"" SECRET "\"}'",
        "echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"" SECRET
        "\",\"Expiration\":\"" TOKEN "\"}'",
        "echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"" SECRET
        "\",\"Expiration\":\"2001-01-01T00:00:00Z\"}'",
        "/nonexistent/" SECRET " 2>/dev/null",
    };
    static const struct {
        int status;
        const char *body;
    } portal[] = {
        {401, "{\"__type\":\"" TOKEN "\",\"message\":\"" TOKEN "\"}"},
        {500, "{\"message\":\"" SECRET TOKEN "\"}"},
        {200, "{\"roleCredentials\":{\"secretAccessKey\":\"" SECRET "\"}}"},
        {200, SECRET TOKEN},
    };
    dr_credentials_options opts = leak_chain_options();
    char config[512], target[32], cache[320];
    mini_http *s = mini_http_start();
    size_t i;

    assert_non_null(s);
    for (i = 0; i < sizeof outputs / sizeof *outputs; i++) {
        snprintf(config, sizeof config, "[default]\ncredential_process = %s\n", outputs[i]);
        sandbox_write("config", config);
        resolve_once(opts);
    }
    /* A token cache at ~/.aws/sso/cache/<sha1 of "leak">.json, made and removed here. */
    snprintf(cache, sizeof cache, "%s", sandbox_path(".aws"));
    assert_int_equal(mkdir(cache, 0700), 0);
    snprintf(cache, sizeof cache, "%s", sandbox_path(".aws/sso"));
    assert_int_equal(mkdir(cache, 0700), 0);
    snprintf(cache, sizeof cache, "%s", sandbox_path(".aws/sso/cache"));
    assert_int_equal(mkdir(cache, 0700), 0);
    snprintf(target, sizeof target, "127.0.0.1:%u", (unsigned)mini_http_port(s));
    dr__http_set_test_redirect(target);
    sandbox_write("config", "[default]\nsso_session = leak\nsso_account_id = 1\n"
                  "sso_role_name = R\n[sso-session leak]\nsso_region = us-east-1\n"
                  "sso_start_url = https://leak.awsapps.com/start\n");
    sandbox_write(".aws/sso/cache/065c5c297f3c4990036a488c5b6c2a73075d439b.json",
                  "{\"accessToken\":\"" TOKEN "\",\"expiresAt\":\"2199-01-01T00:00:00Z\"}");
    for (i = 0; i < sizeof portal / sizeof *portal; i++) {
        mini_http_respond(s, "GET", "/federation/credentials?account_id=1&role_name=R",
                          portal[i].status, portal[i].body);
        resolve_once(opts);
    }
    sandbox_write(".aws/sso/cache/065c5c297f3c4990036a488c5b6c2a73075d439b.json",
                  "{\"accessToken\":\"" TOKEN "\",\"expiresAt\":\"" SECRET "\"}");
    resolve_once(opts);
    sandbox_write(".aws/sso/cache/065c5c297f3c4990036a488c5b6c2a73075d439b.json",
                  "{\"accessToken\":\"" TOKEN "\"," TOKEN);
    resolve_once(opts);
    /* Every portal answer was asked for. */
    assert_int_equal(mini_http_count(s, "GET", NULL), sizeof portal / sizeof *portal);
    dr__http_set_test_redirect(NULL);
    unlink(sandbox_path(".aws/sso/cache/065c5c297f3c4990036a488c5b6c2a73075d439b.json"));
    rmdir(sandbox_path(".aws/sso/cache"));
    rmdir(sandbox_path(".aws/sso"));
    rmdir(sandbox_path(".aws"));
    mini_http_stop(s);
}

/* STS, through the chain's web identity step and AssumeRole: error answers quoting the
 * token and the source credentials (in Message, in Code, or in part), malformed and
 * incomplete answers holding credentials, retried 5xx, success logged at DEBUG. */
static void case_sts(void)
{
    static const struct {
        int status;
        const char *body;
    } answers[] = {
        {400, "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>token " TOKEN
              " secret " SECRET "</Message></Error></ErrorResponse>"},
        {403, "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>...ETSECRETSECRET"
              "SECR... ...ENTOKENTOKENTOK...</Message></Error></ErrorResponse>"},
        {400, "<ErrorResponse><Error><Code>" TOKEN "</Code><Message>" SECRET
              "</Message></Error></ErrorResponse>"},
        {500, "<html>" SECRET TOKEN "</html>"},
        {200, "<R><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>" SECRET
              "</SecretAccessKey><SessionToken>" TOKEN "</SessionToken>"},
        {200, "<R><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>" SECRET
              "</SecretAccessKey><SessionToken>" TOKEN "</SessionToken><Expiration>" TOKEN
              "</Expiration></Credentials></R>"},
        {200, "<R><Credentials><AccessKeyId>ASIALEAK</AccessKeyId><SecretAccessKey>" SECRET
              "</SecretAccessKey><SessionToken>" TOKEN "</SessionToken><Expiration>"
              "2099-01-01T00:00:00Z</Expiration></Credentials></R>"},
    };
    static const char sts_url[] = "https://sts.us-east-1.amazonaws.com";
    static const char role_arn[] = "arn:aws:iam::123456789012:role/leak";
    dr_credentials_options opts = leak_chain_options();
    dr_provider_context ctx = {"default", 0, "us-east-1", 300, sts_url, NULL};
    dr_sts_role role = {role_arn, NULL, NULL, 0};
    dr_credentials *source = dr__credentials_new("AKIDLEAK", SECRET, TOKEN, 0), *c = NULL;
    mini_http *s = mini_http_start();
    char target[32];
    size_t i;

    assert_non_null(s);
    assert_non_null(source);
    snprintf(target, sizeof target, "127.0.0.1:%u", (unsigned)mini_http_port(s));
    dr__http_set_test_redirect(target);
    plant_env_secrets();
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", sandbox_write("token.jwt", TOKEN "\n"), 1);
    setenv("AWS_ROLE_ARN", role_arn, 1);
    opts.region = "us-east-1";
    opts.sts_endpoint = sts_url;
    for (i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        mini_http_respond(s, "POST", "/", answers[i].status, answers[i].body);
        resolve_once(opts);
        check(dr__sts_assume_role(&ctx, &role, source, &c));
        dr__credentials_release(c);
        c = NULL;
    }
    mini_http_stop(s);
    resolve_once(opts); /* refused */
    dr__http_set_test_redirect(NULL);
    dr__credentials_release(source);
}

/* The DynamoDB transport and the operations: every kind of failed answer from a
 * loopback "DynamoDB", with the secret and token in the client's own credentials and
 * everything logged at DEBUG. */
static void drive_operations(dr_client *client)
{
    dr_stats *stats = NULL;
    dr_dashboard *dashboard = NULL;
    dr_rating *rating = NULL;
    check(dr_client_read_stats(client, "joke", &stats));
    dr_stats_free(stats);
    check(dr_client_dashboard_stats(client, &dashboard));
    dr_dashboard_free(dashboard);
    check(dr_rating_new(&rating, "joke", 5));
    check(dr_rating_set_idempotency_key(rating, "leak-test"));
    check(dr_client_write_rating(client, rating, &stats));
    dr_stats_free(stats);
    dr_rating_free(rating);
    check(dr_client_create_tables(client, 0));
    check(dr_client_apply_stream_batch(client, "{\"Records\":[{}]}", 17, NULL));
}

static void case_dynamodb_transport(void)
{
    static const struct {
        int status;
        const char *body;
    } answers[] = {
        {200, "not json at all"},
        {200, "[]"},
        {400, "{\"__type\":\"com.amazon.coral.service#UnrecognizedClientException\","
              "\"message\":\"The security token included in the request is invalid.\"}"},
        {400, "{\"__type\":\"com.amazon.coral.service#InvalidSignatureException\","
              "\"message\":\"The request signature we calculated does not match\"}"},
        {400, "{\"__type\":\"com.amazon.coral.service#InvalidSignatureException\","
              "\"message\":\"Signature expired: 20200101T000000Z is now earlier than "
              "20261125T000000Z\"}"},
        {400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ValidationException\"}"},
        {400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#TransactionCanceledException\","
              "\"CancellationReasons\":[{\"Code\":\"ValidationError\"}]}"},
        {500, "{\"__type\":\"InternalFailure\"}"},
        {503, "<html>unavailable</html>"},
        {0, ""}, /* connection closed without an answer */
    };
    mini_http *s = mini_http_start();
    dr_config *cfg = NULL;
    dr_client *client = NULL;
    char endpoint[64];
    size_t i;

    assert_non_null(s);
    check(dr_config_new(&cfg));
    check(dr_config_set_log(cfg, leak_log, DR_LOG_DEBUG, NULL));
    check(dr_config_set_region(cfg, "us-east-1"));
    check(dr_config_set_credentials(cfg, "AKIDLEAKTEST", SECRET, TOKEN));
    check(dr_config_set_max_attempts(cfg, 2));
    check(dr_config_set_request_timeout_ms(cfg, 2000));
    check(dr_config_set_endpoint(cfg, mini_http_url(s)));
    check(dr_client_new(&client, cfg));
    assert_non_null(client);
    for (i = 0; i < sizeof answers / sizeof *answers; i++) {
        mini_http_respond(s, "POST", "/", answers[i].status, answers[i].body);
        drive_operations(client);
    }
    dr_client_free(client);
    client = NULL;
    /* Every answer was met by signed requests, retries included. */
    assert_true(mini_http_count(s, "POST", "/") >= 2 * (sizeof answers / sizeof *answers));

    /* Nothing listening at all. */
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%u", (unsigned)mini_http_closed_port());
    check(dr_config_set_endpoint(cfg, endpoint));
    check(dr_client_new(&client, cfg));
    if (client)
        drive_operations(client);
    dr_client_free(client);
    dr_config_free(cfg);
    mini_http_stop(s);
}

typedef struct leak_case {
    const char *name;
    void (*run)(void);
} leak_case;

static const leak_case cases[] = {
    {"configuration and client", case_config_and_client},
    {"region", case_region},
    {"environment", case_environment},
    {"profile files", case_profile_files},
    {"container", case_container},
    {"instance metadata", case_instance_metadata},
    {"expired credentials, failing refresh", case_expired_with_failing_refresh},
    {"credential_process and SSO", case_process_and_sso},
    {"STS and web identity", case_sts},
    {"DynamoDB transport and operations", case_dynamodb_transport},
};

/* Print only the lines that leak: the whole transcript is too long for cmocka. */
static void print_leaks(void)
{
    char *line = g_said;
    while (line && *line) {
        char *eol = strchr(line, '\n');
        size_t n = eol ? (size_t)(eol - line) : strlen(line);
        char saved = line[n];
        line[n] = '\0';
        if (strstr(line, "SECRETSECRET") || strstr(line, "TOKENTOKEN"))
            print_error("LEAK: %s\n", line);
        line[n] = saved;
        line = eol ? eol + 1 : NULL;
    }
}

static void run_case(void **state)
{
    const leak_case *lc = *state;
    g_said = NULL;
    g_said_len = 0;
    lc->run();
    assert_true(g_said_len > 0); /* the case did reach some error paths */
    if (strstr(g_said, "SECRETSECRET") || strstr(g_said, "TOKENTOKEN")) {
        print_leaks();
        fail_msg("case \"%s\" leaked a secret (lines above)", lc->name);
    }
    free(g_said);
    g_said = NULL;
}

int main(void)
{
    struct CMUnitTest tests[sizeof cases / sizeof cases[0]];
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = run_case;
        tests[i].setup_func = sandbox_setup;
        tests[i].teardown_func = sandbox_teardown;
        tests[i].initial_state = (void *)(uintptr_t)&cases[i];
    }
    return _cmocka_run_group_tests("test_no_secret_leak", tests, i, NULL, NULL);
}
