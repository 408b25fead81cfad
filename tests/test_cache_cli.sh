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

echo "$fails failed"
[ "$fails" -eq 0 ]
