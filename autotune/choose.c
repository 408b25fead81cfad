/* choose.c: which implementation and config run a problem, and running it. */
#include "choose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/runtime/status.h"
#include "config.h"
#include "fault.h"
#include "measure.h"
#include "on_miss.h"
#include "tuned_map.h"
#if TK_HAVE_CUDA
#include "../impls/cuda/cuda_memory.h"
#endif

int tk_impl_can_run(tk_context *ctx, const tk_impl *impl, const tk_problem *p, char *why,
                    size_t why_len) {
  if (impl->backend == TK_BACKEND_CPU && p->device_type != kDLCPU) {
    snprintf(why, why_len, "runs on CPU tensors only");
    return 0;
  }
  if (impl->backend == TK_BACKEND_CUDA) {
    if (p->device_type != kDLCUDA) {
      snprintf(why, why_len, "runs on CUDA tensors only");
      return 0;
    }
    if (ctx->dev.cuda_device_count == 0) {
      snprintf(why, why_len, "unsupported: no CUDA device (%s)", ctx->dev.cuda_status);
      return 0;
    }
    if (p->device_id < 0 || p->device_id >= ctx->dev.cuda_device_count) {
      snprintf(why, why_len, "no CUDA device %d (%d present)", p->device_id,
               ctx->dev.cuda_device_count);
      return 0;
    }
  }
  return impl->supports(p, &ctx->dev, why, why_len);
}

/* Appends "name: why" to the reasons gathered for the error message. */
static void add_reason(char *buf, size_t len, const char *name, const char *why) {
  size_t used = strlen(buf);
  if (used < len) snprintf(buf + used, len - used, "%s%s: %s", used ? "; " : "", name, why);
}

/* Picks from the comma-separated list `names`: the first that can run. */
static tk_status choose_forced(tk_context *ctx, const tk_problem *p, const char *names,
                               const tk_impl **out) {
  char reasons[1024] = "";
  const char *cur = names;
  while (*cur) {
    while (*cur == ' ' || *cur == ',') cur++;
    size_t len = strcspn(cur, ",");
    while (len && cur[len - 1] == ' ') len--;
    if (len == 0) break;
    char name[64];
    if (len >= sizeof name)
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: impl name '%.*s...' is too long",
                     tk_op_name(p->op), 20, cur);
    memcpy(name, cur, len);
    name[len] = '\0';
    const tk_impl *impl = tk_registry_find(p->op, name);
    if (!impl)
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: impl '%s' is not an implementation of this op",
                     tk_op_name(p->op), name);
    char why[256] = "";
    if (tk_impl_can_run(ctx, impl, p, why, sizeof why)) {
      *out = impl;
      return TK_OK;
    }
    add_reason(reasons, sizeof reasons, name, why);
    cur += strcspn(cur, ",");
  }
  if (!reasons[0])
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: impl \"%s\" names no implementation",
                   tk_op_name(p->op), names);
  return tk_fail(TK_ERR_UNSUPPORTED, "%s: no implementation named in \"%s\" runs this problem: %s",
                 tk_op_name(p->op), names, reasons);
}

/* Picks the first implementation of the op's list that can run p. */
static tk_status choose_auto(tk_context *ctx, const tk_problem *p, const tk_impl **out) {
  int n;
  const tk_impl *const *list = tk_registry(p->op, &n);
  char reasons[1024] = "";
  for (int i = 0; i < n; i++) {
    char why[256] = "";
    if (tk_impl_can_run(ctx, list[i], p, why, sizeof why)) {
      *out = list[i];
      return TK_OK;
    }
    add_reason(reasons, sizeof reasons, list[i]->name, why);
  }
  return tk_fail(TK_ERR_UNSUPPORTED, "%s: no implementation runs this problem here: %s",
                 tk_op_name(p->op), reasons);
}

tk_status tk_choose_untuned(tk_context *ctx, const tk_problem *p, tk_choice *out) {
  tk_choice c = {0};
  tk_status s = choose_auto(ctx, p, &c.impl);
  if (s != TK_OK) return s;
  c.impl->heuristic(p, &ctx->dev, &c.cfg);
  c.source = TK_CHOICE_HEURISTIC;
  *out = c;
  return TK_OK;
}

int tk_problem_device_slot(const tk_context *ctx, const tk_problem *p, char *fp, size_t fp_len) {
  int cuda = p->device_type == kDLCUDA && p->device_id >= 0 &&
             p->device_id < ctx->dev.cuda_device_count;
  if (fp && cuda) tk_device_fingerprint_cuda(&ctx->dev, p->device_id, fp, fp_len);
  if (fp && !cuda) tk_device_fingerprint_cpu(&ctx->dev, fp, fp_len);
  return cuda ? 1 + p->device_id : 0;
}

