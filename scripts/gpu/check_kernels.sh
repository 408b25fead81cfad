#!/usr/bin/env bash
# check_kernels.sh FILE [TABLE]: the resource and instruction check of every
# CUDA kernel in FILE (libkernels.a, libkernels.so or an executable linked
# with it), read from the machine code with cuobjdump (--dump-resource-usage
# and -sass; the latter needs nvdisasm beside it or on PATH). Needs no GPU.
# Writes one line per (arch, kernel) to TABLE (default: stdout) and fails,
# naming arch and kernel, when:
#   - a kernel spills or uses local memory: STACK or LOCAL above 0, or an
#     LDL / STL instruction;
#   - a kernel with setmaxnreg (USETMAXREG) does not balance: its kernels
#     are 1 producer + 2 consumer warpgroups, so the registers it starts
#     with (REG) times 3 must equal the producer's DEALLOC value plus twice
#     the consumers' TRY_ALLOC value; else setmaxnreg.inc waits forever;
#   - an sm_90a pipelined kernel (tk_pipelined_kernel, gg_pipelined_kernel)
#     lacks HGMMA or UTMALDG, or a tensor-core tiled kernel
#     (tk_tiled_attention_kernel, tk_paged_kernel, gg_tiled_kernel of an
#     MmaPolicy, the backward's tk_bwd_dkv_kernel and tk_bwd_dq_kernel)
#     lacks HMMA or LDSM, in any arch;
#   - the sm_90a probe (impls/cuda/sm90a.h) is not marked with
#     TK_SM90A_PROBE_SMEM bytes of static shared memory in sm_90a code and
#     unmarked elsewhere;
#   - a class of kernels above is missing altogether (a parse that found
#     nothing would pass vacuously).
# Exit 0 when every check passes, 1 on a failure, 2 when a tool is missing.
set -uo pipefail

file=${1:?usage: check_kernels.sh FILE [TABLE]}
table=${2:-/dev/stdout}
root=$(cd "$(dirname "$0")/../.." && pwd)
cuobjdump=${CUOBJDUMP:-$(command -v cuobjdump || echo /usr/local/cuda/bin/cuobjdump)}
if [ ! -x "$cuobjdump" ]; then
  echo "check_kernels: no cuobjdump (set CUOBJDUMP, or put it on PATH)" >&2
  exit 2
fi
probe_smem=$(awk '/#define TK_SM90A_PROBE_SMEM/ {print $3}' "$root/impls/cuda/sm90a.h")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! "$cuobjdump" --dump-resource-usage "$file" >"$tmp/res" 2>"$tmp/err"; then
  echo "check_kernels: cuobjdump --dump-resource-usage $file failed: $(head -3 "$tmp/err")" >&2
  exit 2
fi
if ! "$cuobjdump" -sass "$file" >"$tmp/sass" 2>"$tmp/err"; then
  echo "check_kernels: cuobjdump -sass $file failed (nvdisasm missing?): $(head -3 "$tmp/err")" >&2
  exit 2
fi

# "arch kernel REG STACK SHARED LOCAL" per kernel and arch.
awk '/^arch = / {arch = $3}
     /^ Function / {fn = $2; sub(/:$/, "", fn)}
     /^  REG:/ {
       for (i = 1; i <= NF; i++) { split($i, kv, ":"); v[kv[1]] = kv[2] }
       print arch, fn, v["REG"], v["STACK"], v["SHARED"], v["LOCAL"]
     }' "$tmp/res" | sort -u >"$tmp/res.tab"

# "arch kernel HGMMA UTMALDG HMMA LDSM LDL+STL dealloc alloc" per kernel and arch.
awk 'function hex(s,   i, v) {
       s = tolower(s); sub(/^0x/, "", s); v = 0
       for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
       return v
     }
     function flush() {
       if (fn != "") print arch, fn, n["HGMMA"] + 0, n["UTMALDG"] + 0, n["HMMA"] + 0, n["LDSM"] + 0,
                           n["LDL"] + n["STL"], (dealloc == "" ? "-" : dealloc), (alloc == "" ? "-" : alloc)
       delete n; dealloc = ""; alloc = ""; fn = ""
     }
     /^arch = / {flush(); arch = $3}
     /Function : / {flush(); fn = $3}
     /^ +\/\*[0-9a-f]+\*\/ / {
       line = $0
       sub(/^ +\/\*[0-9a-f]+\*\/ +/, "", line)
       sub(/^@!?U?P[0-9T]+ +/, "", line)
       split(line, w, /[ .;]/)
       op = w[1]
       n[op]++
       if (op == "USETMAXREG") {
         val = line; sub(/ *;.*/, "", val); sub(/.* /, "", val)
         if (line ~ /DEALLOC/) dealloc = (dealloc == "" ? "" : dealloc "/") hex(val)
         else alloc = (alloc == "" ? "" : alloc "/") hex(val)
       }
     }
     END {flush()}' "$tmp/sass" | sort -u >"$tmp/sass.tab"

