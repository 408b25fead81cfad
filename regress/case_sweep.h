/* case_sweep.h: a sweep target (autotune/sweep.h) built from a regress
 * case: candidates are checked with the case's full checks and timed so
 * caches do not flatter: on the CPU over several copies of the inputs,
 * rotated; on a CUDA device with events, the L2 evicted before each run. */
#ifndef TK_REGRESS_CASE_SWEEP_H
#define TK_REGRESS_CASE_SWEEP_H

#include "autotune/sweep.h"
#include "regress/case.h"

typedef struct case_target case_target;

/* Where and against what a case's candidates run. */
typedef struct {
  uint64_t seed;      /* of the case's inputs */
  int device;         /* < 0: host tensors; else this CUDA device */
  const char *oracle; /* host impl computing the expected outputs; NULL: "reference" */
} case_target_options;

/* Builds the case of spec, computes the expected outputs with the oracle
 * on the host, and fills *t. On the host the candidates run over enough
 * input copies to exceed the CPU caches (at most 16 and 512 MiB); on a
 * CUDA device, on the case mirrored there (TK_ERR_UNSUPPORTED in a build
 * without CUDA). On failure returns the status with the reason in err. */
tk_status case_target_create(tk_context *ctx, const char *spec, const case_target_options *o,
                             case_target **out, tk_sweep_target *t, char *err, size_t err_len);
void case_target_destroy(case_target *ct);

/* The case's useful work, for rates (tk_case_flops / tk_case_bytes), and
 * whether its rate is bytes/s (tk_case_memory_bound). */
double case_target_flops(const case_target *ct);
double case_target_bytes(const case_target *ct);
int case_target_memory_bound(const case_target *ct);

#endif
