/* plan.c: plans: a problem's implementation and config resolved once, run
 * many times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/dispatch.h"
#include "autotune/execute.h"
#include "runtime/status.h"

struct tk_plan {
  tk_context *ctx;
  tk_op op;
  tk_choice choice;
  char config[256];
  char key[1024];
};

/* Validates op and args for op and fills *p (need_data as for validation). */
static tk_status validate(tk_op op, const void *args, int need_data, tk_problem *p) {
  if ((unsigned)op >= TK_OP_COUNT)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "plan: op %d is not an op", (int)op);
  if (!args) return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: args is NULL", tk_op_name(op));
  return tk_problem_validate(op, args, need_data, p);
}

tk_status tk_plan_create(tk_context *ctx, tk_op op, const void *args, const tk_call_options *opts,
                         tk_plan **out) {
  tk_clear_error();
  if (!out) return tk_fail(TK_ERR_INVALID_ARGUMENT, "plan: out is NULL");
  if (!ctx) return tk_fail(TK_ERR_INVALID_ARGUMENT, "plan: ctx is NULL");
  tk_problem p;
  tk_status s = validate(op, args, 0, &p);
  if (s != TK_OK) return s;
  tk_choice c;
  s = tk_choose(ctx, &p, opts, &c);
  if (s != TK_OK) return s;
  if (tk_log_level() >= TK_LOG_DEBUG) tk_dispatch_log(ctx, &p, opts, &c, "resolved for a plan");
  tk_plan *plan = calloc(1, sizeof *plan);
  if (!plan) return tk_fail(TK_ERR_OUT_OF_MEMORY, "plan: out of memory");
  plan->ctx = ctx;
  plan->op = op;
  plan->choice = c;
  tk_config_format(c.impl->space, &c.cfg, plan->config, sizeof plan->config);
  if (tk_problem_key(&p, plan->key, sizeof plan->key) >= (int)sizeof plan->key) {
    free(plan);
    return tk_fail(TK_ERR_INTERNAL, "plan: problem key too long");
  }
  *out = plan;
  return TK_OK;
}

tk_status tk_plan_run(tk_plan *plan, const void *args) {
  tk_clear_error();
  if (!plan) return tk_fail(TK_ERR_INVALID_ARGUMENT, "plan: plan is NULL");
  tk_problem p;
  tk_status s = validate(plan->op, args, 1, &p);
  if (s != TK_OK) return s;
  char key[1024];
  tk_problem_key(&p, key, sizeof key);
  if (strcmp(key, plan->key) != 0)
    return tk_fail(TK_ERR_INVALID_ARGUMENT,
                   "%s: args are not the plan's problem (plan: %s; args: %s)",
                   tk_op_name(plan->op), plan->key, key);
  char why[256] = "";
  const tk_choice *c = &plan->choice;
  if (!tk_impl_can_run(plan->ctx, c->impl, &p, why, sizeof why))
    return tk_fail(TK_ERR_UNSUPPORTED, "%s: the plan's impl %s cannot run these args: %s",
                   tk_op_name(plan->op), c->impl->name, why);
  if (!tk_config_valid(c->impl->space, &p, &c->cfg, why, sizeof why))
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: the plan's config %s is invalid for these args: %s",
                   tk_op_name(plan->op), plan->config, why);
  return tk_execute(plan->ctx, &p, c);
}

const char *tk_plan_impl(const tk_plan *plan) { return plan ? plan->choice.impl->name : NULL; }
const char *tk_plan_config(const tk_plan *plan) { return plan ? plan->config : NULL; }
tk_choice_source tk_plan_source(const tk_plan *plan) {
  return plan ? plan->choice.source : TK_CHOICE_HEURISTIC;
}
const char *tk_plan_problem_key(const tk_plan *plan) { return plan ? plan->key : NULL; }
void tk_plan_destroy(tk_plan *plan) { free(plan); }
