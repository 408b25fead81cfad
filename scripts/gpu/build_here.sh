#!/usr/bin/env bash
# build_here.sh BUILD_DIR BIN_DIR: scripts/gpu/run.sh's fallback when the
# binaries carried from the development machine do not start on the GPU
# machine: builds the five binaries the run needs there, for 90a-real only,
# against the headers and libraries in .carry/ (prepare_carry.sh), with
# nvcc's --split-compile on every core, and copies them to BIN_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
build=${1:?usage: build_here.sh BUILD_DIR BIN_DIR}
bin=${2:?usage: build_here.sh BUILD_DIR BIN_DIR}
carry=$root/.carry
triplet=x86_64-linux-gnu
pc=$(command -v pkg-config || echo "$root/scripts/gpu/pkg-config")
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
nvcc --version | tail -1
PKG_CONFIG_PATH=$carry/lib/$triplet/pkgconfig cmake -S "$root" -B "$build" "${gen[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DTK_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a-real \
  -DCMAKE_CUDA_FLAGS=--split-compile=0 -DTK_WITH_HWLOC=OFF -DTK_WITH_LIBCPUID=OFF \
  -DTK_BUILD_EXAMPLES=OFF -DTK_BENCH_BASELINES=OFF -DDLPACK_INCLUDE_DIR="$carry/include" \
  -DPKG_CONFIG_EXECUTABLE="$pc" -Dbenchmark_DIR="$carry/lib/$triplet/cmake/benchmark"
cmake --build "$build" -j"$(nproc)" --target test_cuda_impls test_impls test_cpu_gemm tokamax-bench tokamax-tune
mkdir -p "$bin"
cp "$build/tests/test_cuda_impls" "$build/tests/test_impls" "$build/tests/test_cpu_gemm" \
  "$build/bench/tokamax-bench" "$build/tokamax-tune" "$bin/"
