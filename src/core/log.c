#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void dr__logf(const dr_logger *log, dr_log_level level, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    if (!log || !log->fn || level > log->level)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log->fn(level, line, log->payload);
}
