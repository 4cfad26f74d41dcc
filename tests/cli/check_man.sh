#!/bin/sh
# dadratings(1) renders without a warning, and documents every command the program lists
# in --help and every exit status --help names.
#   check_man.sh DADRATINGS_BIN MAN_PAGE
set -u
bin=$1
page=$2
fail() { echo "check_man: $*" >&2; exit 1; }

warnings=$(MANWIDTH=100 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null) ||
    fail "man -l failed on $page: $warnings"
[ -z "$warnings" ] || fail "man --warnings on $page: $warnings"
rendered=$(MANWIDTH=100 man -E UTF-8 -l "$page" 2>/dev/null | col -b) || fail "man -l failed"

help=$("$bin" --help) || fail "$bin --help failed"
commands=$(printf '%s\n' "$help" | sed -n 's/^  dadratings \([a-z-]*\).*/\1/p')
[ -n "$commands" ] || fail "no command in $bin --help"
for c in $commands; do
    printf '%s\n' "$rendered" | grep -q "^       $c" ||
        fail "command $c of --help has no entry under COMMANDS in $page"
    "$bin" "$c" --help >/dev/null || fail "$bin $c --help failed"
done
exit_section=$(printf '%s\n' "$rendered" | sed -n '/^EXIT STATUS/,/^ENVIRONMENT/p')
for code in 0 2 3 4 5 6; do
    printf '%s\n' "$help" | grep -q "$code [A-Za-z]" ||
        fail "--help does not name exit status $code"
    printf '%s\n' "$exit_section" | grep -q "^       $code  " ||
        fail "exit status $code is not under EXIT STATUS in $page"
done
count=$(echo "$commands" | wc -w)
echo "check_man: $page renders without warnings; $count commands and 6 exit statuses documented"
