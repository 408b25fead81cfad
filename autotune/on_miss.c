/* on_miss.c: sweeping a missed shape on the caller's data (targets from
 * on_miss_target.h) and storing the best in the cache file and the map. */
#include "autotune/on_miss.h"

#include <stdio.h>

#include "cache/cache.h"
#include "runtime/status.h"
#include "autotune/on_miss_target.h"
#include "autotune/sweep.h"
#include "autotune/tuned_map.h"

/* Sweeps t into the cache under the fingerprint of p's device and puts the
 * best in ctx's map; the caller holds no map lock. */
static tk_status sweep_and_store(tk_context *ctx, const tk_problem *p, const tk_sweep_target *t,
                                 const char *key, tk_choice *out) {
  char fp[512];
  const int slot = tk_problem_device_slot(ctx, p, fp, sizeof fp);
  tk_cache *cache;
  tk_status s = tk_cache_open(ctx->cache_path, TK_CACHE_CREATE, 0, &cache);
  if (s != TK_OK) return s;
  tk_sweep_options o = tk_sweep_defaults();
  tk_sweep_summary sum;
  s = tk_sweep_problem(ctx, cache, fp, t, &o, &sum);
  tk_cache_close(cache);
  if (s != TK_OK) return s;
  if (!sum.have_best) return tk_fail(TK_ERR_INTERNAL, "tune on miss: no candidate of %s passed", key);
  tk_log(TK_LOG_INFO, "tuned on miss: %s -> %s %s (%.3g us, %d candidates)", key, sum.best_impl,
         sum.best_config, sum.best_ns / 1e3, sum.candidates);
  if (!tk_tuned_map_put(ctx->tuned, slot, key, sum.best_impl, sum.best_config))
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "tune on miss: out of memory");
  if (!tk_tuned_map_find(ctx->tuned, ctx, slot, key, p, out))
    return tk_fail(TK_ERR_INTERNAL, "tune on miss: the tuned choice of %s is not usable", key);
  return TK_OK;
}

/* Builds the target of p and sweeps it; the caller holds ctx->tune_lock. */
static tk_status sweep_target(tk_context *ctx, const tk_problem *p, const char *key, tk_choice *out) {
  on_miss_target d = {0};
  tk_sweep_target t;
  tk_status s = p->device_type == kDLCUDA ? tk_on_miss_cuda_target(ctx, p, &d, &t)
                                          : tk_on_miss_host_target(ctx, p, &d, &t);
  if (s == TK_OK) s = sweep_and_store(ctx, p, &t, key, out);
  tk_on_miss_release(&d);
  return s;
}

tk_status tk_tune_on_miss(tk_context *ctx, const tk_problem *p, tk_choice *out) {
  char key[TK_TUNED_KEY_MAX];
  if (tk_problem_key(p, key, sizeof key) >= (int)sizeof key)
    return tk_fail(TK_ERR_UNSUPPORTED, "tune on miss: the problem key is longer than %d bytes",
                   TK_TUNED_KEY_MAX - 1);
  const int slot = tk_problem_device_slot(ctx, p, NULL, 0);
  pthread_mutex_lock(&ctx->tune_lock);
  tk_choice tuned;
  tk_status s = tk_tuned_map_find(ctx->tuned, ctx, slot, key, p, &tuned) &&
                        tuned.source == TK_CHOICE_CACHE
                    ? TK_OK
                    : sweep_target(ctx, p, key, &tuned);
  pthread_mutex_unlock(&ctx->tune_lock);
  if (s == TK_OK) *out = tuned;
  return s;
}
