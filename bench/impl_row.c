/* impl_row.c: a row that runs one implementation of the library through
 * the public API: a plan forced to the impl (its heuristic config, or the
 * given one), then timed calls, each after a cache flush when the op is
 * memory-bound. */
#include <stdio.h>

#include "autotune/measure.h"
#include "bench/tokamax_bench.h"
#if TK_HAVE_CUDA
#include "bench/gpu_timing.h"
#endif

/* One call of the row's plan, timed: wall clock on the CPU, CUDA events on
 * the GPU; the flush stays outside the time. */
double tk_impl_row_run(tk_row *r, char *why, size_t why_len) {
  tk_plan *plan = r->state;
  tk_status st;
  double secs = 0;
#if TK_HAVE_CUDA
  if (r->gpu) {
    st = tk_gpu_time_plan(plan, r->args, r->memory_bound, &secs);
  } else
#endif
  {
    if (r->memory_bound) tk_flush_case(r->kase);
    double t = 1e-9 * tk_now_ns();
    st = tk_plan_run(plan, r->args);
    secs = 1e-9 * tk_now_ns() - t;
  }
  if (st != TK_OK) {
    snprintf(why, why_len, "%s: %s", tk_status_string(st), tk_last_error());
    return -1;
  }
  return secs;
}

int tk_impl_row_setup(tk_row *r, char *why, size_t why_len) {
  tk_call_options opts = {r->impl, r->forced[0] ? r->forced : NULL};
  tk_plan *plan = NULL;
  tk_status st = tk_plan_create(r->ctx, tk_case_op(r->kase), r->args, &opts, &plan);
  if (st != TK_OK) {
    snprintf(why, why_len, "%s", tk_last_error());
    return 1;
  }
  r->state = plan;
  snprintf(r->ran, sizeof r->ran, "%s", tk_plan_config(plan));
  return 0;
}

void tk_impl_row_teardown(tk_row *r) {
  tk_plan_destroy(r->state);
  r->state = NULL;
}
