/* STS answers (sts.h) through the credentials parse and the error parse, as exact-size
 * input without a NUL: the bounded XML extractor underneath must never read past the
 * input, accept a document with a field it could not account for, or quote the input in
 * its messages (answers hold credentials). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *doc = fuzz_copy(data, size), *text = fuzz_cstr(data, size);
    char code[80], message[257];
    dr_credentials *creds = NULL;
    dr_status rc = dr__sts_parse_credentials(doc ? doc : "", size, &creds);

    if (rc == DR_OK) {
        FUZZ_CHECK(creds && creds->access_key_id[0] && creds->secret_access_key[0]);
        FUZZ_CHECK(creds->session_token && creds->session_token[0]);
        FUZZ_CHECK(!creds->account_id || strlen(creds->account_id) == 12);
        dr__credentials_release(creds);
    } else {
        FUZZ_CHECK(creds == NULL);
        FUZZ_CHECK(rc == DR_E_PROTOCOL || rc == DR_E_NOMEM);
        if (size >= 8 && memchr(data, 0, size) == NULL)
            FUZZ_CHECK(!strstr(dr_last_error_message(), text));
    }
    if (dr__sts_parse_error(doc ? doc : "", size, code, sizeof code, message, sizeof message))
        FUZZ_CHECK(code[0] != '\0');
    else
        FUZZ_CHECK(code[0] == '\0' && message[0] == '\0');
    free(doc);
    free(text);
    return 0;
}
