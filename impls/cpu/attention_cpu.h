/* attention_cpu.h: the cpu attention (flash-style
 * forward with an online softmax over KV blocks, GQA heads sharing each K/V
 * block, split-KV with a fixed-order merge). See docs/cpu-attention.md. */
#ifndef TK_CPU_ATTENTION_CPU_H
#define TK_CPU_ATTENTION_CPU_H

#include <stddef.h>

#include "kernels/problem.h"
#include "runtime/thread_pool.h"

/* How a call runs. */
typedef struct {
  int isa;      /* 256: AVX2+FMA+F16C; 512: AVX-512 F/BW/VL (+ vdpbf16ps for bf16 where present) */
  int block_q;  /* query rows (positions x heads of one GQA group) per task */
  int block_kv; /* keys per block of the online softmax */
  int mr;       /* row vectors (of 16 or 8 rows) per microkernel tile, 1..4 */
  int kv_split; /* parts each task's keys are split into (merged in order), 1..64 */
} tk_cpu_attn_config;

/* 1 when this CPU (tk_cpu_isa(), capped by TOKAMAX_CPU_ISA) runs isa
 * (256 or 512); else 0 with the reason in why. */
int tk_cpu_attn_isa_ok(int isa, char *why, size_t why_len);

/* Attention as the reference defines it (GQA, varlen, causal bottom-right,
 * windows, softcap, lse, Dv != D, any strides), float32 accumulation. The
 * bits depend on the config, never on the thread count or timing. */
tk_status tk_cpu_attention(const tk_attention_problem *p, const tk_cpu_attn_config *c,
                           tk_pool *pool);

#endif
