#!/usr/bin/env bash
# Compiles headertest.c against the public header as strict C89 and as C++11. Only compiles
# (-c): linking is the install and exports tests' job.
# usage: headertest.sh C_COMPILER CXX_COMPILER INCLUDE_DIR
set -euo pipefail
[ "$#" -eq 3 ] || { echo "usage: $0 C_COMPILER CXX_COMPILER INCLUDE_DIR" >&2; exit 2; }
cc=$1 cxx=$2 inc=$3
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
command -v "$cxx" >/dev/null 2>&1 || { echo "FAIL: no C++ compiler '$cxx' (scripts/setup.sh installs g++)"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dr-headertest.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

run() { echo "+ $*"; "$@"; }
run "$cc" -std=c89 -pedantic -Werror -Wall -Wextra -I"$inc" -c "$here/headertest.c" -o "$tmp/c89.o"
run "$cc" -std=c89 -pedantic -Werror -Wall -Wextra -DDR_STATIC -I"$inc" -c "$here/headertest.c" -o "$tmp/c89s.o"
run "$cxx" -x c++ -std=c++11 -pedantic -Werror -Wall -Wextra -I"$inc" -c "$here/headertest.c" -o "$tmp/cxx.o"
echo "PASS: dadratings.h compiles as C89 and as C++11"
