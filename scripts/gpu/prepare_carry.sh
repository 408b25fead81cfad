#!/usr/bin/env bash
# prepare_carry.sh: run on a development machine (Debian 12 with
# libsqlite3-dev, libdlpack-dev and libbenchmark-dev installed). Copies into
# .carry/ (ignored by git) what the GPU machine lacks and cannot download,
# laid out as an install prefix that scripts/gpu/run.sh builds against:
#   .carry/include/            dlpack/dlpack.h, sqlite3.h, benchmark/
#   .carry/lib/<triplet>/      libsqlite3.so*, libbenchmark.so*,
#                              pkgconfig/sqlite3.pc (prefix made relative),
#                              cmake/benchmark/ (relocatable as shipped)
# Google Benchmark is optional: without it the GPU build skips tokamax-bench.
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=.carry
triplet=x86_64-linux-gnu
lib=/usr/lib/$triplet

need() {
  if [ ! -e "$1" ]; then
    echo "prepare_carry: $1 is missing (install $2)" >&2
    exit 1
  fi
}
need /usr/include/dlpack/dlpack.h libdlpack-dev
need /usr/include/sqlite3.h libsqlite3-dev
need "$lib/pkgconfig/sqlite3.pc" libsqlite3-dev

rm -rf "$dest"
mkdir -p "$dest/include" "$dest/lib/$triplet/pkgconfig" "$dest/lib/$triplet/cmake"
cp -a /usr/include/dlpack /usr/include/sqlite3.h /usr/include/sqlite3ext.h "$dest/include/"
cp -a "$lib"/libsqlite3.so* "$dest/lib/$triplet/"
sed 's|^prefix=.*|prefix=${pcfiledir}/../../..|' "$lib/pkgconfig/sqlite3.pc" \
  > "$dest/lib/$triplet/pkgconfig/sqlite3.pc"
if [ -e /usr/include/benchmark/benchmark.h ] && [ -d "$lib/cmake/benchmark" ]; then
  cp -a /usr/include/benchmark "$dest/include/"
  cp -a "$lib"/libbenchmark.so* "$lib/libbenchmark_main.a" "$dest/lib/$triplet/"
  cp -a "$lib/cmake/benchmark" "$dest/lib/$triplet/cmake/"
else
  echo "prepare_carry: no Google Benchmark here (libbenchmark-dev); the GPU run will skip tokamax-bench"
fi
du -sh "$dest"
