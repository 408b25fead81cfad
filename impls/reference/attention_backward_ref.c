/* attention_backward_ref.c: reference attention backward in float64, one
 * task per (batch, kv head), which owns that head's dk and dv and the dq
 * rows of its query heads. With z = scale * q.k, s = softcap * tanh(z /
 * softcap) (or z), P = exp(s - lse), dP = dout . v, Drow = dout . out:
 *   dv_j += P_ij dout_i,  dS_ij = P_ij (dP_ij - Drow_i) ds/dz,
 *   dq_i += scale dS_ij k_j,  dk_j += scale dS_ij q_i. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "impls/reference/ref_internal.h"
#include "impls/reference/reference.h"
#include "runtime/checked.h"
#include "runtime/half.h"
#include "runtime/status.h"

typedef struct {
  const tk_attention_backward_problem *p;
  double *scratch; /* per worker: dk [Tk][D], dv [Tk][Dv], dq [D] */
} bwd_job;

/* Element d of the head vector of t at (i0, i1, i2). */
static double at(const tk_tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t d) {
  return tk_load_f32(tk_at(t, i0, i1, i2, d), t->dtype);
}

/* q_i . k_j of batch b, heads h / hkv. */
static double dot_qk(const tk_attention_problem *f, int64_t b, int64_t i, int64_t h, int64_t j,
                     int64_t hkv) {
  double s = 0;
  for (int64_t d = 0; d < f->D; d++) s += at(&f->q, b, i, h, d) * at(&f->k, b, j, hkv, d);
  return s;
}

/* The gradients of every row of head h of batch b into dq (stored) and
 * the accumulators dk, dv of its kv head. */
static void head_rows(const tk_attention_backward_problem *p, int64_t b, int64_t h, int64_t hkv,
                      double *dk, double *dv, double *dq) {
  const tk_attention_problem *f = &p->fwd;
  int64_t tq, tk;
  tk_ref_lengths(f, b, &tq, &tk);
  const double c = f->softcap;
  for (int64_t i = 0; i < tq; i++) {
    int64_t lo, hi;
    tk_ref_visible(f, i, tq, tk, &lo, &hi);
    memset(dq, 0, sizeof(double) * (size_t)f->D);
    const double lse = tk_load_f32(tk_at(&f->lse, b, h, i, 0), TK_F32);
    double drow = 0;
    for (int64_t d = 0; lo <= hi && d < f->Dv; d++)
      drow += at(&p->dout, b, i, h, d) * at(&f->out, b, i, h, d);
    for (int64_t j = lo; j <= hi; j++) {
      double s = f->scale * dot_qk(f, b, i, h, j, hkv), slope = 1;
      if (c > 0) {
        s = c * tanh(s / c);
        slope = 1 - (s / c) * (s / c);
      }
      const double pr = exp(s - lse);
      double dp = 0;
      for (int64_t d = 0; d < f->Dv; d++) {
        const double g = at(&p->dout, b, i, h, d);
        dp += g * at(&f->v, b, j, hkv, d);
        dv[j * f->Dv + d] += pr * g;
      }
      const double ds = pr * (dp - drow) * slope * f->scale;
      for (int64_t d = 0; d < f->D; d++) {
        dq[d] += ds * at(&f->k, b, j, hkv, d);
        dk[j * f->D + d] += ds * at(&f->q, b, i, h, d);
      }
    }
    for (int64_t d = 0; d < f->D; d++) tk_store_f32(tk_at(&p->dq, b, i, h, d), p->dq.dtype, (float)dq[d]);
  }
}

/* Task b * Hkv + hkv: dk, dv of that kv head (zero past kv_len) and the dq
 * rows of its query heads. */
static void bwd_task(void *arg, int64_t task, int worker) {
  const bwd_job *job = arg;
  const tk_attention_backward_problem *p = job->p;
  const tk_attention_problem *f = &p->fwd;
  const int64_t b = task / f->Hkv, hkv = task % f->Hkv, G = f->Hq / f->Hkv;
  double *dk = job->scratch + (int64_t)worker * (f->Tk * (f->D + f->Dv) + f->D);
  double *dv = dk + f->Tk * f->D, *dq = dv + f->Tk * f->Dv;
  memset(dk, 0, sizeof(double) * (size_t)(f->Tk * (f->D + f->Dv)));
  for (int64_t g = 0; g < G; g++) head_rows(p, b, hkv * G + g, hkv, dk, dv, dq);
  for (int64_t j = 0; j < f->Tk; j++) {
    for (int64_t d = 0; d < f->D; d++)
      tk_store_f32(tk_at(&p->dk, b, j, hkv, d), p->dk.dtype, (float)dk[j * f->D + d]);
    for (int64_t d = 0; d < f->Dv; d++)
      tk_store_f32(tk_at(&p->dv, b, j, hkv, d), p->dv.dtype, (float)dv[j * f->Dv + d]);
  }
}

tk_status tk_ref_attention_backward(const tk_attention_backward_problem *p, tk_pool *pool) {
  const tk_attention_problem *f = &p->fwd;
  if (f->B * f->Hkv == 0) return TK_OK; /* no task (the extents may be huge) */
  int64_t n;
  size_t bytes = 0;
  bwd_job job = {p, NULL};
  if (tk_mul_add_fits(f->Tk, f->D + f->Dv, f->D, &n) && tk_mul_add_fits(n, tk_ref_workers(pool), 1, &n) &&
      tk_array_bytes_fit(n, sizeof(double), &bytes))
    job.scratch = malloc(bytes);
  if (!job.scratch)
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "attention_backward (reference): no memory for scratch");
  tk_ref_run(pool, f->B * f->Hkv, bwd_task, &job);
  free(job.scratch);
  return TK_OK;
}
