/* grouped_gemm_cuda.h: a grouped GEMM as the CUDA kernels take it (device
 * pointers, strides in elements, innermost dims contiguous) and the
 * C-callable launchers of cuda_tiled and cuda_pipelined. The kernels know
 * nothing of the registry; impls/cuda/grouped_gemm_*_record.c wrap them.
 *
 * Semantics are those of tk_grouped_gemm: groups are consecutive row ranges
 * of lhs; NN/NT rows past the groups are written as zero; TN writes every
 * out[g] (zero for an empty group). Group sizes are read on the device only:
 * a negative size counts as 0 and the running sum is clamped to M (the
 * host validator rejects such sizes for host tensors; on the device they
 * cannot corrupt memory). No launcher synchronises with the host, allocates,
 * or depends on the sizes' values, so every launch sequence can be captured
 * in a CUDA graph. */
#ifndef TK_IMPLS_CUDA_GROUPED_GEMM_CUDA_H
#define TK_IMPLS_CUDA_GROUPED_GEMM_CUDA_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  const void *lhs, *rhs;        /* lhs [M,K]; rhs [G,K,N] (NN), [G,N,K] (NT), [M,N] (TN) */
  void *out;                    /* [M,N] (NN, NT), [G,K,N] (TN) */
  const int32_t *group_sizes;   /* [G], device memory, contiguous */
  int64_t lhs_s0;               /* lhs row stride */
  int64_t rhs_s0, rhs_s1;       /* rhs strides of dims 0 and 1 (rhs_s1 unused for TN) */
  int64_t out_s0, out_s1;       /* out strides of dims 0 and 1 (out_s1 for TN only) */
  int64_t M, K, N, G;
  int layout;                   /* tk_gg_layout */
  int dtype, out_dtype;         /* tk_dtype of lhs/rhs and of out */
  int sm_count;                 /* multiprocessors of the device (persistent grids) */
} tk_cuda_gg;

/* cuda_tiled: block_m x block_n output tiles (64 or 128 each), a
 * `stages`-deep cp.async ring (2..4), tiles visited in bands of `swizzle`
 * row tiles (1 = row by row). bf16/f16 use mma.sync, f32 FFMA. */
typedef struct {
  int block_m, block_n, stages, swizzle;
} tk_cuda_gg_tiled_cfg;

/* Dynamic shared memory bytes one block of cuda_tiled uses for p under c
 * (at most 82 KiB for every config). */
size_t tk_cuda_gg_tiled_smem(const tk_cuda_gg *p, const tk_cuda_gg_tiled_cfg *c);

/* Device workspace bytes cuda_tiled needs for p under c. */
size_t tk_cuda_gg_tiled_workspace(const tk_cuda_gg *p, const tk_cuda_gg_tiled_cfg *c);

/* Enqueues p on stream (a cudaStream_t; NULL = default) with workspace ws
 * (tk_cuda_gg_tiled_workspace bytes, 16-byte aligned). Returns the launch
 * error, cudaSuccess when everything was enqueued. */
cudaError_t tk_cuda_gg_tiled_run(const tk_cuda_gg *p, const tk_cuda_gg_tiled_cfg *c, void *ws,
                                 void *stream);

/* cuda_pipelined (sm_90a): 128 x block_n tiles (128 or 256), a `stages`-deep
 * TMA ring (3 or 4), a persistent grid, tiles visited in bands of `swizzle`
 * row tiles. bf16/f16 only; every operand 16-byte aligned with row strides
 * that are multiples of 16 bytes (tk_cuda_gg_pipelined_fits). */
typedef struct {
  int block_n, stages, swizzle;
} tk_cuda_gg_pipelined_cfg;

/* 1 when the operands' addresses and strides meet the copy engine's
 * alignment rules (data pointers are checked only when not NULL). */
int tk_cuda_gg_pipelined_fits(const tk_cuda_gg *p);

/* Device workspace bytes cuda_pipelined needs for p under c. */
size_t tk_cuda_gg_pipelined_workspace(const tk_cuda_gg *p, const tk_cuda_gg_pipelined_cfg *c);

/* Shared memory bytes one block of cuda_pipelined uses under c. */
size_t tk_cuda_gg_pipelined_smem(const tk_cuda_gg_pipelined_cfg *c);

/* As tk_cuda_gg_tiled_run, for cuda_pipelined. Also fails (with
 * cudaErrorInvalidValue) when the driver cannot encode a tensor map. */
cudaError_t tk_cuda_gg_pipelined_run(const tk_cuda_gg *p, const tk_cuda_gg_pipelined_cfg *c,
                                     void *ws, void *stream);

#ifdef __cplusplus
}
#endif

#endif
