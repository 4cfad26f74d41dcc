/* STS for the credentials chain (issue 12): the STS endpoint the client resolves, the XML
 * extractor, AssumeRole and AssumeRoleWithWebIdentity against a loopback "STS" reached
 * through the test redirect (so the real https://sts.<region>.amazonaws.com URL and Host
 * are built), the environment's web identity provider, and eight threads signing through
 * a chain whose short-lived credentials come from web identity (label `threads`). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "creds_sandbox.h"
#include "credentials_chain.h"
#include "credentials_provider.h"
#include "endpoint.h"
#include "http.h"
#include "mini_http.h"
#include "resolve.h"
#include "sigv4.h"
#include "sts.h"

#define STS_URL "https://sts.us-east-1.amazonaws.com"
#define ROLE_ARN "arn:aws:iam::123456789012:role/test-role"
#define TOKEN_1 "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.sig-one"
#define TOKEN_2 "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.sig-two"
#define SOURCE_SECRET "source-secret-key-0123456789"
#define SOURCE_TOKEN "source-session-token-0123456789"

/* ---- a loopback STS ------------------------------------------------------------ */

typedef struct fake_sts {
    pthread_mutex_t lock;
    char last_body[8192];    /* of the latest request */
    int fail_first;          /* answer this many requests with fail_status / fail_body */
    int fail_status;
    const char *fail_body;
    int64_t lifetime_s;      /* of the credentials served */
    atomic_int requests;
    atomic_int served;
} fake_sts;

static fake_sts g_sts; /* its lock initialised by main() */
static mini_http *g_server;

static void sts_handler(const mini_http_request *req, int *status, char *body, size_t cap,
                        void *payload)
{
    fake_sts *sts = payload;
    int n = atomic_fetch_add(&sts->requests, 1);
    const char *action = strstr(req->body ? req->body : "", "Action=AssumeRoleWithWebIdentity")
                             ? "AssumeRoleWithWebIdentity"
                             : "AssumeRole";
    char expiration[32];

    pthread_mutex_lock(&sts->lock);
    snprintf(sts->last_body, sizeof sts->last_body, "%.*s", (int)req->body_len,
             req->body ? req->body : "");
    pthread_mutex_unlock(&sts->lock);
    if (n < sts->fail_first) {
        *status = sts->fail_status;
        snprintf(body, cap, "%s", sts->fail_body);
        return;
    }
    n = atomic_fetch_add(&sts->served, 1) + 1;
    sandbox_iso8601((int64_t)time(NULL) + sts->lifetime_s, expiration, sizeof expiration);
    *status = 200;
    snprintf(body, cap,
             "<%sResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
             "  <%sResult>\n"
             "    <AssumedRoleUser>\n"
             "      <AssumedRoleId>AROATESTROLEID:test-session</AssumedRoleId>\n"
             "      <Arn>arn:aws:sts::123456789012:assumed-role/test-role/test-session</Arn>\n"
             "    </AssumedRoleUser>\n"
             "    <Credentials>\n"
             "      <AccessKeyId>ASIASTS%d</AccessKeyId>\n"
             "      <SecretAccessKey>sts-secret-%d</SecretAccessKey>\n"
             "      <SessionToken>sts-token-%d</SessionToken>\n"
             "      <Expiration>%s</Expiration>\n"
             "    </Credentials>\n"
             "  </%sResult>\n"
             "  <ResponseMetadata><RequestId>0e4a7c9d</RequestId></ResponseMetadata>\n"
             "</%sResponse>\n",
             action, action, n, n, n, expiration, action, action);
}

static void last_body(char *out, size_t cap)
{
    pthread_mutex_lock(&g_sts.lock);
    snprintf(out, cap, "%s", g_sts.last_body);
    pthread_mutex_unlock(&g_sts.lock);
}

static int setup(void **state)
{
    char target[32];
    if (sandbox_setup(state) != 0)
        return -1;
    g_sts.fail_first = 0;
    g_sts.lifetime_s = 3600;
    atomic_store(&g_sts.requests, 0);
    atomic_store(&g_sts.served, 0);
    g_sts.last_body[0] = '\0';
    if (!(g_server = mini_http_start()))
        return -1;
    mini_http_handle(g_server, "POST", "/", sts_handler, &g_sts);
    snprintf(target, sizeof target, "127.0.0.1:%u", (unsigned)mini_http_port(g_server));
    dr__http_set_test_redirect(target);
    return 0;
}

static int teardown(void **state)
{
    dr__http_set_test_redirect(NULL);
    mini_http_stop(g_server);
    g_server = NULL;
    return sandbox_teardown(state);
}

