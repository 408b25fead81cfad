/* problem.h: a validated call of one op, as every floor from the API down
 * sees it: built from the public args struct by the op's validator (the op
 * table, kernels/op_desc.h); implementations read only this. */
#ifndef TK_KERNELS_PROBLEM_H
#define TK_KERNELS_PROBLEM_H

#include <stddef.h>

#include "runtime/tensor.h"
#include "tokamax.h"

typedef struct {
  tk_tensor q, k, v, out;
  tk_tensor lse;                 /* present == 0 when not asked for */
  tk_tensor q_lens, kv_lens;     /* present == 0 when not given */
  int64_t B, Tq, Tk, Hq, Hkv, D, Dv;
  float scale;                   /* resolved: never 0 */
  float softcap;                 /* 0 = off */
  int causal, window_left, window_right;
} tk_attention_problem;

typedef struct {
  tk_tensor lhs, rhs, group_sizes, out;
  tk_gg_layout layout;
  int64_t M, K, N, G;            /* lhs is [M,K] in every layout */
} tk_grouped_gemm_problem;

typedef struct {
  tk_tensor tokens, expert_ids, permuted, group_sizes, dest;
  int64_t T, H, k, E, R;         /* R: rows of permuted */
  int64_t align;
} tk_moe_permute_problem;

typedef struct {
  tk_tensor rows, dest, weights, out; /* weights.present == 0: all ones */
  int64_t T, H, k, R;
} tk_moe_unpermute_problem;

typedef struct {
  tk_tensor q, k_cache, v_cache, block_table, kv_lens, out;
  tk_tensor cu_q_lens;           /* present == 0: decode, one query per sequence */
  /* 8-bit caches (k_cache.dtype TK_FP8_E4M3 or TK_I8, v_cache the same):
   * float32 [P,page_size,Hkv] or [1] (ndim 1: one per tensor); else absent */
  tk_tensor k_scale, v_scale;
  int64_t Tq_total, Hq, Hkv, D, Dv, P, page_size, S, max_pages;
  float scale;                   /* resolved: never 0 */
  float softcap;
  int window_left;
} tk_paged_attention_problem;

/* The forward's tensors and scalars in fwd (out and lse are inputs here:
 * the forward call's output and its log-sum-exp, which is required), and
 * the gradients. */
typedef struct {
  tk_attention_problem fwd;
  tk_tensor dout;                /* [B,Tq,Hq,Dv], q's dtype */
  tk_tensor dq, dk, dv;          /* q's dtype or float32 */
} tk_attention_backward_problem;

typedef struct {
  tk_tensor dout;
  tk_tensor rows;                /* present == 0: not given (only d_weights needs it) */
  tk_tensor dest, weights;       /* weights.present == 0: all ones */
  tk_tensor d_rows, d_weights;   /* d_weights.present == 0: not asked for */
  int64_t T, H, k, R;
} tk_moe_unpermute_backward_problem;

/* One validated call. device_type/device_id are those of all its tensors;
 * dtype is the data dtype of its main input. */
typedef struct {
  tk_op op;
  int device_type, device_id;
  tk_dtype dtype;
  int has_data;                  /* 0 when validated for a plan without data */
  union {
    tk_attention_problem attention;
    tk_grouped_gemm_problem grouped_gemm;
    tk_moe_permute_problem moe_permute;
    tk_moe_unpermute_problem moe_unpermute;
    tk_paged_attention_problem paged_attention;
    tk_attention_backward_problem attention_backward;
    tk_moe_unpermute_backward_problem moe_unpermute_backward;
  } u;
} tk_problem;

/* Validates the public args struct of op (args points to it) and fills
 * *out. need_data != 0 requires every data pointer and, for CPU tensors,
 * checks the data-dependent rules too (lengths, ids, group sizes). On
 * failure returns the status with tk_last_error() set ("<op>: <arg> <what
 * is wrong>"), and *out is unspecified. */
tk_status tk_problem_validate(tk_op op, const void *args, int need_data, tk_problem *out);

/* The data-dependent rules of a validated problem whose tensors are in host
 * memory (lengths, ids, group sizes, page tables), as validation applies
 * them to CPU tensors; used on host copies of CUDA data. Same messages. */
tk_status tk_problem_check_data(const tk_problem *p);

/* Writes the canonical problem key: op, dtypes, shapes, every parameter
 * that changes the kernel, and the tensors whose strides are not row-major,
 * e.g. "attention:dtype=bf16,B=2,Tq=128,...,strides=contig". For grouped
 * GEMM and MoE it holds the group count and total rows, not runtime group
 * sizes. Returns the length it needed (like snprintf). */
int tk_problem_key(const tk_problem *p, char *buf, size_t len);

/* The output tensors of p (present ones, at most TK_MAX_OUTPUTS), as
 * pointers into p, in args-struct order; returns how many. */
#define TK_MAX_OUTPUTS 4
int tk_problem_outputs(tk_problem *p, tk_tensor **outs);

/* The input tensors of p (present ones, at most TK_MAX_INPUTS), likewise. */
#define TK_MAX_INPUTS 8
int tk_problem_inputs(tk_problem *p, tk_tensor **ins);

/* Useful floating-point operations of p (2 per multiply-add, masks and,
 * with host data, lengths counted) and bytes it moves at least once. */
double tk_problem_flops(const tk_problem *p);
double tk_problem_bytes(const tk_problem *p);

/* 1 when bandwidth bounds p (permute, unpermute, paged decode). */
int tk_problem_memory_bound(const tk_problem *p);

#endif
