/* paged_attention.c: attention over a paged KV cache with
 * tk_paged_attention, mixing decode and chunked prefill in one call.
 *
 * S = 3 sequences hold 5, 7 and 4 tokens in a cache of 4-token pages
 * [P, page, Hkv, D]; their pages are scattered (block_table). Sequence 0
 * decodes one query, sequence 1 prefills its last 3 positions, sequence 2
 * its last 2: queries are packed [Tq_total, Hq, D] with offsets cu_q_lens.
 * Each query is causal against its sequence's cache. Checked against a
 * plain loop below; exits 0 when they agree. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <tokamax.h>

#include "example_util.h"

enum { S = 3, PAGE = 4, P = 8, MAX_PAGES = 2, HQ = 4, HKV = 2, D = 16, TQ_TOTAL = 6 };

static const int32_t kv_lens[S] = {5, 7, 4};
static const int32_t cu_q_lens[S + 1] = {0, 1, 4, 6}; /* q_lens 1, 3, 2 */
static const int32_t block_table[S][MAX_PAGES] = {{6, 1}, {3, 7}, {0, 5}};

/* Offset of head h of token j of sequence s in the cache. */
static int cache_at(int s, int j, int h) {
  return ((block_table[s][j / PAGE] * PAGE + j % PAGE) * HKV + h) * D;
}

/* Query r of sequence s sits at position kv_len - q_len + r and sees the
 * cache tokens up to that position. */
static void naive_paged(const float *q, const float *kc, const float *vc, float *out) {
  const float scale = 1.0f / sqrtf((float)D);
  for (int s = 0; s < S; s++) {
    int q_len = cu_q_lens[s + 1] - cu_q_lens[s];
    for (int r = 0; r < q_len; r++)
      for (int h = 0; h < HQ; h++) {
        int hk = h / (HQ / HKV), last = kv_lens[s] - q_len + r;
        const float *qrow = &q[((cu_q_lens[s] + r) * HQ + h) * D];
        float w[PAGE * MAX_PAGES], m = -INFINITY, sum = 0;
        for (int j = 0; j <= last; j++) {
          float dot = 0;
          for (int d = 0; d < D; d++) dot += qrow[d] * kc[cache_at(s, j, hk) + d];
          w[j] = dot * scale;
          if (w[j] > m) m = w[j];
        }
        for (int j = 0; j <= last; j++) sum += (w[j] = expf(w[j] - m));
        for (int d = 0; d < D; d++) {
          float acc = 0;
          for (int j = 0; j <= last; j++) acc += w[j] * vc[cache_at(s, j, hk) + d];
          out[((cu_q_lens[s] + r) * HQ + h) * D + d] = acc / sum;
        }
      }
  }
}

int main(void) {
  static float q[TQ_TOTAL * HQ * D], kc[P * PAGE * HKV * D], vc[P * PAGE * HKV * D];
  static float out[TQ_TOTAL * HQ * D], want[TQ_TOTAL * HQ * D];
  unsigned seed = 11;
  for (int i = 0; i < TQ_TOTAL * HQ * D; i++) q[i] = rnd(&seed);
  for (int i = 0; i < P * PAGE * HKV * D; i++) kc[i] = rnd(&seed), vc[i] = rnd(&seed);

  int64_t q_shape[] = {TQ_TOTAL, HQ, D}, cache_shape[] = {P, PAGE, HKV, D};
  int64_t bt_shape[] = {S, MAX_PAGES}, s_shape[] = {S}, cu_shape[] = {S + 1};
  DLTensor tq = tensor(q, kDLFloat, 32, 3, q_shape), tout = tensor(out, kDLFloat, 32, 3, q_shape);
  DLTensor tkc = tensor(kc, kDLFloat, 32, 4, cache_shape);
  DLTensor tvc = tensor(vc, kDLFloat, 32, 4, cache_shape);
  DLTensor tbt = tensor(block_table, kDLInt, 32, 2, bt_shape);
  DLTensor tkl = tensor(kv_lens, kDLInt, 32, 1, s_shape);
  DLTensor tcu = tensor(cu_q_lens, kDLInt, 32, 1, cu_shape);

  tk_context *ctx;
  if (tk_context_create(NULL, &ctx) != TK_OK) {
    fprintf(stderr, "context: %s\n", tk_last_error());
    return 1;
  }
  tk_paged_attention_args args = {0};
  args.q = &tq;
  args.k_cache = &tkc;
  args.v_cache = &tvc;
  args.block_table = &tbt;
  args.kv_lens = &tkl;
  args.cu_q_lens = &tcu; /* NULL would mean decode: one query per sequence */
  args.out = &tout;
  args.scale = 0;        /* 1/sqrt(D) */
  args.softcap = 0;      /* off */
  args.window_left = -1; /* unbounded */
  tk_status s = tk_paged_attention(ctx, &args, NULL);
  tk_context_destroy(ctx);
  if (s != TK_OK) {
    fprintf(stderr, "tk_paged_attention: %s: %s\n", tk_status_string(s), tk_last_error());
    return 1;
  }

  naive_paged(q, kc, vc, want);
  float err = max_diff(out, want, TQ_TOTAL * HQ * D);
  printf("paged_attention: max abs error %.3g\n", err);
  if (!(err < 1e-4f)) {
    fprintf(stderr, "paged_attention: result differs from the naive loop\n");
    return 1;
  }
  return 0;
}
