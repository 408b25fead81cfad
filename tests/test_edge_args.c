/* test_edge_args.c: valid calls at the edges of what the arguments allow,
 * each a finding of the fuzzing campaign (issue 17), on the reference and
 * the cpu implementation:
 * - dims of extent 1 with strides near INT64_MAX (no address depends on
 *   them): validation normalises them, the kernels give the contiguous
 *   call's result bit for bit (the cpu kernels once multiplied them by the
 *   element size: signed overflow under UBSan);
 * - empty tensors with NULL data (grouped GEMM with N = 0 and unused rows,
 *   attention with Dv = 0): TK_OK, no pointer arithmetic on NULL;
 * - empty problems with huge sizes (paged attention with P = 0 and
 *   page_size 2^40, attention with B = 0 and Tk = 2^40): TK_OK, where the
 *   reference once sized its scratch from the unused extent and returned
 *   TK_ERR_OUT_OF_MEMORY. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/problem.h"
#include "runtime/half.h"
#include "tests/tk_test.h"
#include "tokamax.h"

static const char *const IMPLS[] = {"reference", "cpu"};

/* A host float32/int32 tensor over caller storage. */
static DLTensor tensor(void *data, DLDataType dt, int ndim, int64_t *shape, int64_t *strides) {
  DLTensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.dtype = dt;
  t.shape = shape;
  t.strides = strides;
  return t;
}

static const DLDataType F32 = {kDLFloat, 32, 1}, I32 = {kDLInt, 32, 1};

static void fill(float *x, int n, unsigned seed) {
  for (int i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    float m = 0.125f + (float)((seed >> 8) & 0xffff) / 65536.0f;
    x[i] = (seed >> 30) & 1 ? m : -m;
  }
}

/* Attention with q [1,1,1,8] and out [1,1,1,8]: the contiguous call and
 * the same call with strides near INT64_MAX on the extent-1 dims. */
static void test_attention_extent1_strides(tk_context *ctx) {
  enum { D = 8, TK = 5 };
  float q[D], k[TK * D], v[TK * D], out_a[D], out_b[D];
  fill(q, D, 1), fill(k, TK * D, 2), fill(v, TK * D, 3);
  int64_t sq[] = {1, 1, 1, D}, sk[] = {1, TK, 1, D};
  int64_t wild[] = {INT64_MAX, INT64_MAX - 7, INT64_MIN + 3, 1};
  int64_t wild_out[] = {INT64_MAX, INT64_MAX / 3, INT64_MAX - 1, 1};
  DLTensor tq = tensor(q, F32, 4, sq, NULL), tk = tensor(k, F32, 4, sk, NULL);
  DLTensor tv = tensor(v, F32, 4, sk, NULL), ta = tensor(out_a, F32, 4, sq, NULL);
  DLTensor tq_wild = tensor(q, F32, 4, sq, wild), tb = tensor(out_b, F32, 4, sq, wild_out);
  for (size_t i = 0; i < sizeof IMPLS / sizeof IMPLS[0]; i++) {
    tk_call_options o = {IMPLS[i], NULL};
    memset(out_a, 0, sizeof out_a), memset(out_b, 0xA5, sizeof out_b);
    tk_attention_args a = {&tq, &tk, &tv, &ta, NULL, NULL, NULL, 0, 0, -1, -1, 0};
    CHECK_OK(tk_attention(ctx, &a, &o));
    tk_attention_args b = {&tq_wild, &tk, &tv, &tb, NULL, NULL, NULL, 0, 0, -1, -1, 0};
    CHECK_OK(tk_attention(ctx, &b, &o));
    CHECK(memcmp(out_a, out_b, sizeof out_a) == 0, "%s: extent-1 strides changed the result",
          IMPLS[i]);
  }
  /* Validation hands kernels row-major strides for those dims. */
  tk_attention_args b = {&tq_wild, &tk, &tv, &tb, NULL, NULL, NULL, 0, 0, -1, -1, 0};
  tk_problem p;
  CHECK_OK(tk_problem_validate(TK_OP_ATTENTION, &b, 1, &p));
  const tk_tensor *vq = &p.u.attention.q, *vo = &p.u.attention.out;
  for (int d = 0; d < 4; d++)
    CHECK(vq->stride[d] == (d == 3 ? 1 : D) && vo->stride[d] == (d == 3 ? 1 : D),
          "dim %d: q stride %lld, out stride %lld, want the row-major %d", d,
          (long long)vq->stride[d], (long long)vo->stride[d], d == 3 ? 1 : D);
}

/* Paged attention, one sequence of one query over one page: every extent-1
 * dim of every tensor (q's rows and heads, the caches' pages and heads, the
 * table, the lengths, out) carries a wild stride. */
