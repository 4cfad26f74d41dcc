/* DynamoDB error bodies ({"__type": "ns#Type", "message": ..., "CancellationReasons": [...]})
 * through dr__ddb_parse_error, exactly as sized on the wire (no NUL), then the status
 * mapping and the clock-skew test the transport applies to the parsed type. */
#include <string.h>
#include <stdlib.h>

#include "ddb.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {400, 429, 500, 503};
    char *body = fuzz_copy(data, size);
    dr_ddb_error err = DR_DDB_ERROR_INIT;
    size_t i;
    int rc = dr__ddb_parse_error(NULL, body ? body : "", size, &err);

    FUZZ_CHECK(strlen(err.type) < sizeof err.type);
    FUZZ_CHECK(strlen(err.message) < sizeof err.message);
    FUZZ_CHECK(rc == 0 || err.type[0] == '\0');
    FUZZ_CHECK(!err.cancellation_reasons || json_is_array(err.cancellation_reasons));
    for (i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        FUZZ_CHECK(dr__ddb_error_status(err.type, statuses[i]) != DR_OK);
    (void)dr__ddb_is_clock_skew(err.type, err.message);
    /* A second parse into the same struct replaces, never leaks, the reasons. */
    (void)dr__ddb_parse_error(NULL, body ? body : "", size, &err);
    dr__ddb_error_clear(&err);
    FUZZ_CHECK(!err.cancellation_reasons);
    free(body);
    return 0;
}
