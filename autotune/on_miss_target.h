/* on_miss_target.h: the sweep target TK_TUNE_ON_MISS builds from the
 * caller's own problem. Candidates write scratch outputs (never the
 * caller's), which start from the caller's output contents and are checked
 * against the reference run on the host (on host copies of the inputs when
 * the problem is on a CUDA device). */
#ifndef TK_AUTOTUNE_ON_MISS_TARGET_H
#define TK_AUTOTUNE_ON_MISS_TARGET_H

#include <stddef.h>

#include "autotune/sweep.h"

typedef struct {
  tk_context *ctx;
  tk_problem cand;                       /* the caller's problem, outputs on scratch */
  tk_problem ref;                        /* on the host, outputs on scratch */
  int n_out, n_in;
  tk_tensor *cand_out[TK_MAX_OUTPUTS], *ref_out[TK_MAX_OUTPUTS];
  size_t out_bytes[TK_MAX_OUTPUTS];
  void *initial[TK_MAX_OUTPUTS];         /* the caller's output contents, host memory */
  void *got[TK_MAX_OUTPUTS];             /* a candidate's outputs on the host (host: its scratch;
                                            CUDA: copied back from the device scratch) */
  void *host_in[TK_MAX_INPUTS];          /* CUDA: host copies of the inputs (spans) */
  struct tk_cuda_timer *timer;           /* CUDA: event timing */
} on_miss_target;

/* Fills *d and *t for p (validated with data, host tensors); the caller's
 * data is only read. On failure the status, with d ready for release. */
tk_status tk_on_miss_host_target(tk_context *ctx, const tk_problem *p, on_miss_target *d,
                                 tk_sweep_target *t);

/* Likewise for p on a CUDA device: its inputs and outputs are copied to the
 * host once, the data rules checked there (as for host tensors), and the
 * reference run on the copies. TK_ERR_UNSUPPORTED in a build without CUDA. */
tk_status tk_on_miss_cuda_target(tk_context *ctx, const tk_problem *p, on_miss_target *d,
                                 tk_sweep_target *t);

/* Frees what either builder allocated (also after a failed build). */
void tk_on_miss_release(on_miss_target *d);

/* Sets d->cand = d->ref = *p with the outputs' pointers (n_out, cand_out,
 * ref_out, out_bytes), their data set to NULL, and allocates d->initial and
 * host scratch for the reference's outputs, for the builder to fill.
 * 0 when out of memory. */
int tk_on_miss_layout(on_miss_target *d, tk_context *ctx, const tk_problem *p);

/* Resets the reference's outputs to d->initial and runs the reference on
 * d->ref. */
tk_status tk_on_miss_run_reference(on_miss_target *d);

/* Compares the outputs got[i] (host memory, layout of d->ref_out[i])
 * with the reference's: 1 when every one is within the dtype's tolerance;
 * the largest error in *max_err and the first mismatch in why. */
int tk_on_miss_compare(const on_miss_target *d, void *const *got, double *max_err, char *why,
                       size_t why_len);

#endif
