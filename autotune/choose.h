/* choose.h: picking implementation and config for a problem, and running
 * a choice. */
#ifndef TK_AUTOTUNE_CHOOSE_H
#define TK_AUTOTUNE_CHOOSE_H

#include "../impls/registry.h"

typedef struct {
  const tk_impl *impl;
  tk_config cfg;
  tk_choice_source source;
} tk_choice;

/* Resolves opts (forced impl list and/or config) or else picks by the
 * tuning cache (exact key, then nearest tuned shape; with TK_TUNE_ON_MISS a
 * miss is swept and stored first), then the heuristic. Fails with TK_ERR_INVALID_ARGUMENT for an unknown impl name or
 * a bad config, TK_ERR_UNSUPPORTED when nothing named (or nothing at all)
 * supports the problem, with the reasons in the message. */
tk_status tk_choose(tk_context *ctx, const tk_problem *p, const tk_call_options *opts,
                    tk_choice *out);

/* The choice without the tuning cache: the first implementation of the
 * op's list that can run p, with its heuristic config. */
tk_status tk_choose_untuned(tk_context *ctx, const tk_problem *p, tk_choice *out);

/* The device slot of p in ctx's tuned map (0: CPU, 1 + i: CUDA device i)
 * and its fingerprint (fp may be NULL). */
int tk_problem_device_slot(const tk_context *ctx, const tk_problem *p, char *fp, size_t fp_len);

/* Runs a choice: allocates its workspace, calls run. */
tk_status tk_execute(tk_context *ctx, const tk_problem *p, const tk_choice *c);

/* What every tk_<op> entry point does after validation: checks ctx,
 * chooses, executes. */
tk_status tk_dispatch(tk_context *ctx, const tk_problem *p, const tk_call_options *opts);

/* Why impl cannot run p on ctx (backend, device, supports()); 1 if it can. */
int tk_impl_can_run(tk_context *ctx, const tk_impl *impl, const tk_problem *p, char *why,
                    size_t why_len);

#endif
