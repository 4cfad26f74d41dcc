/* The credential_process and IAM Identity Center (SSO) sources (issue 12): real child
 * processes through /bin/sh, and the SSO portal played by a loopback server that
 * dr__http_set_test_redirect sends https://portal.sso.<region>.amazonaws.com to. The SSO
 * profiles and token caches are those of the Rust SDK's credential-chain cases
 * (sso_assume_role, sso_credentials), so the cache file names are checked against the
 * SDK's own. The last test signs on eight threads through a chain whose short-lived
 * credentials come from a credential_process (label `threads`: run it under TSan). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "creds_sandbox.h"
#include "credentials_chain.h"
#include "credentials_provider.h"
#include "http.h"
#include "mini_http.h"
#include "profile_file.h"
#include "sigv4.h"

/* Distinctive values: a substring match on them in a message is a leak. */
#define SECRET "PROCSECRETPROCSECRETPROCSECRET0123456789"
#define TOKEN "PROCTOKENPROCTOKENPROCTOKEN"
#define BEARER "BEARERBEARERBEARER-a-token"

/* Cache file names: SHA-1 of the start URL (legacy) and of the session name. */
#define LEGACY_CACHE ".aws/sso/cache/dace00cba5f8355ec9d274ceb2bcebdfbeed0e12.json"
#define SESSION_CACHE ".aws/sso/cache/34c6fceca75e456f25e7e99531e2425c6c1de443.json"
#define LEGACY_PATH "/federation/credentials?account_id=123456789&role_name=MySsoRole"
#define SESSION_PATH "/federation/credentials?account_id=012345678901&role_name=SampleRole"

#define LEGACY_CONFIG                                                                      \
    "[profile sso-test]\n"                                                                 \
    "sso_start_url = https://ssotest.awsapps.com/start\n"                                  \
    "sso_region = us-east-2\n"                                                             \
    "sso_account_id = 123456789\n"                                                         \
    "sso_role_name = MySsoRole\n"                                                          \
    "region = us-east-2\n"
#define SESSION_CONFIG                                                                     \
    "[profile default]\n"                                                                  \
    "sso_session = dev\n"                                                                  \
    "sso_account_id = 012345678901\n"                                                      \
    "sso_role_name = SampleRole\n"                                                         \
    "region = us-east-1\n"                                                                 \
    "\n"                                                                                   \
    "[sso-session dev]\n"                                                                  \
    "sso_region = us-east-1\n"                                                             \
    "sso_start_url = https://d-abc123.awsapps.com/start\n"
#define ROLE_CREDENTIALS                                                                   \
    "{\"roleCredentials\":{\"accessKeyId\":\"ASIARCORRECT\",\"secretAccessKey\":\""       \
    SECRET "\",\"sessionToken\":\"" TOKEN "\",\"expiration\":1234567890000}}"

/* ---- fixtures ------------------------------------------------------------------- */

static char g_dirs[3][300];

/* The sandbox, with ~/.aws/sso/cache/ made (and removed afterwards). */
static int setup(void **state)
{
    static const char *const dirs[] = {".aws", ".aws/sso", ".aws/sso/cache"};
    size_t i;
    if (sandbox_setup(state) != 0)
        return -1;
    for (i = 0; i < 3; i++) {
        snprintf(g_dirs[i], sizeof g_dirs[i], "%s", sandbox_path(dirs[i]));
        if (mkdir(g_dirs[i], 0700) != 0)
            return -1;
    }
    dr__credentials_process_set_timeout_ms(0);
    return 0;
}

static int teardown(void **state)
{
    int i;
    dr__http_set_test_redirect(NULL);
    dr__credentials_process_set_timeout_ms(0);
    unlink(sandbox_path("pid"));
    unlink(sandbox_path("counter"));
    unlink(sandbox_path(LEGACY_CACHE));
    unlink(sandbox_path(SESSION_CACHE));
    unlink(sandbox_path(".aws/sso/cache/differenthashthatdoesntmatch.json"));
    for (i = 2; i >= 0; i--)
        rmdir(g_dirs[i]);
    return sandbox_teardown(state);
}

