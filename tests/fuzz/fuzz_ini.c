/* dr__ini_parse on exactly-sized, non-NUL-terminated input (a mapped ~/.aws/config has
 * no terminator): every span handed to a callback must lie inside the input, be trimmed,
 * and compare with the span helpers as memcmp says; a syntax error is DR_E_CONFIG. Then
 * the same input through the profile merge (profile_file.h), which must not leak. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ini.h"
#include "profile_file.h"

typedef struct bounds {
    const char *start;
    size_t len;
    size_t calls;
} bounds;

static void check_span(const bounds *b, dr_ini_span s)
{
    FUZZ_CHECK(s.len == 0 || (s.ptr >= b->start && s.ptr + s.len <= b->start + b->len));
    if (s.len) {
        FUZZ_CHECK(s.ptr[0] != ' ' && s.ptr[0] != '\t');
        FUZZ_CHECK(s.ptr[s.len - 1] != ' ' && s.ptr[s.len - 1] != '\t');
    }
}

/* Stopping early must be honoured too. */
static dr_status counted(bounds *b)
{
    return ++b->calls >= 10000 ? DR_E_INTERNAL : DR_OK;
}

static dr_status on_section(dr_ini_span name, void *payload)
{
    check_span(payload, name);
    (void)dr__ini_span_eq(name, "default");
    return counted(payload);
}

static dr_status on_property(dr_ini_span key, dr_ini_span value, void *payload)
{
    check_span(payload, key);
    check_span(payload, value);
    FUZZ_CHECK(key.len > 0);
    (void)dr__ini_span_caseeq(key, "aws_access_key_id");
    FUZZ_CHECK(dr__ini_span_eq(value, "x") == (value.len == 1 && value.ptr[0] == 'x'));
    return counted(payload);
}

static dr_status on_continuation(dr_ini_span line, void *payload)
{
    check_span(payload, line);
    FUZZ_CHECK(line.len > 0);
    return counted(payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const dr_ini_handler handler = {on_section, on_property, on_continuation};
    char *text = fuzz_copy(data, size);
    dr_profile_set set = DR_PROFILE_SET_INIT;
    bounds b;
    dr_status rc;

    b.start = text;
    b.len = size;
    b.calls = 0;
    rc = dr__ini_parse(text, size, "fuzz", &handler, &b);
    FUZZ_CHECK(rc == DR_OK || rc == DR_E_CONFIG || rc == DR_E_INTERNAL);
    rc = dr__profile_set_parse(&set, size % 2 ? DR_PROFILE_CONFIG_FILE
                                              : DR_PROFILE_CREDENTIALS_FILE,
                               text, size, "fuzz");
    FUZZ_CHECK(rc == DR_OK || rc == DR_E_CONFIG);
    dr__profile_set_free(&set);
    free(text);
    return 0;
}
