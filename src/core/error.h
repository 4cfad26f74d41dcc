/* Error recording: one thread-local (code, message) per thread, set by dr__fail(). */
#ifndef DR_ERROR_H
#define DR_ERROR_H

#include "dadratings.h"

#if defined(__GNUC__)
#  define DR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define DR_PRINTF(f, a)
#endif

/* Record `code` with a formatted message for the calling thread and return `code`,
 * so callers write `return dr__fail(DR_E_X, "...", ...)`. Never put secrets in fmt. */
dr_status dr__fail(dr_status code, const char *fmt, ...) DR_PRINTF(2, 3);

/* Prefix the current thread's message with context ("GetItem: ..."); returns `code`. */
dr_status dr__fail_context(dr_status code, const char *fmt, ...) DR_PRINTF(2, 3);

#endif
