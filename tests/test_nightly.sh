#!/bin/bash
# test_nightly: scripts/nightly.sh end to end on a tiny suite with a
# temporary history: the first night says there is no baseline (exit 1,
# the run stored); --set-baseline passes; an unchanged night passes; a
# deliberately slowed implementation (TOKAMAX_TEST_FAULT=IMPL:slow:4) exits
# 1 with SLOWER in its report; every night has its folder (report.md with
# charts, gate.json, gate.log) and the history keeps every run; a second
# run while one holds the lock exits 75; bad options exit 2. The systemd
# units of scripts/nightly pass `systemd-analyze verify` (where it exists)
# and their ExecStart is a valid nightly.sh command line.
set -u
src=$1 bin=$2
tune=$bin/tokamax-tune
nightly=$src/scripts/nightly.sh
dir=$(mktemp -d /tmp/tk_nightly_XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail=0
check() { if eval "$1"; then :; else echo "FAILED: $2"; fail=1; fi; }

cat > "$dir/tiny.suite" <<'SUITE'
grouped_gemm dtype=f32 out=f32 layout=nn M=128 K=128 N=128 G=4 sizes=random
moe_permute dtype=bf16 T=128 H=512 k=2 E=8 align=16
SUITE
impl=$("$tune" check --suite "$dir/tiny.suite" --json 2>/dev/null | grep '"result":"pass"' | grep -o '"impl":"[a-z_]*"' | grep -v reference | head -1 | cut -d'"' -f4)
[ -n "$impl" ] || impl=reference
# As in test_gate: one thread and a wide band, so it holds on a busy machine.
night() {
  PATH=$bin:$PATH bash "$nightly" --suite "$dir/tiny.suite" --history "$dir/state/history.db" \
    --out "$dir/nights" "$@" -- --impl "$impl" --reps 15 --band 0.5 --threads 1 --quiet
}
nights() { find "$dir/nights" -mindepth 1 -maxdepth 1 -type d | wc -l; }

out=$(night 2>&1)
check "[ $? -eq 1 ] && echo \"\$out\" | grep -q 'NO BASELINE'" "the first night has no baseline: $out"
out=$(night --set-baseline 2>&1)
check "[ $? -eq 0 ] && echo \"\$out\" | grep -q 'PASS'" "the baseline night passes: $out"
latest=$dir/nights/latest
check "[ -s '$latest/report.md' ] && [ -s '$latest/gate.json' ] && [ -s '$latest/gate.log' ]" \
  "the night wrote report.md, gate.json and gate.log"
check "[ \$(ls '$latest'/case*.svg | wc -l) -eq 2 ] && grep -q 'case000.svg' '$latest/report.md'" \
  "one chart per case, linked from the report"
out=$(night 2>&1)
check "[ $? -eq 0 ] && echo \"\$out\" | grep -q 'PASS'" "an unchanged night passes: $out"
out=$(TOKAMAX_TEST_FAULT="$impl:slow:4" night 2>&1)
check "[ $? -eq 1 ] && echo \"\$out\" | grep -q 'REGRESSION'" "a 4x slower $impl fails the night: $out"
check "grep -q SLOWER '$latest/report.md' && grep -q '\"verdict\":\"SLOWER\"' '$latest/gate.json'" \
  "the report and JSON say SLOWER"
check "[ $(nights) -eq 4 ]" "one folder per night ($(nights))"
check "grep -q '^Run 4,' '$latest/report.md' && grep -q 'baseline run 2' '$latest/report.md'" \
  "the history kept every run, the baseline is the second: $(grep '^Run' "$latest/report.md")"
check "[ \$(grep -o '<polyline[^>]*points=\"[^\"]*\"' '$latest/case000.svg' | grep -o ',' | wc -l) -eq 4 ]" \
  "the chart plots the history's 4 performance runs"

# One run at a time: the lock held here, nightly.sh exits 75, writes nothing.
exec 8>>"$dir/state/history.db.nightly.lock"
flock -n 8
out=$(night 2>&1)
check "[ $? -eq 75 ] && echo \"\$out\" | grep -q 'another nightly run' && [ $(nights) -eq 4 ]" \
  "a second run while one holds the lock: $out"
exec 8>&-

out=$(bash "$nightly" --bogus 2>&1)
check "[ $? -eq 2 ] && echo \"\$out\" | grep -q 'unknown option --bogus'" "bad option: $out"
out=$(bash "$nightly" --tune "$dir/none" 2>&1)
check "[ $? -eq 2 ] && echo \"\$out\" | grep -q 'no tokamax-tune'" "missing tokamax-tune: $out"

# The systemd service's command line, pointed at this tree: a valid call.
unit=$src/scripts/nightly
exec_start=$(sed -n 's/^ExecStart=//p' "$unit/tokamax-nightly.service")
check "echo '$exec_start' | grep -q '^/opt/tokamax-c/scripts/nightly.sh '" "ExecStart runs nightly.sh: $exec_start"
args=${exec_start#/opt/tokamax-c/scripts/nightly.sh }
out=$(bash "$nightly" $args --tune "$tune" --dry-run 2>&1)
check "[ $? -eq 0 ] && echo \"\$out\" | grep -q 'gate --suite nightly --db /var/lib/tokamax/history.db'" \
  "ExecStart's options are nightly.sh's: $out"
if command -v systemd-analyze >/dev/null 2>&1; then
  mkdir "$dir/units"
  sed "s|/opt/tokamax-c/scripts/nightly.sh|$nightly|" "$unit/tokamax-nightly.service" > "$dir/units/tokamax-nightly.service"
  cp "$unit/tokamax-nightly.timer" "$dir/units/"
  out=$(systemd-analyze verify "$dir/units/tokamax-nightly.timer" "$dir/units/tokamax-nightly.service" 2>&1)
  check "[ $? -eq 0 ]" "systemd-analyze verify: $out"
else
  echo "systemd-analyze not installed: the units' syntax is not verified"
fi
exit $fail
