#!/usr/bin/env bash
# test_cli.sh <source dir> <binary dir>: tokamax-tune's subcommands, their
# output and exit codes, and its errors on bad input.
set -u
bin="$2/tokamax-tune"
[ -x "$bin" ] || { echo "no tokamax-tune built; skipping"; exit 77; }
export TOKAMAX_CACHE=:memory:
source "$(dirname "$0")/cli_expect.sh"

expect 0 "commands:" "$bin" help
expect 2 "unknown command 'bogus'" "$bin" bogus
expect 2 "usage" "$bin"
expect 0 "physical" "$bin" device
expect 0 '"isa"' "$bin" device --json
expect 2 "unknown option" "$bin" device --bogus

printf '# tiny\n\nattention dtype=f32 B=1 Tq=8 Tk=8 Hq=2 Hkv=1 D=16 causal=1\nmoe_permute dtype=bf16 T=8 H=16 k=2 E=4 align=4\n' >"$work/tiny.suite"
expect 0 "PASS" "$bin" check --suite "$work/tiny.suite" --repeat 1
expect 0 "moe_permute" "$bin" check --suite "$work/tiny.suite" --repeat 1 --op moe_permute
expect 0 '"impl"' "$bin" check --suite "$work/tiny.suite" --repeat 1 --json
expect 2 "unknown suite\|no such\|cannot" "$bin" check --suite "$work/missing.suite"
printf 'attention dtype=f32 B=1 Tq=8\nattention dtype=f99 B=1\n' >"$work/bad.suite"
expect 2 "bad.suite:2" "$bin" check --suite "$work/bad.suite"
expect 2 "op" "$bin" check --suite "$work/tiny.suite" --op matmul
expect 2 "repeat" "$bin" check --suite "$work/tiny.suite" --repeat 0

# --json output is one JSON array: balanced brackets, one object per row.
"$bin" check --suite "$work/tiny.suite" --repeat 1 --json >"$work/json" 2>/dev/null
rows=$(grep -o '"impl"' "$work/json" | wc -l)
[ "$rows" -ge 2 ] || { echo "FAIL: --json gave $rows rows"; fails=$((fails + 1)); }
[ "$(head -c1 "$work/json")" = "[" ] || { echo "FAIL: --json is not an array"; fails=$((fails + 1)); }

echo "$fails failed"
[ "$fails" -eq 0 ]