static void assert_message_has(const char *needle)
{
    if (!strstr(dr_last_error_message(), needle))
        fail_msg("message \"%s\" lacks \"%s\"", dr_last_error_message(), needle);
}

/* Nothing secret in the thread's last message. */
static void assert_message_clean(void)
{
    const char *m = dr_last_error_message();
    if (strstr(m, "PROCSECRET") || strstr(m, "PROCTOKEN") || strstr(m, "BEARERBEARER"))
        fail_msg("message leaks a secret: %s", m);
}

static const dr_provider_context k_ctx = {"default", 0, "us-east-1", 2000, NULL, NULL};

static dr_status run_process(const char *command, dr_credentials **out)
{
    *out = (dr_credentials *)1;
    return dr__credentials_from_process(&k_ctx, command, out);
}

/* Run `command`, expect DR_E_CREDENTIALS with `needle` and no secret in the message. */
static void expect_process_failure(const char *command, const char *needle)
{
    dr_credentials *c;
    dr_status rc = run_process(command, &c);
    if (rc != DR_E_CREDENTIALS)
        fail_msg("`%s`: status %d, expected DR_E_CREDENTIALS (%s)", command, (int)rc,
                 dr_last_error_message());
    assert_null(c);
    assert_message_has(needle);
    assert_message_clean();
}

static int open_fd_count(void)
{
    char path[32];
    int fd, n = 0;
    for (fd = 0; fd < 1024; fd++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        if (access(path, F_OK) == 0)
            n++;
    }
    return n;
}

/* ---- credential_process ------------------------------------------------------- */

static void test_process_success(void **state)
{
    dr_credentials *c;
    int fds = open_fd_count();
    (void)state;
    assert_int_equal(run_process("printf '%s' '{\"Version\": 1, \"AccessKeyId\": \"ASIAPROC\", "
                                 "\"SecretAccessKey\": \"" SECRET "\", \"SessionToken\": \""
                                 TOKEN "\", \"AccountId\": \"123456789002\", \"Expiration\": "
                                 "\"2022-05-02T18:36:00+00:00\"}'", &c),
                     DR_OK);
    assert_string_equal(c->access_key_id, "ASIAPROC");
    assert_string_equal(c->secret_access_key, SECRET);
    assert_string_equal(c->session_token, TOKEN);
    assert_string_equal(c->account_id, "123456789002");
    assert_int_equal(c->expires_at, 1651516560); /* as the Rust SDK's case expects */
    dr__credentials_release(c);

    /* Without Expiration (never refreshed), token or account; keys matched without regard
     * to case, as the Go and Rust SDKs match them; a pipeline needs the shell. */
    assert_int_equal(run_process("echo '{\"version\":1,\"accesskeyid\":\"ASIALONG\","
                                 "\"secretaccesskey\":\"" SECRET "\"}' | cat", &c),
                     DR_OK);
    assert_string_equal(c->access_key_id, "ASIALONG");
    assert_null(c->session_token);
    assert_null(c->account_id);
    assert_int_equal(c->expires_at, 0);
    dr__credentials_release(c);
    assert_int_equal(open_fd_count(), fds); /* no pipe end left open */
}