demangle() { if command -v c++filt >/dev/null; then c++filt; else cat; fi; }

join -j1 <(awk '{print $1 "|" $2, $3, $4, $5, $6}' "$tmp/res.tab" | sort -k1,1) \
  <(awk '{print $1 "|" $2, $3, $4, $5, $6, $7, $8, $9}' "$tmp/sass.tab" | sort -k1,1) |
  tr '|' ' ' >"$tmp/all"

{
  printf '%-7s %4s %5s %6s %5s %5s %7s %4s %4s %5s %5s  %s\n' arch REG STACK SHARED LOCAL \
    HGMMA UTMALDG HMMA LDSM LDSTL maxnreg kernel
  while read -r arch fn reg stack shared local hgmma tma hmma ldsm ldstl dealloc alloc; do
    printf '%-7s %4s %5s %6s %5s %5s %7s %4s %4s %5s %5s  %s\n' "$arch" "$reg" "$stack" "$shared" \
      "$local" "$hgmma" "$tma" "$hmma" "$ldsm" "$ldstl" "$dealloc/$alloc" "$(echo "$fn" | demangle)"
  done <"$tmp/all"
} >"$table"

awk -v probe="$probe_smem" '
  function fail(msg) { printf "FAIL %s %s: %s\n", arch, fn, msg; bad++ }
  {
    arch = $1; fn = $2; reg = $3; stack = $4; shared = $5; local = $6
    hgmma = $7; tma = $8; hmma = $9; ldsm = $10; ldstl = $11; dealloc = $12; alloc = $13
    kernels++
    if (stack > 0 || local > 0 || ldstl > 0)
      fail(sprintf("spills or uses local memory (STACK %d, LOCAL %d, %d LDL/STL)", stack, local, ldstl))
    if (dealloc != "-" || alloc != "-") {
      setmaxnreg++
      if (dealloc !~ /^[0-9]+$/ || alloc !~ /^[0-9]+$/)
        fail(sprintf("setmaxnreg values %s / %s: expected one DEALLOC and one TRY_ALLOC", dealloc, alloc))
      else if (reg * 3 != dealloc + 2 * alloc)
        fail(sprintf("setmaxnreg split %d + 2 x %d does not balance %d registers at entry x 3 warpgroups",
                     dealloc, alloc, reg))
    }
    if (fn ~ /19tk_pipelined_kernel|19gg_pipelined_kernel/ && arch == "sm_90a") {
      pipelined++
      if (hgmma == 0 || tma == 0) fail(sprintf("pipelined kernel without HGMMA (%d) or UTMALDG (%d)", hgmma, tma))
    }
    if (fn ~ /25tk_tiled_attention_kernel|15tk_paged_kernel|15gg_tiled_kernelINS_9MmaPolicy|17tk_bwd_dkv_kernel|16tk_bwd_dq_kernel/) {
      tiled[arch]++
      if (hmma == 0 || ldsm == 0) fail(sprintf("tensor-core tiled kernel without HMMA (%d) or LDSM (%d)", hmma, ldsm))
    }
    if (fn ~ /14tk_sm90a_probe/) {
      probes[arch]++
      want = arch == "sm_90a" ? probe : 0
      if (shared % 1024 != want) fail(sprintf("probe marker: static shared %d, expected %d (mod 1024)", shared, want))
    }
  }
  END {
    arch = "-"; fn = "-"
    if (kernels == 0) fail("no kernel found")
    for (a in tiled) archs++
    if (archs == 0) fail("no tensor-core tiled kernel found")
    for (a in probes) if (!(a in tiled)) { arch = a; fail("arch without tiled kernels") }
    if ("sm_90a" in probes && pipelined == 0) { arch = "sm_90a"; fail("no pipelined kernel found") }
    if ("sm_90a" in probes && setmaxnreg == 0) { arch = "sm_90a"; fail("no setmaxnreg kernel found") }
    nprobe = 0
    for (a in probes) nprobe++
    if (nprobe == 0) fail("no sm_90a probe kernel found")
    printf "check_kernels: %d kernels; %d pipelined (sm_90a), %d with setmaxnreg; %d failures\n",
           kernels, pipelined, setmaxnreg, bad
    exit bad > 0
  }' "$tmp/all"
