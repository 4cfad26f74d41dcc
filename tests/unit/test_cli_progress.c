/* The dadratings progress module (tools/dadratings/progress.c): plain periodic lines when
 * stderr is not a terminal, nothing with --quiet, and a bar redrawn in place on a real
 * pseudo-terminal (forkpty: the child reports on its stderr, the parent reads the
 * screen). A fake clock makes the rates and ETAs exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dadratings/progress.h"

static double g_now;

static double fake_clock(void)
{
    return g_now;
}

static char *read_stream(FILE *f)
{
    long len;
    char *buf;
    fflush(f);
    len = ftell(f);
    buf = calloc(1, (size_t)len + 1);
    rewind(f);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    return buf;
}

/* 4800 items at 400/s for 12 s, reported on a file: one line per 5 s and the last. */
static void test_plain_lines(void **state)
{
    FILE *f = tmpfile();
    cli_progress *p;
    char *text;
    int i;
    (void)state;
    g_now = 100.0;
    p = cli_progress_start_on(f, 0, fake_clock, "upgrade-tables", 4800);
    for (i = 1; i <= 48; i++) {
        g_now = 100.0 + i * 0.25;
        cli_progress_advance(p, 100);
        if (i == 19) {
            /* 1900 in 4.75 s: below the 5 s interval, nothing yet */
            text = read_stream(f);
            assert_string_equal(text, "");
            free(text);
        }
    }
    cli_progress_finish(p);
    text = read_stream(f);
    assert_string_equal(text,
                        "upgrade-tables: 2000/4800 (41%), 400/s, ETA 7 s\n"
                        "upgrade-tables: 4000/4800 (83%), 400/s, ETA 2 s\n"
                        "upgrade-tables: 4800/4800 (100%), 400/s, done\n");
    free(text);
    fclose(f);
}

/* An unknown total, and an estimate the work outgrows: the count without a percentage. */
static void test_unknown_total(void **state)
{
    FILE *f = tmpfile();
    cli_progress *p;
    char *text;
    (void)state;
    g_now = 0;
    p = cli_progress_start_on(f, 0, fake_clock, "import", 0);
    g_now = 10;
    cli_progress_advance(p, 1200);
    cli_progress_set_total(p, 1000);
    g_now = 20;
    cli_progress_advance(p, 800);
    cli_progress_finish(p);
    text = read_stream(f);
    assert_string_equal(text, "import: 1200, 120/s\n"
                              "import: 2000, 100/s\n"
                              "import: 2000, 100/s, done\n");
    free(text);
    fclose(f);
}

/* import and verify: entries counted, the objects read as the detail; a line printed
 * over a terminal's bar erases it first; a discarded progress writes nothing. */
static void test_detail_clear_discard(void **state)
{
    FILE *f = tmpfile(), *tty = tmpfile();
    cli_progress *p;
    char *text;
    (void)state;
    g_now = 0;
    p = cli_progress_start_on(f, 0, fake_clock, "import", 0);
    cli_progress_set_detail(p, "entries, 12 objects");
    g_now = 10;
    cli_progress_advance(p, 240);
    cli_progress_clear(p); /* not a terminal: nothing to erase */
    cli_progress_set_detail(p, "entries, 20 objects");
    g_now = 20;
    cli_progress_advance(p, 160);
    cli_progress_finish(p);
    text = read_stream(f);
    assert_string_equal(text, "import: 240 entries, 12 objects, 24/s\n"
                              "import: 400 entries, 20 objects, 20/s\n"
                              "import: 400 entries, 20 objects, 20/s, done\n");
    free(text);

    g_now = 0;
    p = cli_progress_start_on(tty, 1, fake_clock, "verify", 0);
    cli_progress_set_detail(p, "entries, 3 objects");
    g_now = 1;
    cli_progress_advance(p, 50);
    cli_progress_clear(p);
    cli_progress_set_detail(p, NULL);
    cli_progress_finish(p);
    text = read_stream(tty);
    assert_string_equal(text, "\rverify 50 entries, 3 objects 50/s\033[K\r\033[K"
                              "\rverify 50 50/s\033[K done in 1 s\n");
    free(text);

    fclose(f);
    f = tmpfile();
    p = cli_progress_start_on(f, 0, fake_clock, "import", 0);
    cli_progress_advance(p, 1);
    cli_progress_discard(p);
    cli_progress_discard(NULL);
    text = read_stream(f);
    assert_string_equal(text, "");
    free(text);
    fclose(f);
    fclose(tty);
}

