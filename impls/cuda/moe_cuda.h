/* moe_cuda.h: MoE permute and unpermute as the CUDA kernels take them
 * (device pointers, strides in elements; token rows contiguous) and their
 * C-callable launchers. impls/cuda/moe_*_record.c wrap them.
 *
 * Permute is a counting sort by expert on the device: per-warp histograms
 * of chunks of the flattened (token, slot) list, a scan over chunks and
 * experts (group_sizes, each padded to `align`), a stable per-chunk
 * ranking that writes dest, and a gather that writes every row of
 * `permuted` once (the token's bits, or zeros for padding and for rows past
 * the last expert). The row order is exactly the reference's: by expert,
 * then by t * k + slot. Expert ids outside [0, E) (which the host validator
 * rejects for host tensors) are not routed: their dest is -1. Rows that
 * would land at or past R are not written.
 *
 * Unpermute is a gather-reduce: out[t] = sum over slots s in order of
 * weight[t, s] * rows[dest[t, s]] in float, one warp per token: no atomics,
 * the same bits on every run. dest entries outside [0, R) add nothing.
 * Unpermute backward sorts the (dest, slot) pairs by row (a stable radix
 * sort, so each row's slots stay in slot order), then one warp per row of
 * d_rows sums weight * dout[t] over its slots in that order (zeros for a
 * row nobody references) and one warp per slot dots dout[t] with
 * rows[dest] for d_weights: no atomics, the same bits on every run.
 * No launcher synchronises with the host or allocates. */
#ifndef TK_IMPLS_CUDA_MOE_CUDA_H
#define TK_IMPLS_CUDA_MOE_CUDA_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The most experts permute takes (one int32 counter each in shared memory). */
#define TK_CUDA_PERMUTE_MAX_EXPERTS 12288

typedef struct {
  const void *tokens;          /* [T,H] */
  const int32_t *expert_ids;   /* [T,k] */
  void *permuted;              /* [R,H] */
  int32_t *group_sizes;        /* [E] */
  int32_t *dest;               /* [T,k] */
  int64_t tok_s0, ids_s0, ids_s1, perm_s0, gs_s0, dest_s0, dest_s1;
  int64_t T, H, k, E, R, align;
  int dtype;                   /* tk_dtype of tokens and permuted */
} tk_cuda_permute;

/* unit: (token, slot) entries per warp in the counting passes; warps: warps
 * per block of the row gather (one row per warp at a time). */
typedef struct {
  int unit, warps;
} tk_cuda_permute_cfg;

/* Device workspace bytes permute needs for p under c. */
size_t tk_cuda_permute_workspace(const tk_cuda_permute *p, const tk_cuda_permute_cfg *c);

/* Enqueues p on stream (a cudaStream_t; NULL = default) with workspace ws
 * (16-byte aligned). Returns the launch error. */
cudaError_t tk_cuda_permute_run(const tk_cuda_permute *p, const tk_cuda_permute_cfg *c, void *ws,
                                void *stream);

typedef struct {
  const void *rows;            /* [R,H] */
  const int32_t *dest;         /* [T,k] */
  const float *weights;        /* [T,k] or NULL (all ones) */
  void *out;                   /* [T,H], dtype of rows */
  int64_t rows_s0, dest_s0, dest_s1, w_s0, w_s1, out_s0;
  int64_t T, H, k, R;
  int dtype;
} tk_cuda_unpermute;

/* warps: warps per block (one token per warp at a time). */
typedef struct {
  int warps;
} tk_cuda_unpermute_cfg;

/* Enqueues p on stream. Returns the launch error. */
cudaError_t tk_cuda_unpermute_run(const tk_cuda_unpermute *p, const tk_cuda_unpermute_cfg *c,
                                  void *stream);

typedef struct {
  const void *dout;            /* [T,H] */
  const void *rows;            /* [R,H], dtype of dout; NULL unless d_weights */
  const int32_t *dest;         /* [T,k] */
  const float *weights;        /* [T,k] or NULL (all ones) */
  void *d_rows;                /* [R,H], dtype of dout */
  float *d_weights;            /* [T,k] or NULL (not wanted) */
  int64_t dout_s0, rows_s0, dest_s0, dest_s1, w_s0, w_s1, drows_s0, dw_s0, dw_s1;
  int64_t T, H, k, R;
  int dtype;
} tk_cuda_unpermute_bwd;

/* Device workspace bytes unpermute backward needs for p (the sort's
 * buffers); 0 when the runtime cannot size the sort. */
size_t tk_cuda_unpermute_bwd_workspace(const tk_cuda_unpermute_bwd *p);

/* Enqueues p on stream with workspace ws (256-byte aligned, the size
 * above); c as for unpermute (warps per block). Returns the launch error. */
cudaError_t tk_cuda_unpermute_bwd_run(const tk_cuda_unpermute_bwd *p, const tk_cuda_unpermute_cfg *c,
                                      void *ws, void *stream);

#ifdef __cplusplus
}
#endif

#endif
