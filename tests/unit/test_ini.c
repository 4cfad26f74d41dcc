/* The shared-file INI parser: the dialect's rules and errors (the SDKs' suite of them is
 * test_profile_suite.c), and no crash or over-read on any input (random bytes, and
 * mutations of a realistic file, replayed from fixed seeds so a failure reproduces). Run
 * under ASan/valgrind to catch over-reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ini.h"

typedef struct collected {
    char lines[32][160];
    size_t count;
} collected;

static void add_line(collected *c, const char *kind, dr_ini_span a, dr_ini_span b)
{
    if (c->count < 32)
        snprintf(c->lines[c->count++], sizeof c->lines[0], "%s|%.*s|%.*s", kind, (int)a.len,
                 a.ptr, (int)b.len, b.ptr);
}

static dr_status on_section(dr_ini_span name, void *payload)
{
    collected *c = payload;
    dr_ini_span none = {"", 0};
    add_line(c, "S", name, none);
    return DR_OK;
}

static dr_status on_property(dr_ini_span key, dr_ini_span value, void *payload)
{
    add_line(payload, "P", key, value);
    return DR_OK;
}

static dr_status on_continuation(dr_ini_span line, void *payload)
{
    dr_ini_span none = {"", 0};
    add_line(payload, "C", line, none);
    return DR_OK;
}

static const dr_ini_handler collector = {on_section, on_property, on_continuation};

static dr_status parse(const char *text, collected *c)
{
    memset(c, 0, sizeof *c);
    return dr__ini_parse(text, strlen(text), "test.ini", &collector, c);
}

static void test_dialect(void **state)
{
    collected c;
    (void)state;
    assert_int_equal(parse("# comment\n"
                           "; comment\n"
                           "[ default ]\n"
                           "spaced \t=   value with spaces \t\r\n"
                           "key=value\n"
                           "empty =\n"
                           "  nested = sub-property # kept\n"
                           "\n"
                           "  other=x\n"
                           "hash = a#b ; comment\n"
                           "semi = x;y # comment\n"
                           "multi = first\n"
                           "\t second ; kept\n"
                           "[profile  dev]; comment\n"
                           "k = v\r\n"
                           "cr = x\r\r\n"
                           "last = no newline",
                           &c),
                     DR_OK);
    assert_int_equal(c.count, 14);
    assert_string_equal(c.lines[0], "S|default|");
    assert_string_equal(c.lines[1], "P|spaced|value with spaces");
    assert_string_equal(c.lines[2], "P|key|value");
    assert_string_equal(c.lines[3], "P|empty|");
    assert_string_equal(c.lines[4], "C|nested = sub-property # kept|");
    assert_string_equal(c.lines[5], "C|other=x|");
    assert_string_equal(c.lines[6], "P|hash|a#b");
    assert_string_equal(c.lines[7], "P|semi|x;y");
    assert_string_equal(c.lines[8], "P|multi|first");
    assert_string_equal(c.lines[9], "C|second ; kept|");
    assert_string_equal(c.lines[10], "S|profile  dev|");
    assert_string_equal(c.lines[11], "P|k|v");
    /* Only the CR of a CRLF ends the line; another one is data. */
    assert_string_equal(c.lines[12], "P|cr|x\r");
    assert_string_equal(c.lines[13], "P|last|no newline");
    /* Indented, a header is a continuation line, as in every SDK. */
    assert_int_equal(parse("[a]\nk = v\n  [b]\n", &c), DR_OK);
    assert_int_equal(c.count, 3);
    assert_string_equal(c.lines[2], "C|[b]|");
}

/* Each malformed line fails the whole file with the SDKs' wording and its line number,
 * and never quotes the file (it may hold secrets). */
static void expect_error(const char *text, const char *message)
{
    collected c;
    assert_int_equal(parse(text, &c), DR_E_CONFIG);
    if (!strstr(dr_last_error_message(), message))
        fail_msg("%s: got \"%s\"", text, dr_last_error_message());
    assert_null(strstr(dr_last_error_message(), "SECRET"));
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("[default\nk=SECRET", "error parsing test.ini on line 1: Profile definition "
                                       "must end with ']'");
    expect_error("[default] SECRET\n", "line 1: Profile definition must end with ']'");
    expect_error("[", "line 1: Profile definition must end with ']'");
    expect_error("\n\nk = SECRET", "line 3: Expected a profile definition");
    expect_error("  SECRET", "line 1: Expected a profile definition");
    expect_error("[a]\n  SECRET", "line 2: Expected a property definition, found continuation");
    expect_error("[a]\nSECRET", "line 2: Expected an '=' sign defining a property");
    expect_error("[a]\n = SECRET", "line 2: Expected a property definition, found");
    expect_error("[a]\r\n= SECRET", "line 2: Property did not have a name");
    expect_error("[a]\nk =\n  SECRET", "line 3: Expected an '=' sign defining a sub-property");
    expect_error("[a]\nk =\n  = SECRET", "line 3: Sub-property did not have a name");
}