/* --quiet: no progress object, and every call accepts that. */
static void test_quiet(void **state)
{
    cli_progress *p = cli_progress_start("upgrade-tables", 10, 1);
    (void)state;
    assert_null(p);
    cli_progress_set_total(p, 20);
    cli_progress_advance(p, 5);
    cli_progress_set_detail(p, "entries");
    cli_progress_clear(p);
    cli_progress_finish(p);
}

/* cli_progress_start() on a pipe is the plain form (what a cron job or CI log sees). */
static void test_start_on_pipe_is_plain(void **state)
{
    int fds[2], status;
    char buf[512] = "";
    ssize_t n, len = 0;
    pid_t pid;
    (void)state;
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        cli_progress *p;
        dup2(fds[1], 2);
        close(fds[0]);
        p = cli_progress_start("upgrade-tables", 4, 0);
        cli_progress_advance(p, 4);
        cli_progress_finish(p);
        _exit(0);
    }
    close(fds[1]);
    while ((n = read(fds[0], buf + len, sizeof buf - 1 - (size_t)len)) > 0)
        len += n;
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_non_null(strstr(buf, "upgrade-tables: 4/4 (100%), "));
    assert_non_null(strstr(buf, "/s, done\n"));
    assert_null(strchr(buf, '\r'));
    assert_null(strchr(buf, '\033'));
}

/* The screen of a pseudo-terminal: what a user sees with stderr on a terminal. */
static void test_bar_on_pseudo_terminal(void **state)
{
    int master = -1, status;
    char screen[4096] = "";
    ssize_t n, len = 0;
    pid_t pid;
    (void)state;
    pid = forkpty(&master, NULL, NULL, NULL);
    assert_true(pid >= 0);
    if (pid == 0) {
        cli_progress *p;
        int i;
        if (!isatty(2))
            _exit(3);
        g_now = 0;
        p = cli_progress_start("upgrade-tables", 100, 0);
        cli_progress_finish(p); /* the real clock: only the final report is certain */
        p = cli_progress_start_on(stderr, isatty(2), fake_clock, "upgrade-tables", 100);
        for (i = 1; i <= 4; i++) {
            g_now = i * 0.5;
            cli_progress_advance(p, 25);
        }
        cli_progress_finish(p);
        _exit(0);
    }
    while (len < (ssize_t)sizeof screen - 1 &&
           (n = read(master, screen + len, sizeof screen - 1 - (size_t)len)) > 0)
        len += n; /* EIO once the child is gone */
    close(master);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* The bar, redrawn in place with \r and erase-to-end-of-line, then a newline. */
    assert_non_null(strstr(screen, "\rupgrade-tables [..............................] 0/100   0% "
                                   "0/s\033[K done in 0 s\r\n"));
    assert_non_null(strstr(screen, "\rupgrade-tables [#######.......................] "
                                   "25/100  25% 50/s, ETA 2 s\033[K"));
    assert_non_null(strstr(screen, "\rupgrade-tables [###############...............] "
                                   "50/100  50% 50/s, ETA 1 s\033[K"));
    assert_non_null(strstr(screen, "\rupgrade-tables [##############################] "
                                   "100/100 100% 50/s\033[K done in 2 s\r\n"));
    /* No plain line on a terminal. */
    assert_null(strstr(screen, "upgrade-tables: "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_lines),
        cmocka_unit_test(test_unknown_total),
        cmocka_unit_test(test_detail_clear_discard),
        cmocka_unit_test(test_quiet),
        cmocka_unit_test(test_start_on_pipe_is_plain),
        cmocka_unit_test(test_bar_on_pseudo_terminal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
