#!/usr/bin/env bash
# The shared library exports exactly the public API:
#   - every dynamic symbol it defines is a dr_ function bound to a DADRATINGS_1* version node,
#     or a version node symbol itself (DADRATINGS_1, DADRATINGS_1.N);
#   - every function the header marks DR_API is exported (a missing one fails at load time
#     of a binding), and nothing the header does not declare is;
#   - the SONAME is libdadratings.so.1 (a slip here breaks every program linked to us).
# usage: check-exports.sh LIBRARY PUBLIC_HEADER
set -euo pipefail
[ "$#" -eq 2 ] || { echo "usage: $0 LIBRARY PUBLIC_HEADER" >&2; exit 2; }
lib=$1 header=$2
fail=0
bad() { echo "FAIL: $*"; fail=1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dr-exports.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

# "ADDR TYPE NAME[@@VERSION]" per line.
nm -D --defined-only "$lib" >"$tmp/nm"
[ -s "$tmp/nm" ] || bad "nm -D found no defined symbols in $lib"
while read -r _ type sym; do
    name=${sym%%@*}
    version=${sym#"$name"}
    version=${version#@}
    version=${version#@}
    if [ "$type" = A ]; then
        [[ $name =~ ^DADRATINGS_1(\.[0-9]+)?$ ]] || bad "unexpected absolute symbol $sym"
        continue
    fi
    [[ $name == dr_* ]] || bad "exported symbol without the dr_ prefix: $sym ($type)"
    [[ $version =~ ^DADRATINGS_1(\.[0-9]+)?$ ]] || bad "$name is not in a DADRATINGS_1 version node: '$sym'"
done <"$tmp/nm"
grep -q ' A DADRATINGS_1$' "$tmp/nm" || bad "no DADRATINGS_1 version node"

# Compare with the header's DR_API declarations (each has its name on the DR_API line).
awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' "$tmp/nm" | sort -u >"$tmp/exported"
grep -E '^DR_API ' "$header" | grep -oE '\bdr_[a-z0-9_]+ *\(' | tr -d ' (' | sort -u >"$tmp/declared"
[ -s "$tmp/declared" ] || bad "found no DR_API declarations in $header"
missing=$(comm -13 "$tmp/exported" "$tmp/declared")
extra=$(comm -23 "$tmp/exported" "$tmp/declared")
[ -z "$missing" ] || bad "declared in $(basename -- "$header") but not exported: $(echo "$missing" | tr '\n' ' ')"
[ -z "$extra" ] || bad "exported but not declared in $(basename -- "$header"): $(echo "$extra" | tr '\n' ' ')"

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libdadratings.so.1 ] || bad "SONAME is '$soname', expected libdadratings.so.1"

if [ "$fail" -ne 0 ]; then exit 1; fi
echo "PASS: $(wc -l <"$tmp/exported") dr_ functions exported, all declared, all in DADRATINGS_1; SONAME $soname"