static void test_paged_extent1_strides(tk_context *ctx) {
  enum { D = 8, PAGE = 4 };
  float q[D], kc[PAGE * D], vc[PAGE * D], out_a[D], out_b[D];
  int32_t table[1] = {0}, kv[1] = {3};
  fill(q, D, 4), fill(kc, PAGE * D, 5), fill(vc, PAGE * D, 6);
  int64_t sq[] = {1, 1, D}, sc[] = {1, PAGE, 1, D}, sbt[] = {1, 1}, skv[] = {1};
  int64_t wq[] = {INT64_MAX, INT64_MIN, 1}, wc[] = {INT64_MAX - 5, D, INT64_MAX, 1};
  int64_t wbt[] = {INT64_MAX, INT64_MAX}, wkv[] = {INT64_MIN}, wo[] = {INT64_MAX, INT64_MAX, 1};
  DLTensor tq = tensor(q, F32, 3, sq, NULL), tk = tensor(kc, F32, 4, sc, NULL);
  DLTensor tv = tensor(vc, F32, 4, sc, NULL), tbt = tensor(table, I32, 2, sbt, NULL);
  DLTensor tkv = tensor(kv, I32, 1, skv, NULL), ta = tensor(out_a, F32, 3, sq, NULL);
  DLTensor wtq = tensor(q, F32, 3, sq, wq), wtk = tensor(kc, F32, 4, sc, wc);
  DLTensor wtv = tensor(vc, F32, 4, sc, wc), wtbt = tensor(table, I32, 2, sbt, wbt);
  DLTensor wtkv = tensor(kv, I32, 1, skv, wkv), tb = tensor(out_b, F32, 3, sq, wo);
  for (size_t i = 0; i < sizeof IMPLS / sizeof IMPLS[0]; i++) {
    tk_call_options o = {IMPLS[i], NULL};
    memset(out_a, 0, sizeof out_a), memset(out_b, 0xA5, sizeof out_b);
    tk_paged_attention_args a = {&tq, &tk, &tv, &tbt, &tkv, NULL, &ta, 0, 0, -1, NULL, NULL};
    CHECK_OK(tk_paged_attention(ctx, &a, &o));
    tk_paged_attention_args b = {&wtq, &wtk, &wtv, &wtbt, &wtkv, NULL, &tb, 0, 0, -1, NULL, NULL};
    CHECK_OK(tk_paged_attention(ctx, &b, &o));
    CHECK(memcmp(out_a, out_b, sizeof out_a) == 0, "%s: extent-1 strides changed the result",
          IMPLS[i]);
  }
}

/* Grouped GEMM with N = 0 (rhs and out empty, NULL data) and rows past the
 * groups; then K = 0 with data, whose output must be zeros. */
static void test_gemm_empty(tk_context *ctx) {
  float lhs[6 * 4];
  int32_t gs[2] = {2, 1};
  fill(lhs, 6 * 4, 7);
  int64_t sl[] = {6, 4}, sr_nn[] = {2, 4, 0}, sr_nt[] = {2, 0, 4}, sg[] = {2}, so[] = {6, 0};
  DLTensor tl = tensor(lhs, F32, 2, sl, NULL), tg = tensor(gs, I32, 1, sg, NULL);
  DLTensor tr[2] = {tensor(NULL, F32, 3, sr_nn, NULL), tensor(NULL, F32, 3, sr_nt, NULL)};
  DLTensor to = tensor(NULL, F32, 2, so, NULL);
  int64_t sl0[] = {6, 0}, sr0[] = {2, 0, 3}, so3[] = {6, 3};
  float out3[6 * 3];
  DLTensor tl0 = tensor(NULL, F32, 2, sl0, NULL), tr0 = tensor(NULL, F32, 3, sr0, NULL);
  DLTensor to3 = tensor(out3, F32, 2, so3, NULL);
  for (size_t i = 0; i < sizeof IMPLS / sizeof IMPLS[0]; i++) {
    tk_call_options o = {IMPLS[i], NULL};
    for (int layout = TK_GG_NN; layout <= TK_GG_NT; layout++) {
      tk_grouped_gemm_args a = {&tl, &tr[layout], &tg, &to, (tk_gg_layout)layout};
      CHECK_OK(tk_grouped_gemm(ctx, &a, &o));
    }
    memset(out3, 0xA5, sizeof out3);
    tk_grouped_gemm_args b = {&tl0, &tr0, &tg, &to3, TK_GG_NN};
    CHECK_OK(tk_grouped_gemm(ctx, &b, &o));
    int zeros = 1;
    for (int j = 0; j < 6 * 3; j++) zeros &= out3[j] == 0.0f;
    CHECK(zeros, "%s: K = 0 must give a zero output", IMPLS[i]);
  }
}

