/* attention_backward.c: the gradients of GQA causal attention with
 * tk_attention_backward, checked against the forward pass itself.
 *
 * The forward call keeps lse (the backward needs it, with out). For a
 * scalar loss L = sum(g * out), dout = g, and the directional derivative
 * of L along random directions (a, b, c) of (q, k, v) must equal
 * <dq, a> + <dk, b> + <dv, c>. The example measures that derivative by a
 * central difference of two more forward calls, so it needs no second
 * implementation of attention. Exits 0 when the two agree. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <tokamax.h>

#include "example_util.h"

enum { B = 1, TQ = 24, TK = 32, HQ = 4, HKV = 2, D = 16 };
enum { NQ = B * TQ * HQ * D, NK = B * TK * HKV * D, NO = B * TQ * HQ * D, NL = B * HQ * TQ };

/* The forward call on (q, k, v) into out and lse. */
static tk_status forward(tk_context *ctx, const float *q, const float *k, const float *v, float *out,
                         float *lse) {
  int64_t qs[] = {B, TQ, HQ, D}, ks[] = {B, TK, HKV, D}, ls[] = {B, HQ, TQ};
  DLTensor tq = tensor(q, kDLFloat, 32, 4, qs), tk = tensor(k, kDLFloat, 32, 4, ks);
  DLTensor tv = tensor(v, kDLFloat, 32, 4, ks), to = tensor(out, kDLFloat, 32, 4, qs);
  DLTensor tl = tensor(lse, kDLFloat, 32, 3, ls);
  tk_attention_args a = {.q = &tq, .k = &tk, .v = &tv, .out = &to, .lse = &tl, .causal = 1,
                         .window_left = -1, .window_right = -1};
  return tk_attention(ctx, &a, NULL);
}

/* L = sum(g * out) of the forward at (q, k, v) + eps * (a, b, c). */
static double loss_at(tk_context *ctx, const float *q, const float *k, const float *v,
                      const float *a, const float *b, const float *c, const float *g, double eps,
                      float *out, float *lse, tk_status *st) {
  static float qq[NQ], kk[NK], vv[NK];
  for (int i = 0; i < NQ; i++) qq[i] = q[i] + (float)eps * a[i];
  for (int i = 0; i < NK; i++) kk[i] = k[i] + (float)eps * b[i], vv[i] = v[i] + (float)eps * c[i];
  *st = forward(ctx, qq, kk, vv, out, lse);
  double l = 0;
  for (int i = 0; i < NO; i++) l += (double)g[i] * out[i];
  return l;
}

int main(void) {
  static float q[NQ], k[NK], v[NK], out[NO], lse[NL], g[NO];
  static float dq[NQ], dk[NK], dv[NK], a[NQ], b[NK], c[NK], tmp[NO], tmp_lse[NL];
  unsigned seed = 11;
  for (int i = 0; i < NQ; i++) q[i] = rnd(&seed), a[i] = rnd(&seed);
  for (int i = 0; i < NK; i++) k[i] = rnd(&seed), v[i] = rnd(&seed), b[i] = rnd(&seed), c[i] = rnd(&seed);
  for (int i = 0; i < NO; i++) g[i] = rnd(&seed);

  tk_context *ctx;
  if (tk_context_create(NULL, &ctx) != TK_OK) {
    fprintf(stderr, "context: %s\n", tk_last_error());
    return 1;
  }
  int64_t qs[] = {B, TQ, HQ, D}, ks[] = {B, TK, HKV, D}, ls[] = {B, HQ, TQ};
  DLTensor tq = tensor(q, kDLFloat, 32, 4, qs), tk = tensor(k, kDLFloat, 32, 4, ks);
  DLTensor tv = tensor(v, kDLFloat, 32, 4, ks), to = tensor(out, kDLFloat, 32, 4, qs);
  DLTensor tl = tensor(lse, kDLFloat, 32, 3, ls), tg = tensor(g, kDLFloat, 32, 4, qs);
  DLTensor tdq = tensor(dq, kDLFloat, 32, 4, qs), tdk = tensor(dk, kDLFloat, 32, 4, ks);
  DLTensor tdv = tensor(dv, kDLFloat, 32, 4, ks);

  tk_status s = forward(ctx, q, k, v, out, lse);
  tk_attention_backward_args bw = {.q = &tq, .k = &tk, .v = &tv, .out = &to, .dout = &tg,
                                   .lse = &tl, .dq = &tdq, .dk = &tdk, .dv = &tdv, .causal = 1,
                                   .window_left = -1, .window_right = -1};
  if (s == TK_OK) s = tk_attention_backward(ctx, &bw, NULL);
  const double eps = 1e-2;
  tk_status s1 = s, s2 = s;
  double lp = 0, lm = 0;
  if (s == TK_OK) {
    lp = loss_at(ctx, q, k, v, a, b, c, g, eps, tmp, tmp_lse, &s1);
    lm = loss_at(ctx, q, k, v, a, b, c, g, -eps, tmp, tmp_lse, &s2);
  }
  tk_context_destroy(ctx);
  if (s != TK_OK || s1 != TK_OK || s2 != TK_OK) {
    fprintf(stderr, "attention_backward: %s\n", tk_last_error());
    return 1;
  }
  double want = (lp - lm) / (2 * eps), got = 0;
  for (int i = 0; i < NQ; i++) got += (double)dq[i] * a[i];
  for (int i = 0; i < NK; i++) got += (double)dk[i] * b[i] + (double)dv[i] * c[i];
  const double rel = fabs(got - want) / fmax(fabs(want), 1e-6);
  printf("attention_backward: <grad, direction> %.6f, central difference %.6f (rel. %.2g)\n", got,
         want, rel);
  if (!(rel < 1e-3)) {
    fprintf(stderr, "attention_backward: the gradients disagree with the forward pass\n");
    return 1;
  }
  return 0;
}
