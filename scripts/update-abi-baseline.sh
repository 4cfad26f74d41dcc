#!/usr/bin/env bash
# Regenerates abi/libdadratings.abi, the ABI baseline tests/abi/abi-check.sh compares against.
# Run it in the commit that deliberately adds API (new functions in a DADRATINGS_1.N node,
# appended enumerators), then commit abi/libdadratings.abi with that change.
#
#   scripts/update-abi-baseline.sh [BUILD_DIR]     (default: build)
#
# It builds BUILD_DIR (RelWithDebInfo: abidw needs debug info), shows what changed against
# the current baseline, and refuses to record an incompatible change: breaking the ABI
# means a new SONAME (2.0), not a new baseline. DR_ABI_ALLOW_BREAK=1 overrides, for 2.0.
set -euo pipefail
DR_LOG_TAG=abi-baseline
# shellcheck source=common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

build=${1:-"$DR_REPO_ROOT/build"}
baseline="$DR_REPO_ROOT/abi/libdadratings.abi"
command -v abidw >/dev/null 2>&1 || dr_die "abidw not found; run scripts/setup.sh"

dr_log "building the shared library in $build (RelWithDebInfo)"
cmake -S "$DR_REPO_ROOT" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target dadratings --parallel "$(nproc)" >/dev/null
lib=$(find "$build/src" -maxdepth 1 -type f -name 'libdadratings.so.*.*.*' | head -n 1)
[ -n "$lib" ] || dr_die "no libdadratings.so.X.Y.Z in $build/src"

new=$(mktemp "${TMPDIR:-/tmp}/dr-abi-new.XXXXXX")
trap 'rm -f -- "$new"' EXIT
"$DR_REPO_ROOT/tests/abi/abi-dump.sh" "$lib" "$DR_REPO_ROOT/include" >"$new"

if [ -f "$baseline" ]; then
    set +e
    abidiff --no-added-syms "$baseline" "$new"
    status=$?
    set -e
    if [ "$status" -ne 0 ] && [ "${DR_ABI_ALLOW_BREAK:-0}" != 1 ]; then
        dr_die "abidiff status $status: this is not a compatible change; baseline left alone"
    fi
    abidiff --added-fns --added-vars "$baseline" "$new" || true
fi
mkdir -p "$(dirname -- "$baseline")"
install -m 644 -- "$new" "$baseline"
dr_log "wrote ${baseline#"$DR_REPO_ROOT"/} from $(basename -- "$lib"); review and commit it"
