#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Thread-local, fixed size: recording an error must never allocate (it is how an
 * allocation failure is reported). Long service messages are truncated. */
#define DR_ERROR_MESSAGE_MAX 1024

static _Thread_local char tl_message[DR_ERROR_MESSAGE_MAX];
static _Thread_local dr_status tl_code;

dr_status dr__fail(dr_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_message, sizeof tl_message, fmt, ap);
    va_end(ap);
    tl_code = code;
    return code;
}

dr_status dr__fail_context(dr_status code, const char *fmt, ...)
{
    char joined[DR_ERROR_MESSAGE_MAX];
    size_t n;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(joined, sizeof joined, fmt, ap);
    va_end(ap);
    n = strlen(joined);
    if (n + 2 < sizeof joined) {
        memcpy(joined + n, ": ", 2);
        n += 2;
        /* Copy what fits of the existing message; truncation is intended. */
        memcpy(joined + n, tl_message, strnlen(tl_message, sizeof joined - n - 1));
        joined[n + strnlen(tl_message, sizeof joined - n - 1)] = '\0';
    }
    memcpy(tl_message, joined, sizeof tl_message);
    tl_code = code;
    return code;
}

DR_API const char *dr_last_error_message(void)
{
    return tl_message;
}

DR_API dr_status dr_last_error_code(void)
{
    return tl_code;
}

DR_API const char *dr_strerror(dr_status code)
{
    switch (code) {
    case DR_OK: return "success";
    case DR_E_INVALID_ARGUMENT: return "invalid argument";
    case DR_E_NOMEM: return "out of memory";
    case DR_E_NOT_IMPLEMENTED: return "not implemented";
    case DR_E_CONFIG: return "invalid or incomplete configuration";
    case DR_E_CREDENTIALS: return "no credentials could be found";
    case DR_E_AUTH: return "the service refused the credentials";
    case DR_E_NETWORK: return "network error";
    case DR_E_TIMEOUT: return "request timed out";
    case DR_E_THROTTLED: return "throttled by the service";
    case DR_E_SERVICE: return "the service failed";
    case DR_E_VALIDATION: return "the service rejected the request";
    case DR_E_CONDITION_FAILED: return "a write condition did not hold";
    case DR_E_TRANSACTION_CANCELED: return "transaction cancelled";
    case DR_E_TRANSACTION_CONFLICT: return "transaction conflict";
    case DR_E_NOT_FOUND: return "table or index not found";
    case DR_E_CHECKSUM: return "response checksum mismatch";
    case DR_E_PROTOCOL: return "malformed response";
    case DR_E_IN_USE: return "resource in use";
    case DR_E_RETRY_QUOTA: return "retry quota exhausted";
    case DR_E_CLOSED: return "object is closed";
    case DR_E_INTERNAL: return "internal error";
    }
    return "unknown error";
}
