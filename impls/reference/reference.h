/* reference.h: the reference implementations: plain C, float64
 * accumulation, any strides; the oracle for every other implementation and
 * the always-available CPU fallback. With a pool they split independent work
 * over its threads; the result is bit-identical with or without one. */
#ifndef TK_IMPLS_REFERENCE_H
#define TK_IMPLS_REFERENCE_H

#include "kernels/problem.h"
#include "runtime/thread_pool.h"

/* Each computes the op for a validated problem with CPU data. pool may be
 * NULL (serial). Returns TK_ERR_OUT_OF_MEMORY, with nothing written, when
 * its scratch cannot be allocated. */
tk_status tk_ref_attention(const tk_attention_problem *p, tk_pool *pool);
tk_status tk_ref_grouped_gemm(const tk_grouped_gemm_problem *p, tk_pool *pool);
tk_status tk_ref_moe_permute(const tk_moe_permute_problem *p, tk_pool *pool);
tk_status tk_ref_moe_unpermute(const tk_moe_unpermute_problem *p, tk_pool *pool);
tk_status tk_ref_paged_attention(const tk_paged_attention_problem *p, tk_pool *pool);
tk_status tk_ref_attention_backward(const tk_attention_backward_problem *p, tk_pool *pool);
tk_status tk_ref_moe_unpermute_backward(const tk_moe_unpermute_backward_problem *p, tk_pool *pool);

#endif
