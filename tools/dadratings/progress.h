/* Progress of long work on stderr: a bar redrawn in place on a terminal, plain periodic
 * lines otherwise ("upgrade-tables: 1200/5000 (24%), 310/s, ETA 12 s"). Used by
 * upgrade-tables, import and verify. */
#ifndef DADRATINGS_CLI_PROGRESS_H
#define DADRATINGS_CLI_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

/* Seconds on a monotonic clock. */
typedef double (*cli_clock_fn)(void);

typedef struct cli_progress cli_progress;

/* Start reporting `label` on stderr: a bar when stderr is a terminal, lines otherwise.
 * `total` 0 means unknown (count and rate, no percentage or ETA). `quiet` gives NULL,
 * which every function below accepts and ignores, as it does an allocation failure. */
cli_progress *cli_progress_start(const char *label, uint64_t total, int quiet);

/* The same on `out`, drawn as a bar when `terminal` is non-zero, timed by `clock`
 * (NULL: the monotonic clock). For tests. */
cli_progress *cli_progress_start_on(FILE *out, int terminal, cli_clock_fn clock,
                                    const char *label, uint64_t total);

/* A better estimate of the total (0: unknown). */
void cli_progress_set_total(cli_progress *progress, uint64_t total);

/* What the count is of and what else is known, shown after the count ("entries, 120
 * objects"); copied, at most 95 bytes. NULL or "": nothing. */
void cli_progress_set_detail(cli_progress *progress, const char *detail);

/* Clear a bar drawn on a terminal so that a line can be written to the same terminal
 * (the next report draws it again); nothing otherwise. */
void cli_progress_clear(cli_progress *progress);

/* `n` more units done; redraws when enough time has passed since the last report. */
void cli_progress_advance(cli_progress *progress, uint64_t n);

/* The final report (always written), then the progress is freed. */
void cli_progress_finish(cli_progress *progress);

/* Free without a report: work that never started (its input was refused). */
void cli_progress_discard(cli_progress *progress);

#endif
