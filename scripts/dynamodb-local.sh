#!/usr/bin/env bash
# Runs AWS's DynamoDB Local (installed by scripts/setup.sh) for tests and the demo.
#
#   scripts/dynamodb-local.sh start    start on a free loopback port; prints on stdout
#                                          DR_TEST_ENDPOINT=http://127.0.0.1:PORT
#                                          DR_DYNAMODB_LOCAL_PID=PID
#                                          DR_STATE_DIR=DIR
#   scripts/dynamodb-local.sh stop     stop it (TERM, then KILL after a grace period)
#   scripts/dynamodb-local.sh status   exit 0 if running, 3 if not
#
# State (pid, port, log) lives in DR_STATE_DIR; `start` makes a temporary one when it is unset
# and prints it: pass it back to `stop` and `status`.
#
# DynamoDB Local has no option to choose the address it listens on: it binds every interface.
# We cannot change that; clients only ever use 127.0.0.1, and the process is stopped by pid.
# It does not check signatures, so dummy credentials work.
set -euo pipefail
DR_LOG_TAG=dynamodb-local
# shellcheck source=common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

readonly READY_TIMEOUT_S=${DR_DDB_READY_TIMEOUT:-60}
readonly STOP_GRACE_S=10

# A free TCP port: bind 127.0.0.1:0 and read back what the kernel chose. Another process may
# take it before DynamoDB Local binds it; start() retries on a new port if that happens.
free_port() {
    node -e 'const s = require("net").createServer();
             s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# Any HTTP answer counts as ready: ListTables with a dummy SigV4-shaped Authorization header
# (DynamoDB Local parses it for the region but never verifies the signature).
answers_http() {
    node -e '
      const req = require("http").request({
        host: "127.0.0.1", port: Number(process.argv[1]), method: "POST", path: "/",
        timeout: 2000,
        headers: {
          "Content-Type": "application/x-amz-json-1.0",
          "X-Amz-Target": "DynamoDB_20120810.ListTables",
          "Authorization": "AWS4-HMAC-SHA256 Credential=dummy/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
        },
      }, (res) => { res.resume(); process.exit(0); });
      req.on("timeout", () => req.destroy());
      req.on("error", () => process.exit(1));
      req.end("{}");' "$1"
}

# Is $1 alive and really our DynamoDB Local (not a recycled pid)?
is_ours() {
    local pid=$1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep 'DynamoDBLocal\.jar' >/dev/null
}

state_dir_or_die() {
    [ -n "${DR_STATE_DIR:-}" ] || dr_die "DR_STATE_DIR is not set (start prints it)"
}

cmd_start() {
    command -v java >/dev/null 2>&1 || dr_die "java not found; run scripts/setup.sh"
    [ -f "$DR_DDB_LOCAL_DIR/DynamoDBLocal.jar" ] ||
        dr_die "DynamoDB Local is not in $DR_DDB_LOCAL_DIR; run scripts/setup.sh"
    local state=${DR_STATE_DIR:-}
    if [ -z "$state" ]; then
        state=$(mktemp -d "${TMPDIR:-/tmp}/dr-dynamodb-local.XXXXXX")
    fi
    mkdir -p "$state"
    if is_ours "$(cat "$state/pid" 2>/dev/null || true)"; then
        dr_die "already running with pid $(cat "$state/pid") (state in $state)"
    fi

    local attempt port pid waited
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        # -sharedDb: one database file for every access key and region. Without it DynamoDB
        # Local keeps a separate database per access key id + region, so a test or a binding
        # that resolves different dummy credentials (env, profile, explicit config) would not
        # see the tables another one created.
        # -inMemory: nothing is written to disk; the data dies with the process.
        # stdin from /dev/null and output to a log, so that the JVM holds no terminal or pipe
        # of the caller open (a `scripts/test.sh | tee` would otherwise never end).
        (cd "$DR_DDB_LOCAL_DIR" &&
            exec java -Djava.library.path=DynamoDBLocal_lib -jar DynamoDBLocal.jar \
                -inMemory -sharedDb -disableTelemetry -port "$port") \
            </dev/null >"$state/dynamodb-local.log" 2>&1 &
        pid=$!
        printf '%s\n' "$pid" >"$state/pid"
        printf '%s\n' "$port" >"$state/port"
        dr_log "started pid $pid on port $port, waiting for it to answer (up to ${READY_TIMEOUT_S}s)"
        waited=0
        while :; do
            if ! kill -0 "$pid" 2>/dev/null; then
                wait "$pid" 2>/dev/null || true
                if grep -qi 'address already in use' "$state/dynamodb-local.log"; then
                    dr_log "port $port was taken meanwhile (attempt $attempt); trying another"
                    continue 2
                fi
                sed 's/^/    /' "$state/dynamodb-local.log" >&2
                rm -f "$state/pid" "$state/port"
                dr_die "DynamoDB Local exited during startup (log above)"
            fi
            if answers_http "$port"; then
                dr_log "ready after ${waited}s: http://127.0.0.1:$port"
                printf 'DR_TEST_ENDPOINT=http://127.0.0.1:%s\n' "$port"
                printf 'DR_DYNAMODB_LOCAL_PID=%s\n' "$pid"
                printf 'DR_STATE_DIR=%s\n' "$state"
                return 0
            fi
            if [ "$waited" -ge "$READY_TIMEOUT_S" ]; then
                sed 's/^/    /' "$state/dynamodb-local.log" >&2
                DR_STATE_DIR=$state cmd_stop
                dr_die "DynamoDB Local did not answer on port $port within ${READY_TIMEOUT_S}s"
            fi
            sleep 1
            waited=$((waited + 1))
        done
    done
    dr_die "could not find a free port after $attempt attempts"
}

cmd_stop() {
    state_dir_or_die
    local state=$DR_STATE_DIR pid i
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
    rm -f "$state/pid" "$state/port" "$state/dynamodb-local.log"
    rmdir "$state" 2>/dev/null || true
}

cmd_status() {
    state_dir_or_die
    local pid port
    pid=$(cat "$DR_STATE_DIR/pid" 2>/dev/null || true)
    port=$(cat "$DR_STATE_DIR/port" 2>/dev/null || true)
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
