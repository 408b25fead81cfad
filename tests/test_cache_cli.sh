#!/usr/bin/env bash
# test_cache_cli.sh <source dir> <binary dir>: tokamax-tune's cache commands
# on caches they cannot use (issue 17): each of show, export, clear and
# import fails with exit 1 and the cache's own reason (it once printed
# "show: " and nothing: the context was destroyed, clearing the message,
# before it was printed); a negative schema version (which once crashed
# `tokamax-tune device` with SIGSEGV) is refused; the file is not modified.
set -u
bin="$2/tokamax-tune"
[ -x "$bin" ] || { echo "no tokamax-tune built; skipping"; exit 77; }
source "$(dirname "$0")/cli_expect.sh"

# A real cache, then its schema version (PRAGMA user_version: bytes 60-63
# of the header, big-endian) overwritten.
with_version() { # with_version <file> <4 bytes as \x escapes>
  rm -f "$1"
  "$bin" clear --db "$1" >/dev/null 2>&1
  printf "$2" | dd of="$1" bs=1 seek=60 count=4 conv=notrunc status=none
}

printf 'tokamax-cache\t2\nE\t0\t%s\n' cbf29ce484222325 >"$work/empty.tsv"
for v in newer:'\x00\x00\x00\x63':"schema version 99, newer" \
         negative:'\x80\x00\x00\x00':"schema version -2147483648" \
         minus100:'\xff\xff\xff\x9c':"schema version -100"; do
  name=${v%%:*} rest=${v#*:}
  bytes=${rest%%:*} want=${rest#*:}
  db="$work/$name.db"
  with_version "$db" "$bytes"
  before=$(cksum <"$db")
  expect 1 "show: cache: $db.*$want" "$bin" show --db "$db" --device all
  expect 1 "export: cache: $db.*$want" "$bin" export --db "$db" "$work/out.tsv"
  expect 1 "clear: cache: $db.*$want" "$bin" clear --db "$db"
  expect 1 "import: cache: $db.*$want" "$bin" import --db "$db" "$work/empty.tsv"
  TOKAMAX_CACHE=$db expect 0 "physical" "$bin" device
  [ "$(cksum <"$db")" = "$before" ] || { echo "FAIL: $name.db was modified"; fails=$((fails + 1)); }
done

# Not a database at all, and a folder.
head -c 8192 /dev/urandom >"$work/junk.db"
expect 1 "show: cache: $work/junk.db.*not a database" "$bin" show --db "$work/junk.db"
expect 1 "export: cache: $work.*unable to open" "$bin" export --db "$work" "$work/out.tsv"

# Export files: a format-1 file imports with a warning; a cut or CRLF
# copy of a format-2 export is refused with file:line.
good="$work/good.db"
printf 'tokamax-cache\t1\nD\tcpu:old\t{}\t5\nM\tcpu:old\tattention\tk\tcpu\tb=1\tok\t\t10\t9\t11\t5\t0.001\t7\n' >"$work/v1.tsv"
expect 0 "warning: $work/v1.tsv: export format 1 has no end marker" "$bin" import --db "$good" "$work/v1.tsv"
"$bin" export --db "$good" "$work/v2.tsv" || { echo "FAIL: export"; fails=$((fails + 1)); }
expect 0 "imported 1 measurements" "$bin" import --db "$good" "$work/v2.tsv"
head -c -3 "$work/v2.tsv" >"$work/cut.tsv"
expect 1 "import: cache: $work/cut.tsv:[0-9]*: truncated" "$bin" import --db "$good" "$work/cut.tsv"
sed 's/$/\r/' "$work/v2.tsv" >"$work/crlf.tsv"
expect 1 "import: cache: $work/crlf.tsv:1: carriage return" "$bin" import --db "$good" "$work/crlf.tsv"
expect 0 "merged 1 measurements" "$bin" merge --out "$work/merged.tsv" "$work/v2.tsv"
grep -q "^E	3	" "$work/merged.tsv" || { echo "FAIL: merged file lacks its end marker"; fails=$((fails + 1)); }

# Merging across machines (issue 18): results stay per fingerprint, a
# candidate measured twice on one fingerprint keeps its faster median and
# is reported with its key, a file of a newer format is refused and
# nothing is written.
shard() { # shard <name> <M lines...>: a format-2 export holding the M lines
  local name=$1 v1="$work/$1.v1" db="$work/$1.shard.db"
  shift
  printf 'tokamax-cache\t1\n' >"$v1"
  printf '%s\n' "$@" >>"$v1"
  rm -f "$db"
  "$bin" import --db "$db" "$v1" >/dev/null 2>&1 && "$bin" export --db "$db" "$work/$name.tsv" ||
    { echo "FAIL: making shard $name"; fails=$((fails + 1)); }
}
m_line() { # m_line <fp> <config> <median_ns> <measured_us>
  printf 'M\t%s\tgrouped_gemm\tgrouped_gemm:M=64\tcpu\t%s\tok\t\t%s\t%s\t%s\t5\t0\t%s' \
    "$1" "$2" "$3" "$3" "$3" "$4"
}
best_of() { # best_of <file> <fp>: "config median" of that fingerprint's B line
  awk -F'\t' -v fp="$2" '$1 == "B" && $2 == fp { print $6, $7 }' "$1"
}
shard a "$(m_line cpu:A b=1 1000 10)" "$(m_line cpu:A b=2 2000 10)"
shard b "$(m_line cpu:B b=1 3000 20)" "$(m_line cpu:B b=2 500 20)"
expect 0 "merged 4 measurements from 2 files" "$bin" merge --out "$work/ab.tsv" "$work/a.tsv" "$work/b.tsv"
grep -q conflict "$work/out" && { echo "FAIL: two fingerprints reported as a conflict"; fails=$((fails + 1)); }
# cpu:B's b=2 (500 ns) is the fastest of all, but cpu:A keeps its own b=1.
[ "$(best_of "$work/ab.tsv" cpu:A)" = "b=1 1000" ] && [ "$(best_of "$work/ab.tsv" cpu:B)" = "b=2 500" ] ||
  { echo "FAIL: merge mixed fingerprints: $(grep '^B' "$work/ab.tsv")"; fails=$((fails + 1)); }
rm -f "$work/ab.db"
"$bin" import --db "$work/ab.db" "$work/ab.tsv" >/dev/null 2>&1
expect 0 '"config":"b=1","median_ns":1000' "$bin" show --db "$work/ab.db" --device cpu:A --json
expect 0 '"config":"b=2","median_ns":500' "$bin" show --db "$work/ab.db" --device cpu:B --json

# cpu:A's b=1 again, slower (1500 ns) and newer: the faster, older reading
# stays, whatever the order of the files; b=2 again, faster: it wins.
shard a2 "$(m_line cpu:A b=1 1500 30)" "$(m_line cpu:A b=2 700 30)"
for order in "a a2" "a2 a"; do
  set -- $order
  expect 0 "conflict: grouped_gemm:M=64 measured twice on cpu:A (cpu b=1): 1 us in $work/a.tsv, 1.5 us in $work/a2.tsv; kept $work/a.tsv" \
    "$bin" merge --out "$work/aa.tsv" "$work/$1.tsv" "$work/$2.tsv"
  grep -q "2 conflicts, see above" "$work/out" || { echo "FAIL: $order: no conflict count"; fails=$((fails + 1)); }
  grep -q "conflict: grouped_gemm:M=64 measured twice on cpu:A (cpu b=2): 0.7 us in $work/a2.tsv, 2 us in $work/a.tsv; kept $work/a2.tsv" "$work/out" ||
    { echo "FAIL: $order: b=2 conflict not reported"; cat "$work/out"; fails=$((fails + 1)); }
  [ "$(best_of "$work/aa.tsv" cpu:A)" = "b=2 700" ] &&
    awk -F'\t' '$1 == "M" && $6 == "b=1" { exit !($9 == 1000) }' "$work/aa.tsv" ||
    { echo "FAIL: $order: conflict kept the wrong reading"; grep '^[MB]' "$work/aa.tsv"; fails=$((fails + 1)); }
done
# The same file twice (or a merged file beside its inputs) is no conflict.
expect 0 "merged 8 measurements from 3 files" "$bin" merge --out "$work/same.tsv" "$work/a.tsv" "$work/a.tsv" "$work/ab.tsv"
grep -q conflict "$work/out" && { echo "FAIL: identical readings reported as a conflict"; fails=$((fails + 1)); }
# import reports conflicts the same way.
rm -f "$work/aa.db"
expect 0 "import: conflict: grouped_gemm:M=64 measured twice on cpu:A (cpu b=1)" "$bin" import --db "$work/aa.db" "$work/a2.tsv" "$work/a.tsv"

# A newer format: refused with a clear message; merge writes no file,
# import leaves the cache as it was.
sed '1s/.*/tokamax-cache\t3/' "$work/b.tsv" >"$work/v3.tsv"
rm -f "$work/never.tsv"
expect 1 "merge: cache: $work/v3.tsv:1: export format version 3 is newer than this library's 2 (written by a newer tokamax" \
  "$bin" merge --out "$work/never.tsv" "$work/a.tsv" "$work/v3.tsv"
ls "$work"/never.tsv* >/dev/null 2>&1 && { echo "FAIL: merge of a newer format wrote a file"; fails=$((fails + 1)); }
before=$(cksum <"$work/ab.db")
expect 1 "import: cache: $work/v3.tsv:1: export format version 3 is newer" "$bin" import --db "$work/ab.db" "$work/a2.tsv" "$work/v3.tsv"
[ "$(cksum <"$work/ab.db")" = "$before" ] || { echo "FAIL: a refused import changed the cache"; fails=$((fails + 1)); }

echo "$fails failed"
[ "$fails" -eq 0 ]
