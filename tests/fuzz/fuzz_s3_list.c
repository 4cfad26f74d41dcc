/* S3 ListObjectsV2 answers (s3.h) through dr__s3_parse_list, as exact-size input without a
 * NUL, and the error parse S3 failures are read with: the record extractor must never read
 * past the input, return a page that breaks its invariants, or quote the input in its
 * messages. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "s3.h"
#include "sts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *doc = fuzz_copy(data, size), *text = fuzz_cstr(data, size);
    char code[80], message[257];
    dr_s3_list_page page = DR_S3_LIST_PAGE_INIT;
    dr_status rc = dr__s3_parse_list(doc ? doc : "", size, &page);
    size_t i;

    if (rc == DR_OK) {
        FUZZ_CHECK(page.count <= page.cap);
        FUZZ_CHECK(!page.is_truncated || (page.next_token && page.next_token[0]));
        FUZZ_CHECK(page.is_truncated || !page.next_token);
        for (i = 0; i < page.count; i++)
            FUZZ_CHECK(page.objects[i].key[0] && strlen(page.objects[i].key) <= DR_S3_MAX_KEY);
    } else {
        FUZZ_CHECK(page.count == 0 && page.objects == NULL && page.next_token == NULL);
        FUZZ_CHECK(rc == DR_E_PROTOCOL || rc == DR_E_NOMEM);
        if (size >= 8 && memchr(data, 0, size) == NULL)
            FUZZ_CHECK(!strstr(dr_last_error_message(), text));
    }
    dr__s3_list_page_free(&page);
    /* A page parsed into twice is emptied first. */
    if (rc == DR_OK && dr__s3_parse_list(doc ? doc : "", size, &page) == DR_OK)
        dr__s3_list_page_free(&page);
    if (dr__sts_parse_error(doc ? doc : "", size, code, sizeof code, message, sizeof message))
        FUZZ_CHECK(code[0] != '\0');
    free(doc);
    free(text);
    return 0;
}
