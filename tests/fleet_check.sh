# fleet_check.sh: sourced by the fleet tests (test_fleet_slurm.sh,
# test_fleet_k8s.sh): checks of a sharded sweep's merged database.

# The M lines of exports as "fp op key impl config<TAB>status median
# measured_us", sorted: one line per stored measurement.
fleet_m_rows() {
  awk -F'\t' '$1 == "M" {print $2 " " $3 " " $4 " " $5 " " $6 "\t" $7 " " $9 " " $14}' "$@" |
    LC_ALL=C sort
}

# fleet_check_merged TUNE SCRATCH DB SUITE TAG EXPORT...: DB (the database
# the merge imported into) holds every measurement of the shards' EXPORTs
# once, no candidate was measured by two shards, the shards (their sweep
# JSON beside each export, X.json for X.tsv) swept every problem of the
# SUITE file once, and DB has one choice per problem: the ok measurement
# of least median among the shards' (ties: the smaller impl, then config,
# as the cache breaks them). Prints "FAILED: ... TAG" for each miss; 1 if
# any. SCRATCH is a directory for its files.
fleet_check_merged() {
  local tune=$1 tmp=$2 db=$3 suite=$4 tag=$5 rc=0
  shift 5
  local exports=("$@") jsons=() f
  for f in "${exports[@]}"; do jsons+=("${f%.tsv}.json"); done
  fc_fail() { echo "FAILED: $* $tag"; rc=1; }
  "$tune" export --db "$db" "$tmp/target.tsv" || fc_fail "export of the merged database"
  fleet_m_rows "${exports[@]}" > "$tmp/shards.rows"
  fleet_m_rows "$tmp/target.tsv" > "$tmp/target.rows"
  [ -z "$(cut -f1 "$tmp/shards.rows" | uniq -d)" ] || fc_fail "a candidate was measured by two shards"
  cmp -s "$tmp/shards.rows" "$tmp/target.rows" ||
    fc_fail "the merged database does not hold every shard measurement once" \
      "($(wc -l < "$tmp/target.rows") rows, the shards $(wc -l < "$tmp/shards.rows"))"
  local problems keys best expect got shown
  problems=$(grep -cvE '^[[:space:]]*(#|$)' "$suite")
  keys=$(cat "${jsons[@]}" | grep -o '"key":"[^"]*"' | LC_ALL=C sort -u | wc -l)
  [ "$keys" -eq "$problems" ] ||
    fc_fail "the shards swept $keys problem keys, the suite has $problems problems"
  best=$(awk -F'\t' '$1 == "B"' "$tmp/target.tsv" | wc -l)
  [ "$best" -eq "$problems" ] || fc_fail "the merged database has $best choices for $problems problems"
  [ -z "$(awk -F'\t' '$1 == "B" {print $2, $3, $4}' "$tmp/target.tsv" | LC_ALL=C sort | uniq -d)" ] ||
    fc_fail "a problem has two choices"
  expect=$(awk -F'\t' '$1 == "M" && $7 == "ok" {
      k = $2 "\t" $3 "\t" $4; m = $9 + 0
      if (!(k in bm) || m < bm[k] || (m == bm[k] && ($5 < bi[k] || ($5 == bi[k] && $6 < bc[k])))) {
        bm[k] = m; bi[k] = $5; bc[k] = $6; bs[k] = $9
      }
    } END { for (k in bm) print k "\t" bi[k] "\t" bc[k] "\t" bs[k] }' "${exports[@]}" | LC_ALL=C sort)
  got=$(awk -F'\t' '$1 == "B" {print $2 "\t" $3 "\t" $4 "\t" $5 "\t" $6 "\t" $7}' "$tmp/target.tsv" |
    LC_ALL=C sort)
  [ "$expect" = "$got" ] || fc_fail "a choice is not the best median of the shards' measurements:
$(diff <(echo "$expect") <(echo "$got"))"
  shown=$("$tune" show --db "$db" --device all --json | grep -c '"impl"')
  [ "$shown" -eq "$problems" ] || fc_fail "tokamax-tune show lists $shown choices, not $problems"
  return $rc
}
