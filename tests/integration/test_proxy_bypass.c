/* M3 of the 2026-12 review: what plain http keeps on this machine never goes through a
 * proxy named in the environment. A loopback listener plays the proxy (http_proxy,
 * HTTP_PROXY, ALL_PROXY, https_proxy point at it) and must receive nothing while a client
 * fetches container credentials (with an authorization token) and signs a request to
 * DynamoDB Local with them, and while IMDS credentials are fetched from a loopback fake.
 * An https request still goes to the proxy (a CONNECT), so proxies keep working where
 * they are meant to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "creds_sandbox.h"
#include "credentials.h"
#include "credentials_provider.h"
#include "dadratings.h"
#include "ddb.h"
#include "dr_test.h"
#include "http.h"
#include "loopback.h"
#include "mini_http.h"

#define CONTAINER_TOKEN "super-secret-container-token"

/* ---- the "proxy": records what it receives, answers 502, closes ----------------- */

typedef struct fake_proxy {
    int fd;
    uint16_t port;
    pthread_t thread;
    pthread_mutex_t lock;
    int stop;
    int connections;
    char received[8192]; /* the first bytes of every connection, concatenated */
    size_t received_len;
} fake_proxy;

static void *proxy_main(void *arg)
{
    static const char answer[] = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                                 "Connection: close\r\n\r\n";
    fake_proxy *p = arg;
    for (;;) {
        char buf[2048];
        struct pollfd pfd;
        ssize_t n = 0;
        int stop, c;

        pthread_mutex_lock(&p->lock);
        stop = p->stop;
        pthread_mutex_unlock(&p->lock);
        if (stop)
            break;
        if ((c = loopback_accept(p->fd, 100)) < 0)
            continue;
        pfd.fd = c;
        pfd.events = POLLIN;
        if (poll(&pfd, 1, 2000) == 1)
            n = read(c, buf, sizeof buf);
        pthread_mutex_lock(&p->lock);
        p->connections++;
        if (n > 0) {
            size_t room = sizeof p->received - 1 - p->received_len;
            size_t take = (size_t)n < room ? (size_t)n : room;
            memcpy(p->received + p->received_len, buf, take);
            p->received_len += take;
            p->received[p->received_len] = '\0';
        }
        pthread_mutex_unlock(&p->lock);
        if (write(c, answer, sizeof answer - 1) < 0) {
            /* the client went away: nothing to tell it */
        }
        close(c);
    }
    return NULL;
}

static fake_proxy *proxy_start(void)
{
    fake_proxy *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->fd = loopback_listen(16, &p->port);
    assert_true(p->fd >= 0);
    pthread_mutex_init(&p->lock, NULL);
    assert_int_equal(pthread_create(&p->thread, NULL, proxy_main, p), 0);
    return p;
}

static void proxy_stop(fake_proxy *p)
{
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    close(p->fd);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static int proxy_connections(fake_proxy *p, char *copy, size_t cap)
{
    int n;
    pthread_mutex_lock(&p->lock);
    n = p->connections;
    snprintf(copy, cap, "%s", p->received);
    pthread_mutex_unlock(&p->lock);
    return n;
}

static void assert_proxy_idle(fake_proxy *p, const char *what)
{
    char seen[8192];
    if (proxy_connections(p, seen, sizeof seen) != 0)
        fail_msg("%s went through the proxy; it received:\n%s", what, seen);
}

/* Every spelling libcurl reads (it ignores upper-case HTTP_PROXY; set anyway). */
static void point_proxies_at(const fake_proxy *p)
{
    static const char *const vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy",
                                       "HTTPS_PROXY", "ALL_PROXY", "all_proxy"};
    char url[64];
    size_t i;
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)p->port);
    for (i = 0; i < sizeof vars / sizeof *vars; i++)
        setenv(vars[i], url, 1);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
}

static void clear_proxies(void)
{
    static const char *const vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy",
                                       "HTTPS_PROXY", "ALL_PROXY", "all_proxy"};
    size_t i;
    for (i = 0; i < sizeof vars / sizeof *vars; i++)
        unsetenv(vars[i]);
}

static int setup(void **state)
{
    *state = NULL;
    if (sandbox_setup(state) != 0)
        return -1;
    *state = proxy_start();
    point_proxies_at(*state);
    return 0;
}

static int teardown(void **state)
{
    clear_proxies();
    if (*state)
        proxy_stop(*state);
    return sandbox_teardown(state);
}

/* ---- the cases ------------------------------------------------------------------ */

/* Container credentials, token included, then a signed DynamoDB Local request carrying
 * their session token: all direct. */
