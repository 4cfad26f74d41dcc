#!/usr/bin/env bash
# Runs one test against its own fresh DynamoDB Local: starts it (scripts/dynamodb-local.sh,
# a free loopback port, a temporary state directory), runs the command with
# DR_TEST_ENDPOINT set to it, and stops it by pid on every way out. For tests whose
# timing must not depend on what the other tests left in the shared instance (DynamoDB
# Local slows down as tables and streams accumulate).
#
#   tests/integration/with-dynamodb-local.sh COMMAND [ARG...]
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ddb_local="$here/../../scripts/dynamodb-local.sh"

unset DR_STATE_DIR
out=$("$ddb_local" start) || exit 1
eval "$out"
export DR_TEST_ENDPOINT DR_STATE_DIR
trap '"$ddb_local" stop; rm -rf -- "$DR_STATE_DIR"' EXIT
trap 'exit 130' INT TERM
"$@"