static dr_provider_context context(void)
{
    dr_provider_context ctx = {0};
    ctx.profile = "default";
    ctx.region = "us-east-1";
    ctx.timeout_ms = 5000;
    ctx.sts_endpoint = STS_URL;
    return ctx;
}

static void set_web_identity_env(const char *token)
{
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", sandbox_write("token.jwt", token), 1);
    setenv("AWS_ROLE_ARN", ROLE_ARN, 1);
}

static int has_header(const char *name, char *value, size_t cap)
{
    return mini_http_last_header(g_server, "POST", "/", name, value, cap);
}

/* ---- the STS endpoint ------------------------------------------------------------ */

static void want_sts_url(const char *region, int fips, int dual_stack, const char *url)
{
    dr_endpoint_params p;
    dr_endpoint_result r;
    const char *error;
    memset(&p, 0, sizeof p);
    p.region = region;
    p.use_fips = fips;
    p.use_dual_stack = dual_stack;
    error = dr__endpoint_resolve(DR_ENDPOINT_STS, &p, &r);
    if (error)
        fail_msg("%s fips=%d dual-stack=%d: %s", region, fips, dual_stack, error);
    assert_string_equal(r.url, url);
}

static void test_sts_endpoint_rules(void **state)
{
    dr_endpoint_params p;
    dr_endpoint_result r;
    (void)state;
    want_sts_url("us-east-1", 0, 0, "https://sts.us-east-1.amazonaws.com");
    want_sts_url("eu-west-1", 0, 0, "https://sts.eu-west-1.amazonaws.com");
    want_sts_url("cn-north-1", 0, 0, "https://sts.cn-north-1.amazonaws.com.cn");
    want_sts_url("us-east-1", 1, 0, "https://sts-fips.us-east-1.amazonaws.com");
    want_sts_url("us-east-1", 0, 1, "https://sts.us-east-1.api.aws");
    /* The recorded e2e_fips_and_dual_stack_sts case of the SDKs' profile suite. */
    want_sts_url("us-east-1", 1, 1, "https://sts-fips.us-east-1.api.aws");
    /* GovCloud's regional host is its FIPS host. */
    want_sts_url("us-gov-west-1", 1, 0, "https://sts.us-gov-west-1.amazonaws.com");
    want_sts_url("us-gov-west-1", 1, 1, "https://sts-fips.us-gov-west-1.api.aws");
    want_sts_url("us-iso-east-1", 0, 0, "https://sts.us-iso-east-1.c2s.ic.gov");

    memset(&p, 0, sizeof p);
    p.region = "us-east-1";
    p.endpoint = "https://sts.example.com";
    p.use_fips = 1;
    assert_string_equal(dr__endpoint_resolve(DR_ENDPOINT_STS, &p, &r),
                        "Invalid Configuration: FIPS and custom endpoint are not supported");
    p.use_fips = 0;
    assert_null(dr__endpoint_resolve(DR_ENDPOINT_STS, &p, &r));
    assert_string_equal(r.url, "https://sts.example.com");
}

static void test_sts_endpoint_of_client(void **state)
{
    char *endpoint = NULL, *host = NULL;
    const char *signing_region;
    (void)state;

    assert_int_equal(dr__resolve_endpoint(NULL, "eu-west-1", NULL, DR_ENDPOINT_STS, &endpoint,
                                          &host, &signing_region), DR_OK);
    assert_string_equal(endpoint, "https://sts.eu-west-1.amazonaws.com");
    free(endpoint);
    free(host);

    sandbox_write("config", "[default]\nuse_fips_endpoint = true\n");
    assert_int_equal(dr__resolve_endpoint(NULL, "us-east-2", NULL, DR_ENDPOINT_STS, &endpoint,
                                          &host, &signing_region), DR_OK);
    assert_string_equal(endpoint, "https://sts-fips.us-east-2.amazonaws.com");
    free(endpoint);
    free(host);

    /* A configured endpoint and FIPS together are refused, as the rule set refuses them. */
    setenv("AWS_ENDPOINT_URL_STS", "https://sts.internal.example:8443", 1);
    assert_int_equal(dr__resolve_endpoint(NULL, "us-east-2", NULL, DR_ENDPOINT_STS, &endpoint,
                                          &host, &signing_region), DR_E_CONFIG);
    sandbox_write("config", "[default]\n");

    /* AWS_ENDPOINT_URL_STS wins, and DynamoDB's own variable does not apply to STS. */
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000", 1);
    assert_int_equal(dr__resolve_endpoint(NULL, "us-east-2", NULL, DR_ENDPOINT_STS, &endpoint,
                                          &host, &signing_region), DR_OK);
    assert_string_equal(endpoint, "https://sts.internal.example:8443");
    assert_string_equal(host, "sts.internal.example:8443");
    free(endpoint);
    free(host);
}

