/* on_miss_host.c: the on-miss target of a problem on host tensors: the
 * candidates write host scratch (d->got), reset to the caller's output
 * contents before each check. */
#include <stdlib.h>
#include <string.h>

#include "runtime/status.h"
#include "autotune/on_miss_target.h"

static tk_status check(void *user, const tk_choice *c, int *right, double *max_err, char *why,
                       size_t why_len) {
  on_miss_target *d = user;
  for (int i = 0; i < d->n_out; i++) memcpy(d->got[i], d->initial[i], d->out_bytes[i]);
  tk_status s = tk_execute(d->ctx, &d->cand, c);
  if (s == TK_OK) *right = tk_on_miss_compare(d, d->got, max_err, why, why_len);
  return s;
}

static tk_status run(void *user, const tk_choice *c, int rep, double *self_ns) {
  (void)rep;
  (void)self_ns;
  on_miss_target *d = user;
  return tk_execute(d->ctx, &d->cand, c);
}

tk_status tk_on_miss_host_target(tk_context *ctx, const tk_problem *p, on_miss_target *d,
                                 tk_sweep_target *t) {
  tk_problem caller = *p;
  tk_tensor *src[TK_MAX_OUTPUTS];
  tk_problem_outputs(&caller, src);
  int ok = tk_on_miss_layout(d, ctx, p);
  for (int i = 0; ok && i < d->n_out; i++) {
    memcpy(d->initial[i], src[i]->data, d->out_bytes[i]);
    ok = (d->got[i] = d->cand_out[i]->data = malloc(d->out_bytes[i] + 1)) != NULL;
  }
  if (!ok) return tk_fail(TK_ERR_OUT_OF_MEMORY, "tune on miss: out of memory");
  *t = (tk_sweep_target){&d->cand, d, check, run};
  return tk_on_miss_run_reference(d);
}
