/* context.c: creating, describing and destroying a tk_context. */
#include "runtime/context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/fault.h"
#include "autotune/packs.h"
#include "autotune/tuned_map.h"
#include "runtime/json.h"
#include "runtime/status.h"

#define TK_MAX_THREADS 4096

/* A newly allocated a + b, or NULL when out of memory. */
static char *concat(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  char *s = malloc(na + nb + 1);
  if (!s) return NULL;
  memcpy(s, a, na);
  memcpy(s + na, b, nb + 1);
  return s;
}

/* The environment variable's value, NULL when unset or empty. */
static const char *env(const char *name) {
  const char *v = getenv(name);
  return v && v[0] ? v : NULL;
}

/* The tuning cache path (allocated): the option, else $TOKAMAX_CACHE, else
 * $XDG_CACHE_HOME/tokamax/tune.db, else $HOME/.cache/tokamax/tune.db, else
 * ":memory:". NULL when out of memory. Creates nothing. */
static char *resolve_cache_path(const char *option) {
  const char *v;
  if (option) return strdup(option);
  if ((v = env("TOKAMAX_CACHE"))) return strdup(v);
  if ((v = env("XDG_CACHE_HOME"))) return concat(v, "/tokamax/tune.db");
  if ((v = env("HOME"))) return concat(v, "/.cache/tokamax/tune.db");
  return strdup(":memory:");
}

/* Checks the options; TK_ERR_INVALID_ARGUMENT naming the bad field. */
static tk_status check_options(const tk_context_options *o) {
  if (o->num_threads < 0 || o->num_threads > TK_MAX_THREADS)
    return tk_fail(TK_ERR_INVALID_ARGUMENT,
                   "tk_context_create: num_threads is %d; must be 0 (one per physical core) to %d",
                   o->num_threads, TK_MAX_THREADS);
  if (o->tune != TK_TUNE_OFF && o->tune != TK_TUNE_ON_MISS)
    return tk_fail(TK_ERR_INVALID_ARGUMENT,
                   "tk_context_create: tune is %d; must be TK_TUNE_OFF (0) or TK_TUNE_ON_MISS (1)",
                   o->tune);
  if (o->cache_path && !o->cache_path[0])
    return tk_fail(TK_ERR_INVALID_ARGUMENT,
                   "tk_context_create: cache_path is empty; pass NULL for the default");
  return TK_OK;
}

/* The tuned choices of this machine's CPU and CUDA devices in the cache
 * (autotune/tuned_map.h), then under them those of the tuned packs found
 * for them (autotune/packs.h); NULL only when out of memory. */
static struct tk_tuned_map *load_tuned(const tk_context *ctx) {
  char fps[1 + TK_MAX_CUDA_DEVICES][512];
  const char *names[1 + TK_MAX_CUDA_DEVICES];
  tk_device_fingerprint_cpu(&ctx->dev, fps[0], sizeof fps[0]);
  names[0] = fps[0];
  for (int i = 0; i < ctx->dev.cuda_device_count; i++) {
    tk_device_fingerprint_cuda(&ctx->dev, i, fps[1 + i], sizeof fps[0]);
    names[1 + i] = fps[1 + i];
  }
  struct tk_tuned_map *m = tk_tuned_map_load(ctx->cache_path, names, 1 + ctx->dev.cuda_device_count);
  if (m && !tk_packs_load(m, names, 1 + ctx->dev.cuda_device_count)) {
    tk_tuned_map_free(m);
    return NULL;
  }
  return m;
}

tk_status tk_context_create(const tk_context_options *opts, tk_context **out) {
  tk_clear_error();
  const tk_context_options defaults = {NULL, 0, TK_TUNE_OFF, NULL};
  if (!opts) opts = &defaults;
  if (!out) return tk_fail(TK_ERR_INVALID_ARGUMENT, "tk_context_create: out is NULL");
  tk_status s = check_options(opts);
  if (s != TK_OK) return s;

  tk_fault_init();
  tk_context *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return tk_fail(TK_ERR_OUT_OF_MEMORY, "tk_context_create: out of memory");
  tk_device_detect(&ctx->dev);
  ctx->num_threads = opts->num_threads ? opts->num_threads : ctx->dev.physical_cores;
  if (ctx->num_threads < 1) ctx->num_threads = 1;
  ctx->tune = opts->tune;
  ctx->cuda_stream = opts->cuda_stream;
  ctx->cache_path = resolve_cache_path(opts->cache_path);
  if (!ctx->cache_path) {
    free(ctx);
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "tk_context_create: out of memory");
  }
  s = tk_pool_create(ctx->num_threads, 1, &ctx->pool);
  if (s != TK_OK) {
    free(ctx->cache_path);
    free(ctx);
    return tk_fail(s, "tk_context_create: %s", tk_last_error());
  }
  ctx->tuned = load_tuned(ctx);
  if (!ctx->tuned) {
    tk_pool_destroy(ctx->pool);
    free(ctx->cache_path);
    free(ctx);
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "tk_context_create: out of memory");
  }
  pthread_mutex_init(&ctx->tune_lock, NULL);
  tk_log(TK_LOG_INFO, "context: %d threads, cache %s, isa 0x%x, %d CUDA devices",
         ctx->num_threads, ctx->cache_path, ctx->dev.isa, ctx->dev.cuda_device_count);
  *out = ctx;
  return TK_OK;
}

void tk_context_destroy(tk_context *ctx) {
  tk_clear_error();
  if (!ctx) return;
  tk_pool_destroy(ctx->pool);
  tk_tuned_map_free(ctx->tuned);
  pthread_mutex_destroy(&ctx->tune_lock);
  free(ctx->cache_path);
  free(ctx);
}

int tk_context_num_threads(const tk_context *ctx) { return ctx ? ctx->num_threads : 0; }

/* The fields describe adds after the device's own: written over the device
 * object's closing brace. */
static size_t describe_tail(const tk_context *ctx, char *buf, size_t len) {
  tk_text t = tk_text_init(buf, len);
  tk_text_printf(&t, ",\"num_threads\":%d,\"cache_path\":", ctx->num_threads);
  tk_text_json_string(&t, ctx->cache_path);
  tk_text_printf(&t, ",\"tuned_shapes\":%d", tk_tuned_map_size(ctx->tuned));
  tk_text_printf(&t, ",\"pack_shapes\":%d", tk_tuned_map_pack_size(ctx->tuned));
  tk_text_printf(&t, "}");
  return t.need;
}

tk_status tk_context_describe(tk_context *ctx, char *buf, size_t len) {
  tk_clear_error();
  if (!ctx) return tk_fail(TK_ERR_INVALID_ARGUMENT, "tk_context_describe: ctx is NULL");
  const size_t dev_len = (size_t)tk_device_json(&ctx->dev, NULL, 0);
  const size_t need = dev_len - 1 + describe_tail(ctx, NULL, 0) + 1; /* with the NUL */
  if (!buf || len < need)
    return tk_fail(TK_ERR_INVALID_ARGUMENT,
                   "tk_context_describe: buf holds %zu bytes; %zu are needed", buf ? len : 0,
                   need);
  tk_device_json(&ctx->dev, buf, len);
  describe_tail(ctx, buf + dev_len - 1, len - (dev_len - 1));
  return TK_OK;
}
