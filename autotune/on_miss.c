/* on_miss.c: the sweep target built from the caller's data. */
#include "on_miss.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cache/cache.h"
#include "../kernels/runtime/half.h"
#include "../kernels/runtime/status.h"
#include "sweep.h"
#include "tolerance.h"
#include "tuned_map.h"

typedef struct {
  const tk_problem *user;   /* the caller's problem: its outputs are the initial contents */
  tk_problem cand, ref;     /* copies writing to scratch */
  int n_out;
  tk_tensor *cand_out[TK_MAX_OUTPUTS], *ref_out[TK_MAX_OUTPUTS];
  size_t bytes[TK_MAX_OUTPUTS];
  tk_context *ctx;
} target_data;

/* Resets the candidate's scratch outputs to the caller's output contents. */
static void reset_outputs(target_data *d) {
  tk_problem tmp = *d->user;
  tk_tensor *src[TK_MAX_OUTPUTS];
  tk_problem_outputs(&tmp, src);
  for (int i = 0; i < d->n_out; i++) memcpy(d->cand_out[i]->data, src[i]->data, d->bytes[i]);
}

/* Largest error of got against want over the extent of t, or INFINITY on
 * a mismatch that tolerance cannot excuse (NaN, integers). */
static double compare(const tk_tensor *got, const tk_tensor *want, size_t bytes, int *right) {
  const int64_t n = (int64_t)bytes / tk_dtype_size(got->dtype);
  if (got->dtype == TK_I32) {
    *right = memcmp(got->data, want->data, bytes) == 0;
    return *right ? 0 : INFINITY;
  }
  double sq = 0, loose, tight, worst = 0;
  for (int64_t i = 0; i < n; i++) {
    double e = tk_load_f32((const char *)want->data + i * tk_dtype_size(want->dtype), want->dtype);
    if (isfinite(e)) sq += e * e;
  }
  const double scale = fmax(1.0, sqrt(sq / (double)(n ? n : 1)));
  tk_tolerance(got->dtype, &loose, &tight);
  int64_t over_tight = 0;
  for (int64_t i = 0; i < n; i++) {
    double a = tk_load_f32((const char *)got->data + i * tk_dtype_size(got->dtype), got->dtype);
    double e = tk_load_f32((const char *)want->data + i * tk_dtype_size(want->dtype), want->dtype);
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

static tk_status check(void *user, const tk_choice *c, int *right, double *max_err, char *why,
                       size_t why_len) {
  target_data *d = user;
  reset_outputs(d);
  tk_status s = tk_execute(d->ctx, &d->cand, c);
  if (s != TK_OK) return s;
  *right = 1;
  *max_err = 0;
  for (int i = 0; i < d->n_out && *right; i++) {
    double e = compare(d->cand_out[i], d->ref_out[i], d->bytes[i], right);
    if (e > *max_err) *max_err = e;
    if (!*right) snprintf(why, why_len, "output %d differs from the reference (error %.3g)", i, e);
  }
  return TK_OK;
}

static tk_status run(void *user, const tk_choice *c, int rep, double *self_ns) {
  (void)rep;
  (void)self_ns;
  target_data *d = user;
  return tk_execute(d->ctx, &d->cand, c);
}

/* Points the outputs of d->cand and d->ref at new scratch buffers holding
 * the caller's output contents; 0 when out of memory. */
static int make_scratch(target_data *d) {
  tk_problem user = *d->user;
  tk_tensor *src[TK_MAX_OUTPUTS];
  d->n_out = tk_problem_outputs(&user, src);
  tk_problem_outputs(&d->cand, d->cand_out);
  tk_problem_outputs(&d->ref, d->ref_out);
  for (int i = 0; i < d->n_out; i++) d->cand_out[i]->data = d->ref_out[i]->data = NULL;
  for (int i = 0; i < d->n_out; i++) {
    d->bytes[i] = (size_t)(tk_tensor_extent(src[i]) * tk_dtype_size(src[i]->dtype));
    void *a = malloc(d->bytes[i] + 1), *b = malloc(d->bytes[i] + 1);
    d->cand_out[i]->data = a;
    d->ref_out[i]->data = b;
    if (!a || !b) return 0;
    memcpy(a, src[i]->data, d->bytes[i]);
    memcpy(b, src[i]->data, d->bytes[i]);
  }
  return 1;
}

static void free_scratch(target_data *d) {
  for (int i = 0; i < d->n_out; i++) {
    free(d->cand_out[i]->data);
    free(d->ref_out[i]->data);
  }
}

/* The reference's output in d->ref. */
static tk_status run_reference(target_data *d) {
  tk_choice rc = {tk_registry_find(d->ref.op, "reference"), {0}, TK_CHOICE_FORCED};
  rc.impl->heuristic(&d->ref, &d->ctx->dev, &rc.cfg);
  return tk_execute(d->ctx, &d->ref, &rc);
}

/* Sweeps with the target and stores the result; caller holds no lock. */
static tk_status sweep_and_store(tk_context *ctx, target_data *d, const char *key, tk_choice *out) {
  char fp[512];
  tk_device_fingerprint_cpu(&ctx->dev, fp, sizeof fp);
  tk_cache *cache;
  tk_status s = tk_cache_open(ctx->cache_path, TK_CACHE_CREATE, 0, &cache);
  if (s != TK_OK) return s;
  tk_sweep_target t = {&d->cand, d, check, run};
  tk_sweep_options o = tk_sweep_defaults();
  tk_sweep_summary sum;
  s = tk_sweep_problem(ctx, cache, fp, &t, &o, &sum);
  tk_cache_close(cache);
  if (s != TK_OK) return s;
  if (!sum.have_best) return tk_fail(TK_ERR_INTERNAL, "tune on miss: no candidate of %s passed", key);
  tk_log(TK_LOG_INFO, "tuned on miss: %s -> %s %s (%.3g us, %d candidates)", key, sum.best_impl,
         sum.best_config, sum.best_ns / 1e3, sum.candidates);
  if (!tk_tuned_map_put(ctx->tuned, 0, key, sum.best_impl, sum.best_config))
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "tune on miss: out of memory");
  if (!tk_tuned_map_find(ctx->tuned, ctx, 0, key, &d->cand, out))
    return tk_fail(TK_ERR_INTERNAL, "tune on miss: the tuned choice of %s is not usable", key);
  return TK_OK;
}

tk_status tk_tune_on_miss(tk_context *ctx, const tk_problem *p, const char *key, tk_choice *out) {
  if (p->device_type != kDLCPU)
    return tk_fail(TK_ERR_UNSUPPORTED, "tune on miss: only CPU problems are swept in-process; "
                                       "tune CUDA shapes with `tokamax-tune sweep`");
  target_data d = {p, *p, *p, 0, {0}, {0}, {0}, ctx};
  tk_status s = make_scratch(&d) ? run_reference(&d)
                                 : tk_fail(TK_ERR_OUT_OF_MEMORY, "tune on miss: out of memory");
  if (s == TK_OK) s = sweep_and_store(ctx, &d, key, out);
  free_scratch(&d);
  return s;
}
