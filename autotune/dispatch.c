/* dispatch.c: choose, tune on a miss, force a config, log, execute. */
#include "autotune/dispatch.h"

#include "autotune/execute.h"
#include "autotune/on_miss.h"
#include "runtime/status.h"

/* Why c was chosen, for the dispatch log. */
static const char *reason(const tk_context *ctx, const tk_problem *p, const tk_call_options *opts,
                          const tk_choice *c, int tuned_now) {
  if (tuned_now) return "tuned on a miss (TK_TUNE_ON_MISS) and stored";
  switch (c->source) {
    case TK_CHOICE_FORCED:
      return opts && opts->config ? "the call's options force the config" : "the call's options name the impl";
    case TK_CHOICE_CACHE: return "exact tuned entry for this shape";
    case TK_CHOICE_NEAREST: return "nearest tuned shape of the same family";
    case TK_CHOICE_PACK: return "exact entry of a tuned pack for this device class";
    case TK_CHOICE_HEURISTIC: break;
  }
  if (ctx->tune == TK_TUNE_ON_MISS && p->has_data) return "nothing tuned and tuning on the miss failed";
  return "nothing tuned for this shape: the first runnable impl's heuristic";
}

tk_status tk_dispatch(tk_context *ctx, const tk_problem *p, const tk_call_options *opts) {
  if (!ctx) return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: ctx is NULL", tk_op_name(p->op));
  tk_choice c;
  tk_status s = tk_choose_impl(ctx, p, opts ? opts->impl : NULL, &c);
  if (s != TK_OK) return s;
  /* A missed shape (no exact entry, impl not forced) is tuned now when the
   * context asks for it and the call brings data. */
  int tuned_now = 0;
  if ((c.source == TK_CHOICE_NEAREST || c.source == TK_CHOICE_HEURISTIC) &&
      ctx->tune == TK_TUNE_ON_MISS && p->has_data) {
    tk_choice t;
    if (tk_tune_on_miss(ctx, p, &t) == TK_OK) {
      c = t;
      tuned_now = 1;
    } else {
      tk_log(TK_LOG_INFO, "tune on miss failed, using the %s choice: %s",
             c.source == TK_CHOICE_NEAREST ? "nearest" : "heuristic", tk_last_error());
      tk_clear_error();
    }
  }
  s = tk_choose_config(p, opts ? opts->config : NULL, &c);
  if (s != TK_OK) return s;
  if (tk_log_level() >= TK_LOG_DEBUG) tk_dispatch_log(ctx, p, opts, &c, reason(ctx, p, opts, &c, tuned_now));
  return tk_execute(ctx, p, &c);
}
