#!/usr/bin/env bash
# make_pack.sh [BUILD_DIR] [OUT_DIR]: produces the tuned pack of this
# machine's CPU (docs/autotune.md, "Tuned packs"): a quick-suite sweep into a
# fresh temporary database, then `tokamax-tune export --pack` of this CPU's
# results into OUT_DIR (default data/packs), named after the device class.
# The sweep command is written into the pack's header. BUDGET (seconds per
# problem, default 20) and SEED (default 1) tune the sweep; KEEP_DB=PATH
# keeps its database there (and reuses it: a rerun resumes the sweep).
#
# The lead regenerates the shipped packs with it after merges that change
# the implementations or their config spaces:
#   cmake -S . -B build -DTK_CUDA=OFF && cmake --build build -j2
#   bash scripts/make_pack.sh build data/packs
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
out=${2:-$here/data/packs}
tune=$build/tokamax-tune
budget=${BUDGET:-20}
seed=${SEED:-1}
[ -x "$tune" ] || { echo "make_pack.sh: $tune not found (build first)" >&2; exit 2; }
mkdir -p "$out"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=${KEEP_DB:-$work/sweep.db}

# The packs already shipped must not stand in for measurements.
export TOKAMAX_DEFAULT_PACKS=off TOKAMAX_PACKS=
sweep=(sweep --suite quick --budget "$budget" --seed "$seed" --threads 0 --db "$db" --quiet)
echo "== tokamax-tune ${sweep[*]}" >&2
"$tune" "${sweep[@]}" >"$work/sweep.txt" || {
  cat "$work/sweep.txt" >&2
  echo "make_pack.sh: the sweep failed; no pack written" >&2
  exit 1
}
cat "$work/sweep.txt" >&2

class=$("$tune" device | awk '$1 == "class" { print $2 }')
name=$(printf '%s' "$class" | tr -c 'A-Za-z0-9_.+-' '-').pack
when=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cmd="scripts/make_pack.sh ($when): tokamax-tune sweep --suite quick --budget $budget --seed $seed --threads 0 --db DB; tokamax-tune export --db DB --device this --suite quick --pack $name"
"$tune" export --db "$db" --device this --suite quick --command "$cmd" --pack "$out/$name"
echo "wrote $out/$name" >&2