static void test_process_failures(void **state)
{
    int fds = open_fd_count();
    (void)state;
    expect_process_failure("exit 1", "exited with status 1");
    /* A failing tool that printed the keys anyway: never quoted. */
    expect_process_failure("echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\""
                           SECRET "\"}'; exit 3",
                           "exited with status 3");
    expect_process_failure("echo 'invalid json " SECRET "'", "malformed JSON");
    expect_process_failure("echo '[\"" SECRET "\"]'", "not an object");
    expect_process_failure("echo '{\"Version\":2,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\""
                           SECRET "\"}'", "Version other than 1");
    expect_process_failure("echo '{\"Version\":\"1\",\"AccessKeyId\":\"A\","
                           "\"SecretAccessKey\":\"" SECRET "\"}'", "Version other than 1");
    expect_process_failure("echo '{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"" SECRET "\"}'",
                           "lacks Version");
    expect_process_failure("echo '{\"Version\":1,\"SecretAccessKey\":\"" SECRET "\"}'",
                           "lacks AccessKeyId or SecretAccessKey");
    expect_process_failure("echo '{\"Version\":1,\"AccessKeyId\":\"A\"}'",
                           "lacks AccessKeyId or SecretAccessKey");
    expect_process_failure("echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\""
                           SECRET "\",\"Expiration\":\"" TOKEN "\"}'", "invalid Expiration");
    expect_process_failure("echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\""
                           SECRET "\",\"SessionToken\":7}'", "not a string");
    expect_process_failure("kill -9 $$", "killed by signal 9");
    expect_process_failure("/nonexistent/credential-tool", "exited with status 127");
    expect_process_failure("head -c 100000 /dev/zero", "more than 65536 bytes");
    expect_process_failure("", "empty");
    assert_int_equal(open_fd_count(), fds);
}

/* The pid the command wrote to the sandbox's "pid" file. */
static pid_t read_pid(void)
{
    FILE *f = fopen(sandbox_path("pid"), "r");
    long pid = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    return (pid_t)pid;
}

