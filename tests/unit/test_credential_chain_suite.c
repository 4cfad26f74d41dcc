/* The AWS SDKs' end-to-end credential-chain suites (tests/data/credential-chain/, from
 * smithy-rs; its README.md says where they come from), replayed against the library's own
 * chain:
 *  - default-credential-provider-chain/<case>/ and profile-provider/<case>/: env.json is
 *    the whole AWS environment, fs/ the file system root (dr__file_set_test_root: the case's
 *    HOME=/home and token paths like /token.jwt resolve under it, unchanged), and
 *    http-traffic.json the requests the SDK made and what STS, the SSO portal and the
 *    metadata services answered. A loopback server replays those answers
 *    (dr__http_set_test_redirect sends every non-loopback request there, keeping its Host);
 *    a request that matches no recorded one by method, host, path and query fails the case.
 *  - test-case.json: the credentials expected (key, secret, token, account id, expiry), or
 *    an error. The error strings are smithy-rs's own wording; `expected_errors` below says
 *    what the library reports instead for each, and the case checks that.
 * The clock is set to an hour before the expected expiry (dr__set_test_clock): the
 * recorded credentials expired years ago, and the chain refuses expired credentials.
 * A missing suite or an error case without an expectation fails: nothing is skipped. */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "client.h"
#include "credentials_chain.h"
#include "credentials_provider.h"
#include "file.h"
#include "http.h"
#include "http_message.h"
#include "mini_http.h"
#include "timeutil.h"

extern char **environ;

/* What the library reports for each case the SDK expects to fail, as a substring of its
 * message, and why it is the same outcome. */
typedef struct expected_error {
    const char *name;
    const char *message;
} expected_error;

