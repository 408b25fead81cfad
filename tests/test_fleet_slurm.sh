#!/bin/bash
# test_fleet_slurm: the SLURM recipe of docs/autotune.md ("Fleets") on a
# real one-node cluster (scripts/fleet/local_cluster.sh: munged, slurmctld
# and slurmd under a temporary directory, torn down at the end even on
# failure). scripts/fleet/submit.sh sweeps the quick suite as an array of 4
# shards with a small --budget and a dependent merge job; one shard is
# cancelled mid-sweep (scancel) and rerun (resubmit.sh). Then: the merged
# database holds every problem of the suite exactly once, each with the
# choice of best median among the shards' measurements; every measurement of
# the shards is in it once; the cancelled shard kept its rows and its rerun
# reused them (none measured twice). Exits 77 (skipped) when SLURM and munge
# are not installed and cannot be (root and apt-get), or the daemons do not
# start; with TK_FLEET_REQUIRED=1 (.ci/run, which installs them) that is a
# failure instead. Label "fleet": .ci/run runs it as its own stage. Every
# wait is bounded (TK_FLEET_TIMEOUT, 400 s in all) to stay inside ctest's
# 600 s; a watchdog stops the cluster should the test be killed outright.
set -u
src=$1 bin=$2
tune=$bin/tokamax-tune
fleet=$src/scripts/fleet
shards=4
timeout_s=${TK_FLEET_TIMEOUT:-400}