/* ---- the XML extractor ------------------------------------------------------------ */

static dr_status extract_one(const char *xml, const char *path, char *out, size_t cap)
{
    dr_buf value = DR_BUF_INIT;
    dr_xml_field field;
    dr_status rc;
    field.path = path;
    field.value = &value;
    rc = dr__xml_extract(xml, strlen(xml), &field, 1);
    snprintf(out, cap, "%s", rc == DR_OK && field.found ? dr__buf_cstr(&value) : "(none)");
    dr__buf_free_secret(&value);
    return rc;
}

static void want_value(const char *xml, const char *path, const char *expected)
{
    char got[256];
    dr_status rc = extract_one(xml, path, got, sizeof got);
    if (rc != DR_OK)
        fail_msg("%s: %s", xml, dr_last_error_message());
    assert_string_equal(got, expected);
}

static void want_malformed(const char *xml, const char *what)
{
    char got[256];
    assert_int_equal(extract_one(xml, "A/B", got, sizeof got), DR_E_PROTOCOL);
    if (!strstr(dr_last_error_message(), what))
        fail_msg("%s: \"%s\" does not say \"%s\"", xml, dr_last_error_message(), what);
}

static void test_xml_extractor(void **state)
{
    char deep[1024] = "";
    int i;
    (void)state;
    want_value("<A><B>x</B></A>", "A/B", "x");
    want_value("<?xml version=\"1.0\"?>\n<!-- c --><A k='v' j=\"w\"><B>x</B></A>\n", "B", "x");
    want_value("<s:A xmlns:s=\"u\"><s:B>ns</s:B></s:A>", "A/B", "ns");
    want_value("<A><B>&amp;&lt;&gt;&quot;&apos;&#65;&#x42;&#xe9;&#x1F600;</B></A>", "A/B",
                 "&<>\"'AB\xc3\xa9\xf0\x9f\x98\x80");
    want_value("<A><B>a<![CDATA[<&>]]>b</B></A>", "A/B", "a<&>b");
    want_value("<A><B/></A>", "A/B", "");
    want_value("<A><C><B>not me</B></C><B>me</B></A>", "A/B", "me");
    want_value("<A><C>x</C></A>", "A/B", "(none)");
    /* Only the innermost elements count: the path is a suffix. */
    want_value("<R><A><B>deep</B></A></R>", "A/B", "deep");

    want_malformed("<!DOCTYPE A [<!ENTITY e \"boom\">]><A><B>&e;</B></A>",
                     "document type declaration");
    want_malformed("<A><B>&e;</B></A>", "undefined entity");
    want_malformed("<A><B>&#0;</B></A>", "character XML does not allow");
    want_malformed("<A><B>&#xD800;</B></A>", "character XML does not allow");
    want_malformed("<A><B>&#123456789;</B></A>", "malformed character reference");
    want_malformed("<A><B>&amp</B></A>", "undefined entity");
    want_malformed("<A><B>x</B><B>y</B></A>", "occurs twice");
    want_malformed("<A><B><C/></B></A>", "element inside a field");
    want_malformed("<A><B>x</A></B>", "does not match");
    want_malformed("<A><B>x</B>", "unterminated element");
    want_malformed("<A><B>x</B></A><A/>", "second root");
    want_malformed("junk<A/>", "text outside the root");
    want_malformed("<A><B>a\x01</B></A>", "control character");
    want_malformed("<A b=c/>", "unquoted attribute");
    want_malformed("<A><B>x</B></A", "malformed end tag");
    want_malformed("", "no root element");
    want_malformed("<A><!-- x", "unterminated comment");
    for (i = 0; i < DR_XML_MAX_DEPTH + 1; i++)
        strcat(deep, "<A>");
    want_malformed(deep, "nested too deep");
}

