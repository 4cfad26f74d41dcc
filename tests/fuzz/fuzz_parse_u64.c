/* dr__parse_u64, the reader of every DynamoDB number (N) the library stores as a
 * counter, and of the x-amz-crc32 / Retry-After headers: compared with strtoull. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ddb_json.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    uint64_t v = 12345;
    int rc = dr__parse_u64(s, &v);
    size_t digits = strspn(s, "0123456789");

    if (rc == 0) {
        char *end;
        unsigned long long ref;
        FUZZ_CHECK(digits > 0 && s[digits] == '\0');
        errno = 0;
        ref = strtoull(s, &end, 10);
        FUZZ_CHECK(errno == 0 && *end == '\0' && ref == v);
    } else {
        FUZZ_CHECK(rc == -1 && v == 12345);
        /* Refused: empty, a non-digit, or more than UINT64_MAX. */
        if (digits > 0 && s[digits] == '\0') {
            errno = 0;
            (void)strtoull(s, NULL, 10);
            FUZZ_CHECK(errno == ERANGE);
        }
    }
    free(s);
    return 0;
}
