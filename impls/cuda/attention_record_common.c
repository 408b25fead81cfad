/* attention_record_common.c: problem -> kernel arguments, device
 * facts, and running an enqueue on a tensor's device, for the CUDA
 * attention records. */
#include "impls/cuda/attention_record_common.h"

#include <cuda_runtime_api.h>
#include <stdio.h>

#include "impls/cuda/attention_index.h"
#include "runtime/cuda/cuda_memory.h"

/* A window bound clamped to the kernels' index range (-1 stays -1). */
static int window(int w) { return w > TK_ATTN_MAX_INDEX ? TK_ATTN_MAX_INDEX : w; }

/* Copies the first n strides of t into s. */
static void strides(const tk_tensor *t, int64_t *s, int n) {
  for (int d = 0; d < n; d++) s[d] = t->stride[d];
}

int tk_cuda_attention_args_of(const tk_attention_problem *p, tk_cuda_attention_args *a, char *why,
                              size_t len) {
  if (p->Tq + p->Tk > TK_ATTN_MAX_INDEX || p->B > TK_ATTN_MAX_INDEX || p->Hq > TK_ATTN_MAX_INDEX ||
      p->D > 512 || p->Dv > 512) {
    snprintf(why, len, "sizes past the CUDA kernels' limits (Tq + Tk, B, Hq <= 2^30; D, Dv <= 512)");
    return 0;
  }
  strides(&p->q, a->sq, 4);
  strides(&p->k, a->sk, 4);
  strides(&p->v, a->sv, 4);
  strides(&p->out, a->so, 4);
  strides(&p->lse, a->slse, 3);
  a->q = p->q.data;
  a->k = p->k.data;
  a->v = p->v.data;
  a->out = p->out.data;
  a->lse = p->lse.present ? (float *)p->lse.data : NULL;
  a->q_lens = p->q_lens.present ? (const int32_t *)p->q_lens.data : NULL;
  a->kv_lens = p->kv_lens.present ? (const int32_t *)p->kv_lens.data : NULL;
  a->q_lens_stride = p->q_lens.stride[0];
  a->kv_lens_stride = p->kv_lens.stride[0];
  a->B = (int)p->B;
  a->Tq = (int)p->Tq;
  a->Tk = (int)p->Tk;
  a->Hq = (int)p->Hq;
  a->Hkv = (int)p->Hkv;
  a->D = (int)p->D;
  a->Dv = (int)p->Dv;
  a->dtype = p->q.dtype;
  a->scale = p->scale;
  a->softcap = p->softcap;
  a->causal = p->causal;
  a->window_left = window(p->window_left);
  a->window_right = window(p->window_right);
  return 1;
}

int tk_cuda_attention_backward_args_of(const tk_attention_backward_problem *p,
                                       tk_cuda_attention_backward_args *a, char *why, size_t len) {
  if (!tk_cuda_attention_args_of(&p->fwd, &a->f, why, len)) return 0;
  strides(&p->dout, a->sdo, 4);
  strides(&p->dq, a->sdq, 4);
  strides(&p->dk, a->sdk, 4);
  strides(&p->dv, a->sdv, 4);
  a->dout = p->dout.data;
  a->dq = p->dq.data;
  a->dk = p->dk.data;
  a->dv = p->dv.data;
  a->dq_dtype = p->dq.dtype;
  a->dk_dtype = p->dk.dtype;
  a->dv_dtype = p->dv.dtype;
  return 1;
}

/* Scale tensor t's data, its strides into s ([P,page_size,Hkv]; 0 for a
 * [1] or absent one); NULL when absent. */
static const float *scale_of(const tk_tensor *t, int64_t *s) {
  for (int d = 0; d < 3; d++) s[d] = t->present && t->ndim == 3 ? t->stride[d] : 0;
  return t->present ? (const float *)t->data : NULL;
}

