#!/usr/bin/env bash
# scripts/gpu/run.sh [STAGE...]: the GPU machine's half of the one-call run
# (docs/gpu.md has the plan and the time budget of each stage). It runs the
# binaries scripts/gpu/prepare_carry.sh built here for 90a-real and packed
# into .carry/gpu-bin.tar.xz (building them on the machine only when those
# do not start there), every stage under `timeout` within one overall
# budget (TK_GPU_BUDGET seconds, default 470), writing as it goes into $OUT
# (default ./gpu-out), at most 8 files (TK_GPU_CARRY: another carry folder;
# TK_GPU_WORK: where the binaries unpack, default /tmp/tk-gpu):
#   summary.txt            one line per stage, written before it starts
#                          (RUNNING) and rewritten when it ends (exit, time;
#                          on a timeout the last "begin" line of its log)
#   host.log               machine, GPU, clocks before and after each stage,
#                          CPU model, library paths, the fallback build, AMX
#   correct_tiled.log      test_cuda_impls, every CUDA impl but cuda_pipelined
#   correct_pipelined.log  test_cuda_impls, cuda_pipelined and the automatic choice
#   memcheck.log           compute-sanitizer memcheck, one small case per op
#                          (scripts/gpu/memcheck.suite) x every CUDA impl
#   bench.log              tokamax-bench, GPU implementations and cuBLAS only
#   bench_attention.json   its Google Benchmark JSON of the attention shapes
#   sdpa.log               PyTorch SDPA on the same shapes, ratio per shape
# Stages (default: the first-light set, in this order):
#   setup start correct_tiled correct_pipelined memcheck bench sdpa amx
# Optional stages (name them; each is its own call, $OUT is emptied between):
#   kernels  scripts/gpu/check_kernels.sh on the carried binary -> kernels.txt
#   sweep    tokamax-tune sweep --device cuda of the cuda suite  -> sweep.log
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=${OUT:-$root/gpu-out}
carry=${TK_GPU_CARRY:-$root/.carry}
triplet=x86_64-linux-gnu
work=${TK_GPU_WORK:-/tmp/tk-gpu}
budget=${TK_GPU_BUDGET:-470}
start_s=$(date +%s)
jobs=$(nproc)
export PATH=$PATH:/usr/local/cuda/bin
export PYTHONUNBUFFERED=1 TOKAMAX_CACHE=:memory: TOKAMAX_SUITE_DIR=$root/regress/suites
mkdir -p "$out" "$work"
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(setup start correct_tiled correct_pipelined memcheck bench sdpa amx)
bin=$work/bin
host=$out/host.log
summary=$out/summary.txt

# Seconds of the overall budget left.
left() { echo $((budget - ($(date +%s) - start_s))); }

# Appends the GPU's clocks, power and use to host.log under a heading.
clocks() {
  {
    echo "== clocks: $1 ($(date -u +%FT%TZ))"
    nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,clocks.max.sm,clocks.max.mem,temperature.gpu,power.draw,utilization.gpu --format=csv,noheader 2>&1 ||
      echo "nvidia-smi failed"
  } >>"$host"
}

# Cuts a log to under the 16 MiB the device tool brings back.
cap() { [ -f "$1" ] && [ "$(stat -c %s "$1")" -gt 15728640 ] && truncate -s 15M "$1" && echo "[cut at 15 MiB]" >>"$1"; }

# stage NAME BUDGET LOG CMD...: runs CMD under timeout (its budget, or what
# is left of the overall one less `reserve` seconds for the stages after
# it), output to LOG; keeps summary.txt's line for NAME up to date.
reserve=0
stage() {
  local name=$1 want=$2 log=$3
  shift 3
  local t
  t=$(( $(left) - reserve ))
  [ "$t" -gt "$want" ] && t=$want
  if [ "$t" -lt 5 ]; then
    printf '%-18s skipped: %ss of the budget left\n' "$name" "$(left)" >>"$summary"
    return 0
  fi
  local line
  line=$(printf '%-18s budget %4ss  started %s  RUNNING' "$name" "$t" "$(date -u +%T)")
  echo "$line" >>"$summary"
  echo "$line"
  clocks "before $name"
  local t0 rc
  t0=$(date +%s)
  timeout --kill-after=10 "$t" "$@" >>"$log" 2>&1
  rc=$?
  cap "$log"
  clocks "after $name"
  local result
  case $rc in
    124 | 137) result="TIMEOUT after ${t}s; last: $(grep '^begin ' "$log" | tail -1 | cut -c1-200)" ;;
    *) result="exit $rc in $(( $(date +%s) - t0 ))s" ;;
  esac
  local done_line=${line/RUNNING/$result}
  # the stage's line is the last RUNNING one of summary.txt
  awk -v old="$line" -v new="$done_line" '$0 == old && !done {print new; done = 1; next} {print}' \
    "$summary" >"$summary.tmp" && mv "$summary.tmp" "$summary"
  echo "$done_line"
  return 0
}

# The folder holding libcublas.so.13 on this machine, or nothing.
find_cublas() {
  local d
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
    [ -e "$d/libcublas.so.13" ] && { echo "$d"; return; }
  done
  d=$(ldconfig -p 2>/dev/null | awk '/libcublas\.so\.13 / {print $NF; exit}')
  [ -n "$d" ] && { dirname "$d"; return; }
  d=$(python3 -c 'import nvidia, os; print(os.path.dirname(list(nvidia.__path__)[0]))' 2>/dev/null)
  [ -n "$d" ] && d=$(find "$d" -name libcublas.so.13 2>/dev/null | head -1)
  [ -n "$d" ] && dirname "$d"
}

