#!/usr/bin/env bash
# test_bench_smoke.sh <source dir> <binary dir>: tokamax-bench runs a tiny
# suite end to end (ceilings, baselines, every implementation, the
# dispatch-overhead rows) with a tiny min-time, writes Google Benchmark JSON
# holding the expected rows, and prints the tables; bad options fail with
# a message. Not a timed test: nothing here depends on how fast anything is.
set -u
bin="$2/bench/tokamax-bench"
[ -x "$bin" ] || { echo "no tokamax-bench built (TK_WITH_BENCHMARK off or no Google Benchmark); skipping"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# oneDNN 2.x runs bf16 matmuls only on CPUs with AVX-512 (avx512_core);
# elsewhere its row must say so instead of running.
if grep -qw avx512bw /proc/cpuinfo; then
  onednn_bf16=1 onednn_pattern='x onednn'
else
  onednn_bf16=0 onednn_pattern='oneDNN implements no matmul of this dtype on this CPU'
fi

cat >"$work/tiny.suite" <<'EOF'
# tiny: one case per op, plus both baseline dtypes of grouped GEMM
grouped_gemm dtype=f32 out=f32 layout=nt M=48 K=32 N=24 G=3 sizes=random
grouped_gemm dtype=bf16 out=same layout=tn M=40 K=16 N=24 G=4 empty=1
attention dtype=bf16 B=1 Tq=16 Tk=16 Hq=2 Hkv=1 D=32 causal=1
moe_permute dtype=bf16 T=16 H=64 k=2 E=4
moe_unpermute dtype=f32 T=16 H=64 k=2 E=4
paged_attention dtype=bf16 Hq=4 Hkv=2 D=32 page=16 decode=2 prefill=0 kvmax=40
EOF

"$bin" --suite "$work/tiny.suite" --check --min-time 0.001 --repetitions 2 --json "$work/out.json" \
  >"$work/out.txt" 2>&1
rc=$?
[ "$rc" = 0 ] || { fail "tokamax-bench exited $rc"; tail -30 "$work/out.txt"; }
[ -s "$work/out.json" ] || fail "no JSON written"

# Google Benchmark's JSON: its context, and every expected row by run_name.
grep -q '"context"' "$work/out.json" || fail "JSON lacks the context"
expect_run() { # run names carry Google Benchmark's /manual_time or /real_time suffix
  grep -qF "\"run_name\": \"$1/" "$work/out.json" || fail "JSON lacks run $1"
}
for c in cpu_fma_f32 cpu_dot_bf16 cpu_copy cpu_read; do expect_run "ceiling/$c"; done
while read -r op rest; do
  case "$op" in ''|'#'*) continue ;; esac
  spec="$op $rest"
  expect_run "$spec/reference"
  case "$spec" in
    *"grouped_gemm dtype=f32"*) expect_run "$spec/openblas" ;;
    *"grouped_gemm dtype=bf16"*) [ "$onednn_bf16" = 1 ] && expect_run "$spec/onednn" ;;
  esac
done <"$work/tiny.suite"
# the dispatch-overhead rows (bench/dispatch_row.c): both kinds for both problems
for spec in "moe_unpermute dtype=f32 T=1 H=8 k=1 E=1" \
  "grouped_gemm dtype=f32 out=f32 layout=nn M=16 K=16 N=16 G=1"; do
  expect_run "dispatch/$spec/call"
  expect_run "dispatch/$spec/execute"
  line=$(grep -F "| $spec |" "$work/out.txt")
  case "$line" in
    *skipped*|'') fail "dispatch row of $spec missing or skipped: $line" ;;
    *' 1000 ns |') ;;
    *) fail "dispatch row of $spec lacks the target: $line" ;;
  esac
done
# repetitions and their median aggregate are there
grep -q '"aggregate_name": "median"' "$work/out.json" || fail "JSON lacks median aggregates"
grep -q '"FLOP/s"' "$work/out.json" || fail "JSON lacks the FLOP/s counter"
grep -q '"bytes/s"' "$work/out.json" || fail "JSON lacks the bytes/s counter"

# The tables: the ceilings and a row per op, with a speed-up against the baseline.
for pattern in '| ceiling/cpu_fma_f32 |' '| ceiling/cpu_read |' '% read |' '| dispatch on a cache hit |' '| grouped_gemm | dtype=f32' \
  '| attention |' '| moe_permute |' \
  '| moe_unpermute |' '| paged_attention |' '1.00x reference' 'x openblas' \
  "$onednn_pattern"; do
  grep -qF -- "$pattern" "$work/out.txt" || fail "table lacks '$pattern'"
done
# --check ran the baselines and the reference on poisoned outputs and found them right
# (the layouts nt and tn above exercise the baselines' transposes).
bad=$(grep -E '\| (openblas|onednn|reference) \|' "$work/out.txt" | grep 'skipped' | grep -v 'was not found when' |
  { [ "$onednn_bf16" = 1 ] && cat || grep -v 'implements no matmul of this dtype on this CPU'; } || true)
[ -z "$bad" ] || fail "a baseline or the reference was skipped: $bad"
# Baselines that are missing say why instead of disappearing.
if grep -q 'OpenBLAS: not found' "$work/out.txt"; then
  grep -q 'skipped: OpenBLAS was not found' "$work/out.txt" || fail "missing OpenBLAS not explained"
fi

# --impl and --op filter the rows.
"$bin" --suite "$work/tiny.suite" --op moe_permute --impl reference --min-time 0.001 --repetitions 1 \
  --json "$work/one.json" >"$work/one.txt" 2>&1 || fail "filtered run failed"
n=$(grep -c '"run_name": "moe_permute' "$work/one.json")
[ "$n" -ge 1 ] || fail "filtered run lacks the permute row"
grep -q '"run_name": "grouped_gemm' "$work/one.json" && fail "--op did not filter grouped_gemm"
grep -q '"run_name": "dispatch/' "$work/one.json" && fail "--op did not filter the dispatch rows"

# Bad input: a clear message and exit code 2.
"$bin" --bogus >"$work/bad.txt" 2>&1
[ $? = 2 ] && grep -q "not an option" "$work/bad.txt" || fail "--bogus not rejected"
"$bin" --repetitions zero >"$work/bad.txt" 2>&1
[ $? = 2 ] && grep -q "expected a" "$work/bad.txt" || fail "--repetitions zero not rejected"
"$bin" --op attention,bogus >"$work/bad.txt" 2>&1
[ $? = 2 ] && grep -q "'bogus' is not an op" "$work/bad.txt" || fail "--op bogus not rejected"
"$bin" --impl reference,bogus >"$work/bad.txt" 2>&1
[ $? = 2 ] && grep -q "'bogus' is not an implementation" "$work/bad.txt" || fail "--impl bogus not rejected"
"$bin" --suite "$work/none.suite" >"$work/bad.txt" 2>&1
[ $? != 0 ] && grep -q "none.suite" "$work/bad.txt" || fail "missing suite not reported"

if [ "$fails" -gt 0 ]; then
  echo "$fails failure(s); output of the main run:"
  tail -40 "$work/out.txt"
  exit 1
fi
echo "tokamax-bench smoke test passed"
