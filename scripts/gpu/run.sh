#!/usr/bin/env bash
# scripts/gpu/run.sh: the one script run on the GPU machine (docs/gpu.md).
# It builds the library for sm_90a with the headers and libraries carried
# in .carry/ (scripts/gpu/prepare_carry.sh), records the GPU clocks, runs
# the CUDA correctness harness and the other tests, times the CUDA
# implementations with tokamax-bench, and tunes the GPU suites with
# tokamax-tune sweep --device cuda. Everything lands in $OUT (default
# ./gpu-out); the device tool brings back 8 files a call, so run
# `build test` and `bench sweep` as two calls:
#   clocks.log        nvidia-smi before and after each stage
#   build.log         CMake configure + build
#   sass.txt          per CUDA kernel: HGMMA / HMMA instructions, local-memory use
#   cuda_impls.log    tests/test_cuda_impls (every CUDA impl x config x case)
#   ctest.log         the rest of the ctest suite
#   bench.log         tokamax-bench tables of the GPU suites
#   bench_attention.json  Google Benchmark JSON of the attention suite
#   sweep.log         tokamax-tune sweep --device cuda of the cuda suite (all
#                     configs) and of models_gpu (10 s per problem, --oracle cpu)
#   summary.txt       one line per stage with its exit status
# Usage: scripts/gpu/run.sh [build] [test] [bench] [sweep]   (none: all four)
# Stages can run in separate calls: build-gpu/ stays while the machine does.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=${OUT:-$root/gpu-out}
build=$root/build-gpu
carry=$root/.carry
triplet=x86_64-linux-gnu
jobs=$(nproc)
export PATH=$PATH:/usr/local/cuda/bin
mkdir -p "$out"
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(build test bench sweep)

note() { echo "$(date -u +%H:%M:%S) $*" | tee -a "$out/summary.txt"; }

clocks() {
  {
    echo "== $1 $(date -u +%FT%TZ)"
    nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,clocks.max.sm,clocks.max.mem,temperature.gpu,power.draw,utilization.gpu --format=csv ||
      echo "nvidia-smi failed"
  } >>"$out/clocks.log" 2>&1
}

build_stage() {
  local pc_exe bench=OFF
  pc_exe=$(command -v pkg-config || echo "$root/scripts/gpu/pkg-config")
  [ -f "$carry/lib/$triplet/cmake/benchmark/benchmarkConfig.cmake" ] && bench=ON
  if [ ! -f "$carry/include/dlpack/dlpack.h" ]; then
    note "build: $carry is missing; run scripts/gpu/prepare_carry.sh first and carry .carry"
    return 1
  fi
  local gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  {
    nvcc --version
    PKG_CONFIG_PATH=$carry/lib/$triplet/pkgconfig cmake -S . -B "$build" "${gen[@]}" \
      -DCMAKE_BUILD_TYPE=Release -DTK_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a \
      -DTK_WITH_HWLOC=OFF -DTK_WITH_LIBCPUID=OFF -DTK_BUILD_EXAMPLES=OFF \
      -DDLPACK_INCLUDE_DIR="$carry/include" -DPKG_CONFIG_EXECUTABLE="$pc_exe" \
      -DTK_WITH_BENCHMARK=$bench -Dbenchmark_DIR="$carry/lib/$triplet/cmake/benchmark" &&
      cmake --build "$build" -j"$jobs"
  } >"$out/build.log" 2>&1
}

# Counts, per CUDA kernel of the library, its tensor-core instructions and
# local-memory (spill) accesses, from the SASS.
sass_stage() {
  local lib=$build/libkernels.a
  if ! command -v cuobjdump >/dev/null || [ ! -f "$lib" ]; then
    echo "no cuobjdump or no $lib" >"$out/sass.txt"
    return 0
  fi
  cuobjdump --dump-sass "$lib" 2>&1 | awk '
    /Function : / { name = $3; fns[name] = 1 }
    /HGMMA/ { hgmma[name]++ }
    /HMMA/ { hmma[name]++ }
    /LDL|STL/ { local[name]++ }
    END {
      printf "%-8s %-8s %-8s %s\n", "HGMMA", "HMMA", "LDL/STL", "kernel"
      for (f in fns) printf "%-8d %-8d %-8d %s\n", hgmma[f], hmma[f], local[f], f
    }' | sort -k4 >"$out/sass.txt"
}

test_stage() {
  clocks "before tests"
  (cd "$build" && TOKAMAX_CACHE=:memory: ./tests/test_cuda_impls) >"$out/cuda_impls.log" 2>&1
  local rc=$?
  note "test_cuda_impls: exit $rc"
  ctest --test-dir "$build" -j8 --output-on-failure -E '^test_cuda_impls$' >"$out/ctest.log" 2>&1
  note "ctest (all but test_cuda_impls): exit $? ($(grep -E 'tests passed|tests failed' "$out/ctest.log" | tail -1))"
  clocks "after tests"
  return $rc
}

bench_stage() {
  local exe=$build/bench/tokamax-bench
  if [ ! -x "$exe" ]; then
    echo "tokamax-bench was not built (no Google Benchmark in .carry?)" >"$out/bench.log"
    return 0
  fi
  clocks "before bench"
  {
    echo "== suite cuda_attention_perf"
    "$exe" --suite cuda_attention_perf --impl cuda_pipelined,cuda_tiled --repetitions 5 \
      --json "$out/bench_attention.json"
    echo "exit $?"
    for s in gpu_perf; do
      [ -f "regress/suites/$s.suite" ] || continue
      echo "== suite $s"
      "$exe" --suite "$s" --repetitions 5
      echo "exit $?"
    done
  } >"$out/bench.log" 2>&1
  clocks "after bench"
}

sweep_stage() {
  local tune=$build/tokamax-tune db=$build/tune-gpu.db
  clocks "before sweep"
  {
    echo "== suite cuda, every config"
    "$tune" sweep --device cuda --suite cuda --db "$db"
    echo "exit $?"
    echo "== suite models_gpu, 10 s per problem, checked against the cpu implementation"
    "$tune" sweep --device cuda --suite models_gpu --budget 10 --oracle cpu --db "$db"
    echo "exit $?"
  } >"$out/sweep.log" 2>&1
  note "sweep: $(grep -c '^exit 0' "$out/sweep.log") of 2 suites exit 0"
  clocks "after sweep"
}

rc=0
clocks "start"
for stage in "${stages[@]}"; do
  case "$stage" in
    build)
      build_stage
      r=$?
      note "build: exit $r"
      [ $r -ne 0 ] && exit $r
      sass_stage
      ;;
    test) test_stage || rc=1 ;;
    bench) bench_stage ;;
    sweep) sweep_stage ;;
    *) echo "usage: $0 [build] [test] [bench] [sweep]" >&2; exit 2 ;;
  esac
done
clocks "end"
exit $rc
