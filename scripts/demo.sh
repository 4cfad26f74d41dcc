#!/usr/bin/env bash
# THE demo command: scripts/demo.sh, from a fresh clone on Debian 12.
# Installs what is missing (scripts/setup.sh), builds build/, starts DynamoDB Local on a free
# loopback port, runs the demo program against it and stops DynamoDB Local again, also when
# the demo fails or is interrupted.
set -euo pipefail
DR_LOG_TAG=demo
# shellcheck source=common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
cd "$DR_REPO_ROOT"

"$DR_REPO_ROOT/scripts/setup.sh"
dr_build_main "$DR_REPO_ROOT/build"

demo=build/examples/dr_demo
[ -x "$demo" ] || dr_die "build/examples/dr_demo was not built"

state=$(mktemp -d "${TMPDIR:-/tmp}/dr-demo.XXXXXX")
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    DR_STATE_DIR=$state "$DR_REPO_ROOT/scripts/dynamodb-local.sh" stop || rc=1
    rm -rf -- "$state"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ddb_env=$(DR_STATE_DIR=$state "$DR_REPO_ROOT/scripts/dynamodb-local.sh" start)
endpoint=$(printf '%s\n' "$ddb_env" | sed -n 's/^DR_TEST_ENDPOINT=//p')
[ -n "$endpoint" ] || dr_die "dynamodb-local.sh start printed no endpoint"

# DynamoDB Local ignores signatures: dummy credentials do. IMDS off: nothing leaves the host.
dr_log "running $demo against $endpoint"
echo
env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL \
    AWS_ENDPOINT_URL_DYNAMODB="$endpoint" AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=AKIDDADRATINGSLOCAL AWS_SECRET_ACCESS_KEY=dadratings-local-dummy-secret \
    AWS_EC2_METADATA_DISABLED=true \
    "$demo"
