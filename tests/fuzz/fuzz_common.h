/* Shared by the libFuzzer targets of tests/fuzz (built with -DDR_FUZZ=ON, clang). */
#ifndef DR_FUZZ_COMMON_H
#define DR_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "dadratings.h"
#include "stats.h"

/* libFuzzer's entry point. Return 0; crash (abort, sanitizer) to report a bug. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An exact-size heap copy of the input, without a NUL: AddressSanitizer catches a read
 * of even one byte past `size`. NULL when size is 0 (never dereferenced then). */
char *fuzz_copy(const uint8_t *data, size_t size);
/* The input as a NUL-terminated string (size + 1 bytes; stops at an embedded NUL, as a
 * C caller's string would). */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* One client per process, never connected: its endpoint is http://127.0.0.1:9 (a port
 * nobody listens on), 1 attempt and 50 ms timeouts, static dummy credentials. The targets
 * that need a client stub out the network layer, so it only provides configuration
 * (table names, shards) and counters. */
dr_client *fuzz_client(void);

/* Review finding L3: dr__average_hundredths() overflows converting to uint32_t when
 * totalScore / totalRatings is huge. With DR_FUZZ_SKIP_L3=1 in the environment the
 * targets skip inputs whose counters could trigger it (score > 5 * total), so long runs
 * can look past it until the fix lands in src/ratings/stats.c. Unset, nothing is skipped. */
int fuzz_skip_l3(void);
/* 1 if `c` is one of the inputs fuzz_skip_l3() asks to skip. */
int fuzz_l3_trigger(const dr_counts *c);

/* Abort with a message when `cond` is false: a broken invariant is a finding. */
#define FUZZ_CHECK(cond) \
    ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))
void fuzz_fail(const char *file, int line, const char *what);

#endif
