/* grouped_gemm.c: a ragged dot (MoE expert GEMM) with tk_grouped_gemm.
 *
 * lhs [M,K] holds rows of G = 3 groups (3, 0 and 5 rows: an empty group,
 * and 2 rows past the last group, whose output must be zero); rhs [G,K,N]
 * holds one weight matrix per group (layout TK_GG_NN); out is [M,N]
 * float32. Checked against a plain loop below; exits 0 when they agree. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <tokamax.h>

#include "example_util.h"

enum { M = 10, K = 24, N = 6, G = 3 };

/* out[r] = lhs[r] @ rhs[g] for the rows r of group g; rows past the
 * groups are zero. */
static void naive_grouped_gemm(const float *lhs, const float *rhs, const int32_t *sizes,
                               float *out) {
  int r = 0;
  for (int g = 0; g < G; g++)
    for (int end = r + sizes[g]; r < end; r++)
      for (int n = 0; n < N; n++) {
        float acc = 0;
        for (int k = 0; k < K; k++) acc += lhs[r * K + k] * rhs[(g * K + k) * N + n];
        out[r * N + n] = acc;
      }
  for (; r < M; r++)
    for (int n = 0; n < N; n++) out[r * N + n] = 0;
}

int main(void) {
  static float lhs[M * K], rhs[G * K * N], out[M * N], want[M * N];
  int32_t sizes[G] = {3, 0, 5}; /* sum 8 < M: rows 8 and 9 belong to no group */
  unsigned seed = 7;
  for (int i = 0; i < M * K; i++) lhs[i] = rnd(&seed);
  for (int i = 0; i < G * K * N; i++) rhs[i] = rnd(&seed);
  for (int i = 0; i < M * N; i++) out[i] = NAN; /* must all be overwritten */

  int64_t lhs_shape[] = {M, K}, rhs_shape[] = {G, K, N}, out_shape[] = {M, N}, g_shape[] = {G};
  DLTensor tl = tensor(lhs, kDLFloat, 32, 2, lhs_shape);
  DLTensor tr = tensor(rhs, kDLFloat, 32, 3, rhs_shape);
  DLTensor to = tensor(out, kDLFloat, 32, 2, out_shape);
  DLTensor tg = tensor(sizes, kDLInt, 32, 1, g_shape);

  tk_context *ctx;
  if (tk_context_create(NULL, &ctx) != TK_OK) {
    fprintf(stderr, "context: %s\n", tk_last_error());
    return 1;
  }
  tk_grouped_gemm_args args = {&tl, &tr, &tg, &to, TK_GG_NN};
  tk_status s = tk_grouped_gemm(ctx, &args, NULL);
  tk_context_destroy(ctx);
  if (s != TK_OK) {
    fprintf(stderr, "tk_grouped_gemm: %s: %s\n", tk_status_string(s), tk_last_error());
    return 1;
  }

  naive_grouped_gemm(lhs, rhs, sizes, want);
  float err = max_diff(out, want, M * N);
  printf("grouped_gemm: max abs error %.3g\n", err);
  if (!(err < 1e-4f)) {
    fprintf(stderr, "grouped_gemm: result differs from the naive loop\n");
    return 1;
  }
  return 0;
}
