/* Compiled by headertest.sh as C89 (-std=c89 -pedantic -Werror -Wall -Wextra) and as C++11:
 * the public header must stay usable from both (libgit2 tests/headertest). */
#include <dadratings.h>
#include <dadratings.h> /* include guard */

static const char *describe(dr_status code)
{
    switch (code) {
    case DR_OK:
        return "ok";
    default:
        return dr_strerror(code);
    }
}

int main(void)
{
    dr_config *config = 0;
    dr_status rc = dr_config_new(&config);
    dr_log_fn log_fn = 0;
    dr_malloc_fn malloc_fn = 0;
    uint32_t num = DR_VERSION_NUM;

    (void)log_fn;
    (void)malloc_fn;
    (void)num;
    (void)describe(rc);
    (void)dr_config_set_aggregation_mode(config, DR_AGGREGATION_STREAM);
    dr_config_free(config);
    return 0;
}
