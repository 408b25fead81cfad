#!/usr/bin/env bash
# submit.sh: a sharded sweep as SLURM jobs (docs/autotune.md "Fleets").
#
#   submit.sh --dir DIR [--suite NAME|FILE] [--shards N] [--budget S] [--seed K]
#             [--device cpu|cuda[:N]] [--db TARGET] [--tune PATH] [-- SBATCH_OPTION...]
#
# Submits sweep_shard.sbatch as an array of N tasks (0..N-1), each sweeping
# its shard into DIR/shard-i-of-N.db and exporting it, and merge.sbatch
# with --dependency=afterany on the array: it checks every shard's export,
# merges them into DIR/merged.tsv and imports that into TARGET (default:
# the default cache of the user the merge job runs as). afterany, not
# afterok: a lost shard makes the merge fail with a message naming it
# (rerun it with resubmit.sh), where afterok would leave the merge pending
# forever. DIR must be on storage every node sees and where SQLite's
# locking works (the shard databases live there so a rerun on another node
# resumes). The settings go to DIR/fleet.env; the job ids are printed
# ("array ID merge ID") and added to it. SBATCH_OPTIONs go to every shard
# task (e.g. --partition, --gres, --cpus-per-task, --time); the sweep uses
# --cpus-per-task threads and runs its candidates on --device (default cpu).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { sed -n '4,5p' "$0" | sed 's/^# *//' >&2; exit 2; }
dir= suite=quick shards=4 budget= seed=1 device=cpu db= tune=tokamax-tune
while [ $# -gt 0 ]; do
  case $1 in --dir|--suite|--shards|--budget|--seed|--device|--db|--tune)
    [ $# -ge 2 ] || { echo "submit.sh: $1 needs a value" >&2; usage; } ;;
  esac
  case $1 in
    --dir) dir=$2; shift 2 ;;
    --suite) suite=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --db) db=$2; shift 2 ;;
    --tune) tune=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) echo "submit.sh: unknown option $1" >&2; usage ;;
  esac
done
[ -n "$dir" ] || { echo "submit.sh: --dir DIR is required" >&2; usage; }
[[ $shards =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: --shards '$shards' is not a positive integer" >&2; exit 2; }
tune_path=$(command -v "$tune") || { echo "submit.sh: no tokamax-tune at '$tune' (--tune PATH)" >&2; exit 2; }
tune_path=$(cd "$(dirname "$tune_path")" && pwd)/$(basename "$tune_path")
# A suite file given by path is read on the nodes: make it absolute.
[ -f "$suite" ] && suite=$(cd "$(dirname "$suite")" && pwd)/$(basename "$suite")
mkdir -p "$dir/logs"
dir=$(cd "$dir" && pwd)
if [ -n "$db" ]; then
  mkdir -p "$(dirname "$db")"
  db=$(cd "$(dirname "$db")" && pwd)/$(basename "$db")
fi
{
  printf '# written by scripts/fleet/submit.sh on %s\n' "$(date -u +%FT%TZ)"
  printf 'TK_TUNE=%q\nTK_SUITE=%q\nTK_SHARDS=%q\nTK_BUDGET=%q\nTK_SEED=%q\nTK_DEVICE=%q\nTK_DB=%q\n' \
    "$tune_path" "$suite" "$shards" "$budget" "$seed" "$device" "$db"
  printf 'TK_SBATCH_ARGS=('; [ $# -gt 0 ] && printf ' %q' "$@"; printf ' )\n'
} > "$dir/fleet.env"

# The job id of an `sbatch --parsable` line ("ID" or "ID;CLUSTER").
job_id() { local l; l=$(cat); echo "${l%%;*}"; }
common=(--parsable --chdir "$dir" --export "ALL,TK_FLEET_DIR=$dir")
array=$(sbatch "${common[@]}" --array "0-$((shards - 1))" --output "$dir/logs/shard-%a-job-%A_%a.out" \
  "$@" "$here/sweep_shard.sbatch" | job_id)
merge=$(sbatch "${common[@]}" --dependency "afterany:$array" --output "$dir/logs/merge-job-%j.out" \
  "$here/merge.sbatch" | job_id)
printf 'TK_SHARD_JOBS=%q\nTK_MERGE_JOB=%q\n' "$array" "$merge" >> "$dir/fleet.env"
echo "array $array merge $merge"
