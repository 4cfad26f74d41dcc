/* credential_process: credentials printed as JSON by an external command, as the AWS SDKs
 * run it (docs/credentials.md). The command goes through `/bin/sh -c`, as the Go, Java,
 * JavaScript and Rust SDKs run it on Unix (the setting may hold arguments, quotes and
 * pipes). Its stdin and stderr are the caller's, as in the Go SDK, so a tool can prompt
 * for MFA and its diagnostics reach the operator; the library never reads stderr, so what
 * a tool prints there never lands in a message. stdout is captured into a wiped buffer,
 * bounded, and the process is killed and reaped when it runs past the timeout. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "alloc.h"
#include "credentials_provider.h"
#include "error.h"

extern char **environ;

/* The Go SDK's limit: long enough for a tool that asks for MFA, short enough that a hung
 * tool does not hold the chain's resolver forever. */
#define DR_PROCESS_DEFAULT_TIMEOUT_MS 60000u
/* The Java SDK's bound on the output; a credentials document is a few hundred bytes. */
#define DR_PROCESS_MAX_OUTPUT ((size_t)64 * 1024)

#ifdef DR_TESTING
static atomic_uint g_timeout_ms = DR_PROCESS_DEFAULT_TIMEOUT_MS;
#define PROCESS_TIMEOUT_MS() atomic_load(&g_timeout_ms)

void dr__credentials_process_set_timeout_ms(unsigned timeout_ms)
{
    atomic_store(&g_timeout_ms, timeout_ms ? timeout_ms : DR_PROCESS_DEFAULT_TIMEOUT_MS);
}
#else
#define PROCESS_TIMEOUT_MS() DR_PROCESS_DEFAULT_TIMEOUT_MS
#endif

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Move `fd` above the standard descriptors (close-on-exec), so dup2 onto 1 in the child
 * can never be a no-op that leaves the pipe close-on-exec. */
static int above_stdio(int fd)
{
    int moved;
    if (fd > STDERR_FILENO)
        return fd;
    moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    close(fd);
    return moved;
}

/* Start `/bin/sh -c command` with stdout on a new pipe, whose read end goes to *out_fd.
 * posix_spawn, not fork: nothing runs in the child between fork and exec, which a
 * threaded caller requires. Both pipe ends are close-on-exec, so a process another
 * thread spawns meanwhile does not inherit them. */
static dr_status spawn_shell(char *command, pid_t *pid, int *out_fd)
{
    char shell[] = "/bin/sh", dash_c[] = "-c";
    char *argv[] = {shell, dash_c, command, NULL};
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t none, defaults;
    int fds[2], err;

    if (pipe2(fds, O_CLOEXEC) != 0)
        return dr__fail(DR_E_CREDENTIALS, "credential_process: cannot create a pipe: %s",
                        strerror(errno));
    fds[0] = above_stdio(fds[0]);
    fds[1] = above_stdio(fds[1]);
    if (fds[0] < 0 || fds[1] < 0) {
        err = errno;
        if (fds[0] >= 0)
            close(fds[0]);
        if (fds[1] >= 0)
            close(fds[1]);
        return dr__fail(DR_E_CREDENTIALS, "credential_process: cannot create a pipe: %s",
                        strerror(err));
    }
    /* The child starts with no signal blocked and SIGPIPE at its default, whatever the
     * calling thread blocks or the host ignores (libcurl users often ignore SIGPIPE). */
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    err = posix_spawn_file_actions_init(&actions);
    if (!err && !(err = posix_spawnattr_init(&attr))) {
        if (!(err = posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO)) &&
            !(err = posix_spawnattr_setsigmask(&attr, &none)) &&
            !(err = posix_spawnattr_setsigdefault(&attr, &defaults)) &&
            !(err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
                                                        POSIX_SPAWN_SETSIGDEF)))
            err = posix_spawn(pid, argv[0], &actions, &attr, argv, environ);
        posix_spawnattr_destroy(&attr);
    }
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (err) {
        close(fds[0]);
        return dr__fail(err == ENOMEM ? DR_E_NOMEM : DR_E_CREDENTIALS,
                        "credential_process: cannot run /bin/sh: %s", strerror(err));
    }
    *out_fd = fds[0];
    return DR_OK;
}

