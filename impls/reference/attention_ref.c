/* attention_ref.c: reference attention (GQA, varlen, causal bottom-right,
 * sliding window, softcap, optional lse) in float64, one task per
 * (batch, query head). */
#include "runtime/half.h"
#include "runtime/status.h"
#include "impls/reference/reference.h"
#include "impls/reference/ref_internal.h"

typedef struct {
  const tk_attention_problem *p;
  tk_ref_row_scratch scratch; /* for Tk keys */
} attn_job;

/* Computes every valid query row of batch b, head h (task = b * Hq + h). */
static void attn_task(void *arg, int64_t task, int worker) {
  const attn_job *job = arg;
  const tk_attention_problem *p = job->p;
  int64_t b = task / p->Hq, h = task % p->Hq, hkv = h / (p->Hq / p->Hkv);
  int64_t tq, tk;
  tk_ref_lengths(p, b, &tq, &tk);
  double *logits = tk_ref_row_logits(&job->scratch, worker), *acc = logits + job->scratch.keys;
  const void **kp = tk_ref_row_keys(&job->scratch, worker), **vp = kp + job->scratch.keys;
  for (int64_t j = 0; j < tk; j++) {
    kp[j] = tk_at(&p->k, b, j, hkv, 0);
    vp[j] = tk_at(&p->v, b, j, hkv, 0);
  }
  tk_ref_row r = {NULL, p->q.stride[3], p->D, p->q.dtype, kp, p->k.stride[3], p->k.dtype,
                  vp, p->v.stride[3], p->Dv, p->v.dtype, p->scale, p->softcap, NULL, NULL};
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
  /* Scratch for Tk keys only when some task reads them: an empty problem
   * may have any Tk (its tensors hold no elements). */
  int64_t tasks = p->B * p->Hq;
  attn_job job = {p, {0}};
  tk_status st = tk_ref_row_scratch_alloc(&job.scratch, tk_ref_workers(pool), tasks ? p->Tk : 0,
                                          p->Dv, "attention");
  if (st != TK_OK) return st;
  tk_ref_run(pool, tasks, attn_task, &job);
  tk_ref_row_scratch_free(&job.scratch);
  return TK_OK;
}