skip() {
  [ "${TK_FLEET_REQUIRED:-0}" = 1 ] && { echo "FAILED (TK_FLEET_REQUIRED=1): $*"; exit 1; }
  echo "SKIPPED: $*"
  exit 77
}
have_tools() {
  for t in munged mungekey slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
    command -v "$t" >/dev/null 2>&1 || return 1
  done
}
if ! have_tools; then
  [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 ||
    skip "slurm-wlm and munge are not installed (apt-get install slurm-wlm munge, as root)"
  echo "installing slurm-wlm and munge (apt-get)"
  DEBIAN_FRONTEND=noninteractive timeout 120 apt-get install -y -q slurm-wlm munge >/dev/null 2>&1 ||
    skip "apt-get install slurm-wlm munge failed (no network or no package)"
  have_tools || skip "slurm-wlm and munge installed, but their tools are missing"
fi
[ "$(id -u)" -eq 0 ] || skip "the local cluster needs root (slurmd)"
start_s=$SECONDS

dir=$(mktemp -d /tmp/tk_fleet_XXXXXX)
cleanup() {
  cd /
  bash "$fleet/local_cluster.sh" stop "$dir"
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cd "$dir"
bash "$fleet/local_cluster.sh" start "$dir/cluster" $$
rc=$?
[ $rc -eq 0 ] || skip "the local SLURM cluster did not start (local_cluster.sh exit $rc)"
. "$dir/cluster/env"

fail=0
check() { if eval "$1"; then :; else echo "FAILED: $2"; fail=1; fi; }
# A job's state (PENDING, RUNNING, COMPLETED, CANCELLED, ...) from scontrol.
job_state() { scontrol show job "$1" -o 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2; }
# Waits until job $1 is in one of the states $2 (a regex); 1 at the deadline.
wait_state() {
  while [ $((SECONDS - start_s)) -lt "$timeout_s" ]; do
    [[ $(job_state "$1") =~ ^($2)$ ]] && return 0
    sleep 0.2
  done
  echo "timed out after ${timeout_s} s waiting for job $1 to be $2 (it is $(job_state "$1"))"
  squeue
  return 1
}
. "$src/tests/fleet_check.sh"
rows() { "$tune" show --db "$1" --device all --measurements --json 2>/dev/null | grep -c '"result"'; }

run=$dir/run
out=$(bash "$fleet/submit.sh" --dir "$run" --suite quick --shards $shards --budget 1 \
  --db "$dir/target.db" --tune "$tune" -- --cpus-per-task 1 2>&1)
check "[ $? -eq 0 ]" "submit.sh: $out"
array=$(echo "$out" | awk '$1 == "array" {print $2}')
echo "submitted: $out"

# Cancel shard 2 mid-sweep: once it runs and has stored a measurement.
victim=2
vdb=$run/shard-$victim-of-$shards.db
wait_state "${array}_$victim" RUNNING || fail=1
while [ $fail -eq 0 ] && [ "$(job_state "${array}_$victim")" = RUNNING ] &&
      [ "$(rows "$vdb")" -lt 1 ]; do sleep 0.1; done
scancel "${array}_$victim"
wait_state "${array}_$victim" 'CANCELLED|COMPLETED|FAILED' || fail=1
check "[ \"$(job_state "${array}_$victim")\" = CANCELLED ]" \
  "shard $victim was cancelled mid-sweep ($(job_state "${array}_$victim"))"
check "[ ! -e '$run/shard-$victim-of-$shards.tsv' ]" "the cancelled shard wrote no export"
"$tune" export --db "$vdb" "$dir/before.tsv" 2>/dev/null
before=$(fleet_m_rows "$dir/before.tsv" | wc -l)
echo "shard $victim cancelled with $before measurements stored"
check "[ $before -ge 1 ]" "the cancelled shard kept its measurements ($before)"

out=$(bash "$fleet/resubmit.sh" "$run" $victim 2>&1)
check "[ $? -eq 0 ]" "resubmit.sh: $out"
echo "resubmitted: $out"
. "$run/fleet.env"
wait_state "$TK_MERGE_JOB" 'COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY' || fail=1
check "[ \"$(job_state "$TK_MERGE_JOB")\" = COMPLETED ]" \
  "merge job $TK_MERGE_JOB: $(job_state "$TK_MERGE_JOB"): $(cat "$run"/logs/merge-job-*.out 2>/dev/null)"
echo "all jobs done after $((SECONDS - start_s)) s"

exports=()
for ((i = 0; i < shards; i++)); do exports+=("$run/shard-$i-of-$shards.tsv"); done
check "ls ${exports[*]} >/dev/null" "every shard exported"

# The rerun resumed: every row stored before the cancel is there unchanged
# (same time, same median: not measured again), and it says it reused them.
fleet_m_rows "$dir/before.tsv" > "$dir/before.rows"
fleet_m_rows "${exports[$victim]}" > "$dir/after.rows"
check "[ -z \"\$(LC_ALL=C comm -23 '$dir/before.rows' '$dir/after.rows')\" ]" \
  "the rerun kept the $before stored measurements unchanged"
cached=$(grep -o '"cached":[0-9]*' "$run/shard-$victim-of-$shards.json" | awk -F: '{s+=$2} END {print s+0}')
check "[ $cached -eq $before ]" "the rerun reused the $before stored measurements (cached $cached)"
check "[ $(wc -l < "$dir/after.rows") -eq $(rows "$vdb") ]" "the shard's export has each of its rows once"

# The merged database after the merge job $1 (tests/fleet_check.sh).
check_merged() {
  fleet_check_merged "$tune" "$dir" "$dir/target.db" "$src/regress/suites/quick.suite" \
    "(after merge job $1)" "${exports[@]}" || fail=1
}
check_merged "$TK_MERGE_JOB"

# A lost shard: the merge names it and imports nothing (run here, off SLURM).
cp -r "$run" "$dir/lost"
rm "$dir/lost/shard-1-of-$shards.tsv"
sed -i "s|^TK_DB=.*|TK_DB=$dir/lost.db|" "$dir/lost/fleet.env"
out=$(TK_FLEET_DIR=$dir/lost bash "$fleet/merge.sbatch" 2>&1)
check "[ $? -ne 0 ] && echo \"\$out\" | grep -q 'shard(s) 1 of $shards' && [ ! -e '$dir/lost.db' ]" \
  "merge with shard 1's export missing fails, naming it, importing nothing: $out"

# Rerunning a finished shard after the merge ran: resubmit.sh submits a new
# merge job, and the target database takes the new measurements.
merge1=$TK_MERGE_JOB
out=$(bash "$fleet/resubmit.sh" "$run" 0 2>&1)
check "[ $? -eq 0 ]" "resubmit.sh after the merge: $out"
. "$run/fleet.env"
check "[ '$TK_MERGE_JOB' != '$merge1' ]" "resubmit.sh after the merge submitted a new merge job: $out"
wait_state "$TK_MERGE_JOB" 'COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY' || fail=1
check "[ \"$(job_state "$TK_MERGE_JOB")\" = COMPLETED ]" "second merge job $TK_MERGE_JOB: $(job_state "$TK_MERGE_JOB")"
check_merged "$TK_MERGE_JOB"

echo "test_fleet_slurm: $((SECONDS - start_s)) s"
exit $fail
