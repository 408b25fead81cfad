#!/usr/bin/env bash
# test_install.sh <source dir> <binary dir>: installs the built tree into a
# temporary prefix, then builds tests/consumer/consumer.c against it twice,
# (a) with pkg-config and the system C compiler, (b) with CMake's
# find_package(kernels), and runs both. Exit 77 (skipped) for a sanitizer
# build, whose installed library needs the sanitizer runtime.
set -euo pipefail

src=${1:?usage: test_install.sh <source dir> <binary dir>}
bin=${2:?usage: test_install.sh <source dir> <binary dir>}

if grep -q '^TK_SANITIZE:BOOL=ON$' "$bin/CMakeCache.txt" 2>/dev/null; then
  echo "skipped: sanitizer build (the installed consumer would not link the sanitizer runtime)"
  exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

echo "== install into $prefix"
cmake --install "$bin" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; exit 1; }
libdir=$(dirname "$(find "$prefix" -name 'libkernels.so' -print -quit)")
test -f "$prefix/include/tokamax.h"
test -n "$libdir" && test -f "$libdir/pkgconfig/kernels.pc"

echo "== (a) pkg-config"
# kernels.pc finds its prefix relative to itself, so the install moved by
# --prefix resolves as it is.
flags=$(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs kernels)
case "$flags" in *"$prefix"*) ;; *) echo "kernels.pc does not point into $prefix: $flags"; exit 1 ;; esac
echo "cc consumer.c $flags -lm"
# shellcheck disable=SC2086  # flags are words
cc -std=c11 -Wall -Wextra -Werror -o "$work/consumer_pc" "$src/tests/consumer/consumer.c" $flags -lm
TOKAMAX_CACHE=:memory: LD_LIBRARY_PATH=$libdir "$work/consumer_pc"

echo "== (b) find_package(kernels)"
cmake -S "$src/tests/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" >"$work/build.log" || { cat "$work/build.log"; exit 1; }
TOKAMAX_CACHE=:memory: "$work/build/consumer"

echo "install test passed"
