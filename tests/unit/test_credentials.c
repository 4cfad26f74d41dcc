/* The credentials providers, the chain and the region chain, against temp files and a
 * loopback server (tests/support/mini_http). Every case runs in a sandboxed
 * environment (tests/support/creds_sandbox) restored afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "creds_sandbox.h"
#include "credentials_chain.h"
#include "resolve.h"
#include "credentials_provider.h"
#include "http.h"
#include "mini_http.h"
#include "test_alloc.h"

/* ---- helpers ------------------------------------------------------------------- */

static dr_credentials_chain *new_chain(const dr_credentials_options *opts)
{
    static const dr_credentials_options none;
    dr_credentials_chain *chain = NULL;
    assert_int_equal(dr__credentials_chain_new(&chain, opts ? opts : &none), DR_OK);
    return chain;
}

/* Resolve through a fresh chain and check the access key id (NULL: expect failure). */
static void expect_chain_key(const dr_credentials_options *opts, const char *akid)
{
    dr_credentials_chain *chain = new_chain(opts);
    dr_credentials *c = (dr_credentials *)1;
    dr_status rc = dr__credentials_chain_get(chain, &c);
    if (akid) {
        assert_int_equal(rc, DR_OK);
        assert_string_equal(c->access_key_id, akid);
    } else {
        assert_int_equal(rc, DR_E_CREDENTIALS);
        assert_null(c);
    }
    dr__credentials_release(c);
    dr__credentials_chain_free(chain);
}

static void assert_message_has(const char *needle)
{
    if (!strstr(dr_last_error_message(), needle))
        fail_msg("message \"%s\" lacks \"%s\"", dr_last_error_message(), needle);
}

static mini_http *server(void)
{
    mini_http *s = mini_http_start();
    assert_non_null(s);
    return s;
}

/* ---- ISO-8601 ------------------------------------------------------------------ */

static void test_iso8601(void **state)
{
    int64_t t = -1;
    (void)state;
    assert_true(dr__parse_iso8601("1970-01-01T00:00:00Z", &t));
    assert_int_equal(t, 0);
    assert_true(dr__parse_iso8601("2026-11-25T12:34:56Z", &t));
    assert_int_equal(t, 1795610096);
    assert_true(dr__parse_iso8601("2026-11-25T12:34:56.789Z", &t));
    assert_int_equal(t, 1795610096);
    assert_true(dr__parse_iso8601("2026-11-25T13:34:56+01:00", &t));
    assert_int_equal(t, 1795610096);
    assert_true(dr__parse_iso8601("2026-11-25T11:34:56-0100", &t));
    assert_int_equal(t, 1795610096);
    assert_true(dr__parse_iso8601("2024-02-29T00:00:00Z", &t));
    assert_int_equal(t, 1709164800);
    assert_true(dr__parse_iso8601("1999-12-31T23:59:59Z", &t));
    assert_int_equal(t, 946684799);

    assert_false(dr__parse_iso8601("2023-02-29T00:00:00Z", &t)); /* not a leap year */
    assert_false(dr__parse_iso8601("2026-13-01T00:00:00Z", &t));
    assert_false(dr__parse_iso8601("2026-11-31T00:00:00Z", &t));
    assert_false(dr__parse_iso8601("2026-11-25T24:00:00Z", &t));
    assert_false(dr__parse_iso8601("2026-11-25T12:34:56", &t)); /* no zone */
    assert_false(dr__parse_iso8601("2026-11-25T12:34:56Zjunk", &t));
    assert_false(dr__parse_iso8601("2026-11-25T12:34:56.Z", &t));
    assert_false(dr__parse_iso8601("2026-11-25", &t));
    assert_false(dr__parse_iso8601("", &t));
    assert_false(dr__parse_iso8601(NULL, &t));
    assert_false(dr__parse_iso8601("20261125T123456Z", &t));
}

/* ---- http opt-in for the metadata hosts ---------------------------------------- */

static void test_http_metadata_opt_in(void **state)
{
    dr_http_request req = {0};
    dr_http_response resp = DR_HTTP_RESPONSE_INIT;
    (void)state;
    assert_true(dr__host_is_aws_metadata("169.254.169.254"));
    assert_true(dr__host_is_aws_metadata("169.254.170.2"));
    assert_true(dr__host_is_aws_metadata("169.254.170.23"));
    assert_true(dr__host_is_aws_metadata("FD00:EC2::23"));
    assert_false(dr__host_is_aws_metadata("169.254.169.25"));
    assert_false(dr__host_is_aws_metadata("169.254.169.254.example.com"));

    req.method = "GET";
    req.url = "http://169.254.169.254/latest";
    assert_int_equal(dr__http_perform(NULL, &req, &resp), DR_E_CONFIG);
    req.allow_plain_http_metadata = 1;
    req.url = "http://10.1.2.3/latest";
    assert_int_equal(dr__http_perform(NULL, &req, &resp), DR_E_CONFIG);
    req.url = "http://example.com/latest";
    assert_int_equal(dr__http_perform(NULL, &req, &resp), DR_E_CONFIG);
    dr__http_response_free(&resp);
}

