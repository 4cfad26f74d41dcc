/* The caller's log sink (dr_config_set_log) as one value, handed down from the
 * configuration to the client and from the client to the credentials chain, so each
 * layer logs through the same filter. Lines never carry secrets. */
#ifndef DR_LOG_H
#define DR_LOG_H

#include "dadratings.h"
#include "error.h"

typedef struct dr_logger {
    dr_log_fn fn;       /* NULL: silent */
    dr_log_level level; /* the most verbose level delivered */
    void *payload;      /* passed back to fn */
} dr_logger;

/* Format and deliver one line (cut to 2047 bytes) if `log` is set and `level` enabled. */
void dr__logf(const dr_logger *log, dr_log_level level, const char *fmt, ...) DR_PRINTF(3, 4);

#endif