/* waitpid, retried on EINTR. */
static pid_t wait_child(pid_t pid, int *status, int flags)
{
    pid_t r;
    do
        r = waitpid(pid, status, flags);
    while (r < 0 && errno == EINTR);
    return r;
}

/* Kill the child and reap it, so no zombie is left behind. */
static void kill_and_reap(pid_t pid)
{
    int status;
    kill(pid, SIGKILL);
    wait_child(pid, &status, 0);
}

/* Read the child's stdout into `out` until EOF, within `deadline` (monotonic ms).
 * DR_OK at EOF; on failure the child is still running (the caller kills it). */
static dr_status read_output(int fd, int64_t deadline, unsigned timeout_ms, dr_buf *out)
{
    char chunk[4096];
    dr_status rc = DR_OK;
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int64_t left = deadline - monotonic_ms();
        ssize_t n;
        int ready;
        if (left <= 0) {
            rc = dr__fail(DR_E_CREDENTIALS, "credential_process did not finish within %u ms "
                          "and was killed", timeout_ms);
            break;
        }
        ready = poll(&pfd, 1, (int)left);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0) {
            rc = dr__fail(DR_E_CREDENTIALS, "credential_process: poll failed: %s",
                          strerror(errno));
            break;
        }
        if (ready == 0)
            continue; /* the deadline check above reports it */
        n = read(fd, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            rc = dr__fail(DR_E_CREDENTIALS, "credential_process: cannot read its output: %s",
                          strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (out->len + (size_t)n > DR_PROCESS_MAX_OUTPUT) {
            rc = dr__fail(DR_E_CREDENTIALS, "credential_process printed more than %zu bytes",
                          DR_PROCESS_MAX_OUTPUT);
            break;
        }
        dr__buf_append(out, chunk, (size_t)n);
        if ((rc = dr__buf_ok(out)) != DR_OK)
            break;
    }
    dr__wipe(chunk, sizeof chunk);
    return rc;
}

/* Wait for the child to exit once its stdout is closed, within `deadline`; it is killed
 * and reaped if it does not. DR_OK only for exit status 0. */
static dr_status wait_exit(pid_t pid, int64_t deadline, unsigned timeout_ms)
{
    int status = 0;
    pid_t r;
    while ((r = wait_child(pid, &status, WNOHANG)) == 0) {
        struct timespec pause = {0, 5 * 1000000L};
        if (monotonic_ms() >= deadline) {
            kill_and_reap(pid);
            return dr__fail(DR_E_CREDENTIALS, "credential_process did not finish within %u ms "
                            "and was killed", timeout_ms);
        }
        nanosleep(&pause, NULL);
    }
    if (r < 0)
        /* ECHILD: the host ignores SIGCHLD or reaps every child itself. */
        return dr__fail(DR_E_CREDENTIALS, "credential_process: cannot learn its exit status: "
                        "%s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        return dr__fail(DR_E_CREDENTIALS, "credential_process exited with status %d",
                        WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return dr__fail(DR_E_CREDENTIALS, "credential_process was killed by signal %d",
                        WTERMSIG(status));
    return DR_OK;
}

/* Run `command` (exec's argv is not const) and capture its stdout into `out` (marked
 * secret). */
static dr_status run_command(char *command, dr_buf *out)
{
    unsigned timeout_ms = PROCESS_TIMEOUT_MS();
    int64_t deadline = monotonic_ms() + timeout_ms;
    dr_status rc;
    pid_t pid;
    int fd;

    dr__buf_mark_secret(out);
    if ((rc = spawn_shell(command, &pid, &fd)) != DR_OK)
        return rc;
    rc = read_output(fd, deadline, timeout_ms, out);
    close(fd);
    if (rc != DR_OK) {
        kill_and_reap(pid);
        return rc;
    }
    return wait_exit(pid, deadline, timeout_ms);
}

/* Member `name` of `obj`, its key compared without regard to case as the Go and Rust
 * SDKs compare them; NULL if absent. */
static json_t *member(json_t *obj, const char *name)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
        if (strcasecmp(key, name) == 0)
            return value;
    return NULL;
}

