#!/usr/bin/env bash
# nightly.sh: the regression gate's nightly run as one command
# (docs/gate.md "Nightly"): `tokamax-tune gate` in performance mode on the
# nightly suite against the suite's stored baseline, with the history kept
# in one database between runs and each night's report in its own folder.
#
#   nightly.sh [--suite NAME|FILE] [--history DB] [--out DIR] [--tune PATH]
#              [--set-baseline] [--dry-run] [-- GATE_OPTION...]
#
#   --suite         gate suite (default nightly)
#   --history       the history database, created on the first night and
#                   never deleted (default $TOKAMAX_HISTORY, else
#                   ${XDG_STATE_HOME:-~/.local/state}/tokamax/history.db)
#   --out           where the nights' folders go (default: beside the
#                   history, nightly/); each night writes OUT/STAMP/
#                   report.md (the table, one SVG chart per case of its
#                   history), gate.json and gate.log, and OUT/latest
#                   points at it
#   --tune          the tokamax-tune to run (default: the one on PATH)
#   --set-baseline  make tonight's run the baseline (the first night, or
#                   after an accepted speed-up)
#   --dry-run       print the gate command and exit 0, running nothing
#   GATE_OPTIONs go to `tokamax-tune gate` (--impl, --reps, --band, ...).
#
# Exit status: the gate's: 0 when every item passes, 1 on a regression
# (WRONG, ERROR GREW, SLOWER, FASTER) or when the suite has no baseline
# yet (the run is stored; rerun with --set-baseline), 2 for bad options;
# 75 when another nightly run holds the history's lock (runs never
# overlap: they would take each other's cores).
set -uo pipefail

usage() { sed -n '7,8p' "$0" | sed 's/^# *//' >&2; exit 2; }
suite=nightly history=${TOKAMAX_HISTORY:-${XDG_STATE_HOME:-$HOME/.local/state}/tokamax/history.db}
out= tune=tokamax-tune dry=0 gate_extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --suite|--history|--out|--tune)
      [ $# -ge 2 ] || { echo "nightly.sh: $1 needs a value" >&2; usage; }
      case $1 in --suite) suite=$2 ;; --history) history=$2 ;; --out) out=$2 ;; --tune) tune=$2 ;; esac
      shift 2 ;;
    --set-baseline) gate_extra+=(--set-baseline); shift ;;
    --dry-run) dry=1; shift ;;
    --) shift; gate_extra+=("$@"); break ;;
    -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "nightly.sh: unknown option $1" >&2; usage ;;
  esac
done
command -v "$tune" >/dev/null 2>&1 || { echo "nightly.sh: no tokamax-tune at '$tune' (--tune PATH)" >&2; exit 2; }
[ -n "$out" ] || out=$(dirname "$history")/nightly
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
[ -e "$out/$stamp" ] && stamp=$stamp-$$
night=$out/$stamp
gate=("$tune" gate --suite "$suite" --db "$history" --json "$night/gate.json" --report "$night"
      "${gate_extra[@]}")
if [ $dry -eq 1 ]; then
  printf '%q ' "${gate[@]}"
  echo
  exit 0
fi

mkdir -p "$(dirname "$history")" "$night" || { echo "nightly.sh: cannot create $night" >&2; exit 2; }
exec 9>>"$history.nightly.lock" || { echo "nightly.sh: cannot open $history.nightly.lock" >&2; exit 2; }
if ! flock -n 9; then
  echo "nightly.sh: another nightly run holds $history.nightly.lock" >&2
  rmdir "$night" 2>/dev/null
  exit 75
fi

echo "nightly: $(date -u +%FT%TZ): ${gate[*]}" > "$night/gate.log"
"${gate[@]}" >> "$night/gate.log" 2>&1
rc=$?
ln -sfn "$stamp" "$out/latest"
case $rc in
  0) verdict=PASS ;;
  1) if grep -q 'has no baseline run' "$night/gate.log"; then
       verdict="NO BASELINE (this run is stored: rerun with --set-baseline to make one)"
     else
       verdict="REGRESSION: $(grep -cE ' (WRONG|ERROR GREW|SLOWER|FASTER)' "$night/report.md" 2>/dev/null || echo ?) items failed"
     fi ;;
  *) verdict="ERROR (gate exit $rc)" ;;
esac
echo "nightly: suite $suite: $verdict; report $night/report.md; history $history"
[ $rc -eq 0 ] || tail -n 5 "$night/gate.log" >&2
exit $rc