/* ---- explicit and environment -------------------------------------------------- */

static void test_explicit_wins(void **state)
{
    dr_credentials_options opts = {0};
    dr_credentials_chain *chain;
    dr_credentials *c;
    (void)state;
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret-env", 1);
    opts.access_key_id = "AKIDEXPLICIT";
    opts.secret_access_key = "secret-explicit";
    opts.session_token = "token-explicit";
    chain = new_chain(&opts);
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_OK);
    assert_string_equal(c->access_key_id, "AKIDEXPLICIT");
    assert_string_equal(c->secret_access_key, "secret-explicit");
    assert_string_equal(c->session_token, "token-explicit");
    assert_int_equal(c->expires_at, 0);
    dr__credentials_release(c);
    dr__credentials_chain_free(chain);

    opts.secret_access_key = NULL;
    chain = (dr_credentials_chain *)1;
    assert_int_equal(dr__credentials_chain_new(&chain, &opts), DR_E_INVALID_ARGUMENT);
    assert_null(chain);
}

static void test_env(void **state)
{
    dr_credentials *c;
    (void)state;
    assert_int_equal(dr__credentials_from_env(&c), DR_E_NOT_FOUND);
    assert_message_has("AWS_ACCESS_KEY_ID not set");
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    assert_int_equal(dr__credentials_from_env(&c), DR_E_NOT_FOUND);
    assert_message_has("AWS_SECRET_ACCESS_KEY not set");
    setenv("AWS_SECRET_ACCESS_KEY", "secret-env", 1);
    assert_int_equal(dr__credentials_from_env(&c), DR_OK);
    assert_null(c->session_token);
    dr__credentials_release(c);
    setenv("AWS_SESSION_TOKEN", "token-env", 1);
    assert_int_equal(dr__credentials_from_env(&c), DR_OK);
    assert_string_equal(c->session_token, "token-env");
    dr__credentials_release(c);
    expect_chain_key(NULL, "AKIDENV");
}

/* ---- shared files -------------------------------------------------------------- */

static void expect_profile(const char *profile, const char *akid, const char *secret,
                           const char *token)
{
    dr_credentials *c = NULL;
    dr_status rc = sandbox_profile_credentials(profile, &c);
    if (!akid) {
        /* DR_E_NOT_FOUND: the profile has no credential settings at all. */
        assert_true(rc == DR_E_CREDENTIALS || rc == DR_E_NOT_FOUND);
        assert_null(c);
        return;
    }
    if (rc != DR_OK)
        fail_msg("profile %s: %s", profile, dr_last_error_message());
    assert_string_equal(c->access_key_id, akid);
    assert_string_equal(c->secret_access_key, secret);
    if (token)
        assert_string_equal(c->session_token, token);
    else
        assert_null(c->session_token);
    dr__credentials_release(c);
}

static void test_profile_credentials_file(void **state)
{
    (void)state;
    sandbox_write("credentials",
                  "# comment\n"
                  "; another comment\n"
                  "[default]\n"
                  "aws_access_key_id = AKIDDEFAULT\n"
                  "aws_secret_access_key=secret-default ; inline comment\n"
                  "\n"
                  "[ work ]  # comment after a header\r\n"
                  "aws_access_key_id\t=\tAKIDWORK\r\n"
                  "AWS_SECRET_ACCESS_KEY = secret/with+chars==\r\n"
                  "aws_session_token = token#not-a-comment\r\n");
    expect_profile("default", "AKIDDEFAULT", "secret-default", NULL);
    expect_profile("work", "AKIDWORK", "secret/with+chars==", "token#not-a-comment");
    expect_profile("missing", NULL, NULL, NULL);
    assert_message_has("not found in");
}

static void test_profile_config_file(void **state)
{
    (void)state;
    sandbox_write("config",
                  "[default]\n"
                  "region = eu-west-1\n"
                  "aws_access_key_id = AKIDCFGDEFAULT\n"
                  "aws_secret_access_key = secret-cfg-default\n"
                  "[profile  dev]\n"
                  "aws_access_key_id = AKIDDEV\n"
                  "aws_secret_access_key = secret-dev\n"
                  "s3 =\n"
                  "  aws_access_key_id = NOT-THIS-ONE\n"
                  "[dev]\n"
                  "aws_access_key_id = AKID-WRONG-SECTION\n"
                  "aws_secret_access_key = x\n");
    expect_profile("default", "AKIDCFGDEFAULT", "secret-cfg-default", NULL);
    /* In the config file `[dev]` is not profile dev; `[profile dev]` is. */
    expect_profile("dev", "AKIDDEV", "secret-dev", NULL);
}