static void test_container_and_dynamodb_local_bypass_proxy(void **state)
{
    fake_proxy *proxy = *state;
    creds_source src = {.access_key_prefix = "ASIACONTAINER", .token = "container-session-token",
                        .lifetime_s = 3600};
    mini_http *creds = mini_http_start();
    dr_config *cfg = NULL;
    dr_client *client = NULL;
    json_t *request = json_object(), *response = NULL;
    char url[96];
    dr_status rc;

    assert_non_null(creds);
    mini_http_handle(creds, "GET", "/creds", creds_source_handler, &src);
    mini_http_require_header(creds, "GET", "/creds", "Authorization", CONTAINER_TOKEN);
    snprintf(url, sizeof url, "%s/creds", mini_http_url(creds));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_TOKEN, 1);

    /* No explicit credentials: the chain finds the container's. */
    assert_int_equal(dr_config_new(&cfg), DR_OK);
    assert_int_equal(dr_config_set_endpoint(cfg, dr_test_endpoint()), DR_OK);
    assert_int_equal(dr_config_set_region(cfg, "us-east-1"), DR_OK);
    assert_int_equal(dr_config_set_max_attempts(cfg, 1), DR_OK);
    assert_int_equal(dr_client_new(&client, cfg), DR_OK);

    rc = dr__ddb_call(client, "ListTables", request, &response, NULL);
    assert_proxy_idle(proxy, "a container credentials or DynamoDB Local request");
    if (rc != DR_OK)
        fail_msg("ListTables on DynamoDB Local: %s (%s)", dr_strerror(rc),
                 dr_last_error_message());
    assert_non_null(json_object_get(response, "TableNames"));
    assert_int_equal(mini_http_count(creds, "GET", "/creds"), 1);

    json_decref(response);
    json_decref(request);
    dr_client_free(client);
    dr_config_free(cfg);
    mini_http_stop(creds);
}

/* Explicit credentials with a session token: the signed request goes straight to
 * DynamoDB Local. */
static void test_dynamodb_local_bypasses_proxy(void **state)
{
    fake_proxy *proxy = *state;
    dr_config *cfg = NULL;
    dr_client *client = NULL;
    json_t *request = json_object(), *response = NULL;
    dr_status rc;

    assert_int_equal(dr_config_new(&cfg), DR_OK);
    assert_int_equal(dr_config_set_endpoint(cfg, dr_test_endpoint()), DR_OK);
    assert_int_equal(dr_config_set_region(cfg, "us-east-1"), DR_OK);
    assert_int_equal(dr_config_set_credentials(cfg, "ASIAPROXYTEST", "proxy-test-secret",
                                               "proxy-test-session-token"),
                     DR_OK);
    assert_int_equal(dr_config_set_max_attempts(cfg, 1), DR_OK);
    assert_int_equal(dr_client_new(&client, cfg), DR_OK);
    rc = dr__ddb_call(client, "ListTables", request, &response, NULL);
    assert_proxy_idle(proxy, "a signed DynamoDB Local request");
    if (rc != DR_OK)
        fail_msg("ListTables on DynamoDB Local: %s (%s)", dr_strerror(rc),
                 dr_last_error_message());
    json_decref(response);
    json_decref(request);
    dr_client_free(client);
    dr_config_free(cfg);
}

static void test_imds_bypasses_proxy(void **state)
{
    fake_proxy *proxy = *state;
    creds_source src = {.access_key_prefix = "ASIAIMDS", .lifetime_s = 3600};
    mini_http *imds = mini_http_start();
    dr_credentials *c = NULL;
    dr_status rc;

    assert_non_null(imds);
    sandbox_script_imds(imds, &src);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", mini_http_url(imds), 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    rc = dr__credentials_from_imds(NULL, 5000, &c);
    assert_proxy_idle(proxy, "an IMDS request");
    if (rc != DR_OK)
        fail_msg("IMDS: %s", dr_last_error_message());
    assert_string_equal(c->access_key_id, "ASIAIMDS1");
    dr__credentials_release(c);
    assert_int_equal(mini_http_count(imds, "PUT", "/latest/api/token"), 1);
    assert_int_equal(mini_http_count(imds, "GET", NULL), 2);
    mini_http_stop(imds);
}

/* A metadata request never uses a proxy, even over https (it then fails: the loopback
 * server speaks plain http, but it fails here, not at the proxy). */
static void test_https_metadata_bypasses_proxy(void **state)
{
    fake_proxy *proxy = *state;
    mini_http *creds = mini_http_start();
    dr_credentials *c = NULL;
    char url[96];

    assert_non_null(creds);
    snprintf(url, sizeof url, "https://127.0.0.1:%u/creds", (unsigned)mini_http_port(creds));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    assert_int_not_equal(dr__credentials_from_container(2000, &c), DR_OK);
    assert_null(c);
    assert_proxy_idle(proxy, "an https container credentials request");
    mini_http_stop(creds);
}

/* An ordinary https request still goes to the user's proxy. */
static void test_https_uses_proxy(void **state)
{
    fake_proxy *proxy = *state;
    dr_http_request req = {0};
    dr_http_response resp = DR_HTTP_RESPONSE_INIT;
    uint16_t port = mini_http_closed_port();
    char url[64], seen[8192], connect_line[64];

    assert_true(port != 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%u/", (unsigned)port);
    snprintf(connect_line, sizeof connect_line, "CONNECT 127.0.0.1:%u HTTP/1.1",
             (unsigned)port);
    req.method = "POST";
    req.url = url;
    req.body = "{}";
    req.body_len = 2;
    req.timeout_ms = 5000;
    /* The proxy refuses the tunnel (502): the request fails, after the CONNECT. */
    assert_int_not_equal(dr__http_perform(NULL, &req, &resp), DR_OK);
    dr__http_response_free(&resp);
    assert_int_equal(proxy_connections(proxy, seen, sizeof seen), 1);
    if (!strstr(seen, connect_line))
        fail_msg("the proxy did not receive \"%s\"; it received:\n%s", connect_line, seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_container_and_dynamodb_local_bypass_proxy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dynamodb_local_bypasses_proxy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_imds_bypasses_proxy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_https_metadata_bypasses_proxy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_https_uses_proxy, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
