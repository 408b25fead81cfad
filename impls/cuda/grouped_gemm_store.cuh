/* grouped_gemm_store.cuh: what every grouped GEMM kernel needs besides its
 * operands (the output, sizes, ring depth, visiting order and schedule),
 * and writing float results to an output row of any output dtype with the
 * column edge predicated. */
#ifndef TK_IMPLS_CUDA_GROUPED_GEMM_STORE_CUH
#define TK_IMPLS_CUDA_GROUPED_GEMM_STORE_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "impls/cuda/grouped_gemm_schedule.cuh"
#include "runtime/tensor.h"

/* A kernel's view of the output and the schedule, by value. */
typedef struct {
  char *out;
  int64_t out_s0, out_s1; /* elements; out_s1 for TN's [G,K,N] only */
  int K, N, G;
  int out_dtype, out_es, out_vec2; /* vec2: rows aligned for 2-element stores */
  int stages, swizzle;
  tk_gg_schedule sched;
} tk_gg_common;

/* Fills *c for p with the given ring depth and visiting order, the
 * schedule living in the workspace ws. */
static inline void tk_gg_common_init(tk_gg_common *c, const tk_cuda_gg *p, int stages, int swizzle,
                                     void *ws) {
  int oes = (int)tk_dtype_size((tk_dtype)p->out_dtype), tn = p->layout == TK_GG_TN;
  c->out = (char *)p->out;
  c->out_s0 = p->out_s0;
  c->out_s1 = p->out_s1;
  c->K = (int)p->K;
  c->N = (int)p->N;
  c->G = (int)p->G;
  c->out_dtype = p->out_dtype;
  c->out_es = oes;
  c->out_vec2 =
      (uintptr_t)p->out % (2 * oes) == 0 && p->out_s0 % 2 == 0 && (!tn || p->out_s1 % 2 == 0);
  c->stages = stages;
  c->swizzle = swizzle;
  tk_gg_schedule_view(p, ws, &c->sched);
}

/* The start of output row r of tile t under layout L: out[r] (NN, NT) or
 * out[g][r] (TN). */
template <int L>
static __device__ __forceinline__ char *tk_gg_out_row(const tk_gg_common &c, const tk_gg_tile &t,
                                                      int r) {
  int64_t off = L == TK_GG_TN ? (int64_t)t.g * c.out_s0 + (int64_t)r * c.out_s1
                              : (int64_t)r * c.out_s0;
  return c.out + off * c.out_es;
}

/* Writes v to element col of the output row at `row` (dtype out_dtype). */
static __device__ __forceinline__ void tk_gg_store1(char *row, int col, float v, int out_dtype) {
  if (out_dtype == TK_F32) ((float *)row)[col] = v;
  else if (out_dtype == TK_BF16) ((__nv_bfloat16 *)row)[col] = __float2bfloat16_rn(v);
  else ((__half *)row)[col] = __float2half_rn(v);
}

/* Writes v0, v1 to elements col, col + 1 (col even) of the output row at
 * `row`, skipping those at or past n. vec2: the row start is aligned to two
 * elements, so both go in one store. */
static __device__ __forceinline__ void tk_gg_store2(char *row, int col, int n, float v0, float v1,
                                                    int out_dtype, bool vec2) {
  if (vec2 && col + 1 < n) {
    if (out_dtype == TK_F32) *(float2 *)((float *)row + col) = make_float2(v0, v1);
    else if (out_dtype == TK_BF16) *(__nv_bfloat162 *)((__nv_bfloat16 *)row + col) = __floats2bfloat162_rn(v0, v1);
    else *(__half2 *)((__half *)row + col) = __floats2half2_rn(v0, v1);
    return;
  }
  if (col < n) tk_gg_store1(row, col, v0, out_dtype);
  if (col + 1 < n) tk_gg_store1(row, col + 1, v1, out_dtype);
}

#endif