static void test_parse_answers(void **state)
{
    static const char ok[] =
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
        "<AssumeRoleResult><AssumedRoleUser><Arn>arn:aws-cn:sts::210987654321:assumed-role/r/s"
        "</Arn></AssumedRoleUser><Credentials><AccessKeyId>ASIAOK</AccessKeyId>"
        "<SecretAccessKey>se&amp;cret</SecretAccessKey><SessionToken>to&#x2B;ken</SessionToken>"
        "<Expiration>2026-12-03T20:52:53Z</Expiration></Credentials></AssumeRoleResult>"
        "</AssumeRoleResponse>";
    static const char no_arn[] =
        "<R><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
        "<SessionToken>T</SessionToken><Expiration>2026-12-03T20:52:53.123Z</Expiration>"
        "</Credentials><AssumedRoleUser><Arn>arn:aws:iam::123:role/x</Arn></AssumedRoleUser></R>";
    static const char no_token[] =
        "<R><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
        "<Expiration>2026-12-03T20:52:53Z</Expiration></Credentials></R>";
    static const char bad_expiry[] =
        "<R><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
        "<SessionToken>T</SessionToken><Expiration>tomorrow</Expiration></Credentials></R>";
    static const char error[] =
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
        "<Type>Sender</Type><Code>AccessDenied</Code><Message>not &lt;allowed&gt;</Message>"
        "</Error><RequestId>r</RequestId></ErrorResponse>";
    dr_credentials *c = NULL;
    char code[64], message[64];
    (void)state;

    assert_int_equal(dr__sts_parse_credentials(ok, strlen(ok), &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIAOK");
    assert_string_equal(c->secret_access_key, "se&cret");
    assert_string_equal(c->session_token, "to+ken");
    assert_int_equal(c->expires_at, 1796331173);
    assert_string_equal(c->account_id, "210987654321");
    dr__credentials_release(c);

    assert_int_equal(dr__sts_parse_credentials(no_arn, strlen(no_arn), &c), DR_OK);
    assert_null(c->account_id); /* not an assumed-role ARN */
    dr__credentials_release(c);

    assert_int_equal(dr__sts_parse_credentials(no_token, strlen(no_token), &c), DR_E_PROTOCOL);
    assert_null(c);
    assert_non_null(strstr(dr_last_error_message(), "lacks Credentials/SessionToken"));
    assert_int_equal(dr__sts_parse_credentials(bad_expiry, strlen(bad_expiry), &c),
                     DR_E_PROTOCOL);
    assert_null(c);
    assert_int_equal(dr__sts_parse_credentials(error, strlen(error), &c), DR_E_PROTOCOL);

    assert_true(dr__sts_parse_error(error, strlen(error), code, sizeof code, message,
                                    sizeof message));
    assert_string_equal(code, "AccessDenied");
    assert_string_equal(message, "not <allowed>");
    assert_false(dr__sts_parse_error(ok, strlen(ok), code, sizeof code, message,
                                     sizeof message));
    assert_string_equal(code, "");
}

/* ---- the calls --------------------------------------------------------------------- */

static void test_web_identity_success(void **state)
{
    dr_provider_context ctx = context();
    dr_credentials *c = NULL;
    char body[8192], value[256];
    (void)state;

    set_web_identity_env(TOKEN_1 "\n");
    setenv("AWS_ROLE_SESSION_NAME", "my-session", 1);
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIASTS1");
    assert_string_equal(c->secret_access_key, "sts-secret-1");
    assert_string_equal(c->session_token, "sts-token-1");
    assert_string_equal(c->account_id, "123456789012");
    assert_true(c->expires_at > (int64_t)time(NULL) + 3500);
    dr__credentials_release(c);

    last_body(body, sizeof body);
    assert_string_equal(body, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
                              "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ftest-role"
                              "&RoleSessionName=my-session&WebIdentityToken=" TOKEN_1);
    assert_true(has_header("Host", value, sizeof value));
    assert_string_equal(value, "sts.us-east-1.amazonaws.com");
    assert_true(has_header("Content-Type", value, sizeof value));
    assert_string_equal(value, "application/x-www-form-urlencoded");
    /* Unsigned: the token is the proof. */
    assert_false(has_header("Authorization", value, sizeof value));
    assert_false(has_header("X-Amz-Date", value, sizeof value));
}

static void test_assume_role_success(void **state)
{
    dr_provider_context ctx = context();
    dr_credentials *source = dr__credentials_new("AKIDSOURCE", SOURCE_SECRET, SOURCE_TOKEN, 0);
    dr_sts_role role = {ROLE_ARN, NULL, "ext id/1", 900};
    dr_credentials *c = NULL;
    char body[8192], value[512], expected_prefix[128];
    struct tm utc;
    time_t now = time(NULL);
    (void)state;

    assert_non_null(source);
    ctx.region = "eu-west-1";
    assert_int_equal(dr__sts_assume_role(&ctx, &role, source, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIASTS1");
    assert_string_equal(c->account_id, "123456789012");
    dr__credentials_release(c);

    last_body(body, sizeof body);
    assert_true(strncmp(body, "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A"
                              "123456789012%3Arole%2Ftest-role&RoleSessionName=dadratings-",
                        strlen("Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A"
                               "%3A123456789012%3Arole%2Ftest-role&RoleSessionName=dadratings-"))
                == 0);
    assert_non_null(strstr(body, "&DurationSeconds=900&ExternalId=ext%20id%2F1"));
    /* Signed by the source credentials for sts in the client's region. */
    gmtime_r(&now, &utc);
    strftime(expected_prefix, sizeof expected_prefix,
             "AWS4-HMAC-SHA256 Credential=AKIDSOURCE/%Y%m%d/eu-west-1/sts/aws4_request", &utc);
    assert_true(has_header("Authorization", value, sizeof value));
    assert_true(strncmp(value, expected_prefix, strlen(expected_prefix)) == 0);
    assert_non_null(strstr(value, "SignedHeaders=content-type;host;x-amz-date;"
                                  "x-amz-security-token"));
    assert_true(has_header("X-Amz-Security-Token", value, sizeof value));
    assert_string_equal(value, SOURCE_TOKEN);
    dr__credentials_release(source);
}

static void test_token_reread(void **state)
{
    dr_provider_context ctx = context();
    dr_credentials *c = NULL;
    char body[8192];
    (void)state;

    set_web_identity_env(TOKEN_1);
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_OK);
    dr__credentials_release(c);
    last_body(body, sizeof body);
    assert_non_null(strstr(body, "&WebIdentityToken=" TOKEN_1));
    /* The default session name is the library's, in milliseconds. */
    assert_non_null(strstr(body, "&RoleSessionName=dadratings-1"));

    /* EKS rotates the file in place: the next call must send the new token. */
    sandbox_write("token.jwt", TOKEN_2 "\r\n");
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIASTS2");
    dr__credentials_release(c);
    last_body(body, sizeof body);
    assert_non_null(strstr(body, "&WebIdentityToken=" TOKEN_2));
    assert_null(strstr(body, TOKEN_1));
}

static void test_web_identity_configuration(void **state)
{
    dr_provider_context ctx = context();
    dr_credentials *c = NULL;
    (void)state;

    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_E_NOT_FOUND);
    setenv("AWS_ROLE_ARN", ROLE_ARN, 1);
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_E_NOT_FOUND);
    assert_string_equal(dr_last_error_message(),
                        "AWS_ROLE_ARN set but AWS_WEB_IDENTITY_TOKEN_FILE not set");
    unsetenv("AWS_ROLE_ARN");
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", sandbox_path("token.jwt"), 1);
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_E_NOT_FOUND);
    assert_string_equal(dr_last_error_message(),
                        "AWS_WEB_IDENTITY_TOKEN_FILE set but AWS_ROLE_ARN not set");
    /* Configured, but the file is missing or empty. */
    setenv("AWS_ROLE_ARN", ROLE_ARN, 1);
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_E_CREDENTIALS);
    assert_non_null(strstr(dr_last_error_message(), "STS AssumeRoleWithWebIdentity for " ROLE_ARN
                                                    " failed: web identity token file "));
    assert_non_null(strstr(dr_last_error_message(), "does not exist"));
    sandbox_write("token.jwt", "\n");
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_E_CREDENTIALS);
    assert_non_null(strstr(dr_last_error_message(), "is empty"));
    assert_int_equal(atomic_load(&g_sts.requests), 0);
    /* No endpoint: a chain made without a client. */
    sandbox_write("token.jwt", TOKEN_1);
    ctx.sts_endpoint = NULL;
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_E_CREDENTIALS);
    assert_non_null(strstr(dr_last_error_message(), "no STS endpoint"));
    assert_null(c);
}

