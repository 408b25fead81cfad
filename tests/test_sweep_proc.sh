#!/bin/bash
# test_sweep_proc: tokamax-tune sweep across processes: two sweeps writing
# one database at once keep every measurement of both; a sweep killed with
# SIGKILL leaves a database that opens cleanly, and a rerun measures only
# what was missing; a wrong implementation (test fault knob) is recorded as
# wrong and never chosen; bad arguments fail with a message and exit 2.
set -u
src=$1 bin=$2
tune=$bin/tokamax-tune
dir=$(mktemp -d /tmp/tk_sweep_proc_XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail=0
check() { if eval "$1"; then :; else echo "FAILED: $2"; fail=1; fi; }
sum_field() { grep -o "\"$1\":[0-9]*" | awk -F: '{s+=$2} END {print s+0}'; }
rows() { "$tune" show --db "$1" --device all --measurements --json | grep -c '"result"'; }

cat > "$dir/suite" <<'SUITE'
grouped_gemm dtype=f32 out=f32 layout=nn M=96 K=64 N=64 G=4 sizes=random
grouped_gemm dtype=bf16 out=same layout=nn M=128 K=64 N=64 G=4 sizes=zipf
moe_permute dtype=bf16 T=64 H=256 k=2 E=8 align=16
moe_unpermute dtype=bf16 T=64 H=256 k=2 E=8 align=16
attention dtype=f32 B=1 Tq=32 Tk=48 Hq=4 Hkv=2 D=32 causal=1
paged_attention dtype=bf16 Hq=4 Hkv=2 D=32 page=16 decode=3 prefill=0 kvmax=100
SUITE

# Two sweeps at once into one file (the two shards of the suite).
db=$dir/both.db
"$tune" sweep --suite "$dir/suite" --db "$db" --shard 0/2 --json --quiet > "$dir/a.json" &
pa=$!
"$tune" sweep --suite "$dir/suite" --db "$db" --shard 1/2 --json --quiet > "$dir/b.json" &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
check "[ $ra -eq 0 ] && [ $rb -eq 0 ]" "concurrent sweeps exit 0 ($ra, $rb)"
total=$(( $(sum_field candidates < "$dir/a.json") + $(sum_field candidates < "$dir/b.json") ))
check "[ $total -gt 12 ]" "the suite has candidates ($total)"
check "[ $(rows "$db") -eq $total ]" "every measurement of both sweeps is stored ($(rows "$db") of $total)"

# SIGKILL mid-sweep, then a rerun finishes only what was missing.
db=$dir/killed.db
"$tune" sweep --suite "$dir/suite" --db "$db" --quiet > /dev/null 2>&1 &
pk=$!
for _ in $(seq 1 400); do
  n=$("$tune" show --db "$db" --device all --measurements --json 2>/dev/null | grep -c '"result"')
  [ "${n:-0}" -ge 3 ] && break
  sleep 0.02
done
kill -9 $pk 2>/dev/null
wait $pk 2>/dev/null || true
before=$(rows "$db")
check "[ $? -eq 0 ] && [ $before -ge 1 ]" "killed database opens and kept its rows ($before)"
"$tune" sweep --suite "$dir/suite" --db "$db" --json --quiet > "$dir/resume.json"
check "[ $? -eq 0 ]" "resumed sweep exits 0"
cached=$(sum_field cached < "$dir/resume.json")
measured=$(sum_field measured < "$dir/resume.json")
check "[ $cached -eq $before ]" "the rerun reused the $before stored measurements (cached $cached)"
check "[ $((cached + measured)) -eq $total ] && [ $(rows "$db") -eq $total ]" \
  "the rerun measured only what was missing ($cached + $measured of $total)"

# A wrong implementation is recorded as wrong and not chosen.
impl=$("$tune" show --db "$db" --device all --json | grep -o '"impl":"[a-z_]*"' | grep -v reference | head -1 | cut -d'"' -f4)
if [ -n "$impl" ]; then
  db=$dir/fault.db
  TOKAMAX_TEST_FAULT="$impl:wrong" "$tune" sweep --problem "grouped_gemm dtype=f32 M=96 K=64 N=64 G=4" \
    --db "$db" --json --quiet > "$dir/fault.json"
  check "[ $(sum_field wrong < "$dir/fault.json") -ge 1 ]" "faulty $impl recorded as wrong"
  check "grep -q '\"impl\":\"reference\"' '$dir/fault.json'" "a correct impl is chosen instead of faulty $impl"
  check "$tune show --db '$db' --device all --measurements | grep -q ' wrong '" "show lists the wrong rows"
fi

# Bad arguments: a message and exit 2, nothing written.
for args in "--budget -1" "--oracle nope" "--device gpu" "--device cuda:-1" "--shard 2/2" "--shard x" "--op warp" "--suite /nonexistent.suite" \
            "--problem 'attention D=0'" "--suite small --problem 'moe_permute'"; do
  out=$(eval "$tune sweep --db '$dir/bad.db' $args" 2>&1)
  rc=$?
  check "[ $rc -eq 2 ] && [ -n \"\$out\" ]" "sweep $args: exit $rc: $out"
done
check "[ ! -e '$dir/bad.db' ]" "bad arguments wrote no database"
out=$("$tune" sweep --db "$dir/bad.db" --problem "grouped_gemm dtype=f32 M=8 K=8 N=8 G=1" --impl nope 2>&1)
check "[ $? -eq 2 ] && echo \"\$out\" | grep -q nope" "unknown impl named: $out"
check "[ ! -e '$dir/bad.db' ]" "bad arguments wrote no database"

# Another host implementation as the oracle: the sweep checks against it.
out=$("$tune" sweep --db "$dir/oracle.db" --problem "attention dtype=bf16 B=1 Tq=48 Tk=64 Hq=4 Hkv=2 D=64" \
  --oracle cpu --json --quiet)
check "[ $? -eq 0 ] && [ $(echo "$out" | sum_field wrong) -eq 0 ] && [ $(echo "$out" | sum_field measured) -gt 2 ]" \
  "sweep --oracle cpu: $out"

# --device cuda: without a usable CUDA device a clear error (exit 2 in a
# build without CUDA, 1 with no device) and nothing written; with one, the
# sweep chooses a CUDA implementation for every problem.
gpus=$("$tune" device --json | grep -o '"device_count":[0-9]*' | head -1 | cut -d: -f2)
out=$("$tune" sweep --db "$dir/cuda.db" --device cuda --suite "$dir/suite" --budget 2 --json --quiet 2> "$dir/cuda.err")
rc=$?
if [ "${gpus:-0}" -eq 0 ]; then
  check "[ $rc -ne 0 ] && grep -q CUDA '$dir/cuda.err'" "sweep --device cuda without a device: exit $rc: $(cat "$dir/cuda.err")"
  check "[ ! -e '$dir/cuda.db' ]" "sweep --device cuda without a device wrote no database"
  out=$("$tune" show --db "$db" --device cuda 2>&1)
  check "[ $? -eq 1 ] && echo \"\$out\" | grep -q 'CUDA device'" "show --device cuda without a device: $out"
else
  check "[ $rc -eq 0 ]" "sweep --device cuda exits 0 ($rc: $(cat "$dir/cuda.err"))"
  check "! echo \"\$out\" | grep -o '\"impl\":\"[a-z_]*\"' | grep -qv -e cuda -e cublas" \
    "every CUDA problem chose a CUDA implementation"
  check "[ \$(\"$tune\" show --db '$dir/cuda.db' --device cuda --json | grep -c '\"impl\"') -ge 1 ]" \
    "show --device cuda lists the GPU's choices"
fi
exit $fail