int tk_cuda_paged_args_of(const tk_paged_attention_problem *p, tk_cuda_paged_args *a, char *why,
                          size_t len) {
  if (p->max_pages > TK_ATTN_MAX_INDEX || p->page_size > TK_ATTN_MAX_INDEX ||
      p->Tq_total * p->Hq > TK_ATTN_MAX_INDEX || p->P > TK_ATTN_MAX_INDEX ||
      p->S > TK_ATTN_MAX_INDEX || p->Hkv > 65535 || p->D > 512 || p->Dv > 512) {
    snprintf(why, len,
             "sizes past the CUDA kernels' limits (Tq_total * Hq, P, S, page_size, max_pages "
             "<= 2^30; Hkv <= 65535; D, Dv <= 512)");
    return 0;
  }
  strides(&p->q, a->sq, 3);
  strides(&p->k_cache, a->sk, 4);
  strides(&p->v_cache, a->sv, 4);
  strides(&p->out, a->so, 3);
  strides(&p->block_table, a->sbt, 2);
  a->q = p->q.data;
  a->k_cache = p->k_cache.data;
  a->v_cache = p->v_cache.data;
  a->out = p->out.data;
  a->block_table = (const int32_t *)p->block_table.data;
  a->kv_lens = (const int32_t *)p->kv_lens.data;
  a->cu_q_lens = p->cu_q_lens.present ? (const int32_t *)p->cu_q_lens.data : NULL;
  a->k_scale = scale_of(&p->k_scale, a->sks);
  a->v_scale = scale_of(&p->v_scale, a->svs);
  a->kv_lens_stride = p->kv_lens.stride[0];
  a->cu_q_lens_stride = p->cu_q_lens.stride[0];
  a->Tq_total = (int)p->Tq_total;
  a->Hq = (int)p->Hq;
  a->Hkv = (int)p->Hkv;
  a->D = (int)p->D;
  a->Dv = (int)p->Dv;
  a->P = (int)p->P;
  a->page_size = (int)p->page_size;
  a->S = (int)p->S;
  a->max_pages = (int)p->max_pages;
  a->dtype = p->q.dtype;
  a->kv_dtype = p->k_cache.dtype;
  a->scale = p->scale;
  a->softcap = p->softcap;
  a->window_left = window(p->window_left);
  return 1;
}

int tk_cuda_bucket_or_why(int d, int dv, int *dp, int *dvp, char *why, size_t len) {
  if (tk_attn_bucket(d, dv, dp, dvp)) return 1;
  snprintf(why, len, "head dims %d/%d are outside the tensor-core buckets", d, dv);
  return 0;
}

const tk_cuda_tiled_config tk_cuda_tiled_scalar = {64, 1, 64, 2};

int tk_cuda_tiled_fits(const tk_cuda_attention_args *a, tk_cuda_tiled_config t, long long smem,
                       char *why, size_t len) {
  int dp, dvp;
  return tk_cuda_bucket_or_why(a->D, a->Dv, &dp, &dvp, why, len) &&
         tk_cuda_kernel_fits(t.block_q % (16 * t.warp_mtiles) == 0 &&
                                 tk_tiled_shape_ok(dp, dvp, t.block_kv, t.warp_mtiles),
                             tk_tiled_smem(dp, dvp, t.block_q, t.block_kv, t.stages), smem, why, len);
}

tk_cuda_tiled_config tk_cuda_tiled_pick(const tk_cuda_attention_args *a, long long smem) {
  static const tk_cuda_tiled_config by_bucket[4][3] = {
      {{128, 2, 64, 2}, {128, 1, 64, 2}, {64, 1, 32, 2}}, /* D <= 64 */
      {{128, 1, 64, 2}, {64, 1, 64, 2}, {64, 1, 32, 2}},  /* D <= 128 */
      {{128, 1, 64, 2}, {64, 1, 64, 2}, {64, 1, 32, 2}},  /* D <= 192, Dv <= 128 */
      {{64, 1, 64, 2}, {64, 1, 32, 2}, {64, 1, 32, 2}}};  /* D <= 256 */
  int dp, dvp;
  if (!tk_cuda_attention_tiled_fast(a) || !tk_attn_bucket(a->D, a->Dv, &dp, &dvp))
    return tk_cuda_tiled_scalar;
  const tk_cuda_tiled_config *row = by_bucket[dp / 64 - 1];
  char why[160];
  for (int i = 0; i < 2; i++)
    if (tk_cuda_tiled_fits(a, row[i], smem, why, sizeof why)) return row[i];
  return row[2];
}