static void want_failure(const char *want, int requests)
{
    const char *message = dr_last_error_message();
    if (!strstr(message, want))
        fail_msg("\"%s\" does not contain \"%s\"", message, want);
    if (strstr(message, "sig-one") || strstr(message, SOURCE_SECRET) ||
        strstr(message, SOURCE_TOKEN) || strstr(message, "sts-secret"))
        fail_msg("\"%s\" quotes a secret", message);
    assert_int_equal(atomic_load(&g_sts.requests), requests);
    atomic_store(&g_sts.requests, 0);
}

static void test_failures(void **state)
{
    dr_provider_context ctx = context();
    dr_credentials *source = dr__credentials_new("AKIDSOURCE", SOURCE_SECRET, SOURCE_TOKEN, 0);
    dr_sts_role role = {ROLE_ARN, "s", NULL, 0};
    dr_credentials *c = NULL;
    (void)state;

    set_web_identity_env(TOKEN_1);
    g_sts.fail_first = 100;
    g_sts.fail_status = 400;
    g_sts.fail_body = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
                      "  <Error>\n    <Type>Sender</Type>\n    <Code>InvalidIdentityToken</Code>\n"
                      "    <Message>No OpenIDConnect provider found in your account for "
                      "https://oidc.example.com/id/ABC</Message>\n  </Error>\n"
                      "  <RequestId>5045ca91</RequestId>\n</ErrorResponse>\n";
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_E_CREDENTIALS);
    assert_null(c);
    assert_string_equal(dr_last_error_message(),
                        "STS AssumeRoleWithWebIdentity for " ROLE_ARN " failed: "
                        "InvalidIdentityToken: No OpenIDConnect provider found in your account "
                        "for https://oidc.example.com/id/ABC");
    want_failure("InvalidIdentityToken", 1); /* a client error: not retried */

    /* A server echoing the request: its message is withheld, whole or in part. */
    g_sts.fail_body = "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>bad token "
                      "...JzeXN0ZW06c2VydmljZWFjY291bnQifQ.sig-one</Message></Error>"
                      "</ErrorResponse>";
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_E_CREDENTIALS);
    want_failure("InvalidIdentityToken: (message withheld", 1);
    g_sts.fail_status = 403;
    g_sts.fail_body = "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>secret "
                      SOURCE_SECRET " token " SOURCE_TOKEN "</Message></Error></ErrorResponse>";
    assert_int_equal(dr__sts_assume_role(&ctx, &role, source, &c), DR_E_CREDENTIALS);
    want_failure("STS AssumeRole for " ROLE_ARN " failed: SignatureDoesNotMatch: (message "
                   "withheld", 1);
    /* A code that is not one (here: the token) is not quoted either. */
    g_sts.fail_body = "<ErrorResponse><Error><Code>" TOKEN_1 "</Code></Error></ErrorResponse>";
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_E_CREDENTIALS);
    want_failure("failed: HTTP 403", 1);

    /* Malformed answers, with the credentials in them: never quoted, never retried. */
    g_sts.fail_status = 200;
    g_sts.fail_body = "<AssumeRoleWithWebIdentityResponse><Credentials><AccessKeyId>A"
                      "</AccessKeyId><SecretAccessKey>sts-secret-x</SecretAccessKey>";
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_E_CREDENTIALS);
    want_failure("STS answered HTTP 200 with: malformed XML: an unterminated element", 1);
    g_sts.fail_body = "{\"Credentials\":{\"SecretAccessKey\":\"sts-secret-x\"}}";
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_E_CREDENTIALS);
    want_failure("malformed XML: text outside the root element at byte 0", 1);
    g_sts.fail_body = "<R><Credentials><SecretAccessKey>sts-secret-x</SecretAccessKey>"
                      "</Credentials></R>";
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_E_CREDENTIALS);
    want_failure("lacks Credentials/AccessKeyId", 1);

    /* 5xx, throttling and IDPCommunicationError are retried, three attempts at most. */
    g_sts.fail_status = 503;
    g_sts.fail_body = "<html>Service Unavailable</html>";
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_E_CREDENTIALS);
    want_failure("STS AssumeRoleWithWebIdentity for " ROLE_ARN " failed: HTTP 503 "
                   "(3 attempts)", 3);
    g_sts.fail_first = 2;
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_OK);
    assert_int_equal(atomic_load(&g_sts.requests), 3);
    dr__credentials_release(c);
    atomic_store(&g_sts.requests, 0);
    g_sts.fail_first = 1;
    g_sts.fail_status = 400;
    g_sts.fail_body = "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded"
                      "</Message></Error></ErrorResponse>";
    assert_int_equal(dr__sts_assume_role(&ctx, &role, source, &c), DR_OK);
    assert_int_equal(atomic_load(&g_sts.requests), 2);
    dr__credentials_release(c);
    atomic_store(&g_sts.requests, 0);
    g_sts.fail_first = 100;
    g_sts.fail_body = "<ErrorResponse><Error><Code>IDPCommunicationError</Code><Message>The "
                      "identity provider could not be reached</Message></Error></ErrorResponse>";
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_E_CREDENTIALS);
    want_failure("IDPCommunicationError: The identity provider could not be reached "
                   "(3 attempts)", 3);

    /* Nothing listening: a network failure, retried, naming the call. */
    mini_http_stop(g_server);
    g_server = mini_http_start();
    assert_non_null(g_server);
    {
        char target[32];
        snprintf(target, sizeof target, "127.0.0.1:%u", (unsigned)mini_http_closed_port());
        dr__http_set_test_redirect(target);
    }
    assert_int_equal(dr__credentials_from_web_identity(&ctx, &c), DR_E_CREDENTIALS);
    assert_non_null(strstr(dr_last_error_message(), "STS AssumeRoleWithWebIdentity for " ROLE_ARN
                                                    " failed: "));
    assert_non_null(strstr(dr_last_error_message(), "(3 attempts)"));
    dr__credentials_release(source);
}

