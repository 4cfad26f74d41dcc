#!/usr/bin/env bash
# Fuzz one target for a fixed time over a COPY of its committed corpus (the repo's corpus
# is never written), with its dictionary. Used by scripts/test.sh's fuzz stage and by hand:
#
#   tests/fuzz/run.sh BUILD_DIR TARGET SECONDS [libFuzzer options...]
#   e.g. tests/fuzz/run.sh build-fuzz sigv4 20
#
# Prints libFuzzer's log, then one line "fuzz TARGET: N runs in S s (E exec/s), ok" (or
# "CRASH ...").
# Exit 0 when the run ended without a finding; otherwise 1, and the crashing input is kept
# in DR_FUZZ_ARTIFACTS (default: a temporary folder; the line says where). Environment:
# DR_FUZZ_SKIP_L3=1 skips inputs that trip review finding L3 (see fuzz_common.h).
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 BUILD_DIR TARGET SECONDS [libFuzzer options...]" >&2; exit 2; }
build=$1 target=$2 seconds=$3
shift 3
here=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
bin="$build/tests/fuzz/fuzz_$target"
[ -x "$bin" ] || { echo "$0: no $bin (configure with -DDR_FUZZ=ON and build)" >&2; exit 2; }

case $target in
    ddb_error|ddb_item|stats|dashboard) dict=ddb_json ;;
    stream_batch) dict=stream ;;
    http_response) dict=http ;;
    credentials_json) dict=credentials ;;
    sts_xml|s3_list) dict=sts ;;
    ini|sigv4|url) dict=$target ;;
    *) dict= ;;
esac
dict_args=()
[ -n "$dict" ] && dict_args=("-dict=$here/dict/$dict.dict")

work=$(mktemp -d "${TMPDIR:-/tmp}/dr-fuzz-$target.XXXXXX")
artifacts=${DR_FUZZ_ARTIFACTS:-$work/artifacts}
mkdir -p "$work/corpus" "$artifacts"
trap 'rm -rf -- "$work/corpus"' EXIT
cp -- "$here/corpus/$target"/* "$work/corpus/" 2>/dev/null || true

set +e
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:allocator_may_return_null=1 \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "${dict_args[@]}" "$@" "$work/corpus" 2>&1 | tee "$work/log"
rc=${PIPESTATUS[0]}
set -e
runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$work/log" | tail -n 1)
speed=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$work/log" | tail -n 1)
took=$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$work/log" | tail -n 1)
if [ "$rc" -eq 0 ]; then
    echo "fuzz $target: ${runs:-?} runs in ${took:-?} s (${speed:-?} exec/s), ok"
    rm -rf -- "$work"
else
    echo "fuzz $target: CRASH after ${runs:-?} runs (exit $rc); inputs in $artifacts:" \
         "$(ls "$artifacts" | tr '\n' ' ')"
fi
exit "$rc"
