#!/usr/bin/env bash
# test_gpu_carry.sh SOURCE_DIR BUILD_DIR: the CPU-side half of the one-call
# GPU run (docs/gpu.md), so it cannot rot: scripts/gpu/prepare_carry.sh
# builds the five binaries for 90a-real in BUILD_DIR/gpu-carry-build, packs
# them with the libraries into BUILD_DIR/gpu-carry, and checks that their
# libraries resolve, that they start and that the carry fits the device
# tool; then scripts/gpu/run.sh's setup and start stages unpack that carry
# and start the binaries exactly as the GPU machine will (with no GPU here,
# test_cuda_impls stops after its host checks). Needs no GPU. Skips (77) in
# a build without CUDA (the ASan build) or without Google Benchmark.
# Cost: one CUDA compile of every kernel for one architecture (about 3
# minutes on 2 cores).
set -uo pipefail
src=$1
build=$2
if ! grep -q '^CMAKE_CUDA_COMPILER:' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "skipped: $build is not a CUDA build"
  exit 77
fi
if [ ! -e /usr/include/benchmark/benchmark.h ]; then
  echo "skipped: no Google Benchmark headers (libbenchmark-dev)"
  exit 77
fi
carry=$build/gpu-carry
fail=0
t0=$(date +%s)
if ! bash "$src/scripts/gpu/prepare_carry.sh" --out "$carry" --build "$build/gpu-carry-build" \
  --jobs "$(nproc)" >"$build/gpu-carry.log" 2>&1; then
  echo "FAILED: prepare_carry.sh"
  fail=1
fi
grep -v '^\[\|Building\|Linking\|Built target' "$build/gpu-carry.log" | tail -25
echo "prepare_carry.sh took $(( $(date +%s) - t0 ))s"
for f in gpu-bin.tar.xz include/dlpack/dlpack.h include/sqlite3.h lib/x86_64-linux-gnu/pkgconfig/sqlite3.pc; do
  [ -e "$carry/$f" ] || { echo "FAILED: the carry lacks $f"; fail=1; }
done

out=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$out" "$work"' EXIT
OUT=$out TK_GPU_CARRY=$carry TK_GPU_WORK=$work bash "$src/scripts/gpu/run.sh" setup start >"$out/run.txt" 2>&1
grep -q "carried binaries start" "$out/host.log" || { echo "FAILED: run.sh did not start the carried binaries"; fail=1; }
grep -q "^commit " "$out/host.log" || { echo "FAILED: no MANIFEST in the unpacked carry"; fail=1; }
for t in test_cuda_impls test_impls test_cpu_gemm tokamax-bench tokamax-tune; do
  [ -x "$work/bin/$t" ] || { echo "FAILED: run.sh unpacked no $t"; fail=1; }
done
[ "$(ls "$out" | wc -l)" -le 8 ] || { echo "FAILED: more than 8 files in OUT: $(ls "$out")"; fail=1; }
sed -n '/^commit /,/^size tokamax-tune/p' "$out/host.log"
[ $fail -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail
