/* choose.h: which implementation and config run a problem: forced by the
 * call's options, tuned (the exact key's cached best, else the nearest
 * tuned shape), or the heuristic. Tuning a missed shape is dispatch's
 * decision (autotune/dispatch.h), not the chooser's. */
#ifndef TK_AUTOTUNE_CHOOSE_H
#define TK_AUTOTUNE_CHOOSE_H

#include "autotune/config.h"

typedef struct {
  const tk_impl *impl;
  tk_config cfg;
  tk_choice_source source;
} tk_choice;

/* The implementation: the first runnable one named in `impls` (a
 * comma-separated list, tk_call_options.impl; NULL, "" or "auto": choose)
 * with its heuristic config (TK_CHOICE_FORCED), else the tuned choice
 * (TK_CHOICE_CACHE or TK_CHOICE_NEAREST), else the heuristic's
 * (TK_CHOICE_HEURISTIC). Fails with TK_ERR_INVALID_ARGUMENT for an unknown
 * impl name, TK_ERR_UNSUPPORTED when nothing named (or nothing at all)
 * runs p, with the reasons in the message. */
tk_status tk_choose_impl(tk_context *ctx, const tk_problem *p, const char *impls, tk_choice *out);

/* Applies a forced config text (tk_call_options.config; NULL: none) to c's
 * implementation: the named params replace c's values and c becomes
 * TK_CHOICE_FORCED. TK_ERR_INVALID_ARGUMENT naming the param when it does
 * not parse or is invalid for p; c is then unchanged. */
tk_status tk_choose_config(const tk_problem *p, const char *config, tk_choice *c);

/* tk_choose_impl, then tk_choose_config: what a plan resolves. */
tk_status tk_choose(tk_context *ctx, const tk_problem *p, const tk_call_options *opts,
                    tk_choice *out);

/* The choice without the tuning cache: the first implementation of the
 * op's list that can run p, with its heuristic config. */
tk_status tk_choose_untuned(tk_context *ctx, const tk_problem *p, tk_choice *out);

/* The device slot of p in ctx's tuned map (0: CPU, 1 + i: CUDA device i)
 * and its fingerprint (fp may be NULL). */
int tk_problem_device_slot(const tk_context *ctx, const tk_problem *p, char *fp, size_t fp_len);

#endif