/* The child must be gone, not a zombie: kill(pid, 0) succeeds on a zombie. */
static void assert_child_gone(pid_t pid)
{
    int status;
    assert_true(pid > 0);
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(waitpid(pid, &status, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_process_timeout(void **state)
{
    char command[512];
    dr_credentials *c;
    time_t start;
    (void)state;
    sandbox_write("pid", "");
    dr__credentials_process_set_timeout_ms(400);

    /* Still writing: killed while its output is read. */
    snprintf(command, sizeof command, "echo $$ > %s; exec sleep 30", sandbox_path("pid"));
    start = time(NULL);
    expect_process_failure(command, "did not finish within 400 ms and was killed");
    assert_true(time(NULL) - start < 10);
    assert_child_gone(read_pid());

    /* Output closed, process still running: killed while waiting for it to exit. */
    snprintf(command, sizeof command, "echo $$ > %s; exec sleep 30 >/dev/null",
             sandbox_path("pid"));
    expect_process_failure(command, "did not finish within 400 ms and was killed");
    assert_child_gone(read_pid());
    (void)c;
}

/* The profile branch: credential_process when the profile has no keys, the profile's
 * aws_account_id standing in for a missing AccountId (the Rust SDK's
 * credential_process_account_id_fallback case). */
static void test_process_from_profile(void **state)
{
    dr_credentials *c = NULL;
    (void)state;
    sandbox_write("config", "[default]\n"
                  "credential_process = echo '{\"Version\":1,\"AccessKeyId\":\"ASIAPROF\","
                  "\"SecretAccessKey\":\"s\"}'\n"
                  "aws_account_id = 123456789001\n"
                  "[profile static]\n"
                  "aws_access_key_id = AKIASTATIC\naws_secret_access_key = s\n"
                  "credential_process = exit 1\n"
                  "[profile failing]\ncredential_process = exit 1\n");
    assert_int_equal(sandbox_profile_credentials("default", &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIAPROF");
    assert_string_equal(c->account_id, "123456789001");
    dr__credentials_release(c);
    /* Static keys win. */
    assert_int_equal(sandbox_profile_credentials("static", &c), DR_OK);
    assert_string_equal(c->access_key_id, "AKIASTATIC");
    dr__credentials_release(c);
    assert_int_equal(sandbox_profile_credentials("failing", &c), DR_E_CREDENTIALS);
    assert_null(c);
    assert_message_has("credential_process exited with status 1");
}

/* A command printing keys numbered from a counter file, expiring `lifetime` seconds after
 * it runs. */
static void counter_command(char *out, size_t cap, int lifetime)
{
    const char *counter = sandbox_write("counter", "0");
    snprintf(out, cap,
             "n=$(($(cat %s) + 1)); echo $n > %s; "
             "exp=$(date -u -d @$(($(date +%%s) + %d)) +%%Y-%%m-%%dT%%H:%%M:%%SZ); "
             "printf '{\"Version\":1,\"AccessKeyId\":\"ASIACOUNT%%d\",\"SecretAccessKey\":"
             "\"s\",\"SessionToken\":\"t\",\"Expiration\":\"%%s\"}' $n $exp",
             counter, counter, lifetime);
}

static void test_process_refresh(void **state)
{
    dr_credentials_options opts = {0};
    dr_credentials_chain *chain = NULL;
    dr_credentials *c = NULL;
    char command[1024], config[1200];
    (void)state;
    counter_command(command, sizeof command, 2);
    snprintf(config, sizeof config, "[default]\ncredential_process = %s\n", command);
    sandbox_write("config", config);
    dr__credentials_set_refresh_timing(0, 0);
    assert_int_equal(dr__credentials_chain_new(&chain, &opts), DR_OK);
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIACOUNT1");
    assert_true(c->expires_at > (int64_t)time(NULL));
    dr__credentials_release(c);
    /* Still valid: the same set, the process not run again. */
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIACOUNT1");
    dr__credentials_release(c);
    sleep(3);
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIACOUNT2");
    dr__credentials_release(c);
    dr__credentials_chain_free(chain);
}

/* ---- SSO ------------------------------------------------------------------------ */

static mini_http *portal(void)
{
    mini_http *s = mini_http_start();
    char target[32];
    assert_non_null(s);
    snprintf(target, sizeof target, "127.0.0.1:%u", (unsigned)mini_http_port(s));
    dr__http_set_test_redirect(target);
    return s;
}

/* dr__credentials_from_sso on `profile` of the sandbox's shared files. */
static dr_status run_sso(const char *profile, dr_credentials **out)
{
    dr_profile_set set = DR_PROFILE_SET_INIT;
    dr_provider_context ctx = {profile, 0, "us-west-2", 3000, NULL, NULL};
    dr_status rc;
    *out = (dr_credentials *)1;
    assert_int_equal(dr__profile_set_load(&set), DR_OK);
    rc = dr__credentials_from_sso(&ctx, &set, dr__profile_find(&set.profiles, profile), out);
    dr__profile_set_free(&set);
    return rc;
}

static void expect_sso_failure(const char *profile, const char *needle)
{
    dr_credentials *c;
    dr_status rc = run_sso(profile, &c);
    if (rc != DR_E_CREDENTIALS)
        fail_msg("profile %s: status %d, expected DR_E_CREDENTIALS (%s)", profile, (int)rc,
                 dr_last_error_message());
    assert_null(c);
    assert_message_has(needle);
    assert_message_clean();
}

static void write_token(const char *cache, const char *expires_at)
{
    char doc[256];
    snprintf(doc, sizeof doc, "{\"accessToken\": \"" BEARER "\", \"expiresAt\": \"%s\", "
             "\"startUrl\": \"https://ssotest.awsapps.com/start\"}", expires_at);
    sandbox_write(cache, doc);
}

static void test_sso_legacy(void **state)
{
    mini_http *s = portal();
    dr_credentials *c;
    char value[128];
    (void)state;
    sandbox_write("config", LEGACY_CONFIG);
    write_token(LEGACY_CACHE, "2080-10-16T03:56:45Z");
    mini_http_respond(s, "GET", LEGACY_PATH, 200, ROLE_CREDENTIALS);
    assert_int_equal(run_sso("sso-test", &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIARCORRECT");
    assert_string_equal(c->secret_access_key, SECRET);
    assert_string_equal(c->session_token, TOKEN);
    assert_string_equal(c->account_id, "123456789");
    assert_int_equal(c->expires_at, 1234567890);
    dr__credentials_release(c);
    /* The request the Rust SDK recorded: path, query, bearer header, portal host. */
    assert_int_equal(mini_http_count(s, "GET", LEGACY_PATH), 1);
    assert_true(mini_http_last_header(s, "GET", LEGACY_PATH, "x-amz-sso_bearer_token", value,
                                      sizeof value));
    assert_string_equal(value, BEARER);
    assert_true(mini_http_last_header(s, "GET", LEGACY_PATH, "Host", value, sizeof value));
    assert_string_equal(value, "portal.sso.us-east-2.amazonaws.com");
    mini_http_stop(s);
}

static void test_sso_session(void **state)
{
    mini_http *s = portal();
    dr_credentials *c;
    char value[128];
    (void)state;
    sandbox_write("config", SESSION_CONFIG);
    write_token(SESSION_CACHE, "2199-11-14T04:05:45Z");
    mini_http_respond(s, "GET", SESSION_PATH, 200,
                      "{\"roleCredentials\":{\"accessKeyId\":\"ASIARTESTID\",\"secretAccessKey\":"
                      "\"TESTSECRETKEY\",\"sessionToken\":\"TESTSESSIONTOKEN\",\"expiration\": "
                      "1651516560000}}");
    assert_int_equal(run_sso("default", &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIARTESTID");
    assert_string_equal(c->account_id, "012345678901");
    assert_int_equal(c->expires_at, 1651516560);
    dr__credentials_release(c);
    assert_true(mini_http_last_header(s, "GET", SESSION_PATH, "Host", value, sizeof value));
    assert_string_equal(value, "portal.sso.us-east-1.amazonaws.com");
    assert_true(mini_http_last_header(s, "GET", SESSION_PATH, "x-amz-sso_bearer_token", value,
                                      sizeof value));
    assert_string_equal(value, BEARER);
    mini_http_stop(s);
}

static void test_sso_token_problems(void **state)
{
    mini_http *s = portal();
    (void)state;
    mini_http_respond(s, "GET", LEGACY_PATH, 200, ROLE_CREDENTIALS);
    mini_http_respond(s, "GET", SESSION_PATH, 200, ROLE_CREDENTIALS);
    sandbox_write("config", LEGACY_CONFIG);
    /* The Rust SDK's sso_no_token_file: a cache file under another name. */
    write_token(".aws/sso/cache/differenthashthatdoesntmatch.json", "2080-10-16T03:56:45Z");
    expect_sso_failure("sso-test", "dace00cba5f8355ec9d274ceb2bcebdfbeed0e12.json does not "
                                   "exist); run `aws sso login --profile sso-test`");
    unlink(sandbox_path(".aws/sso/cache/differenthashthatdoesntmatch.json"));
    write_token(LEGACY_CACHE, "2020-01-01T00:00:00Z");
    expect_sso_failure("sso-test", "the cached token has expired");
    sandbox_write(LEGACY_CACHE, "{\"expiresAt\": \"2080-10-16T03:56:45Z\"}");
    expect_sso_failure("sso-test", "lacks accessToken or expiresAt");
    sandbox_write(LEGACY_CACHE, "{\"accessToken\": \"" BEARER "\", \"expiresAt\": \""
                  BEARER "\"}");
    expect_sso_failure("sso-test", "invalid expiresAt");
    sandbox_write(LEGACY_CACHE, BEARER);
    expect_sso_failure("sso-test", "is not JSON");

    sandbox_write("config", SESSION_CONFIG);
    write_token(SESSION_CACHE, "2001-01-01T00:00:00Z");
    expect_sso_failure("default", "the SSO session dev has no valid token (the cached token "
                                  "has expired); run `aws sso login --sso-session dev`");
    unlink(sandbox_path(SESSION_CACHE));
    expect_sso_failure("default", "run `aws sso login --sso-session dev`");
    /* No token, no request. */
    assert_int_equal(mini_http_count(s, NULL, NULL), 0);
    mini_http_stop(s);
}

static void test_sso_profile_problems(void **state)
{
    (void)state;
    sandbox_write("config",
                  "[profile conflict-region]\nsso_session = dev\nsso_region = eu-west-1\n"
                  "sso_account_id = 1\nsso_role_name = R\n"
                  "[profile conflict-url]\nsso_session = dev\n"
                  "sso_start_url = https://other.awsapps.com/start\n"
                  "sso_account_id = 1\nsso_role_name = R\n"
                  "[profile agree]\nsso_session = dev\nsso_region = us-east-1\n"
                  "sso_start_url = https://d-abc123.awsapps.com/start\n"
                  "sso_account_id = 1\nsso_role_name = R\n"
                  "[profile ghost]\nsso_session = ghost\nsso_account_id = 1\n"
                  "sso_role_name = R\n"
                  "[profile token-only]\nsso_session = dev\n"
                  "[profile no-role]\nsso_session = dev\nsso_account_id = 1\n"
                  "[profile legacy-no-region]\nsso_start_url = https://x\n"
                  "sso_account_id = 1\nsso_role_name = R\n"
                  "[profile bad-region]\nsso_start_url = https://x\n"
                  "sso_region = evil.example.com/\nsso_account_id = 1\nsso_role_name = R\n"
                  "[sso-session dev]\nsso_region = us-east-1\n"
                  "sso_start_url = https://d-abc123.awsapps.com/start\n"
                  "[sso-session half]\nsso_region = us-east-1\n");
    expect_sso_failure("conflict-region", "sso_region of the profile does not match "
                                          "sso_region of [sso-session dev]");
    expect_sso_failure("conflict-url", "sso_start_url of the profile does not match");
    /* Agreeing settings pass the check and go on to the (missing) token. */
    expect_sso_failure("agree", "run `aws sso login --sso-session dev`");
    expect_sso_failure("ghost", "names no [sso-session ghost] section");
    expect_sso_failure("token-only", "bearer token only");
    expect_sso_failure("no-role", "lacks sso_role_name");
    expect_sso_failure("legacy-no-region", "lacks sso_region");
    expect_sso_failure("bad-region", "is not a region name");
}

static void test_sso_portal_errors(void **state)
{
    mini_http *s = portal();
    (void)state;
    sandbox_write("config", LEGACY_CONFIG);
    write_token(LEGACY_CACHE, "2080-10-16T03:56:45Z");
    mini_http_respond(s, "GET", LEGACY_PATH, 401,
                      "{\"message\":\"Session token not found or invalid " BEARER "\","
                      "\"__type\":\"com.amazonaws.switchboard.portal#UnauthorizedException\"}");
    expect_sso_failure("sso-test", "SSO portal (GetRoleCredentials) answered HTTP 401 "
                                   "UnauthorizedException");
    /* An error type that echoes the token is not shown. */
    mini_http_respond(s, "GET", LEGACY_PATH, 403, "{\"__type\":\"" BEARER "\"}");
    expect_sso_failure("sso-test", "answered HTTP 403");
    mini_http_respond(s, "GET", LEGACY_PATH, 500, "{\"message\":\"" SECRET "\"}");
    expect_sso_failure("sso-test", "answered HTTP 500");
    /* The Rust SDK's sso_server_error. */
    mini_http_respond(s, "GET", LEGACY_PATH, 503, "");
    expect_sso_failure("sso-test", "answered HTTP 503");
    mini_http_respond(s, "GET", LEGACY_PATH, 200, "{\"roleCredentials\":{\"accessKeyId\":"
                      "\"A\",\"secretAccessKey\":\"" SECRET "\"}}");
    expect_sso_failure("sso-test", "lacks accessKeyId");
    mini_http_respond(s, "GET", LEGACY_PATH, 200, SECRET);
    expect_sso_failure("sso-test", "malformed JSON");
    mini_http_stop(s);
}

typedef struct counting_portal {
    atomic_int served;
    int lifetime_s;
} counting_portal;

static void counting_handler(const mini_http_request *req, int *status, char *body, size_t cap,
                             void *payload)
{
    counting_portal *p = payload;
    int n = atomic_fetch_add(&p->served, 1) + 1;
    (void)req;
    snprintf(body, cap, "{\"roleCredentials\":{\"accessKeyId\":\"ASIASSO%d\","
             "\"secretAccessKey\":\"s\",\"sessionToken\":\"t\",\"expiration\":%lld000}}", n,
             (long long)time(NULL) + p->lifetime_s);
    *status = 200;
}

/* Through the chain (the profile branch): refreshed once the role credentials expire. */
static void test_sso_refresh(void **state)
{
    static counting_portal src; /* outlives the server thread */
    dr_credentials_options opts = {0};
    dr_credentials_chain *chain = NULL;
    dr_credentials *c = NULL;
    mini_http *s = portal();
    (void)state;
    src.lifetime_s = 2;
    atomic_store(&src.served, 0);
    sandbox_write("config", SESSION_CONFIG);
    write_token(SESSION_CACHE, "2199-11-14T04:05:45Z");
    mini_http_handle(s, "GET", SESSION_PATH, counting_handler, &src);
    dr__credentials_set_refresh_timing(0, 0);
    opts.metadata_timeout_ms = 3000;
    assert_int_equal(dr__credentials_chain_new(&chain, &opts), DR_OK);
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIASSO1");
    assert_string_equal(c->account_id, "012345678901");
    dr__credentials_release(c);
    sleep(3);
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIASSO2");
    dr__credentials_release(c);
    assert_int_equal(atomic_load(&src.served), 2);
    dr__credentials_chain_free(chain);
    mini_http_stop(s);
}

/* ---- eight signing threads, credentials from a short-lived credential_process ---- */

#define THREADS 8

static void test_process_threads(void **state)
{
    int lifetime = 6 * sandbox_time_scale(), window = 4 * sandbox_time_scale(), run_s = 8 * sandbox_time_scale();
    dr_credentials_options opts = {0};
    dr_credentials_chain *chain = NULL;
    char command[1024], config[1200];
    FILE *f;
    long calls = 0;
    int runs = 0;
    (void)state;

    counter_command(command, sizeof command, lifetime);
    snprintf(config, sizeof config, "[default]\ncredential_process = %s\n", command);
    sandbox_write("config", config);
    dr__credentials_set_refresh_timing(window, 0);
    assert_int_equal(dr__credentials_chain_new(&chain, &opts), DR_OK);
    calls = sandbox_sign_under_load(chain, THREADS, run_s);
    f = fopen(sandbox_path("counter"), "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &runs), 1);
    fclose(f);
    print_message("%ld calls, %d process runs\n", calls, runs);
    /* Refreshed at least once, by one refresher at a time: credentials fall due every
     * lifetime - window seconds, so eight threads each running the process would run it
     * several times more often. */
    if (runs < 2)
        fail_msg("the process ran %d times in %d s: no refresh", runs, run_s);
    if (runs > run_s / (lifetime - window) + 3)
        fail_msg("the process ran %d times in %d s: more than one refresher at a time", runs,
                 run_s);
    if (calls <= 10L * runs)
        fail_msg("%ld calls for %d runs: calls do not reuse credentials", calls, runs);
    dr__credentials_chain_free(chain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_process_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_from_profile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_refresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sso_legacy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sso_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sso_token_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sso_profile_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sso_portal_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sso_refresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