static void test_profile_credentials_file_wins(void **state)
{
    (void)state;
    sandbox_write("credentials", "[dev]\naws_access_key_id = AKIDCREDS\n"
                                 "aws_secret_access_key = secret-creds\n");
    sandbox_write("config", "[profile dev]\naws_access_key_id = AKIDCONFIG\n"
                            "aws_secret_access_key = secret-config\n"
                            "aws_session_token = token-config\n");
    /* The whole set comes from the credentials file: no stale token from config. */
    expect_profile("dev", "AKIDCREDS", "secret-creds", NULL);
    setenv("AWS_PROFILE", "dev", 1);
    expect_chain_key(NULL, "AKIDCREDS");
}

static void test_profile_incomplete_and_missing(void **state)
{
    dr_credentials *c;
    (void)state;
    sandbox_write("credentials", "[half]\naws_access_key_id = AKIDHALF\n[empty]\n"
                                 "region = us-east-1\n");
    expect_profile("half", NULL, NULL, NULL);
    assert_message_has("no aws_secret_access_key");
    expect_profile("empty", NULL, NULL, NULL);
    assert_message_has("no aws_access_key_id");
    /* Files that do not exist at all. */
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/dr/credentials", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/dr/config", 1);
    assert_int_equal(sandbox_profile_credentials("default", &c), DR_E_CREDENTIALS);
    assert_message_has("not found in /nonexistent/dr/credentials or /nonexistent/dr/config");
    /* A directory instead of a file. */
    setenv("AWS_SHARED_CREDENTIALS_FILE", sandbox_path(""), 1);
    assert_int_equal(sandbox_profile_credentials("default", &c), DR_E_CREDENTIALS);
}

static void test_profile_home_expansion(void **state)
{
    (void)state;
    assert_int_equal(mkdir(sandbox_path(".aws"), 0700), 0);
    sandbox_write(".aws/credentials", "[default]\naws_access_key_id = AKIDHOME\n"
                                      "aws_secret_access_key = secret-home\n");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    expect_profile("default", "AKIDHOME", "secret-home", NULL);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials", 1);
    expect_profile("default", "AKIDHOME", "secret-home", NULL);
    unsetenv("HOME");
    expect_profile("default", NULL, NULL, NULL);
    assert_message_has("HOME not set");
    unlink(sandbox_path(".aws/credentials"));
    rmdir(sandbox_path(".aws"));
}

static void test_profile_garbage_files(void **state)
{
    static const char *const garbage[] = {
        "", "\n\n\n", "[", "]", "[]", "=", "==", "[default", "default]\nx=y",
        "aws_access_key_id = AKIDNOSECTION\naws_secret_access_key = s\n",
        "[default]\n=value\n", "[default]\naws_access_key_id\n",
        "[default]\r\r\r\naws_access_key_id = A\r", "\xff\xfe[\0" "default]\n",
        "[default] trailing\naws_access_key_id = AKIDBROKENHEADER\naws_secret_access_key = s\n",
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        sandbox_write("credentials", garbage[i]);
        expect_profile("default", NULL, NULL, NULL);
    }
}

/* ---- container ----------------------------------------------------------------- */

