#!/usr/bin/env bash
# Runs s3rver (an S3-compatible server from npm, installed by scripts/setup.sh) for the
# import tests.
#
#   scripts/s3-local.sh start    start on a free loopback port; prints on stdout
#                                    DR_TEST_S3_ENDPOINT=http://127.0.0.1:PORT
#                                    DR_S3_LOCAL_PID=PID
#                                    DR_S3_STATE_DIR=DIR
#   scripts/s3-local.sh stop     stop it (TERM, then KILL after a grace period) and delete
#                                its data
#   scripts/s3-local.sh status   exit 0 if running, 3 if not
#
# State (pid, port, log, the buckets' files) lives in DR_S3_STATE_DIR; `start` makes a
# temporary one when it is unset and prints it: pass it back to `stop` and `status`.
# s3rver binds 127.0.0.1 only. Its one account has access key S3RVER (secret S3RVER); of a
# SigV4 request it checks the access key, not the signature. Buckets named in DR_S3_BUCKETS (space-separated) are
# created at start.
set -euo pipefail
DR_LOG_TAG=s3-local
# shellcheck source=common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

readonly READY_TIMEOUT_S=${DR_S3_READY_TIMEOUT:-30}
readonly STOP_GRACE_S=10
readonly S3RVER_JS="$DR_S3RVER_DIR/node_modules/s3rver/bin/s3rver.js"

free_port() {
    node -e 'const s = require("net").createServer();
             s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# Any HTTP answer counts as ready (an unsigned ListBuckets is answered 403).
answers_http() {
    node -e '
      const req = require("http").request({host: "127.0.0.1", port: Number(process.argv[1]),
                                           method: "GET", path: "/", timeout: 2000},
        (res) => { res.resume(); process.exit(0); });
      req.on("timeout", () => req.destroy());
      req.on("error", () => process.exit(1));
      req.end();' "$1"
}

# Is $1 alive and really our s3rver (not a recycled pid)?
is_ours() {
    local pid=$1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep 's3rver\.js' >/dev/null
}

state_dir_or_die() {
    [ -n "${DR_S3_STATE_DIR:-}" ] || dr_die "DR_S3_STATE_DIR is not set (start prints it)"
}

cmd_start() {
    command -v node >/dev/null 2>&1 || dr_die "node not found; run scripts/setup.sh"
    [ -f "$S3RVER_JS" ] || dr_die "s3rver is not in $DR_S3RVER_DIR; run scripts/setup.sh"
    local state=${DR_S3_STATE_DIR:-}
    if [ -z "$state" ]; then
        state=$(mktemp -d "${TMPDIR:-/tmp}/dr-s3-local.XXXXXX")
    fi
    mkdir -p "$state/data"
    if is_ours "$(cat "$state/pid" 2>/dev/null || true)"; then
        dr_die "already running with pid $(cat "$state/pid") (state in $state)"
    fi
    local buckets=() name
    for name in ${DR_S3_BUCKETS:-}; do
        buckets+=(--configure-bucket "$name")
    done

    local attempt port pid waited
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        # --no-vhost-buckets: buckets only in the path, as the import addresses a configured
        # endpoint. --openssl-legacy-provider: s3rver encrypts its continuation tokens with
        # DES, which OpenSSL 3 (node 17 and later) only has in its legacy provider; without
        # it every listing past the first page is an InternalError. stdin from /dev/null and
        # output to a log, so that node holds no terminal or pipe of the caller open.
        node --openssl-legacy-provider "$S3RVER_JS" --directory "$state/data" --address 127.0.0.1 --port "$port" \
            --no-vhost-buckets "${buckets[@]}" </dev/null >"$state/s3-local.log" 2>&1 &
        pid=$!
        printf '%s\n' "$pid" >"$state/pid"
        printf '%s\n' "$port" >"$state/port"
        dr_log "started pid $pid on port $port, waiting for it to answer (up to ${READY_TIMEOUT_S}s)"
        waited=0
        while :; do
            if ! kill -0 "$pid" 2>/dev/null; then
                wait "$pid" 2>/dev/null || true
                if grep -qi 'EADDRINUSE' "$state/s3-local.log"; then
                    dr_log "port $port was taken meanwhile (attempt $attempt); trying another"
                    continue 2
                fi
                sed 's/^/    /' "$state/s3-local.log" >&2
                rm -f "$state/pid" "$state/port"
                dr_die "s3rver exited during startup (log above)"
            fi
            if answers_http "$port"; then
                dr_log "ready after ${waited}s: http://127.0.0.1:$port"
                printf 'DR_TEST_S3_ENDPOINT=http://127.0.0.1:%s\n' "$port"
                printf 'DR_S3_LOCAL_PID=%s\n' "$pid"
                printf 'DR_S3_STATE_DIR=%s\n' "$state"
                return 0
            fi
            if [ "$waited" -ge "$READY_TIMEOUT_S" ]; then
                sed 's/^/    /' "$state/s3-local.log" >&2
                DR_S3_STATE_DIR=$state cmd_stop
                dr_die "s3rver did not answer on port $port within ${READY_TIMEOUT_S}s"
            fi
            sleep 1
            waited=$((waited + 1))
        done
    done
    dr_die "could not find a free port after $attempt attempts"
}

cmd_stop() {
    state_dir_or_die
    local state=$DR_S3_STATE_DIR pid i
    pid=$(cat "$state/pid" 2>/dev/null || true)
    if is_ours "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < STOP_GRACE_S * 10; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            dr_log "pid $pid ignored TERM for ${STOP_GRACE_S}s; sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        fi
        kill -0 "$pid" 2>/dev/null && dr_die "pid $pid is still alive"
        dr_log "stopped pid $pid"
    elif [ -n "$pid" ]; then
        dr_log "pid $pid is not running (already stopped)"
    else
        dr_log "not running"
    fi
    rm -rf -- "$state/data"
    rm -f "$state/pid" "$state/port" "$state/s3-local.log"
    rmdir "$state" 2>/dev/null || true
}

cmd_status() {
    state_dir_or_die
    local pid port
    pid=$(cat "$DR_S3_STATE_DIR/pid" 2>/dev/null || true)
    port=$(cat "$DR_S3_STATE_DIR/port" 2>/dev/null || true)
    if is_ours "$pid"; then
        if answers_http "$port"; then
            printf 'running: pid %s, http://127.0.0.1:%s\n' "$pid" "$port"
        else
            printf 'starting (not answering yet): pid %s, port %s\n' "$pid" "$port"
        fi
        return 0
    fi
    printf 'not running\n'
    return 3
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) printf 'usage: %s start|stop|status\n' "$0" >&2; exit 2 ;;
esac