/* ---- eight threads through a chain fed by web identity --------------------------- */

#define THREADS 8

static void test_chain_threads(void **state)
{
    const int lifetime = 12 * sandbox_time_scale(), window = 10 * sandbox_time_scale(), run = 12 * sandbox_time_scale();
    dr_credentials_options opts = {0};
    dr_credentials_chain *chain = NULL;
    long calls = 0;
    int served;
    (void)state;

    set_web_identity_env(TOKEN_1);
    g_sts.lifetime_s = lifetime;
    dr__credentials_set_refresh_timing(window, 0);
    opts.region = "us-east-1";
    opts.sts_endpoint = STS_URL;
    opts.metadata_timeout_ms = 8000; /* valgrind runs the threads one at a time */
    assert_int_equal(dr__credentials_chain_new(&chain, &opts), DR_OK);
    calls = sandbox_sign_under_load(chain, THREADS, run);
    served = atomic_load(&g_sts.served);
    print_message("%ld calls, %d STS exchanges\n", calls, served);
    /* Refreshed (due every lifetime - window seconds), one refresher at a time. */
    if (served < 2)
        fail_msg("no refresh through web identity in %d s", run);
    if (served > run + 2)
        fail_msg("%d STS exchanges in %d s: more than one refresher at a time", served, run);
    if (calls <= 10L * served)
        fail_msg("%ld calls for %d exchanges: calls do not reuse credentials", calls, served);
    dr__credentials_chain_free(chain);
}

