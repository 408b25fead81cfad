#!/bin/bash
# test_gate: the regression gate end to end: numerics pass; a deliberately
# wrong implementation (TOKAMAX_TEST_FAULT) fails numerics; five runs of
# unchanged code against a baseline raise no false alarm; a deliberately
# slowed implementation is caught; a missing baseline and a malformed
# suite give a clear message and exit 1 / 2; the report and JSON appear.
set -u
src=$1 bin=$2
tune=$bin/tokamax-tune
dir=$(mktemp -d /tmp/tk_gate_XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail=0
check() { if eval "$1"; then :; else echo "FAILED: $2"; fail=1; fi; }

cat > "$dir/tiny.suite" <<'SUITE'
grouped_gemm dtype=f32 out=f32 layout=nn M=128 K=128 N=128 G=4 sizes=random
moe_permute dtype=bf16 T=128 H=512 k=2 E=8 align=16
attention dtype=f32 B=1 Tq=48 Tk=64 Hq=4 Hkv=2 D=64 causal=1
SUITE
impl=$("$tune" check --suite "$dir/tiny.suite" --json 2>/dev/null | grep '"result":"pass"' | grep -o '"impl":"[a-z_]*"' | grep -v reference | head -1 | cut -d'"' -f4)
[ -n "$impl" ] || impl=reference
# One thread and a wide band: this test must hold on a busy CI machine; a
# 4x slowdown is still far outside the band (it widens with the spread to
# 1.5 at most).
gate() { "$tune" gate --suite "$dir/tiny.suite" --db "$dir/h.db" --quiet --impl "$impl" --reps 15 --band 0.5 --threads 1 "$@"; }

gate --numerics > "$dir/out" 2>&1
check "[ $? -eq 0 ]" "numerics pass: $(cat "$dir/out")"
TOKAMAX_TEST_FAULT="$impl:wrong" gate --numerics > "$dir/out" 2>&1
check "[ $? -eq 1 ] && grep -q WRONG '$dir/out'" "a wrong $impl is caught: $(cat "$dir/out")"

gate > "$dir/out" 2>&1
check "[ $? -eq 1 ] && grep -q 'no baseline' '$dir/out'" "missing baseline: $(cat "$dir/out")"
gate --set-baseline > "$dir/out" 2>&1
check "[ $? -eq 0 ]" "baseline run: $(cat "$dir/out")"
for i in 1 2 3 4 5; do
  gate > "$dir/out$i" 2>&1
  check "[ $? -eq 0 ]" "unchanged run $i raised an alarm: $(cat "$dir/out$i")"
done
TOKAMAX_TEST_FAULT="$impl:slow:4" gate --json "$dir/slow.json" --report "$dir/report" > "$dir/out" 2>&1
check "[ $? -eq 1 ] && grep -q SLOWER '$dir/out'" "a 4x slower $impl is caught: $(cat "$dir/out")"
check "grep -q '\"verdict\":\"SLOWER\"' '$dir/slow.json'" "JSON has the verdict"
check "[ -s '$dir/report/report.md' ] && grep -q '<polyline' '$dir/report/case000.svg'" "report and chart written"
check "[ \$(grep -c '<svg' '$dir/report'/case*.svg | wc -l) -eq 3 ]" "one chart per case"

printf 'grouped_gemm dtype=f32 M=8 K=8 N=8 G=1\nattention wobble=3\n' > "$dir/bad.suite"
out=$("$tune" gate --suite "$dir/bad.suite" --db "$dir/h.db" --quiet 2>&1)
check "[ $? -eq 2 ] && echo \"\$out\" | grep -q 'bad.suite:2'" "malformed suite line named: $out"
out=$("$tune" gate --suite "$dir/tiny.suite" --db "$dir/h.db" --reps 3 2>&1)
check "[ $? -eq 2 ] && echo \"\$out\" | grep -q 'at least 9'" "too few reps: $out"
out=$("$tune" gate --suite "$dir/tiny.suite" --db "$dir/h.db" --baseline-run 999 --quiet 2>&1)
check "[ $? -eq 1 ] && echo \"\$out\" | grep -q 'no gate run 999'" "unknown baseline run: $out"
exit $fail
