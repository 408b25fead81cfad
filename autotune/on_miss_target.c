/* on_miss_target.c: what the host and CUDA on-miss targets share: output
 * scratch, the reference run, the comparison, and the release. */
#include "autotune/on_miss_target.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/half.h"
#include "runtime/status.h"
#include "autotune/tolerance.h"
#if TK_HAVE_CUDA
#include "runtime/cuda/cuda_memory.h"
#include "runtime/cuda/cuda_timer.h"
#endif

int tk_on_miss_layout(on_miss_target *d, tk_context *ctx, const tk_problem *p) {
  memset(d, 0, sizeof *d);
  d->ctx = ctx;
  d->cand = d->ref = *p;
  d->n_out = tk_problem_outputs(&d->cand, d->cand_out);
  tk_problem_outputs(&d->ref, d->ref_out);
  for (int i = 0; i < d->n_out; i++) d->cand_out[i]->data = d->ref_out[i]->data = NULL;
  for (int i = 0; i < d->n_out; i++) {
    const tk_tensor *t = d->cand_out[i];
    d->out_bytes[i] = (size_t)(tk_tensor_extent(t) * tk_dtype_size(t->dtype));
    d->initial[i] = malloc(d->out_bytes[i] + 1);
    d->ref_out[i]->data = malloc(d->out_bytes[i] + 1);
    if (!d->initial[i] || !d->ref_out[i]->data) return 0;
  }
  return 1;
}

tk_status tk_on_miss_run_reference(on_miss_target *d) {
  for (int i = 0; i < d->n_out; i++) memcpy(d->ref_out[i]->data, d->initial[i], d->out_bytes[i]);
  tk_choice rc = {tk_registry_find(d->ref.op, "reference"), {{0}}, TK_CHOICE_FORCED};
  tk_config_heuristic(rc.impl, &d->ref, &d->ctx->dev, &rc.cfg);
  return tk_execute(d->ctx, &d->ref, &rc);
}

/* Largest error of got against want (bytes of dtype), or INFINITY on a
 * mismatch that tolerance cannot excuse (NaN, integers); *right as in
 * tk_on_miss_compare. */
static double compare_one(const void *got, const void *want, tk_dtype dtype, size_t bytes,
                          int *right) {
  const int64_t es = tk_dtype_size(dtype), n = (int64_t)bytes / es;
  if (dtype == TK_I32) {
    *right = memcmp(got, want, bytes) == 0;
    return *right ? 0 : INFINITY;
  }
  double sq = 0, loose, tight, worst = 0;
  for (int64_t i = 0; i < n; i++) {
    double e = tk_load_f32((const char *)want + i * es, dtype);
    if (isfinite(e)) sq += e * e;
  }
  const double scale = fmax(1.0, sqrt(sq / (double)(n ? n : 1)));
  tk_tolerance(dtype, &loose, &tight);
  int64_t over_tight = 0;
  for (int64_t i = 0; i < n; i++) {
    double a = tk_load_f32((const char *)got + i * es, dtype);
    double e = tk_load_f32((const char *)want + i * es, dtype);
    if (!isfinite(e) || !isfinite(a)) {
      if (!(a == e || (isnan(a) && isnan(e)))) worst = INFINITY;
      continue;
    }
    double err = fabs(a - e) / fmax(fabs(e), scale);
    over_tight += err > tight;
    if (err > worst) worst = err;
  }
  *right = worst <= loose && over_tight <= n / 100 + 1;
  return worst;
}

int tk_on_miss_compare(const on_miss_target *d, void *const *got, double *max_err, char *why,
                       size_t why_len) {
  int right = 1;
  *max_err = 0;
  for (int i = 0; i < d->n_out && right; i++) {
    double e = compare_one(got[i], d->ref_out[i]->data, d->ref_out[i]->dtype, d->out_bytes[i], &right);
    if (e > *max_err) *max_err = e;
    if (!right) snprintf(why, why_len, "output %d differs from the reference (error %.3g)", i, e);
  }
  return right;
}

void tk_on_miss_release(on_miss_target *d) {
  for (int i = 0; i < d->n_out; i++) {
    free(d->initial[i]);
    free(d->got[i]);
    free(d->ref_out[i]->data);
#if TK_HAVE_CUDA
    if (d->cand.device_type == kDLCUDA) tk_cuda_free(d->cand.device_id, d->cand_out[i]->data);
#endif
  }
  for (int i = 0; i < d->n_in; i++) free(d->host_in[i]);
#if TK_HAVE_CUDA
  tk_cuda_timer_destroy(d->timer);
#endif
  memset(d, 0, sizeof *d);
}