/* ---- roles from a profile (credentials_profile.c) --------------------------------- */

static dr_status profile_credentials(const char *profile, dr_credentials **out, char *id,
                                     size_t id_cap)
{
    dr_provider_context ctx = context();
    ctx.profile = profile;
    ctx.profile_named = 1;
    return dr__credentials_from_profile(&ctx, out, id, id_cap);
}

static void expect_role_from(const char *profile, const char *signer_key, const char *id_want)
{
    dr_credentials *c = NULL;
    char id[DR_CREDENTIAL_SOURCE_MAX], value[512];
    if (profile_credentials(profile, &c, id, sizeof id) != DR_OK)
        fail_msg("profile %s: %s", profile, dr_last_error_message());
    assert_non_null(strstr(c->access_key_id, "ASIASTS"));
    assert_string_equal(c->account_id, "123456789012");
    assert_string_equal(id, id_want);
    assert_true(has_header("Authorization", value, sizeof value));
    if (!strstr(value, signer_key))
        fail_msg("profile %s: signed by %s, expected %s", profile, value, signer_key);
    dr__credentials_release(c);
}

static void test_profile_roles(void **state)
{
    dr_credentials *c = NULL;
    char id[DR_CREDENTIAL_SOURCE_MAX], body[8192];
    (void)state;
    sandbox_write("config",
                  "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = b\n"
                  "role_session_name = sess-a\nexternal_id = ext-a\nduration_seconds = 1200\n"
                  "[profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = c\n"
                  "[profile c]\naws_access_key_id = AKIDC\naws_secret_access_key = sc\n"
                  "[profile self]\nrole_arn = arn:aws:iam::123456789012:role/s\n"
                  "source_profile = self\naws_access_key_id = AKIDSELF\n"
                  "aws_secret_access_key = self-secret-0123456789abcdef\n"
                  "[profile loop1]\nrole_arn = arn:aws:iam::123456789012:role/l\n"
                  "source_profile = loop2\n"
                  "[profile loop2]\nrole_arn = arn:aws:iam::123456789012:role/l\n"
                  "source_profile = loop1\n"
                  "[profile env]\nrole_arn = arn:aws:iam::123456789012:role/e\n"
                  "credential_source = Environment\n"
                  "[profile ecs]\nrole_arn = arn:aws:iam::123456789012:role/e\n"
                  "credential_source = EcsContainer\n"
                  "[profile both]\nrole_arn = arn:aws:iam::123456789012:role/e\n"
                  "credential_source = Environment\nsource_profile = c\n"
                  "[profile short]\nrole_arn = arn:aws:iam::123456789012:role/e\n"
                  "source_profile = c\nduration_seconds = 60\n"
                  "[profile ghostly]\nrole_arn = arn:aws:iam::123456789012:role/e\n"
                  "source_profile = nowhere\n"
                  "[profile bare]\nrole_arn = arn:aws:iam::123456789012:role/e\n");

    /* a -> b -> c: two AssumeRole calls, the second signed by the first's credentials. */
    expect_role_from("a", "Credential=ASIASTS1/", "assume-role:a");
    assert_int_equal(atomic_load(&g_sts.requests), 2);
    last_body(body, sizeof body);
    assert_non_null(strstr(body, "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fa"));
    assert_non_null(strstr(body, "RoleSessionName=sess-a"));
    assert_non_null(strstr(body, "DurationSeconds=1200&ExternalId=ext-a"));
    /* A profile with keys may be its own source. */
    expect_role_from("self", "Credential=AKIDSELF/", "assume-role:self");
    /* credential_source = Environment. */
    setenv("AWS_ACCESS_KEY_ID", "AKIDENVSRC", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "se", 1);
    expect_role_from("env", "Credential=AKIDENVSRC/", "assume-role:env");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");

    /* Failures: none calls STS. */
    atomic_store(&g_sts.requests, 0);
    assert_int_equal(profile_credentials("loop1", &c, id, sizeof id), DR_E_CREDENTIALS);
    assert_non_null(strstr(dr_last_error_message(), "source_profile loop through profile loop1"));
    assert_int_equal(profile_credentials("env", &c, id, sizeof id), DR_E_CREDENTIALS);
    assert_non_null(strstr(dr_last_error_message(), "credential_source Environment"));
    assert_int_equal(profile_credentials("ecs", &c, id, sizeof id), DR_E_CREDENTIALS);
    assert_non_null(strstr(dr_last_error_message(), "credential_source EcsContainer"));
    assert_int_equal(profile_credentials("both", &c, id, sizeof id), DR_E_CREDENTIALS);
    assert_non_null(strstr(dr_last_error_message(), "both source_profile and credential_source"));
    assert_int_equal(profile_credentials("short", &c, id, sizeof id), DR_E_CREDENTIALS);
    assert_non_null(strstr(dr_last_error_message(), "duration_seconds must be 900 to 43200"));
    assert_int_equal(profile_credentials("ghostly", &c, id, sizeof id), DR_E_CREDENTIALS);
    assert_non_null(strstr(dr_last_error_message(), "source_profile nowhere not found"));
    assert_int_equal(profile_credentials("bare", &c, id, sizeof id), DR_E_CREDENTIALS);
    assert_non_null(strstr(dr_last_error_message(), "neither source_profile nor credential_source"));
    assert_null(c);
    assert_int_equal(atomic_load(&g_sts.requests), 0);
    /* STS refusing the role: its code in the message, the chain stops there. */
    g_sts.fail_first = 1;
    g_sts.fail_status = 403;
    g_sts.fail_body = "<ErrorResponse><Error><Code>AccessDenied</Code><Message>not allowed"
                      "</Message></Error></ErrorResponse>";
    assert_int_equal(profile_credentials("self", &c, id, sizeof id), DR_E_CREDENTIALS);
    if (!strstr(dr_last_error_message(), "AccessDenied: not allowed"))
        fail_msg("%s", dr_last_error_message());
}

