/* on_miss.h: TK_TUNE_ON_MISS: sweeping a shape the cache lacks on the
 * caller's own inputs (outputs go to scratch, checked against the reference
 * on the host), storing the result in the context's cache and map. */
#ifndef TK_AUTOTUNE_ON_MISS_H
#define TK_AUTOTUNE_ON_MISS_H

#include "autotune/choose.h"

/* Tunes p (validated with data, host or CUDA tensors) unless another call
 * tuned its key meanwhile, one sweep per context at a time, and stores the
 * best in the cache file and ctx's map under p's device; on success *out
 * is the tuned choice (TK_CHOICE_CACHE). The caller's data is not written.
 * For a CUDA problem the device is synchronised first, its tensors are
 * copied to the host once for the reference, and candidates are timed
 * with CUDA events. Fails (the caller keeps its choice) for a key too long
 * to tune, data that breaks the op's rules, a build without CUDA, or
 * cache, memory or device errors. */
tk_status tk_tune_on_miss(tk_context *ctx, const tk_problem *p, tk_choice *out);

#endif
