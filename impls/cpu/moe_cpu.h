/* moe_cpu.h: the cpu MoE permute (counting sort by expert with wide row
 * copies) and unpermute (weighted gather-reduce per token), and the
 * per-instruction-set pieces they call. See docs/cpu-moe.md. */
#ifndef TK_CPU_MOE_CPU_H
#define TK_CPU_MOE_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/problem.h"
#include "runtime/thread_pool.h"

/* Vector width the kernels use: 256 = AVX2+FMA+F16C, 512 = AVX-512 F/BW/VL. */
enum { TK_MOE_ISA_AVX2 = 256, TK_MOE_ISA_AVX512 = 512 };

/* How a call runs: instruction set, how many pool tasks the tokens are
 * split into (whole tokens, so fewer when T is smaller), and whether rows
 * are written with non-temporal (streaming) stores. */
typedef struct {
  int isa;
  int64_t tasks;
  int stream;
} tk_moe_cpu_opts;

/* Tokens per task when T tokens are split into about `tasks` tasks (>= 1). */
static inline int64_t tk_moe_tokens_per_task(int64_t T, int64_t tasks) {
  int64_t n = (T + tasks - 1) / tasks;
  return n > 1 ? n : 1;
}

/* Scratch bytes tk_cpu_moe_permute needs for p split into `tasks` tasks. */
size_t tk_cpu_moe_permute_workspace(const tk_moe_permute_problem *p, int64_t tasks);

/* Permute exactly as the reference does (same rows, dest and group_sizes,
 * bit for bit; padding and unused rows zero). ws: the workspace above. */
tk_status tk_cpu_moe_permute(const tk_moe_permute_problem *p, const tk_moe_cpu_opts *o,
                             tk_pool *pool, void *ws);

/* out[t] = sum over slots s, in slot order, of weight[t,s] * rows[dest[t,s]],
 * accumulated in float32 with fused multiply-adds; the same bits for every
 * option value. */
tk_status tk_cpu_moe_unpermute(const tk_moe_unpermute_problem *p, const tk_moe_cpu_opts *o,
                               tk_pool *pool);

/* Copies n bytes from src to dst (not overlapping); stream != 0 writes the
 * whole 64-byte lines of dst with non-temporal stores (the caller fences,
 * _mm_sfence, before other threads read them). */
void tk_moe_copy_bytes_avx512(void *dst, const void *src, size_t n, int stream);
void tk_moe_copy_bytes_avx2(void *dst, const void *src, size_t n, int stream);

/* Sets n bytes at dst to zero, streaming as above. */
void tk_moe_zero_bytes_avx512(void *dst, size_t n, int stream);
void tk_moe_zero_bytes_avx2(void *dst, size_t n, int stream);

/* The largest k the vector unpermute takes; a larger k goes one element
 * at a time. */
enum { TK_MOE_MAX_SLOTS = 64 };

/* Writes out rows [t0, t1) of an unpermute whose rows and out have unit
 * column stride and k <= TK_MOE_MAX_SLOTS; stream != 0 writes whole lines
 * of out non-temporally and fences before returning. */
void tk_moe_reduce_tokens_avx512(const tk_moe_unpermute_problem *p, int64_t t0, int64_t t1,
                                 int stream);
void tk_moe_reduce_tokens_avx2(const tk_moe_unpermute_problem *p, int64_t t0, int64_t t1,
                               int stream);

/* As above for any strides and k (one element at a time, the same
 * arithmetic and so the same bits as the vector versions). */
void tk_moe_reduce_tokens_strided_avx2(const tk_moe_unpermute_problem *p, int64_t t0, int64_t t1);

/* Workspace bytes tk_cpu_moe_unpermute_backward needs for p. */
size_t tk_cpu_moe_unpermute_backward_workspace(const tk_moe_unpermute_backward_problem *p);

/* The unpermute backward as the reference defines it (d_rows summed over
 * the slots sharing a row, in slot order; rows no slot points to zero;
 * d_weights as dot products), float32 arithmetic: with an injective dest
 * (the rows of a permute) every token's dout is read once and scattered
 * with wide (optionally streaming) stores; otherwise each row gathers its
 * slots through an inverse map of dest. No atomics: the bits depend on
 * the config's isa, not on the tasks or threads. ws: the workspace. */
tk_status tk_cpu_moe_unpermute_backward(const tk_moe_unpermute_backward_problem *p,
                                        const tk_moe_cpu_opts *o, tk_pool *pool, void *ws);

/* Backward row kernels, for unit column strides and k <= TK_MOE_MAX_SLOTS:
 * d_rows (and d_weights) of tokens [t0, t1) for an injective dest; rows
 * [r0, r1) of d_rows from the inverse map (the slots t * k + s of row r at
 * slots[first[r] .. first[r + 1]), in slot order); d_weights of tokens
 * [t0, t1). */
void tk_moe_scatter_tokens_avx512(const tk_moe_unpermute_backward_problem *p, int64_t t0,
                                  int64_t t1, int stream);
void tk_moe_scatter_tokens_avx2(const tk_moe_unpermute_backward_problem *p, int64_t t0,
                                int64_t t1, int stream);
void tk_moe_gather_rows_avx512(const tk_moe_unpermute_backward_problem *p, const int64_t *first,
                               const int64_t *slots, int64_t r0, int64_t r1);
void tk_moe_gather_rows_avx2(const tk_moe_unpermute_backward_problem *p, const int64_t *first,
                             const int64_t *slots, int64_t r0, int64_t r1);
void tk_moe_dot_tokens_avx512(const tk_moe_unpermute_backward_problem *p, int64_t t0, int64_t t1);
void tk_moe_dot_tokens_avx2(const tk_moe_unpermute_backward_problem *p, int64_t t0, int64_t t1);

#endif
