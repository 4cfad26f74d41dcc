/* Credential documents from the container (ECS/EKS) and instance metadata endpoints
 * through dr__credentials_parse_json (exact-size, no NUL), and their Expiration through
 * dr__parse_iso8601. The input is tried both as a whole document and, NUL-terminated,
 * as a timestamp. */
#include <stdlib.h>
#include <string.h>

#include "credentials_provider.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *doc = fuzz_copy(data, size), *ts = fuzz_cstr(data, size);
    dr_credentials *creds = NULL;
    int64_t when = 0;
    dr_status rc = dr__credentials_parse_json("fuzz", doc ? doc : "", size, &creds);

    if (rc == DR_OK) {
        FUZZ_CHECK(creds && creds->access_key_id && creds->secret_access_key);
        FUZZ_CHECK(creds->access_key_id[0] && creds->secret_access_key[0]);
        dr__credentials_release(creds);
    } else {
        FUZZ_CHECK(creds == NULL);
        FUZZ_CHECK(rc == DR_E_CREDENTIALS || rc == DR_E_NOMEM);
        /* Never quote the document: a secret may be in it. */
        if (size >= 8 && memchr(data, 0, size) == NULL)
            FUZZ_CHECK(!strstr(dr_last_error_message(), ts));
    }
    if (dr__parse_iso8601(ts, &when)) {
        FUZZ_CHECK(when >= -62167219200LL - 7 * 86400 && when <= 253402300799LL + 7 * 86400);
    }
    free(doc);
    free(ts);
    return 0;
}
