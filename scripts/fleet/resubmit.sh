#!/usr/bin/env bash
# resubmit.sh: reruns shards of a sweep submitted by submit.sh (a task that
# failed, was cancelled or lost its node), and makes the merge wait for them.
#
#   resubmit.sh DIR SHARD...
#
# The shards run again as one array (same settings, from DIR/fleet.env) and
# resume from their databases: candidates already measured are not rerun.
# A merge job still pending is held, given the new jobs as dependencies and
# released; one that already ran (it fails when a shard is missing) is
# replaced by a new merge job. Prints "array ID merge ID" and records both
# in DIR/fleet.env.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { sed -n '5p' "$0" | sed 's/^# *//' >&2; exit 2; }
dir=$(cd "$1" && pwd) && shift
. "$dir/fleet.env"
list=
for s in "$@"; do
  [[ $s =~ ^[0-9]+$ ]] && [ "$s" -lt "$TK_SHARDS" ] ||
    { echo "resubmit.sh: '$s' is not a shard of 0..$((TK_SHARDS - 1))" >&2; exit 2; }
  list+=${list:+,}$s
done
job_id() { local l; l=$(cat); echo "${l%%;*}"; }
common=(--parsable --chdir "$dir" --export "ALL,TK_FLEET_DIR=$dir")
held=0
scontrol hold "$TK_MERGE_JOB" 2>/dev/null && held=1
array=$(sbatch "${common[@]}" --array "$list" --output "$dir/logs/shard-%a-job-%A_%a.out" \
  "${TK_SBATCH_ARGS[@]}" "$here/sweep_shard.sbatch" | job_id)
jobs=$TK_SHARD_JOBS:$array
merge=$TK_MERGE_JOB
if [ $held -eq 1 ] && scontrol update "JobId=$merge" "Dependency=afterany:$jobs"; then
  scontrol release "$merge"
else
  [ $held -eq 1 ] && scancel "$merge"
  merge=$(sbatch "${common[@]}" --dependency "afterany:$jobs" --output "$dir/logs/merge-job-%j.out" \
    "$here/merge.sbatch" | job_id)
fi
printf 'TK_SHARD_JOBS=%q\nTK_MERGE_JOB=%q\n' "$jobs" "$merge" >> "$dir/fleet.env"
echo "array $array merge $merge"
