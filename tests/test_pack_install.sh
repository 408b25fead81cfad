#!/usr/bin/env bash
# test_pack_install.sh <source dir> <binary dir>: the tuned packs on a fresh
# install (issue 18). Installs the built tree into a temporary prefix and
# checks, with the installed programs only (the build tree's copy is not
# searched by code installed outside it):
#  - every pack of data/packs is installed in share/tokamax/packs, and
#    `tokamax-tune show --device all` lists its entries marked as pack;
#  - where a shipped pack is for this machine's device class, a call on one
#    of its grouped-GEMM shapes (tests/consumer/pack_source.c, built against
#    the install with pkg-config) reports source `pack`, and the dispatch
#    log says so; elsewhere this step says it is not checked here;
#  - on any machine: a pack made here (`export --pack`) and put into the
#    installed folder is used by such a call and listed by `show`, and the
#    user's own result for that shape wins over it.
# Exit 77 (skipped) for a sanitizer build.
set -uo pipefail
src=${1:?usage: test_pack_install.sh <source dir> <binary dir>}
bin=${2:?usage: test_pack_install.sh <source dir> <binary dir>}
if grep -q '^TK_SANITIZE:BOOL=ON$' "$bin/CMakeCache.txt" 2>/dev/null; then
  echo "skipped: sanitizer build (the installed programs would not link the sanitizer runtime)"
  exit 77
fi
[ -x "$bin/tokamax-tune" ] || { echo "skipped: no tokamax-tune built"; exit 77; }
source "$(dirname "$0")/cli_expect.sh"
prefix=$work/prefix
cmake --install "$bin" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; exit 1; }
libdir=$(dirname "$(find "$prefix" -name 'libkernels.so' -print -quit)")
packs=$prefix/share/tokamax/packs
tune=$prefix/bin/tokamax-tune
flags=$(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs kernels)
# shellcheck disable=SC2086  # flags are words
cc -std=c11 -Wall -Wextra -Werror -o "$work/pack_source" "$src/tests/consumer/pack_source.c" $flags ||
  { echo "FAIL: building pack_source"; exit 1; }
call() { LD_LIBRARY_PATH=$libdir "$work/pack_source" "$@"; }
unset TOKAMAX_PACKS TOKAMAX_DEFAULT_PACKS TOKAMAX_LOG
export TOKAMAX_CACHE=$work/user.db

# The shipped packs, installed and listed.
shipped=0
for pack in "$src"/data/packs/*.pack; do
  [ -e "$pack" ] || continue
  name=$(basename "$pack")
  shipped=$((shipped + 1))
  cmp -s "$pack" "$packs/$name" || { echo "FAIL: $name is not installed in $packs"; fails=$((fails + 1)); continue; }
  want=$(grep -c '^C	' "$pack")
  "$tune" show --device all >"$work/show" 2>&1
  got=$(grep -c "\[pack $packs/$name, measured on" "$work/show")
  [ "$got" = "$want" ] || { echo "FAIL: show lists $got of the $want entries of $name"; cat "$work/show"; fails=$((fails + 1)); }
done
echo "ok: $shipped shipped pack(s) installed and listed"

# A call on a shape of the shipped pack of this machine's class.
class=$("$tune" device | awk '$1 == "class" { print $2 }')
mine=$(grep -l "^class	$class\$" "$packs"/*.pack 2>/dev/null | head -1)
if [ -n "$mine" ]; then
  key=$(awk -F'\t' '$1 == "C" && $2 == "grouped_gemm" && $3 ~ /dtype=f32,out=f32,layout=nn,/ { print $3; exit }' "$mine")
  size() { printf '%s\n' "$key" | tr ',' '\n' | sed -n "s/^$1=//p"; }
  if [ -n "$key" ]; then
    TOKAMAX_LOG=debug call "$(size M)" "$(size K)" "$(size N)" "$(size G)" >"$work/call" 2>"$work/log"
    grep -q "^pack cpu .* $key\$" "$work/call" && grep -q "(pack: exact entry of a tuned pack" "$work/log" ||
      { echo "FAIL: the call on $key did not come from $mine:"; cat "$work/call" "$work/log" | head; fails=$((fails + 1)); }
    echo "ok: a call on a shape of $(basename "$mine") reports source pack"
    expect 0 "\[pack $mine, measured on" "$tune" show
  fi
else
  echo "note: no shipped pack for class $class: the shipped-pack call is not checked on this machine"
fi

# A pack made here, put into the installed folder.
call 48 32 16 2 >"$work/call" || { echo "FAIL: pack_source"; exit 1; }
key=$(awk '{ print $4 }' "$work/call")
fp=$("$tune" device | awk '$1 == "fingerprint" { print $2 }')
line() { printf 'M\t%s\tgrouped_gemm\t%s\treference\t%s\tok\t\t%s\t%s\t%s\t5\t0\t%s\n' "$fp" "$key" "$1" "$2" "$2" "$2" "$3"; }
printf 'tokamax-cache\t1\n%s\n' "$(line parallel=0 1000 5)" >"$work/made.v1"
"$tune" import --db "$work/made.db" "$work/made.v1" >/dev/null 2>&1
expect 0 "wrote a tuned pack of 1 choices" "$tune" export --db "$work/made.db" --suite test --pack "$packs/zz-made-here.pack"
expect 0 "^pack reference parallel=0 $key\$" call 48 32 16 2
expect 0 "\[pack $packs/zz-made-here.pack, measured on $fp\]" "$tune" show --key M=48,
# The user's own result wins.
printf 'tokamax-cache\t1\n%s\n' "$(line parallel=1 2000 9)" >"$work/user.v1"
"$tune" import "$work/user.v1" >/dev/null 2>&1
expect 0 "^cache reference parallel=1 $key\$" call 48 32 16 2
"$tune" show --key M=48, >"$work/show" 2>&1
grep -q "zz-made-here" "$work/show" && { echo "FAIL: show lists the pack entry the cache overrides"; fails=$((fails + 1)); }

echo "$fails failed"
[ "$fails" -eq 0 ]