static const expected_error expected_errors[] = {
    /* smithy-rs: "No such file or directory": the token file the variable names is absent. */
    {"eks_pod_identity_no_token_file", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE does not exist"},
    /* smithy-rs: "the credential provider was not enabled": no source had credentials. */
    {"imds_default_chain_error", "no credentials found"},
    {"imds_disabled", "disabled by AWS_EC2_METADATA_DISABLED"},
    {"imds_no_iam_role", "no IAM role attached"},
    /* The profile provider alone: the default profile is absent, the chain would go on. */
    {"empty_config", "not found in ~/.aws/credentials or ~/.aws/config"},
    /* smithy-rs: "request forbidden: IMDS is disabled" (the token PUT got 403). */
    {"imds_token_fail", "instance metadata"},
    {"sso_no_token_file", "sso"},
    {"sso_server_error", "sso"},
    {"web_identity_source_profile_no_env", "web_identity_token_file but no role_arn"},
    /* smithy-rs names the code with an Exception suffix; STS's answer says InvalidIdentityToken. */
    {"web_identity_token_invalid_jwt", "InvalidIdentityToken: No OpenIDConnect provider"},
    {"credential_process_failure", "credential_process"},
    {"credential_process_invalid", "credential_process"},
    /* smithy-rs: "could not parse profile file". */
    {"invalid_config", "error parsing"},
    /* A profile with an sso-session but no account and role gives an SSO token, not
     * credentials (smithy-rs: "selected profile will resolve an access token instead of
     * credentials"). */
    {"invalid_sso_credentials_config", "sso"},
    {"sso_token", "sso"},
};

/* Cases the library deliberately does not run as the SDKs do, with the reason. Each is
 * still run: it must end in the refusal the reason names. */
typedef struct unsupported_case {
    const char *name;
    const char *refusal; /* a substring of the library's message */
    const char *reason;
} unsupported_case;

static const char PLAIN_HTTP[] =
    "the endpoint URL is plain http to a host that is not loopback (http://aws.*-override): "
    "the library refuses plain http off loopback for every service, since the request would "
    "carry signed credentials or a bearer token in clear (docs/endpoints.md)";

static const unsupported_case unsupported[] = {
    /* The environment sets web identity and AWS_PROFILE names a role profile whose source is
     * the environment's (absent) keys. smithy-rs tries the profile first and fails on it.
     * The library keeps the order the Java SDK uses and issue 12 asks for (environment, web
     * identity, profile), so web identity answers: it asks STS (a request the recording
     * does not have) and, configured but refused, stops the chain. */
    {"profile_overrides_web_identity", "web identity: STS AssumeRoleWithWebIdentity",
     "web identity comes before the profile in the library's order, after it in smithy-rs's"},
    {"assume_role_override_global_env_url", "plain http is only allowed to loopback", PLAIN_HTTP},
    {"assume_role_override_global_profile_url", "plain http is only allowed to loopback",
     PLAIN_HTTP},
    {"assume_role_override_service_env_url", "plain http is only allowed to loopback", PLAIN_HTTP},
    {"assume_role_override_service_profile_url", "plain http is only allowed to loopback",
     PLAIN_HTTP},
    {"sso_override_global_env_url", "plain http is only allowed to loopback", PLAIN_HTTP},
};

static const unsupported_case *unsupported_of(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (strcmp(unsupported[i].name, name) == 0)
            return &unsupported[i];
    return NULL;
}

/* ---- the recorded traffic, replayed -------------------------------------------- */

#define MAX_EXCHANGES 16

typedef struct exchange {
    char method[8];
    char host[256];
    char path[512];
    char query[512];
    char action[64]; /* the form's Action= for STS calls, "" otherwise */
    int status;
    char *body;
    int used;
} exchange;

typedef struct replay {
    pthread_mutex_t lock;
    exchange ex[MAX_EXCHANGES];
    size_t count;
    char unmatched[512]; /* the first request nothing matched */
} replay;

/* "a=1&b=2" with its parameters sorted, so the order a client sends them in is free. */
static void sorted_query(const char *query, char *out, size_t cap)
{
    char copy[512], *params[32], *save = NULL, *p;
    size_t n = 0, i, j;
    snprintf(copy, sizeof copy, "%s", query);
    for (p = strtok_r(copy, "&", &save); p && n < 32; p = strtok_r(NULL, "&", &save))
        params[n++] = p;
    for (i = 1; i < n; i++)
        for (j = i; j > 0 && strcmp(params[j - 1], params[j]) > 0; j--) {
            p = params[j];
            params[j] = params[j - 1];
            params[j - 1] = p;
        }
    out[0] = '\0';
    for (i = 0; i < n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "&" : "", params[i]);
}

static void split_target(const char *target, char *path, size_t path_cap, char *query,
                         size_t query_cap)
{
    const char *q = strchr(target, '?');
    size_t n = q ? (size_t)(q - target) : strlen(target);
    snprintf(path, path_cap, "%.*s", (int)n, n ? target : "/");
    if (!n)
        snprintf(path, path_cap, "/");
    sorted_query(q ? q + 1 : "", query, query_cap);
}

static void form_action(const char *body, char *out, size_t cap)
{
    const char *a = body ? strstr(body, "Action=") : NULL;
    out[0] = '\0';
    if (a)
        snprintf(out, cap, "%.*s", (int)strcspn(a + 7, "&"), a + 7);
}

static void load_traffic(replay *r, const char *file)
{
    json_error_t err;
    json_t *doc = json_load_file(file, 0, &err), *events, *e;
    int by_connection[64];
    size_t i;

    memset(by_connection, -1, sizeof by_connection);
    if (!doc)
        return; /* cases without traffic have no file */
    events = json_object_get(doc, "events");
    json_array_foreach(events, i, e) {
        json_int_t conn = json_integer_value(json_object_get(e, "connection_id"));
        json_t *action = json_object_get(e, "action"), *v;
        exchange *x = conn >= 0 && conn < 64 && by_connection[conn] >= 0
                          ? &r->ex[by_connection[conn]]
                          : NULL;
        if ((v = json_object_get(action, "Request"))) {
            dr_url_parts url;
            json_t *req = json_object_get(v, "request");
            const char *uri = json_string_value(json_object_get(req, "uri"));
            const char *target;
            assert_true(r->count < MAX_EXCHANGES && conn >= 0 && conn < 64);
            x = &r->ex[r->count];
            by_connection[conn] = (int)r->count++;
            snprintf(x->method, sizeof x->method, "%s",
                     json_string_value(json_object_get(req, "method")));
            assert_int_equal(dr__url_parse(uri, &url), DR_OK);
            snprintf(x->host, sizeof x->host, "%s", url.host);
            target = strchr(strstr(uri, "://") + 3, '/');
            split_target(target ? target : "/", x->path, sizeof x->path, x->query,
                         sizeof x->query);
        } else if ((v = json_object_get(action, "Response"))) {
            json_t *ok = json_object_get(json_object_get(v, "response"), "Ok");
            assert_non_null(x);
            x->status = (int)json_integer_value(json_object_get(ok, "status"));
        } else if ((v = json_object_get(action, "Data"))) {
            const char *dir = json_string_value(json_object_get(v, "direction"));
            const char *text =
                json_string_value(json_object_get(json_object_get(v, "data"), "Utf8"));
            assert_non_null(x);
            if (text && strcmp(dir, "Response") == 0) {
                size_t have = x->body ? strlen(x->body) : 0;
                x->body = realloc(x->body, have + strlen(text) + 1);
                assert_non_null(x->body);
                strcpy(x->body + have, text);
            } else if (text) {
                form_action(text, x->action, sizeof x->action);
            }
        }
    }
    json_decref(doc);
}

static void replay_handler(const mini_http_request *req, int *status, char *body, size_t cap,
                           void *payload)
{
    replay *r = payload;
    char host[256] = "", path[512], query[512], action[64], body_copy[4096];
    size_t i;

    dr_test_http_header(req->headers, "Host", host, sizeof host);
    host[strcspn(host, ":")] = '\0';
    split_target(req->path, path, sizeof path, query, sizeof query);
    snprintf(body_copy, sizeof body_copy, "%.*s", (int)req->body_len,
             req->body ? req->body : "");
    form_action(body_copy, action, sizeof action);
    pthread_mutex_lock(&r->lock);
    for (i = 0; i < r->count; i++) {
        exchange *x = &r->ex[i];
        if (!x->used && strcmp(x->method, req->method) == 0 && strcasecmp(x->host, host) == 0 &&
            strcmp(x->path, path) == 0 && strcmp(x->query, query) == 0 &&
            strcmp(x->action, action) == 0) {
            x->used = 1;
            *status = x->status;
            snprintf(body, cap, "%s", x->body ? x->body : "");
            pthread_mutex_unlock(&r->lock);
            return;
        }
    }
    if (!r->unmatched[0])
        snprintf(r->unmatched, sizeof r->unmatched, "%s %s%s %s", req->method, host, req->path,
                 action);
    pthread_mutex_unlock(&r->lock);
    *status = 404;
    snprintf(body, cap, "no recorded exchange");
}

static void replay_free(replay *r)
{
    size_t i;
    for (i = 0; i < r->count; i++)
        free(r->ex[i].body);
}

/* ---- one case ------------------------------------------------------------------ */

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return text;
}