/* A string member, NULL if absent or empty; *wrong set when present but not a string. */
static const char *string_member(json_t *obj, const char *name, int *wrong)
{
    json_t *v = member(obj, name);
    const char *s = json_string_value(v);
    if (v && !json_is_string(v) && !json_is_null(v))
        *wrong = 1;
    return s && *s ? s : NULL;
}

static dr_status credentials_from_output(const char *text, size_t len, dr_credentials **out)
{
    const char *akid, *secret, *token, *expiration, *account;
    int64_t expires_at = 0;
    json_error_t err;
    json_t *doc, *version;
    int wrong = 0;
    dr_status rc = DR_OK;

    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        /* Only the position: jansson's text quotes the input, and the input is secrets. */
        return dr__fail(DR_E_CREDENTIALS, "credential_process printed malformed JSON (line "
                        "%d, column %d)", err.line, err.column);
    version = json_is_object(doc) ? member(doc, "Version") : NULL;
    akid = json_is_object(doc) ? string_member(doc, "AccessKeyId", &wrong) : NULL;
    secret = json_is_object(doc) ? string_member(doc, "SecretAccessKey", &wrong) : NULL;
    token = json_is_object(doc) ? string_member(doc, "SessionToken", &wrong) : NULL;
    expiration = json_is_object(doc) ? string_member(doc, "Expiration", &wrong) : NULL;
    account = json_is_object(doc) ? string_member(doc, "AccountId", &wrong) : NULL;
    if (!json_is_object(doc))
        rc = dr__fail(DR_E_CREDENTIALS, "credential_process printed JSON that is not an "
                      "object");
    else if (!version)
        rc = dr__fail(DR_E_CREDENTIALS, "credential_process output lacks Version");
    else if (!json_is_integer(version) || json_integer_value(version) != 1)
        rc = dr__fail(DR_E_CREDENTIALS, "credential_process output has a Version other "
                      "than 1");
    else if (wrong)
        rc = dr__fail(DR_E_CREDENTIALS, "credential_process output has a field that is not "
                      "a string");
    else if (!akid || !secret)
        rc = dr__fail(DR_E_CREDENTIALS, "credential_process output lacks AccessKeyId or "
                      "SecretAccessKey");
    else if (expiration && !dr__parse_iso8601(expiration, &expires_at))
        rc = dr__fail(DR_E_CREDENTIALS, "credential_process output has an invalid Expiration");
    else if (!(*out = dr__credentials_new(akid, secret, token, expires_at)))
        rc = dr__fail(DR_E_NOMEM, "out of memory copying credentials");
    else if ((rc = dr__credentials_set_account_id(*out, account)) != DR_OK) {
        dr__credentials_release(*out);
        *out = NULL;
    }
    json_decref(doc);
    return rc;
}

dr_status dr__credentials_from_process(const dr_provider_context *ctx, const char *command,
                                       dr_credentials **out)
{
    dr_buf output = DR_BUF_SECRET_INIT;
    char *copy;
    dr_status rc;

    (void)ctx; /* the process has its own timeout: ctx->timeout_ms is for HTTP */
    *out = NULL;
    if (!command || !*command)
        return dr__fail(DR_E_CREDENTIALS, "credential_process is empty");
    /* The command line may carry secrets of its own (a tool's password argument). */
    if (!(copy = dr__strdup(command)))
        return dr__fail(DR_E_NOMEM, "out of memory copying credential_process");
    rc = run_command(copy, &output);
    dr__free_secret(copy);
    if (rc == DR_OK)
        rc = credentials_from_output(dr__buf_cstr(&output), output.len, out);
    dr__buf_free_secret(&output);
    return rc;
}
