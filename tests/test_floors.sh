#!/usr/bin/env bash
# test_floors.sh SRC BUILD: the source tree keeps its one-way floors
# (scripts/check_floors.sh), and the check itself catches an upward
# include, a relative include, a cycle between two folders and a folder on
# no floor in a small tree made for it.
set -euo pipefail
src=$1
check=$src/scripts/check_floors.sh

bash "$check" "$src"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{kernels,autotune,runtime,stray}
printf '#include "runtime/status.h"\n' > "$tmp/kernels/ok.c"
printf 'int s;\n' > "$tmp/runtime/status.h"
bash "$check" "$tmp" > /dev/null || { echo "a tree of downward includes was rejected"; exit 1; }

expect_fail() { # what, then the text the report must hold
  local what=$1 want=$2 out
  if out=$(bash "$check" "$tmp" 2>&1); then echo "not caught: $what"; exit 1; fi
  grep -qF -- "$want" <<<"$out" || { echo "$what: report lacks '$want':"; echo "$out"; exit 1; }
}

printf '#include "autotune/choose.h"\n' > "$tmp/kernels/up.c"
printf 'int c;\n' > "$tmp/autotune/choose.h"
expect_fail "an upward include" 'kernels/up.c:1: kernels includes "autotune/choose.h" from autotune, a floor above it'
printf '#include "kernels/k.h"\n' > "$tmp/autotune/down.c"
printf 'int k;\n' > "$tmp/kernels/k.h"
expect_fail "a cycle between two folders" 'kernels/up.c:1'
rm "$tmp/kernels/up.c"
bash "$check" "$tmp" > /dev/null || { echo "removing the upward edge did not clear the cycle"; exit 1; }

printf '#include "../runtime/status.h"\n' > "$tmp/kernels/rel.c"
expect_fail "a relative include" 'kernels/rel.c:1: include "../runtime/status.h" is relative'
rm "$tmp/kernels/rel.c"
printf '#include "k.h"\n' > "$tmp/kernels/bare.c"
expect_fail "a bare same-folder include" 'kernels/bare.c:1: include "k.h" is relative'
rm "$tmp/kernels/bare.c"

printf 'int x;\n' > "$tmp/stray/a.c"
expect_fail "a folder on no floor" 'stray/a.c: folder stray is on no floor'
echo "test_floors: ok"
