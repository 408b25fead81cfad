/* rows.c: each row of tokamax-bench registered as one benchmark, its
 * callbacks sent to the row kind's functions. Every row times itself
 * (manual time), so cache flushes stay out of the figures. */
#include <stdio.h>

#include "bench/bench.h"
#include "bench/gemm_view.h"
#include "bench/tokamax_bench.h"

static double row_run(void *user, char *why, size_t why_len);

/* Runs the row once on poisoned outputs and checks the result against the
 * reference (tk_case_check: tolerances, coverage, guards, inputs); 0 when
 * it passes, else 1 with the failure in why. */
static int check_output(tk_row *r, char *why, size_t why_len) {
  tk_status st = tk_case_prepare_expected(r->kase, r->ctx);
  if (st != TK_OK) {
    snprintf(why, why_len, "--check: the reference failed: %s", tk_last_error());
    return 1;
  }
  if (r->kind == TK_ROW_IMPL) {
    tk_call_options opts = {r->impl, r->forced[0] ? r->forced : NULL};
    /* both poison the outputs first; the device run copies them back */
    st = r->gpu ? tk_case_run_device(r->gpu, r->ctx, &opts) : tk_case_run(r->kase, r->ctx, &opts);
    if (st != TK_OK) {
      snprintf(why, why_len, "%s", tk_last_error());
      return 1;
    }
  } else {
    tk_gemm_view v;
    if (!tk_gemm_view_of(r->args, &v, why, why_len)) return 1;
    tk_gemm_poison_out(&v);
    if (row_run(r, why, why_len) < 0) return 1;
  }
  tk_case_report rep;
  if (tk_case_check(r->kase, &rep)) return 0;
  snprintf(why, why_len, "--check: wrong result: %s", rep.why);
  return 1;
}

/* Setup of a row: the kind's setup (plan or baseline state), one warm-up
 * call (declining when it fails or takes more than --max-call), then with
 * --check a check of one call's output. */
static int row_setup(void *user, char *why, size_t why_len) {
  tk_row *r = user;
  int declined;
  switch (r->kind) {
    case TK_ROW_OPENBLAS: declined = tk_openblas_row_setup(r, why, why_len); break;
    case TK_ROW_ONEDNN: declined = tk_onednn_row_setup(r, why, why_len); break;
    default: declined = tk_impl_row_setup(r, why, why_len); break;
  }
  if (declined) return declined;
  double warm = row_run(r, why, why_len);
  if (warm < 0) return 1;
  if (warm > r->max_call_s) {
    snprintf(why, why_len, "one call took %.1f s, more than --max-call %g s", warm, r->max_call_s);
    return 1;
  }
  return r->check ? check_output(r, why, why_len) : 0;
}

/* One timed call of a row: its seconds, or negative with why. */
static double row_run(void *user, char *why, size_t why_len) {
  tk_row *r = user;
  switch (r->kind) {
    case TK_ROW_OPENBLAS: return tk_openblas_row_run(r, why, why_len);
    case TK_ROW_ONEDNN: return tk_onednn_row_run(r, why, why_len);
    default: return tk_impl_row_run(r, why, why_len);
  }
}

/* Frees what the row's setup made. */
static void row_teardown(void *user) {
  tk_row *r = user;
  switch (r->kind) {
    case TK_ROW_OPENBLAS: tk_openblas_row_teardown(r); break;
    case TK_ROW_ONEDNN: tk_onednn_row_teardown(r); break;
    default: tk_impl_row_teardown(r); break;
  }
}

void tk_rows_register(tk_row *rows, int n) {
  for (int i = 0; i < n; i++) {
    tk_bench_def d = {rows[i].name, &rows[i], row_setup, row_run, row_teardown, 1,
                      tk_case_flops(rows[i].kase), tk_case_bytes(rows[i].kase)};
    tk_bench_register(&d);
  }
}
