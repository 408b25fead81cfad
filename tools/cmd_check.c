/* cmd_check.c: `tokamax-tune check`: every implementation of every case of
 * a suite, run with its automatic config, checked against the reference and
 * timed. Prints a table (or JSON rows); exit 1 if any check failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "autotune/measure.h"
#include "tools/check_output.h"
#include "tools/cli_args.h"
#include "tools/cli_lookup.h"
#include "tools/commands.h"
#include "regress/case.h"
#include "tokamax.h"

typedef struct {
  const char *suite, *op, *impl;
  int json, repeat, threads;
} check_opts;

/* Runs plan on args n times; the median wall time in seconds, or -1 with
 * the library's message in why if a run failed. */
static double median_time(tk_plan *plan, const void *args, int n, char *why, size_t why_len) {
  double *t = malloc((size_t)n * sizeof *t);
  if (!t) {
    snprintf(why, why_len, "out of memory");
    return -1;
  }
  for (int i = 0; i < n; i++) {
    double t0 = tk_now_ns();
    tk_status s = tk_plan_run(plan, args);
    t[i] = (tk_now_ns() - t0) * 1e-9;
    if (s != TK_OK) {
      snprintf(why, why_len, "timed run: %s", tk_last_error());
      free(t);
      return -1;
    }
  }
  double m = tk_quantile(t, n, 0.5);
  free(t);
  return m;
}

/* Fills the rate of row from the case's work and the median time: GB/s for
 * the bandwidth-bound problems (MoE, paged decode), GFLOP/s for the others. */
static void set_rate(check_row *row, const tk_case *c) {
  double flops = tk_case_flops(c), bytes = tk_case_bytes(c);
  int by_bytes = tk_case_memory_bound(c) || flops <= 0;
  row->rate_unit = by_bytes ? "GB/s" : "GFLOP/s";
  row->rate = row->median_s > 0 ? (by_bytes ? bytes : flops) / row->median_s * 1e-9 : 0;
}

/* One implementation on one case: supports? plan, run, check, time. */
static void check_impl(tk_context *ctx, tk_case *c, const char *impl, int repeat, check_row *row) {
  tk_op op = tk_case_op(c);
  const void *args = tk_case_args(c);
  row->impl = impl;
  tk_status s = tk_impl_supports(ctx, op, impl, args, row->why, sizeof row->why);
  if (s == TK_ERR_UNSUPPORTED) {
    row->result = TK_ROW_SKIP;
    return;
  }
  row->result = TK_ROW_FAIL;
  if (s != TK_OK) {
    if (!row->why[0]) snprintf(row->why, sizeof row->why, "%s", tk_last_error());
    return;
  }
  tk_call_options forced = {impl, NULL};
  tk_plan *plan = NULL;
  if (tk_plan_create(ctx, op, args, &forced, &plan) != TK_OK) {
    snprintf(row->why, sizeof row->why, "plan: %s", tk_last_error());
    return;
  }
  snprintf(row->config, sizeof row->config, "%s", tk_plan_config(plan));
  tk_call_options run_opts = {impl, row->config[0] ? row->config : NULL};
  tk_case_report rep;
  if (tk_case_run(c, ctx, &run_opts) != TK_OK) {
    snprintf(row->why, sizeof row->why, "run: %s", tk_last_error());
    tk_plan_destroy(plan);
    return;
  }
  int pass = tk_case_check(c, &rep);
  row->checked = 1;
  row->max_abs_err = rep.max_abs_err;
  row->tol = rep.tol;
  if (!pass) {
    snprintf(row->why, sizeof row->why, "%s", rep.why);
  } else {
    row->median_s = median_time(plan, args, repeat, row->why, sizeof row->why);
    if (row->median_s >= 0) {
      row->result = TK_ROW_PASS;
      set_rate(row, c);
    }
  }
  tk_plan_destroy(plan);
}

/* Checks every matching implementation of one case; adds to *failed. */
static void check_case(tk_context *ctx, const char *spec, uint64_t seed, const check_opts *o,
                       check_output *out, int *failed) {
  check_row row = {.spec = spec};
  tk_case *c = NULL;
  if (tk_case_create(spec, seed, &c, row.why, sizeof row.why) != TK_OK) {
    row.impl = "-";
    row.result = TK_ROW_FAIL;
    check_output_row(out, &row);
    (*failed)++;
    return;
  }
  if (tk_case_prepare_expected(c, ctx) != TK_OK) {
    row.impl = "reference";
    row.result = TK_ROW_FAIL;
    snprintf(row.why, sizeof row.why, "expected outputs: %s", tk_last_error());
    check_output_row(out, &row);
    (*failed)++;
    tk_case_destroy(c);
    return;
  }
  const char *names[16];
  int n = 0;
  tk_impl_list(tk_case_op(c), names, 16, &n);
  for (int i = 0; i < n && i < 16; i++) {
    if (o->impl && strcmp(o->impl, names[i]) != 0) continue;
    check_row r = {.spec = spec};
    check_impl(ctx, c, names[i], o->repeat, &r);
    check_output_row(out, &r);
    if (r.result == TK_ROW_FAIL) (*failed)++;
  }
  tk_case_destroy(c);
}

