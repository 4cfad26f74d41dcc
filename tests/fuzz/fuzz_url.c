/* Endpoint URLs (AWS_ENDPOINT_URL, dr_config_set_endpoint, the container credentials
 * URI) through dr__url_parse, and the loopback / AWS metadata host checks that decide
 * whether plain http is allowed. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static dr_config *cfg;
    char *url = fuzz_cstr(data, size);
    dr_url_parts parts;
    dr_status rc = dr__url_parse(url, &parts);

    (void)dr__host_is_loopback(url);
    (void)dr__host_is_aws_metadata(url);
    if (rc == DR_OK) {
        FUZZ_CHECK(!strcmp(parts.scheme, "http") || !strcmp(parts.scheme, "https"));
        FUZZ_CHECK(parts.host[0] != '\0');
        FUZZ_CHECK(memchr(parts.host, '\0', sizeof parts.host) != NULL);
        FUZZ_CHECK(memchr(parts.path, '\0', sizeof parts.path) != NULL);
        FUZZ_CHECK(parts.path[0] == '/');
        FUZZ_CHECK(!strpbrk(parts.host, "@ \t\r\n"));
        /* The two host classes do not overlap. */
        FUZZ_CHECK(!(dr__host_is_loopback(parts.host) && dr__host_is_aws_metadata(parts.host)));
    } else {
        FUZZ_CHECK(rc == DR_E_INVALID_ARGUMENT);
    }
    if (!cfg && dr_config_new(&cfg) != DR_OK)
        abort();
    (void)dr_config_set_endpoint(cfg, url);
    free(url);
    return 0;
}
