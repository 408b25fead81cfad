/* ref_attend_row.c: the keys an attention row sees, one query row of
 * (paged) attention in float64, and the scratch its callers give it. */
#include <math.h>
#include <stdlib.h>

#include "runtime/checked.h"
#include "runtime/half.h"
#include "impls/reference/ref_internal.h"

/* Element i of a vector starting at base, step elements apart. */
static float elem(const void *base, int64_t i, int64_t step, tk_dtype dt) {
  return tk_load_f32((const char *)base + i * step * tk_dtype_size(dt), dt);
}

double tk_ref_attend_row(const tk_ref_row *r, int64_t lo, int64_t hi, double *logits, double *acc) {
  for (int64_t d = 0; d < r->Dv; d++) acc[d] = 0.0;
  if (lo > hi) return -INFINITY;
  double max = -INFINITY;
  for (int64_t j = lo; j <= hi; j++) {
    double dot = 0.0;
    for (int64_t d = 0; d < r->D; d++)
      dot += (double)elem(r->q, d, r->q_step, r->q_dtype) * elem(r->k[j], d, r->k_step, r->k_dtype);
    if (r->k_scale) dot *= r->k_scale[j];
    double logit = r->scale * dot;
    if (r->softcap > 0) logit = r->softcap * tanh(logit / r->softcap);
    logits[j - lo] = logit;
    if (logit > max) max = logit;
  }
  double sum = 0.0;
  for (int64_t j = lo; j <= hi; j++) {
    double e = exp(logits[j - lo] - max), ev = r->v_scale ? e * r->v_scale[j] : e;
    sum += e;
    for (int64_t d = 0; d < r->Dv; d++) acc[d] += ev * elem(r->v[j], d, r->v_step, r->v_dtype);
  }
  for (int64_t d = 0; d < r->Dv; d++) acc[d] /= sum;
  return max + log(sum);
}

void tk_ref_visible(const tk_attention_problem *p, int64_t i, int64_t tq, int64_t tk, int64_t *lo,
                    int64_t *hi) {
  int64_t diag = i + (tk - tq);
  *lo = 0;
  *hi = tk - 1;
  if (p->causal && diag < *hi) *hi = diag;
  if (p->window_left >= 0 && diag - p->window_left > *lo) *lo = diag - p->window_left;
  if (p->window_right >= 0 && diag + p->window_right < *hi) *hi = diag + p->window_right;
}

void tk_ref_lengths(const tk_attention_problem *p, int64_t b, int64_t *tq, int64_t *tk) {
  *tq = p->q_lens.present ? tk_load_i32(&p->q_lens, b, 0) : p->Tq;
  *tk = p->kv_lens.present ? tk_load_i32(&p->kv_lens, b, 0) : p->Tk;
}

tk_status tk_ref_row_scratch_alloc(tk_ref_row_scratch *s, int64_t workers, int64_t keys,
                                   int64_t dv, const char *op) {
  int64_t nd, np;
  size_t dbytes = 0, pbytes = 0;
  s->keys = keys;
  s->dv = dv;
  s->d = NULL;
  s->ptr = NULL;
  if (tk_mul_add_fits(workers, keys + dv, 1, &nd) && tk_mul_add_fits(2 * workers, keys, 1, &np) &&
      tk_array_bytes_fit(nd, sizeof(double), &dbytes) &&
      tk_array_bytes_fit(np, sizeof(void *), &pbytes)) {
    s->d = malloc(dbytes);
    s->ptr = malloc(pbytes);
  }
  if (s->d && s->ptr) return TK_OK;
  tk_ref_row_scratch_free(s);
  return tk_fail(TK_ERR_OUT_OF_MEMORY, "%s (reference): no memory for scratch", op);
}

void tk_ref_row_scratch_free(tk_ref_row_scratch *s) {
  free(s->d);
  free((void *)s->ptr);
  s->d = NULL;
  s->ptr = NULL;
}
