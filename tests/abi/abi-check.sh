#!/usr/bin/env bash
# ABI gate: compares the freshly built shared library with the committed baseline
# (abi/libdadratings.abi) and fails on any change other than an addition.
#
# abidiff's exit status is a bit field: 1 tool error, 2 usage error, 4 ABI change,
# 8 incompatible change (a removed symbol). A changed signature (uint32_t -> uint64_t
# parameter, a renumbered enumerator) only sets bit 4, so failing on bit 8 alone would let
# it through. Instead abidiff runs with --no-added-syms: added functions and variables are
# left out of the report and of the status, harmless changes (an appended enumerator, a
# renamed parameter) are filtered by abidiff's defaults, and whatever still sets a bit
# fails the test. Additions are then listed by a second, informational run.
#
# usage: abi-check.sh LIBRARY PUBLIC_HEADERS_DIR BASELINE
set -euo pipefail
[ "$#" -eq 3 ] || { echo "usage: $0 LIBRARY PUBLIC_HEADERS_DIR BASELINE" >&2; exit 2; }
lib=$1 headers=$2 baseline=$3
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

[ -f "$baseline" ] || { echo "FAIL: no ABI baseline at $baseline" >&2; exit 1; }
# Without DWARF abidw sees symbol names only and a changed signature would go unnoticed.
if ! readelf -S "$lib" | grep '\.debug_info' >/dev/null; then
    echo "FAIL: $lib has no debug info; build with CMAKE_BUILD_TYPE=RelWithDebInfo or Debug" >&2
    exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dr-abi.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

"$here/abi-dump.sh" "$lib" "$headers" >"$tmp/current.abi"

set +e
abidiff --no-added-syms "$baseline" "$tmp/current.abi" >"$tmp/report" 2>&1
status=$?
set -e

if [ "$status" -ne 0 ]; then
    cat "$tmp/report"
    echo
    echo "FAIL: abidiff exit status $status (bits: 1 error, 2 usage, 4 ABI change, 8 incompatible)."
    echo "The ABI of $lib is not compatible with $baseline."
    echo "Additions are fine (new functions in a DADRATINGS_1.N node); changing or removing"
    echo "anything is not before 2.0 (docs/ABI.md)."
    exit 1
fi

# Informational: list additions. They pass, but the baseline should be regenerated with
# scripts/update-abi-baseline.sh in the commit that adds them.
abidiff --added-fns --added-vars "$baseline" "$tmp/current.abi" >"$tmp/added" 2>&1 || true
if [ -s "$tmp/added" ]; then
    cat "$tmp/added"
    echo "NOTE: compatible additions; run scripts/update-abi-baseline.sh and commit the result."
fi
echo "PASS: ABI compatible with $(basename -- "$baseline")"