static void test_container_relative_uri(void **state)
{
    mini_http *s = server();
    creds_source src = {.access_key_prefix = "ASIAECS", .lifetime_s = 3600};
    dr_credentials *c;
    int64_t now = (int64_t)time(NULL);
    (void)state;
    mini_http_handle(s, "GET", "/v2/credentials/abc", creds_source_handler, &src);
    dr__credentials_container_set_relative_base(mini_http_url(s));
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc", 1);
    assert_int_equal(dr__credentials_from_container(0, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIAECS1");
    assert_string_equal(c->session_token, "test-token");
    assert_true(c->expires_at >= now + 3599 && c->expires_at <= now + 3601);
    dr__credentials_release(c);
    assert_int_equal(mini_http_count(s, "GET", "/v2/credentials/abc"), 1);

    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "no-leading-slash", 1);
    assert_int_equal(dr__credentials_from_container(0, &c), DR_E_CREDENTIALS);
    dr__credentials_container_set_relative_base(NULL);
    mini_http_stop(s);
}

static void test_container_full_uri_and_token(void **state)
{
    mini_http *s = server();
    creds_source src = {.access_key_prefix = "ASIAEKS"};
    char url[128], seen[64];
    const char *token_file;
    dr_credentials *c;
    (void)state;
    mini_http_handle(s, "GET", "/creds", creds_source_handler, &src);
    snprintf(url, sizeof url, "%s/creds", mini_http_url(s));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);

    /* No token configured: no Authorization header. */
    assert_int_equal(dr__credentials_from_container(0, &c), DR_OK);
    assert_int_equal(c->expires_at, 0);
    dr__credentials_release(c);
    assert_false(mini_http_last_header(s, "GET", "/creds", "Authorization", seen, sizeof seen));

    mini_http_require_header(s, "GET", "/creds", "Authorization", "env-token");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token", 1);
    assert_int_equal(dr__credentials_from_container(0, &c), DR_OK);
    dr__credentials_release(c);

    /* The file wins over the variable and is re-read on every fetch. */
    token_file = sandbox_write("token", "file-token-1\n");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file, 1);
    mini_http_require_header(s, "GET", "/creds", "Authorization", "file-token-1");
    assert_int_equal(dr__credentials_from_container(0, &c), DR_OK);
    dr__credentials_release(c);
    sandbox_write("token", "file-token-2");
    mini_http_require_header(s, "GET", "/creds", "Authorization", "file-token-2");
    assert_int_equal(dr__credentials_from_container(0, &c), DR_OK);
    dr__credentials_release(c);
    assert_true(mini_http_last_header(s, "GET", "/creds", "Authorization", seen, sizeof seen));
    assert_string_equal(seen, "file-token-2");

    /* A wrong token: the endpoint's 401 is reported, the token is not. */
    sandbox_write("token", "stale-token");
    assert_int_equal(dr__credentials_from_container(0, &c), DR_E_CREDENTIALS);
    assert_message_has("HTTP 401");
    assert_null(strstr(dr_last_error_message(), "stale-token"));

    /* A token with a line break would inject a header. */
    sandbox_write("token", "a\r\nX-Injected: 1");
    assert_int_equal(dr__credentials_from_container(0, &c), DR_E_CREDENTIALS);
    assert_message_has("line break");
    /* Missing and empty token files. */
    sandbox_write("token", "\n");
    assert_int_equal(dr__credentials_from_container(0, &c), DR_E_CREDENTIALS);
    assert_message_has("empty");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/nonexistent/dr/token", 1);
    assert_int_equal(dr__credentials_from_container(0, &c), DR_E_CREDENTIALS);
    mini_http_stop(s);
}

static void test_container_failures(void **state)
{
    mini_http *s = server();
    char url[128];
    dr_credentials *c;
    (void)state;
    snprintf(url, sizeof url, "%s/creds", mini_http_url(s));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);

    mini_http_respond(s, "GET", "/creds", 200, "{\"AccessKeyId\": \"AKID\", \"Secret");
    assert_int_equal(dr__credentials_from_container(0, &c), DR_E_CREDENTIALS);
    assert_message_has("malformed JSON");
    mini_http_respond(s, "GET", "/creds", 200, "[1,2,3]");
    assert_int_equal(dr__credentials_from_container(0, &c), DR_E_CREDENTIALS);
    mini_http_respond(s, "GET", "/creds", 200, "{\"AccessKeyId\": \"AKID\"}");
    assert_int_equal(dr__credentials_from_container(0, &c), DR_E_CREDENTIALS);
    assert_message_has("lacks");
    mini_http_respond(s, "GET", "/creds", 200, "{\"AccessKeyId\": \"AKID\", "
                      "\"SecretAccessKey\": \"s\", \"Expiration\": \"tomorrow\"}");
    assert_int_equal(dr__credentials_from_container(0, &c), DR_E_CREDENTIALS);
    assert_message_has("Expiration");
    mini_http_respond(s, "GET", "/creds", 500, "{\"code\":\"InternalError\"}");
    assert_int_equal(dr__credentials_from_container(0, &c), DR_E_CREDENTIALS);
    assert_message_has("HTTP 500");
    mini_http_respond(s, "GET", "/creds", 0, NULL); /* hang up */
    assert_int_not_equal(dr__credentials_from_container(0, &c), DR_OK);
    mini_http_set_delay_ms(s, 600);
    mini_http_respond(s, "GET", "/creds", 200, "{}");
    assert_int_equal(dr__credentials_from_container(200, &c), DR_E_TIMEOUT);
    mini_http_stop(s);

    snprintf(url, sizeof url, "http://127.0.0.1:%u/creds", (unsigned)mini_http_closed_port());
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    assert_int_equal(dr__credentials_from_container(0, &c), DR_E_NETWORK);
    assert_null(c);
}

