/* dr__ini_parse on exactly-sized, non-NUL-terminated input (a mapped ~/.aws/config has
 * no terminator): every span handed to the callback must lie inside the input, be
 * trimmed, and compare with the span helpers as memcmp says. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ini.h"

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

static int on_property(dr_ini_span section, dr_ini_span key, dr_ini_span value, void *payload)
{
    bounds *b = payload;
    check_span(b, section);
    check_span(b, key);
    check_span(b, value);
    FUZZ_CHECK(key.len > 0);
    (void)dr__ini_span_eq(section, "default");
    (void)dr__ini_span_caseeq(key, "aws_access_key_id");
    FUZZ_CHECK(dr__ini_span_eq(value, "x") == (value.len == 1 && value.ptr[0] == 'x'));
    b->calls++;
    return b->calls >= 10000; /* stopping early must be honoured too */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    bounds b;
    size_t skipped;

    b.start = text;
    b.len = size;
    b.calls = 0;
    skipped = dr__ini_parse(text, size, on_property, &b);
    FUZZ_CHECK(skipped <= size);
    free(text);
    return 0;
}
