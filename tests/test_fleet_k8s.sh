#!/bin/bash
# test_fleet_k8s: the Kubernetes manifests of scripts/fleet/k8s without a
# cluster. check_jobs.py validates them against the Job schema fields they
# use (and refuses broken copies: a numeric env value, an unknown field,
# restartPolicy Always, a mount of no volume, TK_SHARDS unlike completions,
# an index never read, unsupported YAML); then the indexed Job's command
# runs here as its 4 pods would (JOB_COMPLETION_INDEX=0..3, at once, a
# small suite and budget, the mount path a temporary directory), the merge
# Job's command after them, and the merged database holds every problem
# once with the best median of the shards' measurements
# (tests/fleet_check.sh). A merge with a shard missing fails naming it.
set -u
src=$1 bin=$2
tune=$bin/tokamax-tune
k8s=$src/scripts/fleet/k8s
check_jobs=(python3 "$k8s/check_jobs.py")
dir=$(mktemp -d /tmp/tk_fleet_k8s_XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail=0
check() { if eval "$1"; then :; else echo "FAILED: $2"; fail=1; fi; }
. "$src/tests/fleet_check.sh"
command -v python3 >/dev/null || { echo "SKIPPED: no python3"; exit 77; }

out=$("${check_jobs[@]}" check "$k8s/sweep-job.yaml" "$k8s/merge-job.yaml" 2>&1)
check "[ $? -eq 0 ]" "the manifests are valid Jobs: $out"
echo "$out"

# Broken copies: each must be refused with its reason.
broken() {  # broken NAME SED-SCRIPT EXPECTED-MESSAGE [FILE]
  local file=${4:-sweep-job.yaml}
  sed "$2" "$k8s/$file" > "$dir/$1.yaml"
  check "! cmp -s '$k8s/$file' '$dir/$1.yaml'" "broken copy $1 differs from $file"
  local msg pair=("$dir/$1.yaml" "$k8s/merge-job.yaml")
  [ "$file" = merge-job.yaml ] && pair=("$k8s/sweep-job.yaml" "$dir/$1.yaml")
  msg=$("${check_jobs[@]}" check "${pair[@]}" 2>&1)
  check "[ $? -eq 1 ] && echo \"\$msg\" | grep -q -- \"$3\"" "check refuses $1 ($3): $msg"
}
broken env_int 's/value: "4"/value: 4/' "must be a string"
broken unknown_field 's/completionMode:/completionsMode:/' "unknown field 'completionsMode'"
broken restart_always 's/restartPolicy: Never/restartPolicy: Always/' "'Always' is not one of"
broken no_volume 's/^            - name: fleet$/            - name: elsewhere/' "which is not a volume"
broken shards_mismatch 's/completions: 4/completions: 3/' "TK_SHARDS is 4, the Indexed Job has 3"
broken no_index 's/i=\$JOB_COMPLETION_INDEX/i=0/' "does not read JOB_COMPLETION_INDEX"
broken no_completions '/^  completions:/d' "needs completions"
broken flow_yaml 's/^  labels:$/  labels: {app: x}/' "unsupported YAML"
broken tab_indent 's/^    app: tokamax-tune$/\t  app: tokamax-tune/' "a tab in the indentation"
broken bad_name 's/name: tokamax-sweep/name: Tokamax_Sweep/' "not a valid name"
broken merge_shards 's/value: "4"/value: "5"/' "TK_SHARDS is 5" merge-job.yaml

# The shards as pods: every index at once, then the merge.
cat > "$dir/suite" <<'SUITE'
grouped_gemm dtype=f32 out=f32 layout=nn M=96 K=64 N=64 G=4 sizes=random
grouped_gemm dtype=bf16 out=same layout=nn M=128 K=64 N=64 G=4 sizes=zipf
moe_permute dtype=bf16 T=64 H=256 k=2 E=8 align=16
moe_unpermute dtype=bf16 T=64 H=256 k=2 E=8 align=16
attention dtype=f32 B=1 Tq=32 Tk=48 Hq=4 Hkv=2 D=32 causal=1
paged_attention dtype=bf16 Hq=4 Hkv=2 D=32 page=16 decode=3 prefill=0 kvmax=100
SUITE
shards=$(grep -A1 'name: TK_SHARDS' "$k8s/sweep-job.yaml" | grep -o '"[0-9]*"' | tr -d '"')
fleet=$dir/fleet
mkdir -p "$fleet"
export PATH=$bin:$PATH
pids=()
for ((i = 0; i < shards; i++)); do
  "${check_jobs[@]}" run "$k8s/sweep-job.yaml" --index $i --set TK_FLEET_DIR="$fleet" \
    --set TK_SUITE="$dir/suite" --set TK_BUDGET=0.5 > "$dir/pod-$i.log" 2>&1 &
  pids+=($!)
done
for ((i = 0; i < shards; i++)); do
  wait "${pids[$i]}"
  check "[ $? -eq 0 ]" "sweep pod $i: $(cat "$dir/pod-$i.log")"
done
exports=()
for ((i = 0; i < shards; i++)); do exports+=("$fleet/shard-$i-of-$shards.tsv"); done
out=$("${check_jobs[@]}" run "$k8s/merge-job.yaml" --set TK_FLEET_DIR="$fleet" --set TK_DB="$dir/tune.db" 2>&1)
check "[ $? -eq 0 ]" "merge pod: $out"
fleet_check_merged "$tune" "$dir" "$dir/tune.db" "$dir/suite" "(k8s merge)" "${exports[@]}" || fail=1

# A lost shard: the merge fails naming it, imports nothing.
rm "${exports[1]}"
out=$("${check_jobs[@]}" run "$k8s/merge-job.yaml" --set TK_FLEET_DIR="$fleet" --set TK_DB="$dir/lost.db" 2>&1)
check "[ $? -ne 0 ] && echo \"\$out\" | grep -q 'shard(s) 1 of $shards' && [ ! -e '$dir/lost.db' ]" \
  "merge with shard 1 missing fails, naming it: $out"
# Bad use of the runner: an index out of range, or none for an Indexed Job.
out=$("${check_jobs[@]}" run "$k8s/sweep-job.yaml" --index $shards 2>&1)
check "[ $? -eq 2 ] && echo \"\$out\" | grep -q 'index must be'" "run --index $shards refused: $out"
out=$("${check_jobs[@]}" run "$k8s/sweep-job.yaml" 2>&1)
check "[ $? -eq 2 ]" "run without --index refused: $out"
exit $fail