static void test_container_full_uri_hosts(void **state)
{
    static const char *const refused[] = {
        "http://example.com/creds", "http://10.0.0.1/creds", "http://169.254.169.254/creds",
        "http://169.254.170.2.example.com/creds", "http://[fd00:ec2::24]/creds",
        "http://127.0.0.1.nip.io/creds"};
    static const char *const allowed[] = {"http://169.254.170.23:1/x", "http://[fd00:ec2::23]:1/x",
                                          "http://169.254.170.2:1/x", "http://localhost:1/x"};
    dr_credentials *c;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", refused[i], 1);
        assert_int_equal(dr__credentials_from_container(50, &c), DR_E_CREDENTIALS);
        assert_message_has("must use https");
    }
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "ftp://127.0.0.1/creds", 1);
    assert_int_equal(dr__credentials_from_container(50, &c), DR_E_CREDENTIALS);
    /* Allowed hosts get as far as the network (nothing listens there in tests). */
    for (i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", allowed[i], 1);
        assert_int_not_equal(dr__credentials_from_container(50, &c), DR_OK);
        assert_null(strstr(dr_last_error_message(), "must use https"));
    }
}

/* ---- instance metadata --------------------------------------------------------- */

static mini_http *imds_server(creds_source *src)
{
    mini_http *s = server();
    sandbox_script_imds(s, src);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", mini_http_url(s), 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    return s;
}

static void test_imds(void **state)
{
    creds_source src = {.access_key_prefix = "ASIAIMDS", .lifetime_s = 21600};
    mini_http *s = imds_server(&src);
    char ttl[32];
    dr_credentials *c;
    (void)state;
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIAIMDS1");
    assert_true(c->expires_at > (int64_t)time(NULL) + 21000);
    dr__credentials_release(c);
    assert_true(mini_http_last_header(s, "PUT", "/latest/api/token",
                                      "X-aws-ec2-metadata-token-ttl-seconds", ttl, sizeof ttl));
    assert_string_equal(ttl, "21600");
    assert_int_equal(mini_http_count(s, "GET", NULL), 2);

    /* The server insists on the token: a client that skipped it would get 401. */
    mini_http_respond(s, "PUT", "/latest/api/token", 200, "OTHER-TOKEN");
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_E_CREDENTIALS);
    assert_message_has("HTTP 401");
    assert_null(strstr(dr_last_error_message(), "OTHER-TOKEN"));

    /* A trailing slash on the endpoint override is fine. */
    mini_http_respond(s, "PUT", "/latest/api/token", 200, "TOKEN-1\n");
    {
        char url[80];
        snprintf(url, sizeof url, "%s/", mini_http_url(s));
        setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    }
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_OK);
    dr__credentials_release(c);
    mini_http_stop(s);
}

static void test_imds_failures(void **state)
{
    creds_source src = {0};
    mini_http *s = imds_server(&src);
    char url[64];
    dr_credentials *c;
    (void)state;
    mini_http_respond(s, "GET", "/latest/meta-data/iam/security-credentials/test-role", 200,
                      "{\"Code\":\"Success\",\"AccessKeyId\":");
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_E_CREDENTIALS);
    assert_message_has("malformed JSON");
    mini_http_respond(s, "GET", "/latest/meta-data/iam/security-credentials/test-role", 200,
                      "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"nope\"}");
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_E_CREDENTIALS);
    assert_message_has("AssumeRoleUnauthorizedAccess");
    mini_http_respond(s, "GET", "/latest/meta-data/iam/security-credentials/", 404, "");
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_E_NOT_FOUND);
    assert_message_has("no IAM role");
    mini_http_respond(s, "GET", "/latest/meta-data/iam/security-credentials/", 200,
                      "../../etc\n");
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_E_CREDENTIALS);
    assert_message_has("invalid role name");
    mini_http_respond(s, "PUT", "/latest/api/token", 200, "bad token with spaces");
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_E_CREDENTIALS);
    assert_message_has("invalid token");
    mini_http_respond(s, "PUT", "/latest/api/token", 403, "");
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_E_CREDENTIALS);
    assert_message_has("HTTP 403");
    /* Too slow: the short timeout gives up. */
    mini_http_respond(s, "PUT", "/latest/api/token", 200, "TOKEN-1");
    mini_http_set_delay_ms(s, 600);
    assert_int_equal(dr__credentials_from_imds(NULL, 200, &c), DR_E_TIMEOUT);
    mini_http_stop(s);

    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)mini_http_closed_port());
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_E_NETWORK);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://10.9.8.7", 1);
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_E_CONFIG);
    setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
    assert_int_equal(dr__credentials_from_imds(NULL, 0, &c), DR_E_NOT_FOUND);
    assert_message_has("disabled by AWS_EC2_METADATA_DISABLED");
    assert_null(c);
}

/* ---- the chain: fall-through and the message ------------------------------------ */