/* An assumed role is refreshed before it expires, through the chain, with a new AssumeRole. */
static void test_profile_role_refresh(void **state)
{
    dr_credentials_options opts = {0};
    dr_credentials_chain *chain = NULL;
    dr_credentials *c = NULL;
    char source[DR_CREDENTIAL_SOURCE_MAX];
    (void)state;
    sandbox_write("config", "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
                            "source_profile = k\n"
                            "[profile k]\naws_access_key_id = AKIDK\naws_secret_access_key = sk\n");
    opts.profile = "r";
    opts.region = "us-east-1";
    opts.sts_endpoint = STS_URL;
    /* Credentials for an hour, refreshed 3599 s before expiry: due after a second. */
    dr__credentials_set_refresh_timing(3599, 0);
    assert_int_equal(dr__credentials_chain_new(&chain, &opts), DR_OK);
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIASTS1");
    dr__credentials_release(c);
    dr__credentials_chain_source(chain, source, sizeof source);
    assert_string_equal(source, "assume-role:r");
    sleep(2);
    assert_int_equal(dr__credentials_chain_get(chain, &c), DR_OK);
    assert_string_equal(c->access_key_id, "ASIASTS2");
    dr__credentials_release(c);
    assert_int_equal(atomic_load(&g_sts.served), 2);
    dr__credentials_set_refresh_timing(-1, -1);
    dr__credentials_chain_free(chain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sts_endpoint_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sts_endpoint_of_client, setup, teardown),
        cmocka_unit_test(test_xml_extractor),
        cmocka_unit_test(test_parse_answers),
        cmocka_unit_test_setup_teardown(test_web_identity_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assume_role_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_reread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_web_identity_configuration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_role_refresh, setup, teardown),
    };
    pthread_mutex_init(&g_sts.lock, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
