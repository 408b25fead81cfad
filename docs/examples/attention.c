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

enum { B = 2, TQ = 5, TK = 9, HQ = 4, HKV = 2, D = 16 };

/* A uniform random value in [-1, 1] that is never zero. */
static float rnd(unsigned *state) {
  *state = *state * 1664525u + 1013904223u;
  float x = (float)(*state >> 8) / 16777216.0f * 2.0f - 1.0f;
  return x == 0.0f ? 0.5f : x;
}

/* A contiguous float32 CPU tensor over data. */
static DLTensor f32_tensor(float *data, int ndim, int64_t *shape) {
  DLTensor t = {0};
  t.data = data;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.dtype.code = kDLFloat;
  t.dtype.bits = 32;
  t.dtype.lanes = 1;
  t.shape = shape;
  t.strides = NULL; /* row-major */
  return t;
}

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

/* The largest |a[i] - b[i]|; infinity if any difference is NaN. */
static float max_diff(const float *a, const float *b, int n) {
  float m = 0;
  for (int i = 0; i < n; i++) {
    float e = fabsf(a[i] - b[i]);
    if (e != e) return INFINITY;
    if (e > m) m = e;
  }
  return m;
}

int main(void) {
  static float q[B * TQ * HQ * D], k[B * TK * HKV * D], v[B * TK * HKV * D];
  static float out[B * TQ * HQ * D], lse[B * HQ * TQ];
  static float want_out[B * TQ * HQ * D], want_lse[B * HQ * TQ];
  unsigned seed = 42;
  for (int i = 0; i < B * TQ * HQ * D; i++) q[i] = rnd(&seed);
  for (int i = 0; i < B * TK * HKV * D; i++) k[i] = rnd(&seed), v[i] = rnd(&seed);

  int64_t q_shape[] = {B, TQ, HQ, D}, kv_shape[] = {B, TK, HKV, D}, lse_shape[] = {B, HQ, TQ};
  DLTensor tq = f32_tensor(q, 4, q_shape), tk = f32_tensor(k, 4, kv_shape);
  DLTensor tv = f32_tensor(v, 4, kv_shape), tout = f32_tensor(out, 4, q_shape);
  DLTensor tlse = f32_tensor(lse, 3, lse_shape);

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
