# cli_expect.sh: sourced by the tokamax-tune tests (test_cli.sh,
# test_cache_cli.sh): a scratch folder $work (removed at exit), a failure
# count $fails, and expect().
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
expect() { # expect <wanted rc> <pattern in output> <command...>
  local want=$1 pattern=$2
  shift 2
  "$@" >"$work/out" 2>&1
  local rc=$?
  if [ "$rc" != "$want" ] || ! grep -q -- "$pattern" "$work/out"; then
    echo "FAIL: $* -> rc $rc (want $want), output lacks '$pattern':"
    head -20 "$work/out"
    fails=$((fails + 1))
  else
    echo "ok: $*"
  fi
}
