#!/usr/bin/env bash
# Runs one test against a fresh s3rver: starts it (scripts/s3-local.sh, buckets from
# DR_S3_BUCKETS), runs the command with DR_TEST_S3_ENDPOINT set, and stops the server on
# every way out (the test failing, crashing or being interrupted included).
#
#   tests/integration/with-s3-local.sh COMMAND [ARG...]
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
s3_local="$here/../../scripts/s3-local.sh"

out=$("$s3_local" start) || exit 1
eval "$out"
export DR_TEST_S3_ENDPOINT DR_S3_STATE_DIR
trap '"$s3_local" stop' EXIT
trap 'exit 130' INT TERM
"$@"
