/* attention_backward_cpu.h: the cpu attention backward, FlashAttention-2
 * style: P recomputed from lse, Drow = rowsum(dout * out), dV and dK
 * accumulated per key block with the query heads of a kv head sharing the
 * K/V block, dQ accumulated per split of the keys into float32 partials
 * summed in a fixed order; tasks over (batch, kv head, split), no atomics.
 * See docs/cpu-attention.md. */
#ifndef TK_CPU_ATTENTION_BACKWARD_CPU_H
#define TK_CPU_ATTENTION_BACKWARD_CPU_H

#include <stddef.h>

#include "kernels/problem.h"
#include "runtime/thread_pool.h"

/* How a call runs. */
typedef struct {
  int isa;      /* 256: AVX2+FMA+F16C; 512: AVX-512 (bf16 products with vdpbf16ps where present) */
  int block_q;  /* rows (positions x query heads of a group) per block */
  int block_kv; /* keys per block */
  int kv_split; /* parts the keys of each (batch, kv head) are split into, each its own task */
} tk_cpu_attn_bwd_config;

/* The largest head dims the cpu backward takes. */
#define TK_CPU_ATTN_BWD_MAX_D 512

/* Host workspace bytes for p under c: the float32 dQ partials of every
 * split. */
size_t tk_cpu_attention_backward_workspace(const tk_attention_backward_problem *p,
                                           const tk_cpu_attn_bwd_config *c);

/* The gradients as the reference defines them (every forward semantic,
 * any strides, dq/dk/dv in q's dtype or float32), float32 accumulation.
 * The bits depend on the config, never on the thread count or timing. ws:
 * the workspace above. TK_ERR_OUT_OF_MEMORY when per-thread scratch
 * cannot be allocated (nothing written). */
tk_status tk_cpu_attention_backward(const tk_attention_backward_problem *p,
                                    const tk_cpu_attn_bwd_config *c, tk_pool *pool, void *ws);

#endif