setup_stage() {
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >>"$host"
  {
    echo "== machine ($(date -u +%FT%TZ))"
    uname -a
    grep -m1 'model name' /proc/cpuinfo
    echo "cores: $(nproc); memory: $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
    grep -q amx_bf16 /proc/cpuinfo && echo "cpu flags: amx_bf16 present" || echo "cpu flags: no amx_bf16"
    nvidia-smi 2>&1 | head -15
    nvcc --version 2>&1 | tail -2
    command -v compute-sanitizer cuobjdump python3
    python3 -c 'import torch; print("torch", torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))' 2>&1
  } >>"$host"
  rm -rf "$bin"
  if [ -f "$carry/gpu-bin.tar.xz" ]; then
    tar -C "$work" -xJf "$carry/gpu-bin.tar.xz" 2>>"$host" ||
      python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
        "$carry/gpu-bin.tar.xz" "$work" 2>>"$host"
    cat "$bin/MANIFEST" >>"$host" 2>&1
  else
    echo "no $carry/gpu-bin.tar.xz: run scripts/gpu/prepare_carry.sh and carry .carry" >>"$host"
  fi
}

# 0 when every carried binary starts here.
binaries_start() {
  local t
  for t in tokamax-tune tokamax-bench test_cuda_impls; do
    "$bin/$t" --help >/dev/null 2>>"$host" || { echo "$t does not start here" >>"$host"; return 1; }
  done
  "$bin/tokamax-tune" device >>"$host" 2>&1
}

start_stage() {
  if [ -x "$bin/tokamax-tune" ] && binaries_start; then
    echo "carried binaries start" >>"$host"
    return 0
  fi
  reserve=200
  stage build_here 240 "$host" bash "$root/scripts/gpu/build_here.sh" "$work/build" "$bin"
  binaries_start
}

# The AMX path of the CPU grouped GEMM, where the host CPU has AMX-BF16.
amx_stage() {
  local model
  model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
  if ! grep -q amx_bf16 /proc/cpuinfo; then
    printf '%-18s skipped: no amx_bf16 in /proc/cpuinfo (%s)\n' amx "$model" >>"$summary"
    return 0
  fi
  echo "== AMX stage on $model" >>"$host"
  stage amx 45 "$host" env TOKAMAX_AMX=1 bash -c "'$bin/test_cpu_gemm' && '$bin/test_impls'"
}

sdpa_stage() {
  stage sdpa 45 "$out/sdpa.log" python3 "$root/scripts/gpu/sdpa_bench.py" \
    --suite "$root/regress/suites/cuda_attention_perf.suite" --ours "$out/bench_attention.json" --budget 35
}

bench_stage() {
  local b=(stdbuf -oL "$bin/tokamax-bench" --repetitions 3 --min-time 0.05 --max-call 5)
  reserve=80
  stage bench_attention 45 "$out/bench.log" "${b[@]}" --suite cuda_attention_perf \
    --impl cuda_pipelined,cuda_tiled --json "$out/bench_attention.json"
  reserve=45
  stage bench_gemm 55 "$out/bench.log" "${b[@]}" --suite "$root/scripts/gpu/first_light.suite" \
    --impl cuda_pipelined,cuda_tiled,cublas
}

cublas=$(find_cublas)
export LD_LIBRARY_PATH=$carry/lib/$triplet${cublas:+:$cublas}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
rc=0
for s in "${stages[@]}"; do
  case "$s" in
    setup) setup_stage ;;
    start) start_stage ;;
    correct_tiled)
      reserve=80
      stage correct_tiled 100 "$out/correct_tiled.log" "$bin/test_cuda_impls" --skip-impl cuda_pipelined,auto ;;
    correct_pipelined)
      reserve=40
      stage correct_pipelined 75 "$out/correct_pipelined.log" "$bin/test_cuda_impls" --impl cuda_pipelined,auto ;;
    memcheck)
      reserve=60
      stage memcheck 70 "$out/memcheck.log" compute-sanitizer --tool memcheck --print-limit 50 \
        --error-exitcode 3 "$bin/test_cuda_impls" --suite "$root/scripts/gpu/memcheck.suite" --max-configs 1 ;;
    bench) bench_stage ;;
    sdpa) reserve=20; sdpa_stage ;;
    amx) reserve=0; amx_stage ;;
    kernels)
      reserve=0
      stage kernels 120 "$out/kernels.txt" bash "$root/scripts/gpu/check_kernels.sh" "$bin/test_cuda_impls" ;;
    sweep)
      reserve=0
      stage sweep 400 "$out/sweep.log" stdbuf -oL "$bin/tokamax-tune" sweep --device cuda --suite cuda \
        --db "$work/tune-gpu.db" ;;
    *) echo "usage: $0 [setup] [start] [correct_tiled] [correct_pipelined] [memcheck] [bench] [sdpa] [amx] [kernels] [sweep]" >&2; exit 2 ;;
  esac
done
grep -q 'TIMEOUT\|exit [1-9]' "$summary" 2>/dev/null && rc=1
echo "== summary ($(( $(date +%s) - start_s ))s of ${budget}s)"
cat "$summary" 2>/dev/null
exit $rc
