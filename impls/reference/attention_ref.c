/* attention_ref.c: reference attention (GQA, varlen, causal bottom-right,
 * sliding window, softcap, optional lse) in float64, one task per
 * (batch, query head). */
#include <stdlib.h>

#include "runtime/half.h"
#include "runtime/status.h"
#include "impls/reference/reference.h"
#include "impls/reference/ref_internal.h"

typedef struct {
  const tk_attention_problem *p;
  double *dbuf;       /* per worker: Tk logits, then Dv accumulators */
  const void **pbuf;  /* per worker: Tk key pointers, then Tk value pointers */
} attn_job;

/* Computes every valid query row of batch b, head h (task = b * Hq + h). */
static void attn_task(void *arg, int64_t task, int worker) {
  const attn_job *job = arg;
  const tk_attention_problem *p = job->p;
  int64_t b = task / p->Hq, h = task % p->Hq, hkv = h / (p->Hq / p->Hkv);
  int64_t tq, tk;
  tk_ref_lengths(p, b, &tq, &tk);
  double *logits = job->dbuf + (int64_t)worker * (p->Tk + p->Dv), *acc = logits + p->Tk;
  const void **kp = job->pbuf + (int64_t)worker * 2 * p->Tk, **vp = kp + p->Tk;
  for (int64_t j = 0; j < tk; j++) {
    kp[j] = tk_at(&p->k, b, j, hkv, 0);
    vp[j] = tk_at(&p->v, b, j, hkv, 0);
  }
  tk_ref_row r = {NULL, p->q.stride[3], p->D, p->q.dtype, kp, p->k.stride[3], p->k.dtype,
                  vp, p->v.stride[3], p->Dv, p->v.dtype, p->scale, p->softcap};
  for (int64_t i = 0; i < tq; i++) {
    int64_t lo, hi;
    tk_ref_visible(p, i, tq, tk, &lo, &hi);
    r.q = tk_at(&p->q, b, i, h, 0);
    double lse = tk_ref_attend_row(&r, lo, hi, logits, acc);
    for (int64_t d = 0; d < p->Dv; d++)
      tk_store_f32(tk_at(&p->out, b, i, h, d), p->out.dtype, (float)acc[d]);
    if (p->lse.present) tk_store_f32(tk_at(&p->lse, b, h, i, 0), p->lse.dtype, (float)lse);
  }
}

tk_status tk_ref_attention(const tk_attention_problem *p, tk_pool *pool) {
  int64_t nw = tk_ref_workers(pool);
  attn_job job = {p, malloc(sizeof(double) * (size_t)(nw * (p->Tk + p->Dv) + 1)),
                  malloc(sizeof(void *) * (size_t)(nw * 2 * p->Tk + 1))};
  if (!job.dbuf || !job.pbuf) {
    free(job.dbuf);
    free(job.pbuf);
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "attention (reference): no memory for scratch");
  }
  tk_ref_run(pool, p->B * p->Hq, attn_task, &job);
  free(job.dbuf);
  free(job.pbuf);
  return TK_OK;
}
