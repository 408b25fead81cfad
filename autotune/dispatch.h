/* dispatch.h: what every tk_<op> call does after validation: choose the
 * implementation (forced, tuned, heuristic), decide whether to tune a
 * missed shape now (TK_TUNE_ON_MISS), apply a forced config, log the
 * decision (TOKAMAX_LOG=debug, once per problem key), execute. */
#ifndef TK_AUTOTUNE_DISPATCH_H
#define TK_AUTOTUNE_DISPATCH_H

#include "autotune/choose.h"

/* Runs validated problem p on ctx as opts asks. */
tk_status tk_dispatch(tk_context *ctx, const tk_problem *p, const tk_call_options *opts);

/* Logs at debug level, once per (problem key, options), how dispatch chose
 * c for p: each implementation considered, with why it cannot run, then the
 * chosen impl, config and source with `why` (e.g. "exact tuned entry").
 * Costs a load and a compare when the log level is below debug. */
void tk_dispatch_log(tk_context *ctx, const tk_problem *p, const tk_call_options *opts,
                     const tk_choice *c, const char *why);

#endif