static void test_chain_reports_every_provider(void **state)
{
    dr_credentials_options opts = {0};
    dr_credentials_chain *chain;
    dr_credentials *c;
    (void)state;
    chain = new_chain(&opts);
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_E_CREDENTIALS);
    assert_null(c);
    assert_message_has("no credentials found: environment: AWS_ACCESS_KEY_ID not set");
    assert_message_has("web identity: AWS_WEB_IDENTITY_TOKEN_FILE");
    assert_message_has("profile \"default\": not found in ");
    assert_message_has("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
                       "AWS_CONTAINER_CREDENTIALS_FULL_URI not set");
    assert_message_has("instance metadata: disabled by AWS_EC2_METADATA_DISABLED");
    /* Stays failed, and tries again on the next call (the environment may change). */
    setenv("AWS_ACCESS_KEY_ID", "AKIDLATE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret-late", 1);
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_OK);
    assert_string_equal(c->access_key_id, "AKIDLATE");
    dr__credentials_release(c);
    dr__credentials_chain_free(chain);
}

static void test_chain_falls_through(void **state)
{
    creds_source ecs = {.access_key_prefix = "ASIAECS"};
    creds_source imds = {.access_key_prefix = "ASIAIMDS"};
    mini_http *container = server(), *metadata = imds_server(&imds);
    char url[128];
    (void)state;
    mini_http_handle(container, "GET", "/creds", creds_source_handler, &ecs);
    snprintf(url, sizeof url, "%s/creds", mini_http_url(container));

    /* Only IMDS configured. */
    expect_chain_key(NULL, "ASIAIMDS1");
    /* A default profile with settings but no credentials is not a source. */
    sandbox_write("config", "[default]\nregion = eu-west-1\n");
    expect_chain_key(NULL, "ASIAIMDS2");
    /* The container comes before IMDS. */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    expect_chain_key(NULL, "ASIAECS1");
    /* Profile files come before the container. */
    sandbox_write("config", "[default]\naws_access_key_id = AKIDPROFILE\n"
                            "aws_secret_access_key = secret-profile\n");
    expect_chain_key(NULL, "AKIDPROFILE");
    /* The environment comes before the profile; half a key pair falls through, as in the
     * SDKs. */
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    expect_chain_key(NULL, "AKIDPROFILE");
    setenv("AWS_SECRET_ACCESS_KEY", "secret-env", 1);
    expect_chain_key(NULL, "AKIDENV");
    assert_int_equal(mini_http_count(metadata, "PUT", NULL), 2);
    mini_http_stop(container);
    mini_http_stop(metadata);
}

/* A source the user configured answers for the chain: when it fails, the chain reports
 * it instead of signing as the broader principal of a later source (the instance role). */
static void test_chain_stops_at_configured_source(void **state)
{
    creds_source imds = {.access_key_prefix = "ASIAIMDS"};
    mini_http *container = server(), *metadata = imds_server(&imds);
    dr_credentials_options opts = {0};
    char url[128];
    (void)state;
    snprintf(url, sizeof url, "%s/creds", mini_http_url(container));

    /* Container variables set, endpoint failing. */
    mini_http_respond(container, "GET", "/creds", 403, "");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    expect_chain_key(NULL, NULL);
    assert_message_has("container: container endpoint answered HTTP 403");
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    /* A profile named in the configuration or by AWS_PROFILE that does not exist. */
    opts.profile = "ghost";
    expect_chain_key(&opts, NULL);
    assert_message_has("profile \"ghost\": not found in");
    setenv("AWS_PROFILE", "ghost", 1);
    expect_chain_key(NULL, NULL);
    assert_message_has("profile \"ghost\": not found in");
    unsetenv("AWS_PROFILE");
    /* The default profile with half a key pair. */
    sandbox_write("config", "[default]\naws_access_key_id = AKIDPROFILE\n");
    expect_chain_key(NULL, NULL);
    assert_message_has("no aws_secret_access_key");
    /* A role whose source cannot give credentials. */
    sandbox_write("config", "[default]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
                            "credential_source = Environment\n");
    expect_chain_key(NULL, NULL);
    assert_message_has("credential_source Environment");
    /* Web identity variables set, the token file missing. */
    unlink(sandbox_path("config"));
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", sandbox_path("no-token"), 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r", 1);
    expect_chain_key(NULL, NULL);
    assert_message_has("web identity: ");
    unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    unsetenv("AWS_ROLE_ARN");
    /* None of them fell through to the instance role. */
    assert_int_equal(mini_http_count(metadata, NULL, NULL), 0);
    expect_chain_key(NULL, "ASIAIMDS1");
    mini_http_stop(container);
    mini_http_stop(metadata);
}

/* ---- refresh (single-threaded; the threaded test is test_credentials_refresh) ---- */

