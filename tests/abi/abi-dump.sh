#!/usr/bin/env bash
# Writes the ABI description of a libdadratings shared library to stdout, in libabigail's
# ABIXML. One place for the abidw options, shared by abi-check.sh and
# scripts/update-abi-baseline.sh, so that the baseline and the fresh dump always compare
# like with like.
#   --headers-dir + --drop-private-types: only types the public header defines are kept;
#       the library's private structs (what dr_config, dr_client... point to) are reduced to
#       declarations, so changing their members is not an ABI change, as intended.
#   --no-corpus-path, --no-comp-dir-path, --short-locs: no path of the machine that built it.
# Needs debug info (-g): RelWithDebInfo and Debug builds have it.
# usage: abi-dump.sh LIBRARY PUBLIC_HEADERS_DIR
set -euo pipefail
[ "$#" -eq 2 ] || { echo "usage: $0 LIBRARY PUBLIC_HEADERS_DIR" >&2; exit 2; }
exec abidw --no-corpus-path --no-comp-dir-path --short-locs --drop-private-types \
    --headers-dir "$2" "$1"
