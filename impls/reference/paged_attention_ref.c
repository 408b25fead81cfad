/* paged_attention_ref.c: reference paged attention (decode and chunked
 * prefill in one call, causal bottom-right against kv_len, left window,
 * softcap; 8-bit caches times their scales) in float64, one task per
 * (sequence, query head). */
#include <stdlib.h>

#include "runtime/checked.h"
#include "runtime/half.h"
#include "runtime/status.h"
#include "impls/reference/reference.h"
#include "impls/reference/ref_internal.h"

typedef struct {
  const tk_paged_attention_problem *p;
  tk_ref_row_scratch scratch; /* for the longest kv_lens entry */
  float *scales;              /* 8-bit caches: per worker, k then v scales of each key */
} paged_job;

/* The scale of token (page, slot) of kv head h in scale tensor t ([1] or
 * [P,page_size,Hkv]). */
static float scale_at(const tk_tensor *t, int64_t page, int64_t slot, int64_t h) {
  return *(const float *)(t->ndim == 1 ? t->data : tk_at(t, page, slot, h, 0));
}

/* Computes every query of sequence s for head h (task = s * Hq + h). */
static void paged_task(void *arg, int64_t task, int worker) {
  const paged_job *job = arg;
  const tk_paged_attention_problem *p = job->p;
  int64_t s = task / p->Hq, h = task % p->Hq, hkv = h / (p->Hq / p->Hkv);
  int64_t first = s, q_len = 1;
  if (p->cu_q_lens.present) {
    first = tk_load_i32(&p->cu_q_lens, s, 0);
    q_len = tk_load_i32(&p->cu_q_lens, s + 1, 0) - first;
  }
  int64_t kv_len = tk_load_i32(&p->kv_lens, s, 0);
  double *logits = tk_ref_row_logits(&job->scratch, worker), *acc = logits + job->scratch.keys;
  const void **kp = tk_ref_row_keys(&job->scratch, worker), **vp = kp + job->scratch.keys;
  float *ks = job->scales ? job->scales + (int64_t)worker * 2 * job->scratch.keys : NULL;
  float *vs = ks ? ks + job->scratch.keys : NULL;
  for (int64_t j = 0; j < kv_len; j++) {
    int64_t page = tk_load_i32(&p->block_table, s, j / p->page_size), slot = j % p->page_size;
    kp[j] = tk_at(&p->k_cache, page, slot, hkv, 0);
    vp[j] = tk_at(&p->v_cache, page, slot, hkv, 0);
    if (ks) {
      ks[j] = scale_at(&p->k_scale, page, slot, hkv);
      vs[j] = scale_at(&p->v_scale, page, slot, hkv);
    }
  }
  tk_ref_row r = {NULL, p->q.stride[2], p->D, p->q.dtype, kp, p->k_cache.stride[3], p->k_cache.dtype,
                  vp, p->v_cache.stride[3], p->Dv, p->v_cache.dtype, p->scale, p->softcap, ks, vs};
  for (int64_t i = 0; i < q_len; i++) {
    int64_t pos = kv_len - q_len + i, lo = 0;
    if (p->window_left >= 0 && pos - p->window_left > lo) lo = pos - p->window_left;
    r.q = tk_at(&p->q, first + i, h, 0, 0);
    tk_ref_attend_row(&r, lo, pos, logits, acc);
    for (int64_t d = 0; d < p->Dv; d++)
      tk_store_f32(tk_at(&p->out, first + i, h, d, 0), p->out.dtype, (float)acc[d]);
  }
}

tk_status tk_ref_paged_attention(const tk_paged_attention_problem *p, tk_pool *pool) {
  /* Scratch for the keys a sequence holds (validated against the pages it
   * uses), not the table's capacity max_pages * page_size, which an empty
   * problem may make any size. */
  int64_t max_kv = 0;
  for (int64_t s = 0; s < p->S; s++) {
    int64_t kv = tk_load_i32(&p->kv_lens, s, 0);
    if (kv > max_kv) max_kv = kv;
  }
  paged_job job = {p, {0}, NULL};
  int64_t workers = tk_ref_workers(pool);
  tk_status st = tk_ref_row_scratch_alloc(&job.scratch, workers, max_kv, p->Dv, "paged_attention");
  if (st != TK_OK) return st;
  if (p->k_scale.present) {
    int64_t n;
    size_t bytes = 0;
    if (tk_mul_add_fits(2 * workers, max_kv, 1, &n) && tk_array_bytes_fit(n, sizeof(float), &bytes))
      job.scales = malloc(bytes);
    if (!job.scales) {
      tk_ref_row_scratch_free(&job.scratch);
      return tk_fail(TK_ERR_OUT_OF_MEMORY, "paged_attention (reference): no memory for scales");
    }
  }
  tk_ref_run(pool, p->S * p->Hq, paged_task, &job);
  tk_ref_row_scratch_free(&job.scratch);
  free(job.scales);
  return TK_OK;
}