/* Exactly the case's environment: every AWS_* variable and HOME from env.json, no other. */
static void set_environment(json_t *env)
{
    const char *name;
    json_t *value;
    size_t i;
    for (;;) {
        char var[256] = "";
        for (i = 0; environ[i]; i++)
            if (strncmp(environ[i], "AWS_", 4) == 0 || strncmp(environ[i], "HOME=", 5) == 0) {
                snprintf(var, sizeof var, "%.*s", (int)strcspn(environ[i], "="), environ[i]);
                break;
            }
        if (!var[0])
            break;
        unsetenv(var);
    }
    json_object_foreach(env, name, value)
        setenv(name, json_string_value(value), 1);
}

static const char *expected_error_of(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof expected_errors / sizeof expected_errors[0]; i++)
        if (strcmp(expected_errors[i].name, name) == 0)
            return expected_errors[i].message;
    return NULL;
}

static int same_text(const char *what, const char *want, const char *have, const char *name)
{
    if ((!want && !have) || (want && have && strcmp(want, have) == 0))
        return 1;
    fprintf(stderr, "  %s: %s: expected %s, got %s\n", name, what, want ? want : "(none)",
            have ? have : "(none)");
    return 0;
}

/* Runs the case in `dir`: 1 if it passed, 0 if it failed, 2 if it is unsupported and
 * ended in the expected refusal. */
