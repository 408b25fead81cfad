/* attention_cuda.h: the C interface of the CUDA attention and paged
 * attention kernels: one call's device pointers, strides and masks as the
 * kernels take them, the tile configs, and the extern "C" launchers that
 * the records (impls/cuda/attention_*_record.c, paged_attention_record.c)
 * call. Every launcher enqueues its work on `stream` (a cudaStream_t, NULL
 * = default stream) of the current device, reads nothing back to the host,
 * and returns the cudaError_t of the enqueue (0 = cudaSuccess). */
#ifndef TK_IMPLS_CUDA_ATTENTION_CUDA_H
#define TK_IMPLS_CUDA_ATTENTION_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A dense attention call: q [B,Tq,Hq,D], k [B,Tk,Hkv,D], v [B,Tk,Hkv,Dv],
 * out [B,Tq,Hq,Dv] (strides in elements, dims in that order), lse [B,Hq,Tq]
 * float (NULL: not wanted), q_lens / kv_lens int32 [B] (NULL: Tq / Tk).
 * dtype is a tk_dtype (every data tensor has it). Windows are clamped to
 * TK_ATTN_MAX_INDEX, with -1 for unbounded. */
typedef struct {
  const void *q, *k, *v;
  void *out;
  float *lse;
  const int32_t *q_lens, *kv_lens;
  int64_t q_lens_stride, kv_lens_stride;
  int64_t sq[4], sk[4], sv[4], so[4], slse[3];
  int B, Tq, Tk, Hq, Hkv, D, Dv;
  int dtype;
  float scale, softcap;
  int causal, window_left, window_right;
} tk_cuda_attention_args;

/* A paged attention call: q [Tq_total,Hq,D], k_cache [P,page_size,Hkv,D],
 * v_cache [P,page_size,Hkv,Dv], out [Tq_total,Hq,Dv], block_table int32
 * [S,max_pages], kv_lens int32 [S], cu_q_lens int32 [S+1] (NULL: decode,
 * one query per sequence). Causal against kv_len, left window only.
 * dtype is q's and out's tk_dtype, kv_dtype the caches': dtype, or 8-bit
 * (TK_FP8_E4M3, TK_I8), where element x of k_cache[p,slot,h,:] stands for
 * x * k_scale[p * sks[0] + slot * sks[1] + h * sks[2]] (strides 0 for a
 * scale of shape [1]), v_cache likewise with v_scale and svs; the scales
 * are NULL for 16/32-bit caches. */
typedef struct {
  const void *q, *k_cache, *v_cache;
  void *out;
  const int32_t *block_table, *kv_lens, *cu_q_lens;
  const float *k_scale, *v_scale;
  int64_t sbt[2], kv_lens_stride, cu_q_lens_stride;
  int64_t sq[3], sk[4], sv[4], so[3], sks[3], svs[3];
  int Tq_total, Hq, Hkv, D, Dv, P, page_size, S, max_pages;
  int dtype, kv_dtype;
  float scale, softcap;
  int window_left;
} tk_cuda_paged_args;

/* cuda_tiled: block_q query rows per CTA in warps of 16 * warp_mtiles rows,
 * block_kv keys per tile, `stages` tiles in flight (2 or 3). */
typedef struct {
  int block_q, warp_mtiles, block_kv, stages;
} tk_cuda_tiled_config;

/* cuda_pipelined: 64 * consumers query rows per CTA (one consumer
 * warpgroup per 64), block_kv keys per tile, a ring of `stages` tiles. */
typedef struct {
  int consumers, block_kv, stages;
} tk_cuda_pipelined_config;

/* Paged: 16 * row_warps (query, head) rows per CTA, block_kv keys per tile,
 * `stages` tiles in flight, key span cut into `splits` pieces merged by
 * log-sum-exp. */
typedef struct {
  int row_warps, block_kv, stages, splits;
} tk_cuda_paged_config;

/* 1 if the tensor-core path of cuda_tiled takes the call: 16-bit dtype, D
 * and Dv in a bucket (tk_attn_bucket), every pointer 16-byte aligned and
 * every stride but the innermost (which is 1) a multiple of 8 elements.
 * Otherwise tk_cuda_attention_tiled runs the scalar path. */
int tk_cuda_attention_tiled_fast(const tk_cuda_attention_args *a);

/* Dense attention, FlashAttention-2 style (mma.sync), or the scalar float
 * path when the tensor-core path does not take the call. */
int tk_cuda_attention_tiled(const tk_cuda_attention_args *a, const tk_cuda_tiled_config *c,
                            void *stream);

/* The scalar float kernel: any dtype, strides and head dims up to 512. */
int tk_cuda_attention_scalar(const tk_cuda_attention_args *a, void *stream);

/* 1 if cuda_pipelined takes the call as laid out (the tensor-map rules:
 * 16-bit dtype, D and Dv in a bucket, aligned pointers and strides). */
int tk_cuda_attention_pipelined_fits(const tk_cuda_attention_args *a);

/* Dense attention, FlashAttention-3 style: TMA-fed ring of K/V tiles,
 * wgmma, a producer warpgroup and consumer warpgroups. Only for calls that
 * tk_cuda_attention_pipelined_fits accepts, on a device where
 * tk_cuda_sm90a_available (impls/cuda/sm90a.h). Tk = 0 and zero kv_lens
 * are valid: those rows get out 0 and lse -inf. */
int tk_cuda_attention_pipelined(const tk_cuda_attention_args *a, const tk_cuda_pipelined_config *c,
                                void *stream);

/* 1 if the tensor-core paged kernel takes the call (as
 * tk_cuda_attention_tiled_fast, with caches of q's dtype: never 8-bit
 * ones); else tk_cuda_paged_attention runs the scalar path. */
int tk_cuda_paged_attention_fast(const tk_cuda_paged_args *a);

/* Device workspace bytes tk_cuda_paged_attention needs with config c. */
size_t tk_cuda_paged_attention_workspace(const tk_cuda_paged_args *a, const tk_cuda_paged_config *c);

/* Paged attention: the work units and split pieces are found on the
 * device (workspace holds their table and the split partials), so the call
 * can be captured in a CUDA graph. Calls the tensor-core kernel does not
 * take (8-bit caches among them) run on the scalar kernel (with one
 * split). */
int tk_cuda_paged_attention(const tk_cuda_paged_args *a, const tk_cuda_paged_config *c,
                            void *workspace, void *stream);

#ifdef __cplusplus
}
#endif

#endif
