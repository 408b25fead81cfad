/* choose.c: forced, tuned and heuristic choices of implementation and
 * config. */
#include "autotune/choose.h"

#include <stdio.h>
#include <string.h>

#include "autotune/tuned_map.h"
#include "runtime/name_list.h"
#include "runtime/status.h"

/* Appends "name: why" to the reasons gathered for the error message. */
static void add_reason(char *buf, size_t len, const char *name, const char *why) {
  size_t used = strlen(buf);
  if (used < len) snprintf(buf + used, len - used, "%s%s: %s", used ? "; " : "", name, why);
}

/* Picks from the comma-separated list `names`: the first that can run. */
static tk_status choose_forced(tk_context *ctx, const tk_problem *p, const char *names,
                               const tk_impl **out) {
  char reasons[1024] = "", name[64];
  tk_name_iter it = tk_name_iter_init(names);
  int named = 0;
  while (tk_name_next(&it, name, sizeof name)) {
    if (it.truncated)
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: impl name '%.20s...' is too long",
                     tk_op_name(p->op), name);
    const tk_impl *impl = tk_registry_find(p->op, name);
    if (!impl)
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: impl '%s' is not an implementation of this op",
                     tk_op_name(p->op), name);
    named = 1;
    char why[256] = "";
    if (tk_impl_can_run(ctx, impl, p, why, sizeof why)) {
      *out = impl;
      return TK_OK;
    }
    add_reason(reasons, sizeof reasons, name, why);
  }
  if (!named)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: impl \"%s\" names no implementation",
                   tk_op_name(p->op), names);
  return tk_fail(TK_ERR_UNSUPPORTED, "%s: no implementation named in \"%s\" runs this problem: %s",
                 tk_op_name(p->op), names, reasons);
}

/* Picks the first implementation of the op's list that can run p. */
static tk_status choose_first(tk_context *ctx, const tk_problem *p, const tk_impl **out) {
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
  tk_status s = choose_first(ctx, p, &c.impl);
  if (s != TK_OK) return s;
  tk_config_heuristic(c.impl, p, &ctx->dev, &c.cfg);
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

tk_status tk_choose_impl(tk_context *ctx, const tk_problem *p, const char *impls, tk_choice *out) {
  if (impls && impls[0] && strcmp(impls, "auto") != 0) {
    tk_choice c = {0};
    tk_status s = choose_forced(ctx, p, impls, &c.impl);
    if (s != TK_OK) return s;
    tk_config_heuristic(c.impl, p, &ctx->dev, &c.cfg);
    c.source = TK_CHOICE_FORCED;
    *out = c;
    return TK_OK;
  }
  /* A problem met before costs no key text (tk_tuned_map_lookup). */
  *out = (tk_choice){0};
  if (tk_tuned_map_lookup(ctx->tuned, ctx, tk_problem_device_slot(ctx, p, NULL, 0), p, out) == 1)
    return TK_OK;
  return tk_choose_untuned(ctx, p, out);
}

tk_status tk_choose_config(const tk_problem *p, const char *config, tk_choice *c) {
  if (!config) return TK_OK;
  tk_status s = tk_config_parse(c->impl->space, p, config, &c->cfg);
  if (s != TK_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", tk_last_error());
    return tk_fail(s, "%s: %s (impl %s)", tk_op_name(p->op), msg, c->impl->name);
  }
  c->source = TK_CHOICE_FORCED;
  return TK_OK;
}

tk_status tk_choose(tk_context *ctx, const tk_problem *p, const tk_call_options *opts,
                    tk_choice *out) {
  tk_choice c;
  tk_status s = tk_choose_impl(ctx, p, opts ? opts->impl : NULL, &c);
  if (s == TK_OK) s = tk_choose_config(p, opts ? opts->config : NULL, &c);
  if (s == TK_OK) *out = c;
  return s;
}