static void test_refresh_before_expiry(void **state)
{
    creds_source src = {.access_key_prefix = "ASIAR", .lifetime_s = 100};
    mini_http *s = imds_server(&src);
    dr_credentials_chain *chain = new_chain(NULL);
    dr_credentials *c1, *c2;
    (void)state;
    dr__credentials_set_refresh_timing(10, 0);
    assert_int_equal(dr__credentials_chain_get(chain, &c1), DR_OK);
    assert_string_equal(c1->access_key_id, "ASIAR1");
    /* Far from expiry: cached. */
    assert_int_equal(dr__credentials_chain_get(chain, &c2), DR_OK);
    assert_ptr_equal(c1, c2);
    dr__credentials_release(c2);
    /* Inside the refresh window: refreshed on the next call. */
    dr__credentials_set_refresh_timing(200, 0);
    assert_int_equal(dr__credentials_chain_get(chain, &c2), DR_OK);
    assert_string_equal(c2->access_key_id, "ASIAR2");
    /* The old reference stays usable after the swap. */
    assert_string_equal(c1->access_key_id, "ASIAR1");
    dr__credentials_release(c1);
    dr__credentials_release(c2);
    dr__credentials_chain_free(chain);
    mini_http_stop(s);
}

static void test_failed_refresh_keeps_valid_credentials(void **state)
{
    creds_source src = {.access_key_prefix = "ASIAK", .lifetime_s = 3};
    mini_http *s = imds_server(&src);
    dr_credentials_chain *chain = new_chain(NULL);
    dr_credentials *c;
    (void)state;
    dr__credentials_set_refresh_timing(2, 0);
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIAK1");
    dr__credentials_release(c);
    /* The endpoint breaks; inside the window the chain keeps serving ASIAK1. */
    mini_http_respond(s, "GET", "/latest/meta-data/iam/security-credentials/test-role", 500,
                      "");
    sleep(1);
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIAK1");
    dr__credentials_release(c);
    /* Once expired with the endpoint still broken: DR_E_CREDENTIALS. */
    sleep(3);
    c = (dr_credentials *)1;
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_E_CREDENTIALS);
    assert_null(c);
    assert_message_has("HTTP 500");
    /* The endpoint recovers: fresh credentials. */
    mini_http_handle(s, "GET", "/latest/meta-data/iam/security-credentials/test-role",
                     creds_source_handler, &src);
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIAK2");
    dr__credentials_release(c);
    dr__credentials_chain_free(chain);
    mini_http_stop(s);
}

static void test_refresh_backoff(void **state)
{
    creds_source src = {.access_key_prefix = "ASIAB", .lifetime_s = 60};
    mini_http *s = imds_server(&src);
    dr_credentials_chain *chain = new_chain(NULL);
    dr_credentials *c;
    size_t before;
    int i;
    (void)state;
    dr__credentials_set_refresh_timing(120, 30); /* always due, 30 s pause on failure */
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_OK);
    dr__credentials_release(c);
    mini_http_respond(s, "GET", "/latest/meta-data/iam/security-credentials/test-role", 500,
                      "");
    before = mini_http_count(s, "PUT", NULL);
    for (i = 0; i < 5; i++) {
        assert_int_equal(dr__credentials_chain_get(chain, &c), DR_OK);
        assert_string_equal(c->access_key_id, "ASIAB1");
        dr__credentials_release(c);
    }
    /* Credentials arriving inside the window also pause refreshes: the endpoint was
     * asked at most once more, not on each of the five calls. */
    assert_true(mini_http_count(s, "PUT", NULL) - before <= 1);
    dr__credentials_chain_free(chain);
    mini_http_stop(s);
}

static void test_expired_from_provider_is_refused(void **state)
{
    creds_source src = {0};
    mini_http *s = imds_server(&src);
    dr_credentials_chain *chain = new_chain(NULL);
    dr_credentials *c = (dr_credentials *)1;
    (void)state;
    mini_http_respond(s, "GET", "/latest/meta-data/iam/security-credentials/test-role", 200,
                      "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\","
                      "\"Expiration\":\"2001-01-01T00:00:00Z\"}");
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_E_CREDENTIALS);
    assert_null(c);
    assert_message_has("imds returned credentials that have already expired");
    dr__credentials_chain_free(chain);
    mini_http_stop(s);
}

/* ---- region -------------------------------------------------------------------- */

static void expect_region(const char *explicit_region, const char *profile, const char *want)
{
    char *region = (char *)1;
    dr_status rc = dr__resolve_region(explicit_region, profile, &region);
    if (!want) {
        assert_int_equal(rc, DR_E_CONFIG);
        assert_null(region);
        return;
    }
    if (rc != DR_OK)
        fail_msg("%s", dr_last_error_message());
    assert_string_equal(region, want);
    dr__free(region);
}

