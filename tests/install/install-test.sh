#!/usr/bin/env bash
# Installs a libdadratings build into a temporary prefix, checks the installed layout (the
# programs and the manual too), then builds and runs the consumer program against it twice,
# out of tree:
#   1. cc consumer.c $(pkg-config --cflags --libs dadratings)
#   2. a CMake project doing find_package(dadratings 1 REQUIRED), shared and static.
# The prefix differs from CMAKE_INSTALL_PREFIX on purpose: the package files must be
# relocatable.
# usage: install-test.sh BUILD_DIR CONSUMER_DIR LIBDIR INCLUDEDIR VERSION CC CMAKE
set -euo pipefail
[ "$#" -eq 7 ] || { echo "usage: $0 BUILD_DIR CONSUMER_DIR LIBDIR INCLUDEDIR VERSION CC CMAKE" >&2; exit 2; }
build=$1 consumer=$2 libdir_rel=$3 incdir_rel=$4 version=$5 cc=$6 cmake=$7
major=${version%%.*}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dr-install.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
prefix=$tmp/prefix
libdir=$prefix/$libdir_rel
incdir=$prefix/$incdir_rel
fail=0
bad() { echo "FAIL: $*"; fail=1; }
step() { echo "== $*"; }

step "cmake --install $build --prefix $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; exit 1; }

step "installed layout"
[ -f "$incdir/dadratings.h" ] || bad "missing $incdir_rel/dadratings.h"
headers=$(find "$prefix" -name '*.h' | sed "s|^$prefix/||" | sort)
[ "$headers" = "$incdir_rel/dadratings.h" ] || bad "installed headers are not just dadratings.h: $headers"
[ "$(readlink "$libdir/libdadratings.so")" = "libdadratings.so.$major" ] ||
    bad "libdadratings.so does not point to libdadratings.so.$major"
[ "$(readlink "$libdir/libdadratings.so.$major")" = "libdadratings.so.$version" ] ||
    bad "libdadratings.so.$major does not point to libdadratings.so.$version"
if [ ! -f "$libdir/libdadratings.so.$version" ] || [ -L "$libdir/libdadratings.so.$version" ]; then
    bad "missing regular file libdadratings.so.$version"
fi
[ -f "$libdir/libdadratings.a" ] || bad "missing libdadratings.a"
[ -f "$libdir/pkgconfig/dadratings.pc" ] || bad "missing pkgconfig/dadratings.pc"
for f in dadratings-config.cmake dadratings-config-version.cmake dadratingsTargets.cmake; do
    [ -f "$libdir/cmake/dadratings/$f" ] || bad "missing cmake/dadratings/$f"
done
ls "$libdir/cmake/dadratings/"dadratingsTargets-*.cmake >/dev/null 2>&1 ||
    bad "missing cmake/dadratings/dadratingsTargets-<config>.cmake"
if grep -rqs -- "$build" "$libdir/pkgconfig" "$libdir/cmake"; then
    bad "installed package files mention the build tree $build"
fi
# The programs and the manual (GNUInstallDirs' bin and share/man unless configured otherwise).
cli=$(find "$prefix" -path '*/bin/dadratings' -type f | head -n 1)
[ -n "$cli" ] && [ -x "$cli" ] || bad "missing bin/dadratings"
find "$prefix" -path '*/bin/dr_follow' -type f | grep -q . || bad "missing bin/dr_follow"
find "$prefix" -path '*/man/man1/dadratings.1' -type f | grep -q . ||
    bad "missing man/man1/dadratings.1"
if [ -n "$cli" ]; then
    LD_LIBRARY_PATH=$libdir "$cli" --version | grep -qx "dadratings $version (libdadratings $version)" ||
        bad "installed dadratings --version does not say $version"
fi
if [ "$fail" -ne 0 ]; then find "$prefix" | sed "s|^$prefix|    |"; exit 1; fi

step "pkg-config consumer"
export PKG_CONFIG_PATH=$libdir/pkgconfig
pcver=$(pkg-config --modversion dadratings)
[ "$pcver" = "$version" ] || bad "pkg-config --modversion says $pcver, expected $version"
cflags=$(pkg-config --cflags dadratings)
libs=$(pkg-config --libs dadratings)
echo "cflags: $cflags"
echo "libs:   $libs"
case " $cflags " in *" -D"*) bad "Cflags carries a define: $cflags" ;; esac
# shellcheck disable=SC2086  # pkg-config output is a list of words
"$cc" -Wall -Wextra -Werror -o "$tmp/consumer_pc" "$consumer/consumer.c" $cflags $libs
LD_LIBRARY_PATH=$libdir "$tmp/consumer_pc" | tee "$tmp/out_pc"
grep -qx "dr_version: $version" "$tmp/out_pc" || bad "pkg-config consumer printed the wrong version"
# It must have loaded the installed library, by its SONAME.
LD_LIBRARY_PATH=$libdir ldd "$tmp/consumer_pc" | grep "libdadratings.so.$major => $libdir/" >/dev/null ||
    bad "pkg-config consumer did not load $libdir/libdadratings.so.$major"
if pkg-config --static --libs dadratings >/dev/null 2>&1; then
    echo "static libs: $(pkg-config --static --libs dadratings)"
else
    bad "pkg-config --static --libs dadratings fails (Requires.private not resolvable)"
fi

step "CMake find_package consumer"
"$cmake" -S "$consumer" -B "$tmp/consumer-build" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    -DCMAKE_BUILD_TYPE=Release >"$tmp/consumer-configure.log" 2>&1 ||
    { cat "$tmp/consumer-configure.log"; exit 1; }
grep 'dadratings' "$tmp/consumer-configure.log" || true
grep -q "from $libdir/cmake/dadratings" "$tmp/consumer-configure.log" ||
    bad "find_package did not find the package in $libdir/cmake/dadratings"
"$cmake" --build "$tmp/consumer-build" >"$tmp/consumer-build.log" 2>&1 ||
    { cat "$tmp/consumer-build.log"; exit 1; }
for exe in consumer_shared consumer_static; do
    LD_LIBRARY_PATH=$libdir "$tmp/consumer-build/$exe" | tee "$tmp/out_$exe"
    grep -qx "dr_version: $version" "$tmp/out_$exe" || bad "$exe printed the wrong version"
done
ldd "$tmp/consumer-build/consumer_static" | grep libdadratings >/dev/null &&
    bad "consumer_static is linked to the shared library"

if [ "$fail" -ne 0 ]; then exit 1; fi
echo "PASS: installed layout and programs, pkg-config and find_package consumers (shared and static)"
