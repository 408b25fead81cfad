/* on_miss.h: TK_TUNE_ON_MISS: sweeping a shape the cache lacks on the
 * caller's own inputs (outputs go to scratch copies, checked against the
 * reference), storing the result in the context's cache and map. */
#ifndef TK_AUTOTUNE_ON_MISS_H
#define TK_AUTOTUNE_ON_MISS_H

#include "choose.h"

/* Sweeps p (validated with data, CPU tensors) and stores the best in the
 * cache file and ctx's map; on success *out is the tuned choice. The
 * caller's outputs are not touched. Fails (the caller then uses the
 * heuristic) for CUDA problems, which are tuned with `tokamax-tune sweep`,
 * and for cache or memory errors. */
tk_status tk_tune_on_miss(tk_context *ctx, const tk_problem *p, const char *key, tk_choice *out);

#endif
