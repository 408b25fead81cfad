#!/usr/bin/env bash
# prepare_carry.sh [--out DIR] [--build DIR] [--jobs N]: the CPU-side half
# of the one-call GPU run (docs/gpu.md), on a development machine (Debian 12
# with the CUDA toolkit and libsqlite3-dev, libdlpack-dev, libbenchmark-dev).
# Fills DIR (default .carry/, ignored by git; the device tool carries it):
#   include/                 dlpack/, sqlite3.h, benchmark/ (for the fallback
#                            build on the GPU machine)
#   lib/<triplet>/           libsqlite3.so*, libbenchmark.so*, a relocatable
#                            sqlite3.pc, benchmark's CMake package
#   gpu-bin.tar.xz           bin/: test_cuda_impls, test_impls, test_cpu_gemm,
#                            tokamax-bench, tokamax-tune built here for
#                            90a-real only (no hwloc, libcpuid, OpenBLAS or
#                            oneDNN: the GPU machine has none of them), no
#                            RPATH (scripts/gpu/run.sh sets the library path),
#                            and bin/MANIFEST (commit, toolkit, sizes)
# then checks it as the GPU machine will use it: every binary's libraries
# resolve from lib/ and the CUDA toolkit's own (libcublas), the binaries
# start (--help; test_cuda_impls runs its host checks), and the carried
# tree plus the working tree stays under the device tool's 64 MiB.
# tests/test_gpu_carry.sh runs all of it in CI. Exit 0 when every step passed.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=$root/.carry
build=$root/build-gpu-carry
jobs=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    *) echo "usage: $0 [--out DIR] [--build DIR] [--jobs N]" >&2; exit 2 ;;
  esac
done
triplet=x86_64-linux-gnu
lib=/usr/lib/$triplet
limit_mib=64
targets="test_cuda_impls test_impls test_cpu_gemm tokamax-bench tokamax-tune"
export PATH=$PATH:/usr/local/cuda/bin

need() {
  if [ ! -e "$1" ]; then
    echo "prepare_carry: $1 is missing (install $2)" >&2
    exit 1
  fi
}
need /usr/include/dlpack/dlpack.h libdlpack-dev
need /usr/include/sqlite3.h libsqlite3-dev
need "$lib/pkgconfig/sqlite3.pc" libsqlite3-dev
need /usr/include/benchmark/benchmark.h libbenchmark-dev
command -v nvcc >/dev/null || { echo "prepare_carry: no nvcc (the CUDA toolkit)" >&2; exit 1; }

echo "== headers and libraries the GPU machine lacks -> $out"
rm -rf "$out"
mkdir -p "$out/include" "$out/lib/$triplet/pkgconfig" "$out/lib/$triplet/cmake"
cp -a /usr/include/dlpack /usr/include/sqlite3.h /usr/include/sqlite3ext.h /usr/include/benchmark "$out/include/"
cp -a "$lib"/libsqlite3.so* "$lib"/libbenchmark.so* "$lib/libbenchmark_main.a" "$out/lib/$triplet/"
sed 's|^prefix=.*|prefix=${pcfiledir}/../../..|' "$lib/pkgconfig/sqlite3.pc" >"$out/lib/$triplet/pkgconfig/sqlite3.pc"
cp -a "$lib/cmake/benchmark" "$out/lib/$triplet/cmake/"

echo "== build for 90a-real: $targets -> $build"
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTK_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a-real \
  -DTK_WITH_HWLOC=OFF -DTK_WITH_LIBCPUID=OFF -DTK_BUILD_EXAMPLES=OFF -DTK_BENCH_BASELINES=OFF \
  -DCMAKE_SKIP_RPATH=ON >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
# shellcheck disable=SC2086
cmake --build "$build" -j"$jobs" --target $targets

echo "== pack"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin"
for t in $targets; do
  f=$(find "$build" -name "$t" -type f -perm -u+x | head -1)
  [ -n "$f" ] || { echo "prepare_carry: $t was not built" >&2; exit 1; }
  cp "$f" "$stage/bin/"
  strip --strip-unneeded "$stage/bin/$t"
done
{
  echo "commit $(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "built $(date -u +%FT%TZ) on $(uname -n)"
  echo "nvcc $(nvcc --version | tail -1)"
  echo "CUDA architectures 90a-real"
  (cd "$stage/bin" && ls -l $targets | awk '{print "size", $NF, $5}')
} >"$stage/bin/MANIFEST"
# one 64 MiB window: the five binaries share one library's machine code
tar -C "$stage" -cf - bin | xz -T"$jobs" --lzma2=preset=6,dict=64MiB >"$out/gpu-bin.tar.xz"

echo "== check: libraries resolve from the carry and the CUDA toolkit"
mkdir -p "$stage/unpacked"
tar -C "$stage/unpacked" -xJf "$out/gpu-bin.tar.xz"
cuda_lib=$(dirname "$(readlink -f "$(command -v nvcc)")")/../lib64
export LD_LIBRARY_PATH=$out/lib/$triplet:$cuda_lib
fail=0
for t in $targets; do
  missing=$(ldd "$stage/unpacked/bin/$t" | grep "not found" || true)
  if [ -n "$missing" ]; then
    echo "prepare_carry: $t: $missing" >&2
    fail=1
  fi
  # what beyond libc, libstdc++ and the CUDA toolkit's libraries it needs
  ldd "$stage/unpacked/bin/$t" | awk -v t="$t" '$3 ~ /^\// && $1 !~ /^(libc|libm|libgcc_s|libstdc\+\+|libpthread|libdl|librt|ld-linux|libcublas|libcublasLt)\./ {printf "  %s: %s\n", t, $1}'
done

echo "== check: the binaries start"
bin=$stage/unpacked/bin
for t in tokamax-tune tokamax-bench test_cuda_impls; do
  if ! "$bin/$t" --help >/dev/null 2>&1; then
    echo "prepare_carry: $t --help failed" >&2
    fail=1
  fi
done
rc=0
TOKAMAX_CACHE=:memory: TOKAMAX_SUITE_DIR=$root/regress/suites "$bin/test_cuda_impls" --suite impls \
  --match no-such-case >"$stage/run.log" 2>&1 || rc=$?
case $rc in
  0 | 77) echo "  test_cuda_impls: exit $rc ($(tail -1 "$stage/run.log"))" ;;
  *) echo "prepare_carry: test_cuda_impls exit $rc: $(tail -3 "$stage/run.log")" >&2; fail=1 ;;
esac

echo "== check: size"
carried=$(du -sb "$out" | cut -f1)
tree=$(git -C "$root" ls-files -z | (cd "$root" && xargs -0 du -cb 2>/dev/null) | tail -1 | cut -f1)
raw=$(du -sb "$bin" | cut -f1)
awk -v c="$carried" -v r="$raw" -v t="$tree" -v l="$limit_mib" 'BEGIN {
  printf "  carry %.1f MiB (binaries %.1f MiB unpacked), tracked tree %.1f MiB, limit %d MiB\n",
         c / 1048576, r / 1048576, t / 1048576, l }'
if [ $((carried + tree)) -ge $((limit_mib * 1048576 * 15 / 16)) ]; then
  echo "prepare_carry: carry + tree is within 1/16 of the ${limit_mib} MiB the device tool takes" >&2
  fail=1
fi
[ $fail -eq 0 ] && echo "prepare_carry: ready ($out)"
exit $fail
