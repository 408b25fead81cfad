/* moe_backward.c: the backward pass of MoE routing: the gradients of
 * tk_moe_unpermute with tk_moe_unpermute_backward, and the gradient of
 * tk_moe_permute, which is tk_moe_unpermute of the permuted gradient with
 * unit weights (NULL).
 *
 * Forward, as in moe.c: permuted = permute(tokens), rows = expert(permuted)
 * (here each row scaled by its expert's factor f[e], a stand-in for the
 * expert GEMMs), out = unpermute(rows, dest, weights). For a loss with
 * gradient dout of out:
 *   d_rows, d_weights = tk_moe_unpermute_backward(dout, rows, dest, weights)
 *   d_permuted        = f[e] * d_rows   (the expert's backward)
 *   d_tokens          = tk_moe_unpermute(d_permuted, dest, NULL)
 * and in closed form d_tokens[t] = sum_s weights[t,s] f[e(t,s)] dout[t],
 * d_weights[t,s] = f[e(t,s)] dout[t] . tokens[t]. Exits 0 when the calls
 * match the closed form. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <tokamax.h>

#include "example_util.h"

enum { T = 9, H = 8, TOPK = 2, E = 3, ALIGN = 2 };

int main(void) {
  const int64_t R = tk_moe_permute_max_rows(T, TOPK, E, ALIGN);
  float tokens[T * H], weights[T * TOPK], out[T * H], dout[T * H], d_tokens[T * H];
  float d_weights[T * TOPK], f[E] = {0.5f, -1.25f, 2.0f};
  int32_t ids[T * TOPK], sizes[E], dest[T * TOPK];
  float *rows = malloc(sizeof(float) * (size_t)(R * H * 3));
  if (!rows) return 1;
  float *permuted = rows + R * H, *d_rows = permuted + R * H;
  unsigned seed = 5;
  for (int i = 0; i < T * H; i++) tokens[i] = rnd(&seed), dout[i] = rnd(&seed);
  for (int t = 0; t < T; t++) {
    ids[t * TOPK] = t % E;
    ids[t * TOPK + 1] = (t % E + 1 + (t / E) % (E - 1)) % E; /* a different expert */
    weights[t * TOPK] = 0.25f + 0.5f * fabsf(rnd(&seed));
    weights[t * TOPK + 1] = 1.0f - weights[t * TOPK];
  }

  int64_t tok_shape[] = {T, H}, ids_shape[] = {T, TOPK}, row_shape[] = {R, H}, e_shape[] = {E};
  DLTensor t_tokens = tensor(tokens, kDLFloat, 32, 2, tok_shape);
  DLTensor t_ids = tensor(ids, kDLInt, 32, 2, ids_shape);
  DLTensor t_perm = tensor(permuted, kDLFloat, 32, 2, row_shape);
  DLTensor t_rows = tensor(rows, kDLFloat, 32, 2, row_shape);
  DLTensor t_drows = tensor(d_rows, kDLFloat, 32, 2, row_shape);
  DLTensor t_sizes = tensor(sizes, kDLInt, 32, 1, e_shape);
  DLTensor t_dest = tensor(dest, kDLInt, 32, 2, ids_shape);
  DLTensor t_w = tensor(weights, kDLFloat, 32, 2, ids_shape);
  DLTensor t_dw = tensor(d_weights, kDLFloat, 32, 2, ids_shape);
  DLTensor t_out = tensor(out, kDLFloat, 32, 2, tok_shape);
  DLTensor t_dout = tensor(dout, kDLFloat, 32, 2, tok_shape);
  DLTensor t_dtok = tensor(d_tokens, kDLFloat, 32, 2, tok_shape);

  tk_context *ctx;
  if (tk_context_create(NULL, &ctx) != TK_OK) {
    fprintf(stderr, "context: %s\n", tk_last_error());
    free(rows);
    return 1;
  }
  /* Forward. */
  tk_moe_permute_args pa = {&t_tokens, &t_ids, E, ALIGN, &t_perm, &t_sizes, &t_dest};
  tk_status s = tk_moe_permute(ctx, &pa, NULL);
  for (int64_t r = 0, e = 0, end = sizes[0]; s == TK_OK && r < R; r++) {
    while (e < E - 1 && r >= end) end += sizes[++e];
    for (int h = 0; h < H; h++) rows[r * H + h] = f[e] * permuted[r * H + h];
  }
  tk_moe_unpermute_args ua = {&t_rows, &t_dest, &t_w, &t_out};
  if (s == TK_OK) s = tk_moe_unpermute(ctx, &ua, NULL);
  /* Backward: unpermute's gradients, the experts', then permute's. */
  tk_moe_unpermute_backward_args ba = {&t_dout, &t_rows, &t_dest, &t_w, &t_drows, &t_dw};
  if (s == TK_OK) s = tk_moe_unpermute_backward(ctx, &ba, NULL);
  for (int64_t r = 0, e = 0, end = sizes[0]; s == TK_OK && r < R; r++) {
    while (e < E - 1 && r >= end) end += sizes[++e];
    for (int h = 0; h < H; h++) d_rows[r * H + h] *= f[e];
  }
  tk_moe_unpermute_args grad_permute = {&t_drows, &t_dest, NULL, &t_dtok};
  if (s == TK_OK) s = tk_moe_unpermute(ctx, &grad_permute, NULL);
  tk_context_destroy(ctx);
  free(rows);
  if (s != TK_OK) {
    fprintf(stderr, "moe_backward: %s: %s\n", tk_status_string(s), tk_last_error());
    return 1;
  }

  float err_tok = 0, err_w = 0;
  for (int t = 0; t < T; t++) {
    float scale = 0;
    for (int s2 = 0; s2 < TOPK; s2++) {
      const int i = t * TOPK + s2;
      double dot = 0;
      for (int h = 0; h < H; h++) dot += (double)dout[t * H + h] * tokens[t * H + h];
      scale += weights[i] * f[ids[i]];
      float want_w = (float)(f[ids[i]] * dot);
      err_w = fmaxf(err_w, fabsf(d_weights[i] - want_w));
    }
    for (int h = 0; h < H; h++) {
      float want = scale * dout[t * H + h];
      err_tok = fmaxf(err_tok, fabsf(d_tokens[t * H + h] - want));
    }
  }
  printf("moe_backward: d_tokens max abs error %.3g, d_weights max abs error %.3g\n", err_tok, err_w);
  if (!(err_tok < 1e-5f && err_w < 1e-5f)) {
    fprintf(stderr, "moe_backward: gradients differ from the closed form\n");
    return 1;
  }
  return 0;
}
