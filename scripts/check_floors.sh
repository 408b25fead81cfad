#!/usr/bin/env bash
# check_floors.sh [ROOT]: the one-way floors of docs/architecture.md.
#
# Every C/C++/CUDA source under ROOT (default: this checkout) may include,
# by path from the root ("runtime/status.h") or the public "tokamax.h",
# only headers of its own folder or of a folder on a lower floor. Fails,
# naming file and line, on an include that goes up a floor, on a relative
# include ("../x.h", or a bare name of the file's own folder: one style
# everywhere), on an include of a missing header, and on a source in a
# folder the floor list below does not name. Tests, the docs' example
# programs and the Python package sit above every floor and are not checked.
set -euo pipefail

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

# Top to bottom. Keep in step with docs/architecture.md.
floors="tools bench regress api autotune impls impls/cublas impls/cuda impls/cpu impls/reference kernels cache runtime/cuda runtime include"
# Above the floors: may include anything, not checked.
free="tests docs python scripts cmake"

sources=$(find . \( -name .git -o -name 'build*' -o -name .carry -o -name .whl -o -name 'gpu-out' \) -prune -o \
  -type f \( -name '*.c' -o -name '*.h' -o -name '*.cc' -o -name '*.cu' -o -name '*.cuh' \) -print |
  sed 's#^\./##' | sort)

# "file<TAB>line<TAB>included path" for every quoted include.
includes=$(for f in $sources; do
  awk -v f="$f" '/^[ \t]*#[ \t]*include[ \t]*"/ {
    p = $0; sub(/^[^"]*"/, "", p); sub(/".*$/, "", p); printf "%s\t%d\t%s\n", f, NR, p }' "$f"
done)

# Headers that exist, for the existence check.
headers=$(printf '%s\n' $sources | grep -E '\.(h|cuh)$' || true)

printf '%s\n' "$includes" | awk -F'\t' -v floors="$floors" -v free="$free" -v headers="$headers" -v sources="$sources" '
BEGIN {
  n = split(floors, fl, " "); for (i = 1; i <= n; i++) rank[fl[i]] = i
  m = split(free, fr, " "); for (i = 1; i <= m; i++) exempt[fr[i]] = 1
  k = split(headers, hs, "\n"); for (i = 1; i <= k; i++) have[hs[i]] = 1
  s = split(sources, ss, "\n")
  for (i = 1; i <= s; i++) {
    if (ss[i] == "") continue
    d = dirof(ss[i])
    if (!is_free(d) && !(d in rank)) { printf "%s: folder %s is on no floor (scripts/check_floors.sh, docs/architecture.md)\n", ss[i], d; bad++ }
  }
}
function dirof(p,   d) { d = p; if (sub(/\/[^\/]*$/, "", d) == 0) return "."; return d }
function top(d,   t) { t = d; sub(/\/.*$/, "", t); return t }
function is_free(d) { return (top(d) in exempt) }
$1 == "" { next }
{
  file = $1; line = $2; inc = $3; d = dirof(file)
  if (is_free(d)) next
  if (inc == "tokamax.h") next
  if (inc ~ /^\.\.?\// || index(inc, "/") == 0) {
    printf "%s:%s: include \"%s\" is relative; write it from the root (\"%s/...\")\n", file, line, inc, d; bad++; next
  }
  if (!(inc in have)) { printf "%s:%s: include \"%s\": no such header\n", file, line, inc; bad++; next }
  t = dirof(inc)
  if (t == d) next
  if (!(t in rank)) { printf "%s:%s: include \"%s\": folder %s is on no floor\n", file, line, inc, t; bad++; next }
  if (rank[t] < rank[d]) {
    printf "%s:%s: %s includes \"%s\" from %s, a floor above it (floors, top to bottom: %s)\n", file, line, d, inc, t, floors; bad++
  }
}
END {
  if (bad) { printf "check_floors: %d violation(s)\n", bad; exit 1 }
  print "check_floors: every include goes down a floor or stays in its folder"
}'
