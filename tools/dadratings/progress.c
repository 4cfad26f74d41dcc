#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A terminal redraw is cheap and looks live at 10 per second; a line in a log file
 * every few seconds is enough to see that work goes on without flooding it. */
#define TERMINAL_REDRAW_S 0.1
#define PLAIN_LINE_S 5.0
#define BAR_WIDTH 30

struct cli_progress {
    FILE *out;
    int terminal;
    cli_clock_fn clock;
    const char *label;
    uint64_t total, done;
    double started, last_report;
    char detail[96]; /* with a leading space when set */
};

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

cli_progress *cli_progress_start_on(FILE *out, int terminal, cli_clock_fn clock,
                                    const char *label, uint64_t total)
{
    cli_progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->out = out;
    p->terminal = terminal;
    p->clock = clock ? clock : monotonic_seconds;
    p->label = label;
    p->total = total;
    p->started = p->last_report = p->clock();
    return p;
}

cli_progress *cli_progress_start(const char *label, uint64_t total, int quiet)
{
    if (quiet)
        return NULL;
    return cli_progress_start_on(stderr, isatty(fileno(stderr)), NULL, label, total);
}

void cli_progress_set_total(cli_progress *p, uint64_t total)
{
    if (p)
        p->total = total;
}

void cli_progress_set_detail(cli_progress *p, const char *detail)
{
    if (p)
        snprintf(p->detail, sizeof p->detail, "%s%s", detail && *detail ? " " : "",
                 detail ? detail : "");
}

void cli_progress_clear(cli_progress *p)
{
    if (p && p->terminal) {
        fputs("\r\033[K", p->out);
        fflush(p->out);
    }
}

/* "310/s" and, while the total is known and not yet reached, ", ETA 12 s". */
static void format_rate_eta(const cli_progress *p, double elapsed, int final, char *buf,
                            size_t cap)
{
    double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
    int n = snprintf(buf, cap, "%.0f/s", rate);
    if (!final && p->total && p->done < p->total && rate > 0 && n > 0 && (size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, ", ETA %.0f s", (double)(p->total - p->done) / rate);
}

static void report(cli_progress *p, double now, int final)
{
    char rate_eta[64];
    double elapsed = now - p->started;
    /* An estimate can be passed (DynamoDB's ItemCount lags): show the count, not 140%. */
    uint64_t total = p->total && p->done <= p->total ? p->total : 0;
    unsigned percent = total ? (unsigned)(p->done * 100 / total) : 0;

    format_rate_eta(p, elapsed, final, rate_eta, sizeof rate_eta);
    if (p->terminal) {
        char bar[BAR_WIDTH + 1];
        size_t filled = total ? (size_t)(p->done * BAR_WIDTH / total) : 0;
        memset(bar, '#', filled);
        memset(bar + filled, '.', BAR_WIDTH - filled);
        bar[BAR_WIDTH] = '\0';
        /* \r and erase-to-end-of-line: the bar replaces itself in place. */
        if (total)
            fprintf(p->out, "\r%s [%s] %llu/%llu%s %3u%% %s\033[K", p->label, bar,
                    (unsigned long long)p->done, (unsigned long long)total, p->detail, percent,
                    rate_eta);
        else
            fprintf(p->out, "\r%s %llu%s %s\033[K", p->label, (unsigned long long)p->done,
                    p->detail, rate_eta);
        if (final)
            fprintf(p->out, " done in %.0f s\n", elapsed);
    } else if (total) {
        fprintf(p->out, "%s: %llu/%llu%s (%u%%), %s%s\n", p->label,
                (unsigned long long)p->done, (unsigned long long)total, p->detail, percent,
                rate_eta, final ? ", done" : "");
    } else {
        fprintf(p->out, "%s: %llu%s, %s%s\n", p->label, (unsigned long long)p->done, p->detail,
                rate_eta, final ? ", done" : "");
    }
    fflush(p->out);
    p->last_report = now;
}

void cli_progress_advance(cli_progress *p, uint64_t n)
{
    double now;
    if (!p)
        return;
    p->done += n;
    now = p->clock();
    if (now - p->last_report >= (p->terminal ? TERMINAL_REDRAW_S : PLAIN_LINE_S))
        report(p, now, 0);
}

void cli_progress_finish(cli_progress *p)
{
    if (!p)
        return;
    report(p, p->clock(), 1);
    free(p);
}

void cli_progress_discard(cli_progress *p)
{
    free(p);
}
