/* The shared-file INI parser: the dialect's rules, and no crash or over-read on any
 * input (random bytes, and mutations of a realistic file, replayed from fixed seeds so
 * a failure reproduces). Run under ASan/valgrind to catch over-reads. */
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

static int collect(dr_ini_span section, dr_ini_span key, dr_ini_span value, void *payload)
{
    collected *c = payload;
    if (c->count < 32)
        snprintf(c->lines[c->count++], sizeof c->lines[0], "%.*s|%.*s|%.*s", (int)section.len,
                 section.ptr, (int)key.len, key.ptr, (int)value.len, value.ptr);
    return 0;
}

static size_t parse(const char *text, collected *c)
{
    memset(c, 0, sizeof *c);
    return dr__ini_parse(text, strlen(text), collect, c);
}

static void test_dialect(void **state)
{
    collected c;
    size_t bad;
    (void)state;
    bad = parse("# comment\n"
                "; comment\n"
                "orphan = before any section\n"
                "[ default ]\n"
                "  spaced   =   value with spaces   \r\n"
                "key=value\n"
                "empty =\n"
                "  nested = sub-property, skipped\n"
                "hash = a#b ; comment\n"
                "semi = x;y # comment\n"
                "[profile  dev] ; comment\n"
                "k = v\r\n"
                "no equals sign\n"
                "[broken\n"
                "lost = in a broken section\n"
                "[next]\n"
                "= no key\n"
                "last = no newline",
                &c);
    assert_int_equal(c.count, 7);
    assert_string_equal(c.lines[0], "default|spaced|value with spaces");
    assert_string_equal(c.lines[1], "default|key|value");
    assert_string_equal(c.lines[2], "default|empty|");
    assert_string_equal(c.lines[3], "default|hash|a#b");
    assert_string_equal(c.lines[4], "default|semi|x;y");
    assert_string_equal(c.lines[5], "profile  dev|k|v");
    assert_string_equal(c.lines[6], "next|last|no newline");
    /* orphan, "no equals sign", [broken, lost, "= no key" */
    assert_int_equal(bad, 5);
}

static int stop_at_first(dr_ini_span section, dr_ini_span key, dr_ini_span value, void *payload)
{
    (void)section;
    (void)key;
    (void)value;
    ++*(int *)payload;
    return 1;
}

static void test_stop_and_empty(void **state)
{
    int calls = 0;
    collected c;
    (void)state;
    dr__ini_parse("[a]\nx=1\ny=2\n", 12, stop_at_first, &calls);
    assert_int_equal(calls, 1);
    assert_int_equal(dr__ini_parse("", 0, collect, &c), 0);
    assert_int_equal(dr__ini_parse(NULL, 0, collect, &c), 0);
    /* Embedded NUL bytes are data, not an end of input. */
    memset(&c, 0, sizeof c);
    dr__ini_parse("[a]\nx=1\0\n[b]\ny=2\n", 17, collect, &c);
    assert_int_equal(c.count, 2);
}

static void test_span_compare(void **state)
{
    dr_ini_span s = {"Region", 6};
    (void)state;
    assert_true(dr__ini_span_caseeq(s, "region"));
    assert_false(dr__ini_span_eq(s, "region"));
    assert_true(dr__ini_span_eq(s, "Region"));
    assert_false(dr__ini_span_eq(s, "Regio"));
    assert_false(dr__ini_span_caseeq(s, "Regions"));
}

static int touch_every_byte(dr_ini_span section, dr_ini_span key, dr_ini_span value,
                            void *payload)
{
    /* Reading every byte of every span lets ASan/valgrind catch an out-of-range span. */
    unsigned long *sum = payload;
    size_t i;
    for (i = 0; i < section.len; i++)
        *sum += (unsigned char)section.ptr[i];
    for (i = 0; i < key.len; i++)
        *sum += (unsigned char)key.ptr[i];
    for (i = 0; i < value.len; i++)
        *sum += (unsigned char)value.ptr[i];
    return 0;
}

/* An exactly-sized heap copy, so reading one byte past the end is an ASan error. */
static void parse_exact(const char *data, size_t len)
{
    unsigned long sum = 0;
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, data, len);
    dr__ini_parse(copy, len, touch_every_byte, &sum);
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
        cmocka_unit_test(test_stop_and_empty),
        cmocka_unit_test(test_span_compare),
        cmocka_unit_test(test_fuzz_random_bytes),
        cmocka_unit_test(test_fuzz_mutated_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