static dr_status stop_at_first(dr_ini_span key, dr_ini_span value, void *payload)
{
    (void)key;
    (void)value;
    ++*(int *)payload;
    return DR_E_NOMEM;
}

static void test_stop_and_empty(void **state)
{
    static const dr_ini_handler stopper = {NULL, stop_at_first, NULL};
    int calls = 0;
    collected c;
    (void)state;
    assert_int_equal(dr__ini_parse("[a]\nx=1\ny=2\n", 12, "f", &stopper, &calls), DR_E_NOMEM);
    assert_int_equal(calls, 1);
    assert_int_equal(dr__ini_parse("", 0, "f", &collector, &c), DR_OK);
    assert_int_equal(dr__ini_parse(NULL, 0, "f", &collector, &c), DR_OK);
    assert_int_equal(dr__ini_parse("[a]\nx=1\n", 8, "f", NULL, NULL), DR_OK);
    /* Embedded NUL bytes are data, not an end of input. */
    memset(&c, 0, sizeof c);
    assert_int_equal(dr__ini_parse("[a]\nx=1\0\n[b]\ny=2\n", 17, "f", &collector, &c), DR_OK);
    assert_int_equal(c.count, 4);
}

static void test_span_compare(void **state)
{
    dr_ini_span s = {"Region", 6}, padded = {" \t a b\t ", 8};
    (void)state;
    assert_true(dr__ini_span_caseeq(s, "region"));
    assert_false(dr__ini_span_eq(s, "region"));
    assert_true(dr__ini_span_eq(s, "Region"));
    assert_false(dr__ini_span_eq(s, "Regio"));
    assert_false(dr__ini_span_caseeq(s, "Regions"));
    assert_true(dr__ini_span_eq(dr__ini_trim(padded), "a b"));
}

typedef struct touched {
    const char *start;
    size_t len;
    unsigned long sum;
} touched;

/* Reading every byte of every span lets ASan/valgrind catch an out-of-range span. */
static void touch(touched *t, dr_ini_span s)
{
    size_t i;
    assert_true(s.len == 0 || (s.ptr >= t->start && s.ptr + s.len <= t->start + t->len));
    for (i = 0; i < s.len; i++)
        t->sum += (unsigned char)s.ptr[i];
}

static dr_status touch_section(dr_ini_span name, void *payload)
{
    touch(payload, name);
    return DR_OK;
}

static dr_status touch_property(dr_ini_span key, dr_ini_span value, void *payload)
{
    touch(payload, key);
    touch(payload, value);
    return DR_OK;
}

/* An exactly-sized heap copy, so reading one byte past the end is an ASan error. */
static void parse_exact(const char *data, size_t len)
{
    static const dr_ini_handler toucher = {touch_section, touch_property, touch_section};
    touched t = {NULL, 0, 0};
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, data, len);
    t.start = copy;
    t.len = len;
    dr__ini_parse(copy, len, "fuzz", &toucher, &t);
    free(copy);
}

static uint32_t next_random(uint32_t *state)
{
    /* xorshift32: reproducible from the seed, no libc rand() state shared. */
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

static void test_fuzz_random_bytes(void **state)
{
    static const char alphabet[] = "[]=#; \t\r\n\0abcprofiledefault\xff";
    char buf[512];
    uint32_t rng = 0x12345678u;
    int round;
    (void)state;
    for (round = 0; round < 20000; round++) {
        size_t len = next_random(&rng) % sizeof buf, i;
        int biased = round % 2;
        for (i = 0; i < len; i++) {
            uint32_t r = next_random(&rng);
            buf[i] = biased ? alphabet[r % (sizeof alphabet - 1)] : (char)(r & 0xff);
        }
        parse_exact(buf, len);
    }
}

static void test_fuzz_mutated_file(void **state)
{
    static const char seed[] = "[default]\r\naws_access_key_id = AKID\n"
                               "aws_secret_access_key = secret ; c\n"
                               "[profile dev]\nregion=eu-west-1\ns3 =\n  max = 1\n# end\n";
    char buf[sizeof seed];
    uint32_t rng = 0xdeadbeefu;
    int round;
    (void)state;
    for (round = 0; round < 20000; round++) {
        size_t len = sizeof seed - 1, flips = 1 + next_random(&rng) % 8, i;
        memcpy(buf, seed, len);
        for (i = 0; i < flips; i++)
            buf[next_random(&rng) % len] = (char)(next_random(&rng) & 0xff);
        /* Also truncate at a random point: the parser must not need a terminator. */
        parse_exact(buf, next_random(&rng) % (len + 1));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dialect),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_stop_and_empty),
        cmocka_unit_test(test_span_compare),
        cmocka_unit_test(test_fuzz_random_bytes),
        cmocka_unit_test(test_fuzz_mutated_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
