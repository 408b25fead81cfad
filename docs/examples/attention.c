/* attention.c: grouped-query causal attention with tk_attention.
 *
 * Builds q [B,Tq,Hq,D], k and v [B,Tk,Hkv,D] of random float32 data
 * (Hq = 4 query heads share Hkv = 2 kv heads), asks for the output and the
 * log-sum-exp of each row, and checks both against a plain loop below.
 * Exits 0 when they agree, 1 otherwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <tokamax.h>

#include "example_util.h"

enum { B = 2, TQ = 5, TK = 9, HQ = 4, HKV = 2, D = 16 };

/* Causal GQA attention in float: query i of a batch sees keys
 * j <= i + (TK - TQ) (bottom-right aligned). */
static void naive_attention(const float *q, const float *k, const float *v, float *out,
                            float *lse) {
  const float scale = 1.0f / sqrtf((float)D);
  for (int b = 0; b < B; b++)
    for (int h = 0; h < HQ; h++) {
      int hk = h / (HQ / HKV);
      for (int i = 0; i < TQ; i++) {
        int last = i + (TK - TQ);
        float s[TK], m = -INFINITY, sum = 0;
        for (int j = 0; j <= last; j++) {
          float dot = 0;
          for (int d = 0; d < D; d++)
            dot += q[((b * TQ + i) * HQ + h) * D + d] * k[((b * TK + j) * HKV + hk) * D + d];
          s[j] = dot * scale;
          if (s[j] > m) m = s[j];
        }
        for (int j = 0; j <= last; j++) sum += (s[j] = expf(s[j] - m));
        for (int d = 0; d < D; d++) {
          float acc = 0;
          for (int j = 0; j <= last; j++) acc += s[j] * v[((b * TK + j) * HKV + hk) * D + d];
          out[((b * TQ + i) * HQ + h) * D + d] = acc / sum;
        }
        lse[(b * HQ + h) * TQ + i] = m + logf(sum);
      }
    }
}

int main(void) {
  static float q[B * TQ * HQ * D], k[B * TK * HKV * D], v[B * TK * HKV * D];
  static float out[B * TQ * HQ * D], lse[B * HQ * TQ];
  static float want_out[B * TQ * HQ * D], want_lse[B * HQ * TQ];
  unsigned seed = 42;
  for (int i = 0; i < B * TQ * HQ * D; i++) q[i] = rnd(&seed);
  for (int i = 0; i < B * TK * HKV * D; i++) k[i] = rnd(&seed), v[i] = rnd(&seed);

  int64_t q_shape[] = {B, TQ, HQ, D}, kv_shape[] = {B, TK, HKV, D}, lse_shape[] = {B, HQ, TQ};
  DLTensor tq = tensor(q, kDLFloat, 32, 4, q_shape), tk = tensor(k, kDLFloat, 32, 4, kv_shape);
  DLTensor tv = tensor(v, kDLFloat, 32, 4, kv_shape), tout = tensor(out, kDLFloat, 32, 4, q_shape);
  DLTensor tlse = tensor(lse, kDLFloat, 32, 3, lse_shape);

  tk_context *ctx;
  if (tk_context_create(NULL, &ctx) != TK_OK) {
    fprintf(stderr, "context: %s\n", tk_last_error());
    return 1;
  }
  tk_attention_args args = {0};
  args.q = &tq;
  args.k = &tk;
  args.v = &tv;
  args.out = &tout;
  args.lse = &tlse;
  args.scale = 0;          /* 1/sqrt(D) */
  args.causal = 1;
  args.window_left = -1;   /* no sliding window */
  args.window_right = -1;
  tk_status s = tk_attention(ctx, &args, NULL); /* NULL options: automatic choice */
  tk_context_destroy(ctx);
  if (s != TK_OK) {
    fprintf(stderr, "tk_attention: %s: %s\n", tk_status_string(s), tk_last_error());
    return 1;
  }

  naive_attention(q, k, v, want_out, want_lse);
  float err = fmaxf(max_diff(out, want_out, B * TQ * HQ * D), max_diff(lse, want_lse, B * HQ * TQ));
  printf("attention: max abs error %.3g\n", err);
  if (!(err < 1e-4f)) {
    fprintf(stderr, "attention: result differs from the naive loop\n");
    return 1;
  }
  return 0;
}
