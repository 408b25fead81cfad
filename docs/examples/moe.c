/* moe.c: MoE token routing with tk_moe_permute and tk_moe_unpermute.
 *
 * T = 7 tokens of width H each pick k = 2 distinct experts of E = 4.
 * Permute groups the (token, slot) rows by expert, each expert's block
 * padded to a multiple of align = 4 rows, and says where each row went
 * (dest) and how many rows each expert got (group_sizes, ready for
 * tk_grouped_gemm). Unpermute gathers rows back, weighted by the router
 * weights. Both are checked against a plain loop below (the "expert" is
 * the identity here, so unpermute must give token * sum of its weights).
 * Exits 0 when everything agrees. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tokamax.h>

#include "example_util.h"

enum { T = 7, H = 8, TOPK = 2, E = 4, ALIGN = 4 };

/* The layout permute must produce: expert e's block starts after the
 * padded blocks of experts < e and lists its (token, slot) rows in token
 * order. Fills sizes[E] (padded) and dest[T*TOPK]. */
static void naive_routing(const int32_t *ids, int32_t *sizes, int32_t *dest) {
  int32_t start = 0;
  for (int e = 0; e < E; e++) {
    int32_t n = 0;
    for (int i = 0; i < T * TOPK; i++)
      if (ids[i] == e) dest[i] = start + n++;
    sizes[e] = (n + ALIGN - 1) / ALIGN * ALIGN;
    start += sizes[e];
  }
}

/* 0 if permute's outputs match the naive routing and its rows hold the
 * right tokens with zero padding; else prints what differs and returns 1. */
static int check_permute(const float *tokens, const int32_t *ids, const float *permuted,
                         int64_t rows, const int32_t *sizes, const int32_t *dest) {
  int32_t want_sizes[E], want_dest[T * TOPK];
  naive_routing(ids, want_sizes, want_dest);
  if (memcmp(sizes, want_sizes, sizeof want_sizes) || memcmp(dest, want_dest, sizeof want_dest)) {
    fprintf(stderr, "moe_permute: group_sizes or dest differ from the naive routing\n");
    return 1;
  }
  char *used = calloc((size_t)rows, 1);
  if (!used) return 1;
  int bad = 0;
  for (int i = 0; i < T * TOPK; i++) {
    used[dest[i]] = 1;
    bad |= memcmp(&permuted[dest[i] * H], &tokens[(i / TOPK) * H], H * sizeof(float)) != 0;
  }
  for (int64_t r = 0; r < rows; r++)
    for (int h = 0; h < H && !used[r]; h++) bad |= permuted[r * H + h] != 0.0f;
  free(used);
  if (bad) fprintf(stderr, "moe_permute: a row holds the wrong token, or padding is not zero\n");
  return bad;
}

int main(void) {
  const int64_t R = tk_moe_permute_max_rows(T, TOPK, E, ALIGN);
  float tokens[T * H], weights[T * TOPK], out[T * H];
  int32_t ids[T * TOPK], sizes[E], dest[T * TOPK];
  float *permuted = malloc((size_t)R * H * sizeof(float));
  if (!permuted) return 1;
  unsigned seed = 3;
  for (int i = 0; i < T * H; i++) tokens[i] = rnd(&seed);
  for (int t = 0; t < T; t++) {
    ids[t * TOPK] = (int32_t)((seed = seed * 1664525u + 1013904223u) >> 16) % E;
    ids[t * TOPK + 1] = (ids[t * TOPK] + 1 + t % (E - 1)) % E; /* a different expert */
    weights[t * TOPK] = 0.25f + 0.5f * fabsf(rnd(&seed));
    weights[t * TOPK + 1] = 1.0f - weights[t * TOPK];
  }

  int64_t tok_shape[] = {T, H}, ids_shape[] = {T, TOPK}, perm_shape[] = {R, H}, e_shape[] = {E};
  DLTensor t_tokens = tensor(tokens, kDLFloat, 32, 2, tok_shape);
  DLTensor t_ids = tensor(ids, kDLInt, 32, 2, ids_shape);
  DLTensor t_perm = tensor(permuted, kDLFloat, 32, 2, perm_shape);
  DLTensor t_sizes = tensor(sizes, kDLInt, 32, 1, e_shape);
  DLTensor t_dest = tensor(dest, kDLInt, 32, 2, ids_shape);
  DLTensor t_weights = tensor(weights, kDLFloat, 32, 2, ids_shape);
  DLTensor t_out = tensor(out, kDLFloat, 32, 2, tok_shape);

  tk_context *ctx;
  if (tk_context_create(NULL, &ctx) != TK_OK) {
    fprintf(stderr, "context: %s\n", tk_last_error());
    free(permuted);
    return 1;
  }
  tk_moe_permute_args pargs = {&t_tokens, &t_ids, E, ALIGN, &t_perm, &t_sizes, &t_dest};
  tk_status s = tk_moe_permute(ctx, &pargs, NULL);
  /* Here the experts would run: tk_grouped_gemm(permuted, weights, sizes).
   * This example's experts are the identity, so rows = permuted. */
  tk_moe_unpermute_args uargs = {&t_perm, &t_dest, &t_weights, &t_out};
  if (s == TK_OK) s = tk_moe_unpermute(ctx, &uargs, NULL);
  tk_context_destroy(ctx);
  if (s != TK_OK) {
    fprintf(stderr, "moe: %s: %s\n", tk_status_string(s), tk_last_error());
    free(permuted);
    return 1;
  }

  int bad = check_permute(tokens, ids, permuted, R, sizes, dest);
  free(permuted);
  float err = 0;
  for (int t = 0; t < T; t++)
    for (int h = 0; h < H; h++) {
      float want = tokens[t * H + h] * (weights[t * TOPK] + weights[t * TOPK + 1]);
      float e = fabsf(out[t * H + h] - want);
      if (!(e <= err)) err = e != e ? INFINITY : e;
    }
  printf("moe: permute %s, unpermute max abs error %.3g\n", bad ? "WRONG" : "ok", err);
  if (bad || !(err < 1e-5f)) {
    fprintf(stderr, "moe: result differs from the naive loop\n");
    return 1;
  }
  return 0;
}
