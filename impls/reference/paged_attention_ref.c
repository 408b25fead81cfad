/* paged_attention_ref.c: reference paged attention (decode and chunked
 * prefill in one call, causal bottom-right against kv_len, left window,
 * softcap) in float64, one task per (sequence, query head). */
#include <stdlib.h>

#include "runtime/half.h"
#include "runtime/status.h"
#include "impls/reference/reference.h"
#include "impls/reference/ref_internal.h"

typedef struct {
  const tk_paged_attention_problem *p;
  int64_t max_kv;     /* max_pages * page_size */
  double *dbuf;       /* per worker: max_kv logits, then Dv accumulators */
  const void **pbuf;  /* per worker: max_kv key pointers, then max_kv value pointers */
} paged_job;

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
  double *logits = job->dbuf + (int64_t)worker * (job->max_kv + p->Dv), *acc = logits + job->max_kv;
  const void **kp = job->pbuf + (int64_t)worker * 2 * job->max_kv, **vp = kp + job->max_kv;
  for (int64_t j = 0; j < kv_len; j++) {
    int64_t page = tk_load_i32(&p->block_table, s, j / p->page_size), slot = j % p->page_size;
    kp[j] = tk_at(&p->k_cache, page, slot, hkv, 0);
    vp[j] = tk_at(&p->v_cache, page, slot, hkv, 0);
  }
  tk_ref_row r = {NULL, p->q.stride[2], p->D, p->q.dtype, kp, p->k_cache.stride[3], p->k_cache.dtype,
                  vp, p->v_cache.stride[3], p->Dv, p->v_cache.dtype, p->scale, p->softcap};
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
  int64_t nw = tk_ref_workers(pool), max_kv = p->max_pages * p->page_size;
  paged_job job = {p, max_kv, malloc(sizeof(double) * (size_t)(nw * (max_kv + p->Dv) + 1)),
                   malloc(sizeof(void *) * (size_t)(nw * 2 * max_kv + 1))};
  if (!job.dbuf || !job.pbuf) {
    free(job.dbuf);
    free(job.pbuf);
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "paged_attention (reference): no memory for scratch");
  }
  tk_ref_run(pool, p->S * p->Hq, paged_task, &job);
  free(job.dbuf);
  free(job.pbuf);
  return TK_OK;
}
