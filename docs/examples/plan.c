/* plan.c: plans and introspection.
 *
 * Lists the implementations of grouped GEMM (tk_impl_list), asks which can
 * run a problem here and why not (tk_impl_supports), shows each one's
 * config space, then resolves the choice once with tk_plan_create (shapes
 * only: data pointers NULL) and runs the plan on two different inputs of
 * that problem, forcing the "reference" implementation for a second plan.
 * Every result is checked against a plain loop below; exits 0 when all
 * agree. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tokamax.h>

#include "example_util.h"

enum { M = 12, K = 16, N = 8, G = 2 };

/* The largest |lhs_g @ rhs[g] - out| over all rows (layout NN, every row
 * in a group); infinity if any difference is NaN. */
static float gemm_error(const float *lhs, const float *rhs, const int32_t *sizes,
                        const float *out) {
  float m = 0;
  for (int g = 0, r = 0; g < G; g++)
    for (int end = r + sizes[g]; r < end; r++)
      for (int n = 0; n < N; n++) {
        float acc = 0;
        for (int k = 0; k < K; k++) acc += lhs[r * K + k] * rhs[(g * K + k) * N + n];
        float e = fabsf(out[r * N + n] - acc);
        if (e != e) return INFINITY;
        if (e > m) m = e;
      }
  return m;
}

/* Prints every implementation of the op, whether it runs args here, and its
 * config space. */
static void show_impls(tk_context *ctx, tk_op op, const void *args) {
  const char *names[16];
  int n = 0;
  tk_impl_list(op, names, 16, &n);
  printf("%s has %d implementations (fastest first):\n", tk_op_name(op), n);
  for (int i = 0; i < n && i < 16; i++) {
    char why[256] = "", space[1024] = "";
    tk_status s = tk_impl_supports(ctx, op, names[i], args, why, sizeof why);
    tk_impl_config_space(op, names[i], space, sizeof space);
    printf("  %-15s %s%s\n", names[i], s == TK_OK ? "runs here" : "skip: ", s == TK_OK ? "" : why);
    for (char *line = strtok(space, "\n"); line; line = strtok(NULL, "\n"))
      printf("    config %s\n", line);
  }
}

/* Runs plan on fresh random data twice; 0 when both results are right. */
static int run_plan(tk_plan *plan, unsigned seed) {
  static float lhs[M * K], rhs[G * K * N], out[M * N];
  int32_t sizes[G] = {5, M - 5};
  int64_t lhs_shape[] = {M, K}, rhs_shape[] = {G, K, N}, out_shape[] = {M, N}, g_shape[] = {G};
  DLTensor tl = tensor(lhs, kDLFloat, 32, 2, lhs_shape), tr = tensor(rhs, kDLFloat, 32, 3, rhs_shape);
  DLTensor to = tensor(out, kDLFloat, 32, 2, out_shape), tg = tensor(sizes, kDLInt, 32, 1, g_shape);
  tk_grouped_gemm_args args = {&tl, &tr, &tg, &to, TK_GG_NN};
  for (int rep = 0; rep < 2; rep++) {
    for (int i = 0; i < M * K; i++) lhs[i] = rnd(&seed);
    for (int i = 0; i < G * K * N; i++) rhs[i] = rnd(&seed);
    tk_status s = tk_plan_run(plan, &args);
    if (s != TK_OK) {
      fprintf(stderr, "tk_plan_run: %s: %s\n", tk_status_string(s), tk_last_error());
      return 1;
    }
    float err = gemm_error(lhs, rhs, sizes, out);
    printf("  run %d: max abs error %.3g\n", rep + 1, err);
    if (!(err < 1e-4f)) return 1;
  }
  return 0;
}

int main(void) {
  /* The problem only: shapes and dtypes, no data. */
  int64_t lhs_shape[] = {M, K}, rhs_shape[] = {G, K, N}, out_shape[] = {M, N}, g_shape[] = {G};
  DLTensor tl = tensor(NULL, kDLFloat, 32, 2, lhs_shape), tr = tensor(NULL, kDLFloat, 32, 3, rhs_shape);
  DLTensor to = tensor(NULL, kDLFloat, 32, 2, out_shape), tg = tensor(NULL, kDLInt, 32, 1, g_shape);
  tk_grouped_gemm_args problem = {&tl, &tr, &tg, &to, TK_GG_NN};

  tk_context *ctx;
  if (tk_context_create(NULL, &ctx) != TK_OK) {
    fprintf(stderr, "context: %s\n", tk_last_error());
    return 1;
  }
  show_impls(ctx, TK_OP_GROUPED_GEMM, &problem);

  int bad = 0;
  const tk_call_options choices[2] = {{NULL, NULL}, {"reference", NULL}};
  for (int i = 0; i < 2; i++) {
    tk_plan *plan;
    tk_status s = tk_plan_create(ctx, TK_OP_GROUPED_GEMM, &problem, &choices[i], &plan);
    if (s != TK_OK) {
      fprintf(stderr, "tk_plan_create: %s: %s\n", tk_status_string(s), tk_last_error());
      bad = 1;
      break;
    }
    printf("plan (%s): impl %s, config \"%s\", source %s\n  problem key %s\n",
           choices[i].impl ? choices[i].impl : "auto", tk_plan_impl(plan), tk_plan_config(plan),
           tk_choice_source_name(tk_plan_source(plan)), tk_plan_problem_key(plan));
    bad |= run_plan(plan, 100u + (unsigned)i);
    tk_plan_destroy(plan);
  }
  tk_context_destroy(ctx);
  if (bad) fprintf(stderr, "plan: a result differs from the naive loop\n");
  return bad;
}