/* The automatic choice: tuned (exact or nearest), else swept now under
 * TK_TUNE_ON_MISS, else untuned. A problem met before costs no key text
 * unless it is swept (tk_tuned_map_lookup). */
static tk_status choose_tuned(tk_context *ctx, const tk_problem *p, tk_choice *out) {
  const int slot = tk_problem_device_slot(ctx, p, NULL, 0);
  *out = (tk_choice){0};
  int found = tk_tuned_map_lookup(ctx->tuned, ctx, slot, p, out);
  if (found < 0) return tk_choose_untuned(ctx, p, out); /* key too long to be tuned */
  if (found && out->source == TK_CHOICE_CACHE) return TK_OK;
  if (ctx->tune == TK_TUNE_ON_MISS && p->has_data) {
    char key[TK_TUNED_KEY_MAX];
    tk_problem_key(p, key, sizeof key); /* fits: the lookup did not answer -1 */
    pthread_mutex_lock(&ctx->tune_lock);
    tk_choice tuned;
    int hit = tk_tuned_map_find(ctx->tuned, ctx, slot, key, p, &tuned) &&
              tuned.source == TK_CHOICE_CACHE;
    tk_status s = hit ? TK_OK : tk_tune_on_miss(ctx, p, key, &tuned);
    pthread_mutex_unlock(&ctx->tune_lock);
    if (s == TK_OK) {
      *out = tuned;
      return TK_OK;
    }
    tk_log(TK_LOG_INFO, "tune on miss failed, using the %s choice: %s",
           out->impl ? "nearest" : "heuristic", tk_last_error());
    tk_clear_error();
  }
  if (out->impl && out->source == TK_CHOICE_NEAREST) return TK_OK;
  return tk_choose_untuned(ctx, p, out);
}

tk_status tk_choose(tk_context *ctx, const tk_problem *p, const tk_call_options *opts,
                    tk_choice *out) {
  const char *names = opts ? opts->impl : NULL;
  int forced_impl = names && names[0] && strcmp(names, "auto") != 0;
  tk_choice c = {0};
  tk_status s;
  if (forced_impl) {
    s = choose_forced(ctx, p, names, &c.impl);
    if (s != TK_OK) return s;
    c.impl->heuristic(p, &ctx->dev, &c.cfg);
    c.source = TK_CHOICE_FORCED;
  } else {
    s = choose_tuned(ctx, p, &c);
    if (s != TK_OK) return s;
  }
  if (opts && opts->config) {
    s = tk_config_parse(c.impl->space, p, opts->config, &c.cfg);
    if (s != TK_OK) {
      char msg[512];
      snprintf(msg, sizeof msg, "%s", tk_last_error());
      return tk_fail(s, "%s: %s (impl %s)", tk_op_name(p->op), msg, c.impl->name);
    }
    c.source = TK_CHOICE_FORCED;
  }
  *out = c;
  return TK_OK;
}

tk_status tk_execute(tk_context *ctx, const tk_problem *p, const tk_choice *c) {
  size_t ws_bytes = c->impl->workspace(p, &c->cfg);
  const int on_device = c->impl->backend == TK_BACKEND_CUDA;
  void *ws = NULL;
  if (ws_bytes && on_device) {
#if TK_HAVE_CUDA
    tk_status a = tk_cuda_workspace_alloc(p->device_id, ws_bytes, ctx->cuda_stream, &ws);
    if (a != TK_OK) return a;
#else
    return tk_fail(TK_ERR_INTERNAL, "%s: %s needs device workspace in a build without CUDA",
                   tk_op_name(p->op), c->impl->name);
#endif
  } else if (ws_bytes) {
    ws = aligned_alloc(64, (ws_bytes + 63) & ~(size_t)63);
    if (!ws)
      return tk_fail(TK_ERR_OUT_OF_MEMORY, "%s: %s could not allocate %zu bytes of workspace",
                     tk_op_name(p->op), c->impl->name, ws_bytes);
  }
  tk_exec ex = {ctx->pool, &ctx->dev, ctx->cuda_stream};
  const int fault = tk_fault_armed(c->impl);
  const double t0 = fault ? tk_now_ns() : 0;
  tk_status s = c->impl->run(p, &c->cfg, &ex, ws);
  if (fault && s == TK_OK) tk_fault_after_run(p, c->impl, tk_now_ns() - t0);
#if TK_HAVE_CUDA
  if (on_device && ws) {
    tk_status f = tk_cuda_workspace_free(p->device_id, ws, ctx->cuda_stream);
    return s == TK_OK ? f : s;
  }
#endif
  free(ws);
  return s;
}

tk_status tk_dispatch(tk_context *ctx, const tk_problem *p, const tk_call_options *opts) {
  if (!ctx) return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: ctx is NULL", tk_op_name(p->op));
  tk_choice c;
  tk_status s = tk_choose(ctx, p, opts, &c);
  return s == TK_OK ? tk_execute(ctx, p, &c) : s;
}