static int run_case(const char *suite, const char *dir, const char *name, mini_http *server,
                    replay *r)
{
    char path[1400], *env_text;
    json_error_t err;
    json_t *expect, *env, *result, *ok;
    dr_config *config = NULL;
    dr_client *client = NULL;
    dr_credentials *creds = NULL;
    dr_status rc;
    int passed = 0;

    snprintf(path, sizeof path, "%s/test-case.json", dir);
    expect = json_load_file(path, 0, &err);
    assert_non_null(expect);
    snprintf(path, sizeof path, "%s/env.json", dir);
    env_text = read_text(path);
    env = env_text ? json_loads(env_text, 0, &err) : json_object();
    assert_non_null(env);
    free(env_text);
    result = json_object_get(expect, "result");
    ok = json_object_get(result, "Ok");

    memset(r->ex, 0, sizeof r->ex);
    r->count = 0;
    r->unmatched[0] = '\0';
    snprintf(path, sizeof path, "%s/http-traffic.json", dir);
    load_traffic(r, path);
    mini_http_handle(server, "*", "*", replay_handler, r);

    set_environment(env);
    snprintf(path, sizeof path, "%s/fs", dir);
    dr__file_set_test_root(path);
    dr__set_test_clock(json_object_get(ok, "expiry")
                           ? (int64_t)json_integer_value(json_object_get(ok, "expiry")) - 3600
                           : 0);

    /* The library needs a region for a client; cases that give none never call a
     * regional service before failing or reaching IMDS, so us-east-1 stands in. */
    assert_int_equal(dr_config_new(&config), DR_OK);
    rc = dr_client_new(&client, config);
    if (rc == DR_E_CONFIG && strstr(dr_last_error_message(), "region")) {
        assert_int_equal(dr_config_set_region(config, "us-east-1"), DR_OK);
        rc = dr_client_new(&client, config);
    }
    if (rc == DR_OK && strcmp(suite, "profile-provider") == 0) {
        /* That suite is the profile provider alone, as the chain calls it. */
        dr_provider_context ctx = {0};
        char id[DR_CREDENTIAL_SOURCE_MAX];
        ctx.profile = dr__profile_name(NULL);
        ctx.profile_named = getenv("AWS_PROFILE") != NULL;
        ctx.region = client->region;
        ctx.timeout_ms = 1000;
        ctx.sts_endpoint = client->sts_endpoint;
        ctx.endpoints = &client->portal_endpoints;
        rc = dr__credentials_from_profile(&ctx, &creds, id, sizeof id);
    } else if (rc == DR_OK) {
        rc = dr__credentials_chain_get(client->credentials, &creds);
    }

    if (unsupported_of(name)) {
        const unsupported_case *u = unsupported_of(name);
        if (rc != DR_OK && strstr(dr_last_error_message(), u->refusal))
            passed = 2;
        else
            fprintf(stderr, "  %s: unsupported (%s), but did not end in \"%s\": %s\n", name,
                    u->reason, u->refusal, rc == DR_OK ? "got credentials" : dr_last_error_message());
    } else if (ok) {
        json_t *token = json_object_get(ok, "session_token");
        json_t *account = json_object_get(ok, "account_id");
        json_t *expiry = json_object_get(ok, "expiry");
        if (rc != DR_OK) {
            fprintf(stderr, "  %s: expected credentials, got %s: %s\n", name, dr_strerror(rc),
                    dr_last_error_message());
        } else {
            passed = same_text("access key id", json_string_value(json_object_get(ok, "access_key_id")),
                               creds->access_key_id, name) &
                     same_text("secret", json_string_value(json_object_get(ok, "secret_access_key")),
                               creds->secret_access_key, name) &
                     same_text("session token", json_string_value(token), creds->session_token,
                               name) &
                     (!account ||
                      same_text("account id", json_string_value(account), creds->account_id, name));
            if (expiry && creds->expires_at != (int64_t)json_integer_value(expiry)) {
                fprintf(stderr, "  %s: expiry: expected %lld, got %lld\n", name,
                        (long long)json_integer_value(expiry), (long long)creds->expires_at);
                passed = 0;
            }
        }
    } else {
        const char *want = expected_error_of(name);
        if (!want)
            fprintf(stderr, "  %s: no expectation for its error case in this test\n", name);
        else if (rc == DR_OK)
            fprintf(stderr, "  %s: expected an error (%s), got credentials %s\n", name, want,
                    creds->access_key_id);
        else if (!strstr(dr_last_error_message(), want))
            fprintf(stderr, "  %s: expected an error with \"%s\", got %s: %s\n", name, want,
                    dr_strerror(rc), dr_last_error_message());
        else
            passed = 1;
    }
    if (passed == 1 && r->unmatched[0]) {
        fprintf(stderr, "  %s: request not in the recorded traffic: %s\n", name, r->unmatched);
        passed = 0;
    }
    dr__credentials_release(creds);
    dr_client_free(client);
    dr_config_free(config);
    replay_free(r);
    json_decref(env);
    json_decref(expect);
    return passed;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_suite(const char *suite)
{
    const char *root = getenv("DR_SOURCE_DIR");
    char dir[1024], *names[64];
    size_t n = 0, i, passed = 0, skipped = 0;
    struct dirent *d;
    mini_http *server = mini_http_start();
    replay r;
    DIR *dp;

    assert_non_null(root);
    assert_non_null(server);
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.lock, NULL);
    snprintf(dir, sizeof dir, "%s/tests/data/credential-chain/%s", root, suite);
    dp = opendir(dir);
    assert_non_null(dp);
    while ((d = readdir(dp)) && n < 64)
        if (d->d_name[0] != '.')
            names[n++] = strdup(d->d_name);
    closedir(dp);
    qsort(names, n, sizeof names[0], by_name);
    assert_true(n > 0);

    {
        char redirect[64];
        snprintf(redirect, sizeof redirect, "127.0.0.1:%u", (unsigned)mini_http_port(server));
        dr__http_set_test_redirect(redirect);
    }
    for (i = 0; i < n; i++) {
        char case_dir[1200];
        snprintf(case_dir, sizeof case_dir, "%s/%s", dir, names[i]);
        switch (run_case(suite, case_dir, names[i], server, &r)) {
        case 1: passed++; break;
        case 2: skipped++; break;
        default: break;
        }
        free(names[i]);
    }
    dr__http_set_test_redirect(NULL);
    dr__file_set_test_root(NULL);
    dr__set_test_clock(0);
    mini_http_stop(server);
    pthread_mutex_destroy(&r.lock);
    printf("credential-chain/%s: %zu cases, %zu passed, %zu failed, %zu unsupported\n", suite,
           n, passed, n - passed - skipped, skipped);
    assert_int_equal(passed + skipped, n);
}

static void test_default_chain(void **state)
{
    (void)state;
    run_suite("default-credential-provider-chain");
}

static void test_profile_provider(void **state)
{
    (void)state;
    run_suite("profile-provider");
}

int main(void)
{
    size_t i;
    for (i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        printf("unsupported: %s: %s\n", unsupported[i].name, unsupported[i].reason);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_chain),
        cmocka_unit_test(test_profile_provider),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
