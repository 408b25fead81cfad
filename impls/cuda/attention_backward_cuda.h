/* attention_backward_cuda.h: the C interface of the CUDA attention
 * backward kernels (cuda_tiled), as attention_cuda.h is for the forward.
 * The launcher enqueues on `stream` of the current device, reads nothing
 * back to the host, and returns the cudaError_t of the enqueue. */
#ifndef TK_IMPLS_CUDA_ATTENTION_BACKWARD_CUDA_H
#define TK_IMPLS_CUDA_ATTENTION_BACKWARD_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "impls/cuda/attention_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A backward call: the forward's tensors in f (out and lse read, both
 * required), dout laid out as out, and the gradients dq [B,Tq,Hq,D],
 * dk [B,Tk,Hkv,D], dv [B,Tk,Hkv,Dv] (strides in elements) in q's dtype or
 * float32 (dq_dtype ... as tk_dtype). */
typedef struct {
  tk_cuda_attention_args f;
  const void *dout;
  int64_t sdo[4];
  void *dq, *dk, *dv;
  int64_t sdq[4], sdk[4], sdv[4];
  int dq_dtype, dk_dtype, dv_dtype;
} tk_cuda_attention_backward_args;

/* cuda_tiled backward: block_q rows (positions x query heads of a kv
 * head) per tile of the dK/dV kernel, whose CTA holds 64 keys: 16 or 32
 * for head dims up to 64, 16 above (larger tiles of the kernel's
 * register-held dK and dV spill under ptxas 13); the dQ kernel's
 * CTA holds 64 query rows against tiles of 64 keys. */
typedef struct {
  int block_q;
} tk_cuda_attn_bwd_config;

/* 1 if the tensor-core kernels take the call (bf16/f16, D and Dv multiples
 * of 8 up to 128, every row 16-byte aligned, gradients of any dtype); else
 * tk_cuda_attention_backward runs the scalar float kernels. */
int tk_cuda_attention_backward_fast(const tk_cuda_attention_backward_args *a);

/* Device workspace bytes: Drow = rowsum(dout * out), float [B][Hq][Tq]. */
size_t tk_cuda_attention_backward_workspace(const tk_cuda_attention_backward_args *a);

/* The gradients, FlashAttention-2 style and deterministic (no atomics):
 * Drow; then one CTA per (64 keys, batch, kv head) accumulating dK and dV
 * over every row of its kv head's query heads, tile by tile; then one CTA
 * per (64 query rows, batch, head) accumulating dQ over its keys. P and dZ
 * enter the products as two 16-bit terms (the rounding and the residual's),
 * float32 accumulation. */
int tk_cuda_attention_backward(const tk_cuda_attention_backward_args *a,
                               const tk_cuda_attn_bwd_config *c, void *workspace, void *stream);

#ifdef __cplusplus
}
#endif

#endif