/* Attention with Dv = 0: v and out hold no elements and have NULL data. */
static void test_attention_dv0(tk_context *ctx) {
  float q[2 * 3 * 2 * 4], k[2 * 5 * 1 * 4], lse[2 * 2 * 3];
  fill(q, 48, 8), fill(k, 40, 9);
  int64_t sq[] = {2, 3, 2, 4}, sk[] = {2, 5, 1, 4}, sv[] = {2, 5, 1, 0}, so[] = {2, 3, 2, 0};
  int64_t sl[] = {2, 2, 3};
  DLTensor tq = tensor(q, F32, 4, sq, NULL), tk = tensor(k, F32, 4, sk, NULL);
  DLTensor tv = tensor(NULL, F32, 4, sv, NULL), to = tensor(NULL, F32, 4, so, NULL);
  DLTensor tl = tensor(lse, F32, 3, sl, NULL);
  for (size_t i = 0; i < sizeof IMPLS / sizeof IMPLS[0]; i++) {
    tk_call_options o = {IMPLS[i], NULL};
    memset(lse, 0xA5, sizeof lse);
    tk_attention_args a = {&tq, &tk, &tv, &to, &tl, NULL, NULL, 0, 1, -1, -1, 0};
    tk_status s = tk_attention(ctx, &a, &o);
    CHECK(s == TK_OK || s == TK_ERR_UNSUPPORTED, "%s: Dv = 0: %s: %s", IMPLS[i],
          tk_status_string(s), tk_last_error());
    if (s == TK_OK) {
      int finite = 1;
      for (int j = 0; j < 12; j++) finite &= lse[j] == lse[j];
      CHECK(finite, "%s: Dv = 0 must still write lse", IMPLS[i]);
    }
  }
}

/* Paged attention with no pages (P = 0) of 2^40 tokens each, one empty
 * sequence (kv_lens {0}, no queries): nothing to compute. */
static void test_paged_empty_huge_page(tk_context *ctx) {
  int32_t table[1] = {-1}, kv[1] = {0}, cu[2] = {0, 0};
  int64_t sq[] = {0, 2, 8}, sc[] = {0, (int64_t)1 << 40, 1, 8}, sbt[] = {1, 1}, skv[] = {1};
  int64_t scu[] = {2};
  DLTensor tq = tensor(NULL, F32, 3, sq, NULL), tk = tensor(NULL, F32, 4, sc, NULL);
  DLTensor tv = tensor(NULL, F32, 4, sc, NULL), tbt = tensor(table, I32, 2, sbt, NULL);
  DLTensor tkv = tensor(kv, I32, 1, skv, NULL), tcu = tensor(cu, I32, 1, scu, NULL);
  DLTensor to = tensor(NULL, F32, 3, sq, NULL);
  for (size_t i = 0; i < sizeof IMPLS / sizeof IMPLS[0]; i++) {
    tk_call_options o = {IMPLS[i], NULL};
    tk_paged_attention_args a = {&tq, &tk, &tv, &tbt, &tkv, &tcu, &to, 0, 0, -1, NULL, NULL};
    tk_status s = tk_paged_attention(ctx, &a, &o);
    CHECK(s == TK_OK, "%s: empty problem, page_size 2^40: %s: %s", IMPLS[i], tk_status_string(s),
          tk_last_error());
  }
}

/* Attention with no batch (B = 0) but Tk = 2^40 keys per (empty) batch. */
static void test_attention_empty_huge_tk(tk_context *ctx) {
  int64_t sq[] = {0, 4, 2, 8}, sk[] = {0, (int64_t)1 << 40, 1, 8};
  DLTensor tq = tensor(NULL, F32, 4, sq, NULL), tk = tensor(NULL, F32, 4, sk, NULL);
  DLTensor tv = tensor(NULL, F32, 4, sk, NULL), to = tensor(NULL, F32, 4, sq, NULL);
  for (size_t i = 0; i < sizeof IMPLS / sizeof IMPLS[0]; i++) {
    tk_call_options o = {IMPLS[i], NULL};
    tk_attention_args a = {&tq, &tk, &tv, &to, NULL, NULL, NULL, 0, 0, -1, -1, 0};
    tk_status s = tk_attention(ctx, &a, &o);
    /* cpu indexes positions in int32 and says so */
    CHECK(s == TK_OK || (i > 0 && s == TK_ERR_UNSUPPORTED), "%s: B = 0, Tk = 2^40: %s: %s",
          IMPLS[i], tk_status_string(s), tk_last_error());
  }
}

int main(void) {
  tk_context *ctx = NULL;
  tk_context_options opts = {":memory:", 2, TK_TUNE_OFF, NULL};
  CHECK_OK(tk_context_create(&opts, &ctx));
  if (!ctx) TK_TEST_END();
  test_attention_extent1_strides(ctx);
  test_paged_extent1_strides(ctx);
  test_gemm_empty(ctx);
  test_attention_dv0(ctx);
  test_paged_empty_huge_page(ctx);
  test_attention_empty_huge_tk(ctx);
  tk_context_destroy(ctx);
  TK_TEST_END();
}
