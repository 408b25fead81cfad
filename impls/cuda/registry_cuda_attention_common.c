/* registry_cuda_attention_common.c: problem -> kernel arguments, device
 * facts, and running an enqueue on a tensor's device, for the CUDA
 * attention records. */
#include "registry_cuda_attention_common.h"

#include <cuda_runtime_api.h>
#include <stdio.h>

#include "attention_index.h"
#include "cuda_memory.h"

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
  a->scale = p->scale;
  a->softcap = p->softcap;
  a->window_left = window(p->window_left);
  return 1;
}

long long tk_cuda_smem_limit(int device) {
  int v = 0;
  if (cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return v;
}

int tk_cuda_cc_at_least(const tk_device_info *dev, int device, int major, int minor, char *why,
                        size_t len) {
  const tk_cuda_device *d = &dev->cuda[device];
  if (d->cc_major > major || (d->cc_major == major && d->cc_minor >= minor)) return 1;
  snprintf(why, len, "needs compute capability %d.%d, device %d (%s) has %d.%d", major, minor,
           device, d->name, d->cc_major, d->cc_minor);
  return 0;
}

int tk_cuda_bucket_or_why(int d, int dv, int *dp, int *dvp, char *why, size_t len) {
  if (tk_attn_bucket(d, dv, dp, dvp)) return 1;
  snprintf(why, len, "head dims %d/%d are outside the tensor-core buckets", d, dv);
  return 0;
}

int tk_cuda_kernel_fits(int compiled, long long need, long long limit, char *why, size_t len) {
  if (!compiled) {
    snprintf(why, len, "no kernel is compiled for this tile shape and head-dim bucket");
    return 0;
  }
  if (need > limit) {
    snprintf(why, len, "needs %lld bytes of shared memory per block, the device allows %lld", need,
             limit);
    return 0;
  }
  return 1;
}

int tk_cuda_only_config(const tk_param_def *params, int n, const tk_config *c,
                        const tk_config *only, char *why, size_t len) {
  int same = c->n == n;
  for (int i = 0; same && i < n; i++) same = c->v[i] == only->v[i];
  if (same) return 1;
  size_t used = (size_t)snprintf(why, len, "this call takes the scalar path, whose only config is ");
  for (int i = 0; i < n && used < len; i++)
    used += (size_t)snprintf(why + used, len - used, "%s%s=%d", i ? "," : "", params[i].name,
                             only->v[i]);
  return 0;
}

tk_status tk_cuda_enqueue_on(int device, int (*enqueue)(void *arg), void *arg, const char *what) {
  int prev;
  tk_status s = tk_cuda_use_device(device, &prev);
  if (s != TK_OK) return s;
  int err = enqueue(arg);
  tk_cuda_restore_device(prev);
  return tk_cuda_status(err, what);
}