static void test_region_chain(void **state)
{
    (void)state;
    expect_region(NULL, NULL, NULL);
    assert_message_has("no region");
    assert_message_has("AWS_REGION");
    sandbox_write("config", "[default]\nregion = eu-north-1\n[profile dev]\n"
                            "region = ap-south-1\n[profile bad]\nregion = evil.com/x\n");
    expect_region(NULL, NULL, "eu-north-1");
    expect_region(NULL, "dev", "ap-south-1");
    setenv("AWS_PROFILE", "dev", 1);
    expect_region(NULL, NULL, "ap-south-1");
    expect_region(NULL, "ghost", NULL);
    assert_message_has("\"ghost\"");
    expect_region(NULL, "bad", NULL);
    assert_message_has("invalid");
    setenv("AWS_DEFAULT_REGION", "us-west-2", 1);
    expect_region(NULL, NULL, "us-west-2");
    setenv("AWS_REGION", "us-east-2", 1);
    expect_region(NULL, NULL, "us-east-2");
    expect_region("eu-central-1", NULL, "eu-central-1");
    setenv("AWS_REGION", "US EAST", 1);
    expect_region(NULL, NULL, NULL);
    assert_message_has("AWS_REGION");
}

/* ---- allocation failures ------------------------------------------------------- */

/* Fail allocation 1, 2, ... of `fn` until it succeeds; each failure must be reported as
 * DR_E_NOMEM (never swallowed into "no credentials") and leak nothing (ASan / valgrind
 * check that). */
static void fail_each_allocation(dr_status (*fn)(void *), void *arg)
{
    long n;
    for (n = 1; n < 500; n++) {
        dr_status rc;
        dr_test_alloc_fail_after(n);
        rc = fn(arg);
        dr_test_alloc_fail_after(0);
        if (rc == DR_OK)
            return;
        if (rc != DR_E_NOMEM)
            fail_msg("allocation %ld: unexpected %d: %s", n, rc, dr_last_error_message());
    }
    fail_msg("never succeeded");
}

static dr_status chain_once(void *arg)
{
    dr_credentials_chain *chain = NULL;
    dr_credentials *c = NULL;
    dr_status rc = dr__credentials_chain_new(&chain, arg);
    if (rc == DR_OK)
        rc = dr__credentials_chain_get(chain, &c);
    dr__credentials_release(c);
    dr__credentials_chain_free(chain);
    return rc;
}

static dr_status region_once(void *arg)
{
    char *region = NULL;
    dr_status rc = dr__resolve_region(NULL, arg, &region);
    dr__free(region);
    return rc;
}

static void test_allocation_failures(void **state)
{
    creds_source src = {.lifetime_s = 3600};
    mini_http *s;
    dr_credentials_options opts = {0};
    char url[128];
    (void)state;
    opts.profile = "dev";
    sandbox_write("config", "[profile dev]\nregion = eu-west-3\n");
    sandbox_write("credentials", "[dev]\naws_access_key_id = AKIDDEV\n"
                                 "aws_secret_access_key = secret-dev\naws_session_token = t\n");
    fail_each_allocation(chain_once, &opts);
    {
        static char dev[] = "dev";
        fail_each_allocation(region_once, dev);
    }

    unlink(sandbox_path("credentials"));
    s = server();
    mini_http_handle(s, "GET", "/creds", creds_source_handler, &src);
    snprintf(url, sizeof url, "%s/creds", mini_http_url(s));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok", 1);
    fail_each_allocation(chain_once, &opts);
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    mini_http_stop(s);

    s = imds_server(&src);
    fail_each_allocation(chain_once, &opts);
    mini_http_stop(s);

    opts.access_key_id = "AKIDX";
    opts.secret_access_key = "secret-x";
    fail_each_allocation(chain_once, &opts);
}

#define T(f) cmocka_unit_test_setup_teardown(f, sandbox_setup, sandbox_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_iso8601),
        T(test_http_metadata_opt_in),
        T(test_explicit_wins),
        T(test_env),
        T(test_profile_credentials_file),
        T(test_profile_config_file),
        T(test_profile_credentials_file_wins),
        T(test_profile_incomplete_and_missing),
        T(test_profile_home_expansion),
        T(test_profile_garbage_files),
        T(test_container_relative_uri),
        T(test_container_full_uri_and_token),
        T(test_container_failures),
        T(test_container_full_uri_hosts),
        T(test_imds),
        T(test_imds_failures),
        T(test_chain_reports_every_provider),
        T(test_chain_falls_through),
        T(test_chain_stops_at_configured_source),
        T(test_refresh_before_expiry),
        T(test_failed_refresh_keeps_valid_credentials),
        T(test_refresh_backoff),
        T(test_expired_from_provider_is_refused),
        T(test_region_chain),
        T(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
