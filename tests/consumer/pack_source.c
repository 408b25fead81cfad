/* pack_source.c: a program outside the project, built against the
 * installed libkernels (tests/test_pack_install.sh), that makes one
 * automatic call of grouped GEMM (float32, layout NN) of the shape given
 * as M K N G and prints where its choice came from: "source impl config
 * key" of the plan of that problem (tk_plan_source). With TOKAMAX_LOG=debug
 * the call's dispatch log goes to stderr. Exits 0 when the call ran. */
#include <stdio.h>
#include <stdlib.h>

#include <tokamax.h>

static DLTensor tensor(void *data, uint8_t code, int ndim, int64_t *shape) {
  DLTensor t = {0};
  t.data = data;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.dtype.code = code;
  t.dtype.bits = 32;
  t.dtype.lanes = 1;
  t.shape = shape;
  return t;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: pack_source M K N G\n");
    return 2;
  }
  int64_t M = atoll(argv[1]), K = atoll(argv[2]), N = atoll(argv[3]), G = atoll(argv[4]);
  if (M < 1 || K < 1 || N < 1 || G < 1 || M > 8192 || K > 8192 || N > 8192 || G > 1024) {
    fprintf(stderr, "pack_source: sizes out of range\n");
    return 2;
  }
  float *lhs = calloc((size_t)(M * K), sizeof *lhs), *rhs = calloc((size_t)(G * K * N), sizeof *rhs);
  float *out = calloc((size_t)(M * N), sizeof *out);
  int32_t *sizes = calloc((size_t)G, sizeof *sizes);
  if (!lhs || !rhs || !out || !sizes) return 1;
  for (int64_t i = 0; i < M * K; i++) lhs[i] = (float)(i % 7) - 3.0f + 0.5f;
  for (int64_t i = 0; i < G * K * N; i++) rhs[i] = (float)(i % 5) - 2.0f + 0.25f;
  for (int64_t g = 0; g < G; g++) sizes[g] = (int32_t)(M / G + (g < M % G));
  int64_t ls[] = {M, K}, rs[] = {G, K, N}, os[] = {M, N}, gs[] = {G};
  DLTensor tl = tensor(lhs, kDLFloat, 2, ls), tr = tensor(rhs, kDLFloat, 3, rs);
  DLTensor to = tensor(out, kDLFloat, 2, os), tg = tensor(sizes, kDLInt, 1, gs);
  tk_grouped_gemm_args a = {&tl, &tr, &tg, &to, TK_GG_NN};
  tk_context *ctx = NULL;
  tk_plan *plan = NULL;
  int rc = 1;
  if (tk_context_create(NULL, &ctx) != TK_OK || tk_grouped_gemm(ctx, &a, NULL) != TK_OK ||
      tk_plan_create(ctx, TK_OP_GROUPED_GEMM, &a, NULL, &plan) != TK_OK) {
    fprintf(stderr, "pack_source: %s\n", tk_last_error());
  } else {
    printf("%s %s %s %s\n", tk_choice_source_name(tk_plan_source(plan)), tk_plan_impl(plan),
           tk_plan_config(plan), tk_plan_problem_key(plan));
    rc = 0;
  }
  tk_plan_destroy(plan);
  tk_context_destroy(ctx);
  free(lhs), free(rhs), free(out), free(sizes);
  return rc;
}
