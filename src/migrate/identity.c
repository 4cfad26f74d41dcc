/* Import identities (identity.h). */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "error.h"
#include "identity.h"

dr_status dr__import_identity(const char *bucket, const char *key, size_t index,
                              char out[DR_IMPORT_KEY_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0, i;
    dr_buf text = DR_BUF_INIT;
    dr_status rc;

    /* Lengths first: no two (bucket, key) pairs can spell the same text. */
    dr__buf_printf(&text, "dadratings-import-v1\n%zu:%s\n%zu:%s\n%zu", strlen(bucket), bucket,
                   strlen(key), key, index);
    if ((rc = dr__buf_ok(&text)) != DR_OK)
        return rc;
    if (!EVP_Digest(text.data, text.len, digest, &digest_len, EVP_sha256(), NULL) ||
        digest_len != 32) {
        dr__buf_free(&text);
        return dr__fail(DR_E_INTERNAL, "import identity: SHA-256 failed");
    }
    dr__buf_free(&text);
    memcpy(out, "s3v1:", 5);
    for (i = 0; i < 32; i++) {
        out[5 + 2 * i] = hex[digest[i] >> 4];
        out[6 + 2 * i] = hex[digest[i] & 15];
    }
    out[DR_IMPORT_KEY_LEN] = '\0';
    return DR_OK;
}
