/* An HTTP response as the DynamoDB transport reads it: status line, header block
 * ("name: value\r\n" lines, as libcurl hands them over) and body. src/dynamodb/ddb.c is compiled
 * into this target so its static readers run as they do on the wire: read_response()
 * (Date header -> dr__http_date_parse for clock skew, x-amz-crc32 -> dr__crc32 and
 * dr__parse_u64, then the body as a JSON result or an error via dr__ddb_parse_error) and
 * dr__ddb_retry_after_ms() (x-amz-retry-after, Retry-After). dr__http_response_header is
 * also asked for every header name the input carries. The static library's ddb.o is
 * then not linked (this file defines all its symbols). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#include "ddb.c"

static void split(const char *text, size_t size, dr_http_response *resp)
{
    const char *end = text + size, *p = text, *eol;
    if (size > 9 && !memcmp(text, "HTTP/", 5)) {
        const char *sp = memchr(text, ' ', size);
        long status = 0;
        if (sp)
            for (sp++; sp < end && *sp >= '0' && *sp <= '9' && status < 1000; sp++)
                status = status * 10 + (*sp - '0');
        resp->status = status;
        eol = memchr(text, '\n', size);
        p = eol ? eol + 1 : end;
    } else {
        resp->status = 200;
    }
    while (p < end) {
        size_t n;
        eol = memchr(p, '\n', (size_t)(end - p));
        n = eol ? (size_t)(eol - p) + 1 : (size_t)(end - p);
        if (n <= 2 && (*p == '\n' || (n == 2 && p[0] == '\r'))) {
            p += n; /* the blank line: the body follows */
            break;
        }
        dr__buf_append(&resp->headers, p, n);
        p += n;
    }
    dr__buf_append(&resp->body, p, (size_t)(end - p));
    dr__buf_append(&resp->headers, "", 0);
}

static void ask_every_header(const dr_http_response *resp)
{
    const char *line = dr__buf_cstr(&resp->headers);
    char name[128], value[64];
    while (*line) {
        size_t n = strcspn(line, ":\n");
        if (line[n] == ':' && n < sizeof name) {
            memcpy(name, line, n);
            name[n] = '\0';
            FUZZ_CHECK(dr__http_response_header(resp, name, value, sizeof value) == 1);
            FUZZ_CHECK(strlen(value) < sizeof value);
            (void)dr__http_date_parse(value);
        }
        line += strcspn(line, "\n");
        if (*line)
            line++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    dr_http_response resp = DR_HTTP_RESPONSE_INIT;
    dr_ddb_error err = DR_DDB_ERROR_INIT;
    json_t *response = NULL;
    int64_t server_time = -2;
    char *cstr;
    dr_status rc;

    split(text ? text : "", size, &resp);
    FUZZ_CHECK(dr__buf_ok(&resp.headers) == DR_OK && dr__buf_ok(&resp.body) == DR_OK);
    rc = read_response("GetItem", &resp, &response, &err, &server_time);
    if (rc == DR_OK) {
        FUZZ_CHECK(resp.status == 200 && json_is_object(response));
        json_decref(response);
    } else {
        FUZZ_CHECK(rc != DR_OK && response == NULL);
    }
    (void)dr__ddb_retry_after_ms(&resp);
    ask_every_header(&resp);
    cstr = fuzz_cstr(data, size);
    (void)dr__http_date_parse(cstr);
    free(cstr);
    dr__ddb_error_clear(&err);
    dr__http_response_free(&resp);
    free(text);
    return 0;
}