/* Validates the --op/--impl filters; the op index (-1: all) or -2 on error. */
static int resolve_filters(const check_opts *o) {
  int op = -1;
  if (o->op) {
    tk_op v;
    if (tk_op_from_name(o->op, &v) != TK_OK) {
      tk_cli_error("check: unknown op '%s' (attention, grouped_gemm, moe_permute, "
                   "moe_unpermute, paged_attention)", o->op);
      return -2;
    }
    op = (int)v;
  }
  if (o->impl && !tk_cli_impl_exists(o->impl, op)) {
    tk_cli_error("check: no implementation '%s'%s%s", o->impl, o->op ? " of op " : "",
                 o->op ? o->op : "");
    return -2;
  }
  return op;
}

/* Runs the suite's matching cases; the exit code. */
static int run_suite(const tk_suite *suite, int op, const check_opts *o) {
  tk_context_options copts = {NULL, o->threads, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  if (tk_context_create(&copts, &ctx) != TK_OK) {
    tk_cli_error("check: cannot create a context: %s", tk_last_error());
    return 1;
  }
  int width = 4, matched = 0, failed = 0;
  for (int i = 0; i < suite->count; i++)
    if (op < 0 || tk_cli_spec_op(suite->specs[i]) == op) {
      int len = (int)strlen(suite->specs[i]);
      if (len > width) width = len;
      matched++;
    }
  if (matched == 0) {
    tk_cli_error("check: suite '%s' has no %s case", suite->path, o->op);
    tk_context_destroy(ctx);
    return 1;
  }
  check_output out;
  check_output_begin(&out, o->json, width);
  int progress = !o->json && isatty(STDERR_FILENO) && !isatty(STDOUT_FILENO);
  for (int i = 0, k = 0; i < suite->count; i++) {
    if (op >= 0 && tk_cli_spec_op(suite->specs[i]) != op) continue;
    if (progress) fprintf(stderr, "[%d/%d] %s\n", ++k, matched, suite->specs[i]);
    check_case(ctx, suite->specs[i], 1000u + (uint64_t)suite->line_numbers[i], o, &out, &failed);
  }
  check_output_end(&out);
  tk_context_destroy(ctx);
  if (failed) fprintf(stderr, "tokamax-tune: check: %d failed\n", failed);
  return failed ? 1 : 0;
}

int tk_cmd_check(int argc, char **argv) {
  check_opts o = {"small", NULL, NULL, 0, 5, 0};
  const tk_cli_opt opts[] = {
      {"suite", TK_OPT_STRING, "NAME|PATH", "suite name (regress/suites/NAME.suite) or file; default small",
       &o.suite, 0},
      {"op", TK_OPT_STRING, "OP", "only cases of this op", &o.op, 0},
      {"impl", TK_OPT_STRING, "NAME", "only this implementation", &o.impl, 0},
      {"json", TK_OPT_FLAG, NULL, "print a JSON array of rows instead of the table", &o.json, 0},
      {"repeat", TK_OPT_INT, "N", "timed runs per case and impl; the median is shown (default 5)",
       &o.repeat, 1},
      {"threads", TK_OPT_INT, "N", "worker threads (default 0: one per physical core)", &o.threads, 0},
  };
  const tk_cli_cmd cmd = {"check", "run every implementation on a suite, check and time it", opts,
                          (int)(sizeof opts / sizeof opts[0]), NULL, 0, 0, NULL, NULL};
  int rc = tk_cli_parse(&cmd, argc, argv);
  if (rc >= 0) return rc;
  int op = resolve_filters(&o);
  if (op == -2) return 2;

  tk_suite suite;
  char err[512];
  if (tk_suite_load(o.suite, &suite, err, sizeof err) != TK_OK) {
    tk_cli_error("check: %s", err);
    return 2;
  }
  rc = run_suite(&suite, op, &o);
  tk_suite_free(&suite);
  return rc;
}
