#!/usr/bin/env bash
# run_fuzzers.sh BUILD_DIR [SECONDS] [TOTAL_SECONDS]: runs every libFuzzer
# target of a TK_FUZZ=ON build (BUILD_DIR/tests/fuzz/targets.txt) for
# SECONDS each (default 60), as many at once as there are CPUs, each from
# its seed corpus in tests/fuzz/corpus/<target>/ (read only: what it finds
# goes to a scratch folder), so that all of them together take at most
# TOTAL_SECONDS (default 540; SECONDS is cut to fit). Fails, printing the
# finding and the input libFuzzer saved under BUILD_DIR/fuzz-artifacts/,
# if any target crashes, leaks, times out or breaks its oracle.
set -u
build=${1:?usage: run_fuzzers.sh BUILD_DIR [SECONDS] [TOTAL_SECONDS]}
seconds=${2:-60}
total=${3:-540}
src=$(cd "$(dirname "$0")" && pwd)
list="$build/tests/fuzz/targets.txt"
[ -f "$list" ] || { echo "run_fuzzers: $list missing: configure $build with -DTK_FUZZ=ON"; exit 2; }
mapfile -t targets <"$list"
jobs=$(nproc)
rounds=$(((${#targets[@]} + jobs - 1) / jobs))
[ $((rounds * seconds)) -le "$total" ] || seconds=$((total / rounds))
artifacts="$build/fuzz-artifacts"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$artifacts"
echo "run_fuzzers: ${#targets[@]} targets, ${seconds} s each, $jobs at a time"

run_one() { # run_one TARGET: its libFuzzer run, its log in $scratch/TARGET.log
  local t=$1
  mkdir -p "$scratch/$t"
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "$scratch/$t" "$src/corpus/$t" \
    >"$scratch/$t.log" 2>&1
  local rc=$?
  local runs
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$scratch/$t.log" | grep -o '[0-9]*$')
  if [ $rc -eq 0 ]; then
    echo "ok: $t: ${runs:-?} inputs in ${seconds} s, $(find "$scratch/$t" -type f | wc -l) new in its corpus"
  else
    echo "FINDING: $t (exit $rc):"
    grep -E -A30 'ERROR|runtime error|fuzz oracle|deadly signal|Test unit written' "$scratch/$t.log" | head -60
  fi
  return $rc
}
export -f run_one
export build seconds artifacts scratch src
start=$(date +%s)
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'
rc=$?
echo "run_fuzzers: $(( $(date +%s) - start )) s in all"
[ $rc -eq 0 ] || { echo "run_fuzzers: a target found something (inputs in $artifacts)"; exit 1; }
