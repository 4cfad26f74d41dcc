#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *fuzz_copy(const uint8_t *data, size_t size)
{
    char *p;
    if (!size)
        return NULL;
    if (!(p = malloc(size)))
        abort();
    memcpy(p, data, size);
    return p;
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *p = malloc(size + 1);
    if (!p)
        abort();
    if (size)
        memcpy(p, data, size);
    p[size] = '\0';
    return p;
}

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    abort();
}

static dr_client *make_client(void)
{
    dr_config *cfg = NULL;
    dr_client *c = NULL;
    if (dr_config_new(&cfg) != DR_OK || dr_config_set_region(cfg, "us-east-1") != DR_OK ||
        dr_config_set_endpoint(cfg, "http://127.0.0.1:9") != DR_OK ||
        dr_config_set_credentials(cfg, "AKIDFUZZ", "fuzz-secret", NULL) != DR_OK ||
        dr_config_set_max_attempts(cfg, 1) != DR_OK ||
        dr_config_set_connect_timeout_ms(cfg, 50) != DR_OK ||
        dr_config_set_request_timeout_ms(cfg, 50) != DR_OK ||
        dr_client_new(&c, cfg) != DR_OK) {
        fprintf(stderr, "fuzz_client: %s\n", dr_last_error_message());
        abort();
    }
    dr_config_free(cfg);
    return c;
}

dr_client *fuzz_client(void)
{
    static dr_client *client;
    if (!client)
        client = make_client(); /* libFuzzer calls us on one thread */
    return client;
}

int fuzz_skip_l3(void)
{
    static int skip = -1;
    if (skip < 0) {
        const char *v = getenv("DR_FUZZ_SKIP_L3");
        skip = v && *v && strcmp(v, "0") != 0;
    }
    return skip;
}

int fuzz_l3_trigger(const dr_counts *c)
{
    return fuzz_skip_l3() && c->total && c->total <= UINT64_MAX / 5 && c->score > 5 * c->total;
}
