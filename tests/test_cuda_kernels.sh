#!/usr/bin/env bash
# test_cuda_kernels.sh SOURCE_DIR BUILD_DIR: the machine-code check of every
# CUDA kernel in the built library (scripts/gpu/check_kernels.sh: no spill,
# setmaxnreg splits that balance, HGMMA/UTMALDG in the pipelined kernels and
# HMMA/LDSM in the tiled ones, the sm_90a probe marked), and that the check
# rejects tests/cuda/bad_kernels.cu, each of its kernels for its own reason.
# Needs no GPU. Skips (77) in a build without CUDA, or without cuobjdump and
# nvdisasm (.ci/run fetches both from PyPI).
set -uo pipefail
src=$1
build=$2
lib=$build/libkernels.a
nvcc=$(sed -n 's/^CMAKE_CUDA_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null)
cuobjdump=$(command -v cuobjdump || true)
[ -z "$cuobjdump" ] && [ -n "$nvcc" ] && [ -x "$(dirname "$nvcc")/cuobjdump" ] && cuobjdump=$(dirname "$nvcc")/cuobjdump
if [ -z "$nvcc" ] || [ ! -f "$lib" ]; then
  echo "skipped: $build is not a CUDA build"
  exit 77
fi
if [ -z "$cuobjdump" ] || ! { command -v nvdisasm >/dev/null || [ -x "$(dirname "$cuobjdump")/nvdisasm" ]; }; then
  echo "skipped: no cuobjdump and nvdisasm (PATH, or beside nvcc)"
  exit 77
fi
export CUOBJDUMP=$cuobjdump PATH=$(dirname "$cuobjdump"):$PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

echo "== the library: $lib"
bash "$src/scripts/gpu/check_kernels.sh" "$lib" "$tmp/table.txt"
rc=$?
if [ $rc -ne 0 ]; then
  echo "FAILED: check_kernels.sh exit $rc on the library"
  fail=1
fi
awk 'NR == 1 || /pipelined_kernel|probe/' "$tmp/table.txt" | grep -v sm_80

echo "== the rejects: tests/cuda/bad_kernels.cu"
if ! "$nvcc" -c -gencode=arch=compute_90a,code=sm_90a "$src/tests/cuda/bad_kernels.cu" -o "$tmp/bad.o" 2>"$tmp/nvcc.log"; then
  echo "FAILED: nvcc: $(cat "$tmp/nvcc.log")"
  exit 1
fi
bash "$src/scripts/gpu/check_kernels.sh" "$tmp/bad.o" "$tmp/bad.txt" >"$tmp/bad.log"
rc=$?
cat "$tmp/bad.log"
[ $rc -eq 1 ] || { echo "FAILED: expected exit 1 on the rejects, got $rc"; fail=1; }
for want in "spills: spills or uses local memory" "unbalanced: setmaxnreg split 24 + 2 x 232" \
  "tk_pipelined_kernelPf: pipelined kernel without HGMMA" "tk_sm90a_probePi: probe marker"; do
  grep -q "${want%%:*}.*${want#*: }" "$tmp/bad.log" || { echo "FAILED: no rejection '$want'"; fail=1; }
done
[ $fail -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail
