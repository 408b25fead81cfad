/* test_cpu_attention: the cpu attention and paged attention where
 * tests/test_impls does not reach: sequences crossing many KV blocks and
 * row tiles, long KV split over tasks (split-KV merge), extreme softcaps and
 * scales, odd head sizes (D = 1, odd D with bf16 pairs, Dv below the tile
 * width), pages of 7 and 1 tokens; each in several configs against the
 * reference, with the same bits on 1 and 2 threads. Then hand-built
 * problems: sequences with no key at all (out 0, lse -inf), rows past
 * q_lens left untouched, a negative scale, keys with element stride 2,
 * values stored backwards (negative stride), queries head-major; a paged
 * cache with element stride 2 and a strided block table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/half.h"
#include "regress/case.h"
#include "regress/case_internal.h"
#include "tests/tk_test.h"

static const char *const ATTN_CONFIGS[] = {
    "isa=512,block_q=16,block_kv=64,mr=2,kv_split=1",
    "isa=512,block_q=128,block_kv=256,mr=4,kv_split=4",
    "isa=512,block_q=64,block_kv=64,mr=4,kv_split=4",
    "isa=256,block_q=64,block_kv=64,mr=4,kv_split=1",
    "isa=256,block_q=16,block_kv=256,mr=2,kv_split=4",
};
static const char *const PAGED_CONFIGS[] = {
    "isa=256,block_q=16,block_kv=64,mr=2,kv_split=1,decode=0,dec_keys=16",
    "isa=512,block_q=64,block_kv=256,mr=4,kv_split=8,decode=0,dec_keys=16",
    "isa=256,block_q=64,block_kv=64,mr=2,kv_split=1,decode=1,dec_keys=16",
    "isa=256,block_q=16,block_kv=64,mr=2,kv_split=8,decode=1,dec_keys=32,dec_pf=1",
    "isa=256,block_q=64,block_kv=256,mr=4,kv_split=2,decode=0,dec_keys=16",
    "isa=256,block_q=64,block_kv=64,mr=2,kv_split=2,decode=1,dec_keys=8,dec_pf=1",
    "isa=256,block_q=16,block_kv=64,mr=2,kv_split=8,decode=1,dec_keys=32,dec_pf=0",
};
#define N_ATTN_CFG (int)(sizeof ATTN_CONFIGS / sizeof *ATTN_CONFIGS)
#define N_PAGED_CFG (int)(sizeof PAGED_CONFIGS / sizeof *PAGED_CONFIGS)

/* Runs spec in every config (those the CPU allows) on ctx2 (2 threads):
 * each within tolerance of the reference; the first config also on ctx1
 * (1 thread) with the same bits. */
static void check_spec(tk_context *ctx1, tk_context *ctx2, const char *spec) {
  char err[256];
  tk_case *c = NULL;
  tk_status st = tk_case_create(spec, 77, &c, err, sizeof err);
  CHECK(st == TK_OK, "%s: %s", spec, err);
  if (st != TK_OK) return;
  CHECK_OK(tk_case_prepare_expected(c, ctx2));
  int attn = tk_case_op(c) == TK_OP_ATTENTION;
  const char *const *cfgs = attn ? ATTN_CONFIGS : PAGED_CONFIGS;
  int ran = 0;
  for (int i = 0; i < (attn ? N_ATTN_CFG : N_PAGED_CFG); i++) {
    tk_call_options o = {"cpu", cfgs[i]};
    st = tk_case_run(c, ctx2, &o);
    if (st == TK_ERR_INVALID_ARGUMENT && strstr(tk_last_error(), "config: invalid")) continue;
    CHECK(st == TK_OK, "%s | %s: %s", spec, cfgs[i], tk_last_error());
    if (st != TK_OK) continue;
    tk_case_report r;
    CHECK(tk_case_check(c, &r), "%s | %s: %s", spec, cfgs[i], r.why);
    if (ran++ > 0) continue;
    tk_case_snapshot(c);
    CHECK_OK(tk_case_run(c, ctx1, &o));
    CHECK(tk_case_same_as_snapshot(c), "%s | %s: 1 thread gives other bits than 2", spec, cfgs[i]);
  }
  CHECK(ran >= 2, "%s: only %d configs ran", spec, ran);
  tk_case_destroy(c);
}

static const char *const SPECS[] = {
    /* many KV blocks and row tiles, partial last ones */
    "attention dtype=bf16 B=1 Tq=70 Tk=300 Hq=8 Hkv=2 D=64 causal=1",
    "attention dtype=f32 B=2 Tq=130 Tk=150 Hq=2 Hkv=1 D=96 Dv=40 wl=70 wr=3",
    "attention dtype=f16 B=2 Tq=90 Tk=90 Hq=6 Hkv=3 D=80 causal=1 varlen=1",
    /* long KV, few rows: split-KV */
    "attention dtype=f16 B=1 Tq=3 Tk=1500 Hq=4 Hkv=1 D=64 causal=1",
    "attention dtype=bf16 B=1 Tq=1 Tk=2000 Hq=8 Hkv=8 D=128",
    /* extreme softcaps and scales */
    "attention dtype=f32 B=1 Tq=40 Tk=300 Hq=2 Hkv=1 D=64 softcap=0.01 scale=3",
    "attention dtype=f32 B=1 Tq=40 Tk=300 Hq=2 Hkv=1 D=64 causal=1 softcap=10000 scale=2",
    "attention dtype=f32 B=1 Tq=33 Tk=200 Hq=2 Hkv=2 D=64 scale=40",
    "attention dtype=f32 B=1 Tq=33 Tk=200 Hq=2 Hkv=2 D=64 scale=7 softcap=3",
    "attention dtype=bf16 B=1 Tq=33 Tk=200 Hq=2 Hkv=1 D=64 scale=0.0001",
    /* odd head sizes */
    "attention dtype=bf16 B=1 Tq=20 Tk=40 Hq=2 Hkv=1 D=33 Dv=1 causal=1",
    "attention dtype=f16 B=1 Tq=20 Tk=40 Hq=4 Hkv=2 D=17 Dv=5",
    "attention dtype=f32 B=1 Tq=20 Tk=70 Hq=2 Hkv=1 D=1 Dv=3 causal=1",
    /* paged: long decode with splits, pages of 7 and of 1 token, odd D */
    "paged_attention dtype=bf16 Hq=32 Hkv=8 D=128 page=16 decode=3 prefill=0 kvmax=1500",
    "paged_attention dtype=f32 Hq=4 Hkv=1 D=64 page=7 decode=2 prefill=2 qlen=40 kvmax=600 window=100",
    "paged_attention dtype=bf16 Hq=4 Hkv=2 D=33 Dv=20 page=1 decode=2 prefill=1 qlen=30 kvmax=700",
    "paged_attention dtype=f16 Hq=8 Hkv=2 D=64 page=32 decode=1 prefill=0 kvmax=3000 softcap=20",
    /* paged decode kernel: MHA, wide GQA, fixed lengths, short mixed calls */
    "paged_attention dtype=bf16 Hq=8 Hkv=8 D=128 page=16 decode=3 prefill=0 kvmax=700 kv_lens=700",
    "paged_attention dtype=f32 Hq=64 Hkv=8 D=64 page=16 decode=2 prefill=0 kvmax=500",
    "paged_attention dtype=bf16 Hq=12 Hkv=4 D=72 Dv=40 page=16 decode=3 prefill=2 qlen=5 kvmax=300 window=50",
    /* rows read in place: bf16 pairs with Dv not a multiple of 64, GQA of 3 */
    "paged_attention dtype=bf16 Hq=6 Hkv=3 D=96 Dv=80 page=16 decode=3 prefill=0 kvmax=400",
    "paged_attention dtype=f16 Hq=6 Hkv=2 D=48 page=5 decode=2 prefill=1 qlen=12 kvmax=250 window=40",
    /* 8-bit caches: per-token and per-tensor scales, decode and prefill */
    "paged_attention dtype=bf16 Hq=32 Hkv=8 D=128 page=16 decode=3 prefill=0 kvmax=1000 kv=fp8",
    "paged_attention dtype=f16 Hq=4 Hkv=2 D=64 page=16 decode=2 prefill=1 qlen=30 kvmax=400 kv=i8",
    "paged_attention dtype=f32 Hq=4 Hkv=4 D=40 page=7 decode=2 prefill=1 qlen=9 kvmax=300 kv=fp8 kvscale=tensor softcap=5",
    "paged_attention dtype=bf16 Hq=8 Hkv=1 D=128 page=1 decode=2 prefill=0 kvmax=200 kv=i8 kvscale=tensor window=30",
    /* fp8 read in place (the 2^120 split between queries, scales and sums):
     * MHA with a softcap, GQA of 3 in a mixed call */
    "paged_attention dtype=bf16 Hq=8 Hkv=8 D=64 Dv=32 page=16 decode=2 prefill=0 kvmax=900 kv=fp8 softcap=30",
    "paged_attention dtype=f16 Hq=6 Hkv=2 D=48 page=5 decode=2 prefill=1 qlen=12 kvmax=250 kv=fp8 window=40",
};

/* ---------------------------------------------------------------- hand-built */

/* A tensor over its own buffer, element (i0..i3) at offset sum(i * stride)
 * from a base that makes every offset valid (negative strides too). */
typedef struct {
  DLTensor dl;
  int64_t shape[4], stride[4];
  tk_dtype dt;
  unsigned char *buf;
  int64_t base; /* elements from buf to element 0 */
} tensor;

/* Allocates t with the given shape and strides; every byte starts 0x7F. */
static void tensor_init(tensor *t, tk_dtype dt, int ndim, const int64_t *shape,
                        const int64_t *stride) {
  memset(t, 0, sizeof *t);
  int64_t lo = 0, hi = 0;
  for (int i = 0; i < ndim; i++) {
    t->shape[i] = shape[i];
    t->stride[i] = stride[i];
    int64_t ext = (shape[i] - 1) * stride[i];
    if (ext < 0) lo += ext;
    else hi += ext;
  }
  size_t bytes = (size_t)((hi - lo + 1) * tk_dtype_size(dt));
  t->dt = dt;
  t->buf = malloc(bytes);
  memset(t->buf, 0x7F, bytes);
  t->base = -lo;
  t->dl.data = t->buf;
  t->dl.byte_offset = (uint64_t)(t->base * tk_dtype_size(dt));
  t->dl.device = (DLDevice){kDLCPU, 0};
  t->dl.ndim = ndim;
  t->dl.dtype = tk_dtype_dl(dt);
  t->dl.shape = t->shape;
  t->dl.strides = t->stride;
}

static void *tensor_at(const tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  int64_t off = t->base + i0 * t->stride[0] + i1 * t->stride[1];
  if (t->dl.ndim > 2) off += i2 * t->stride[2];
  if (t->dl.ndim > 3) off += i3 * t->stride[3];
  return t->buf + off * tk_dtype_size(t->dt);
}

/* Fills every element of a rank-4 (or lower) data tensor with random
 * values of magnitude in [1/16, 1]. */
static void tensor_fill(tensor *t, uint64_t *rng) {
  int64_t n[4] = {1, 1, 1, 1};
  for (int i = 0; i < t->dl.ndim; i++) n[i] = t->shape[i];
  for (int64_t a = 0; a < n[0]; a++)
    for (int64_t b = 0; b < n[1]; b++)
      for (int64_t c = 0; c < n[2]; c++)
        for (int64_t d = 0; d < n[3]; d++) {
          double x = (1.0 / 16 + tk_case_rand01(rng) * 15.0 / 16) * (tk_case_rand(rng) & 1 ? 1 : -1);
          tk_store_f32(tensor_at(t, a, b, c, d), t->dt, (float)x);
        }
}

static void tensor_free(tensor *t) { free(t->buf); }

static double tolerance(tk_dtype dt) { return dt == TK_F32 ? 1e-4 : dt == TK_F16 ? 5e-3 : 2e-2; }

/* Attention with q_lens / kv_lens that leave a batch with no key and a
 * batch with no query, a window that hides every key from early rows, K
 * with element stride 2, V stored backwards along Tk, Q head-major, out
 * and lse with padded rows: cpu against the reference. */
static void check_hand_attention(tk_context *ctx, tk_dtype dt) {
  enum { B = 3, TQ = 12, TK = 9, HQ = 4, HKV = 2, D = 20, DV = 12 };
  uint64_t rng = 99;
  tensor q, k, v, out[2], lse[2], ql, kl;
  tensor_init(&q, dt, 4, (int64_t[]){B, TQ, HQ, D}, (int64_t[]){HQ * TQ * D, D, TQ * D, 1});
  tensor_init(&k, dt, 4, (int64_t[]){B, TK, HKV, D}, (int64_t[]){TK * HKV * D * 2, HKV * D * 2, D * 2, 2});
  tensor_init(&v, dt, 4, (int64_t[]){B, TK, HKV, DV}, (int64_t[]){TK * HKV * DV, -HKV * DV, DV, 1});
  for (int i = 0; i < 2; i++) {
    tensor_init(&out[i], dt, 4, (int64_t[]){B, TQ, HQ, DV}, (int64_t[]){TQ * HQ * (DV + 3), HQ * (DV + 3), DV + 3, 1});
    tensor_init(&lse[i], TK_F32, 3, (int64_t[]){B, HQ, TQ}, (int64_t[]){HQ * (TQ + 2), TQ + 2, 1});
  }
  tensor_init(&ql, TK_I32, 1, (int64_t[]){B}, (int64_t[]){1});
  tensor_init(&kl, TK_I32, 1, (int64_t[]){B}, (int64_t[]){1});
  tensor_fill(&q, &rng);
  tensor_fill(&k, &rng);
  tensor_fill(&v, &rng);
  const int32_t qlens[B] = {12, 0, 5}, kvlens[B] = {0, 9, 3};
  memcpy(tensor_at(&ql, 0, 0, 0, 0), qlens, sizeof qlens);
  memcpy(tensor_at(&kl, 0, 0, 0, 0), kvlens, sizeof kvlens);
  const char *impl[2] = {"reference", "cpu"};
  for (int i = 0; i < 2; i++) {
    tk_attention_args a = {&q.dl, &k.dl, &v.dl, &out[i].dl, &lse[i].dl, &ql.dl, &kl.dl, -0.3f, 0, 1, 1, 0};
    tk_call_options o = {impl[i], NULL};
    CHECK_OK(tk_attention(ctx, &a, &o));
  }
  double tol = tolerance(dt);
  int none = 0;
  for (int b = 0; b < B; b++)
    for (int h = 0; h < HQ; h++)
      for (int t = 0; t < TQ; t++) {
        float le = *(float *)tensor_at(&lse[0], b, h, t, 0), la = *(float *)tensor_at(&lse[1], b, h, t, 0);
        if (t >= qlens[b]) {
          CHECK(memcmp(&la, &le, 4) == 0, "lse[%d,%d,%d] past q_len was written", b, h, t);
          CHECK(memcmp(tensor_at(&out[1], b, t, h, 0), tensor_at(&out[0], b, t, h, 0),
                       DV * (size_t)tk_dtype_size(dt)) == 0,
                "out[%d,%d,%d] past q_len was written", b, t, h);
          continue;
        }
        if (isinf(le)) {
          none++;
          CHECK(isinf(la) && la < 0, "lse[%d,%d,%d] = %g, expected -inf", b, h, t, (double)la);
        } else {
          CHECK(fabs(la - le) <= tol * fmax(fabs(le), 1), "lse[%d,%d,%d] = %g, expected %g", b, h, t,
                (double)la, (double)le);
        }
        for (int d = 0; d < DV; d++) {
          float e = tk_load_f32(tensor_at(&out[0], b, t, h, d), dt);
          float x = tk_load_f32(tensor_at(&out[1], b, t, h, d), dt);
          CHECK(fabs(x - e) <= tol * fmax(fabs(e), 1), "out[%d,%d,%d,%d] = %g, expected %g", b, t, h,
                d, (double)x, (double)e);
          if (isinf(le)) CHECK(x == 0.0f, "out[%d,%d,%d,%d] = %g for a row with no key", b, t, h, d, (double)x);
        }
      }
  CHECK(none >= HQ * (qlens[0] + 1), "only %d rows saw no key", none);
  tensor_free(&q);
  tensor_free(&k);
  tensor_free(&v);
  for (int i = 0; i < 2; i++) {
    tensor_free(&out[i]);
    tensor_free(&lse[i]);
  }
  tensor_free(&ql);
  tensor_free(&kl);
}

/* Paged decode with caches of element stride 2 and a block table of
 * column stride 3: cpu against the reference. */
static void check_hand_paged(tk_context *ctx, tk_dtype dt) {
  enum { S = 3, HQ = 8, HKV = 2, D = 24, PAGE = 5, MAXP = 40, P = S * MAXP };
  uint64_t rng = 5;
  tensor q, kc, vc, bt, kl, out[2];
  tensor_init(&q, dt, 3, (int64_t[]){S, HQ, D}, (int64_t[]){HQ * D, D, 1});
  int64_t cs[4] = {PAGE * HKV * D * 2, HKV * D * 2, D * 2, 2};
  tensor_init(&kc, dt, 4, (int64_t[]){P, PAGE, HKV, D}, cs);
  tensor_init(&vc, dt, 4, (int64_t[]){P, PAGE, HKV, D}, cs);
  tensor_init(&bt, TK_I32, 2, (int64_t[]){S, MAXP}, (int64_t[]){MAXP * 3, 3});
  tensor_init(&kl, TK_I32, 1, (int64_t[]){S}, (int64_t[]){1});
  for (int i = 0; i < 2; i++) tensor_init(&out[i], dt, 3, (int64_t[]){S, HQ, D}, (int64_t[]){HQ * D, D, 1});
  tensor_fill(&q, &rng);
  tensor_fill(&kc, &rng);
  tensor_fill(&vc, &rng);
  const int32_t kvlens[S] = {199, 1, 77};
  for (int s = 0; s < S; s++) {
    *(int32_t *)tensor_at(&kl, s, 0, 0, 0) = kvlens[s];
    for (int j = 0; j < MAXP; j++) *(int32_t *)tensor_at(&bt, s, j, 0, 0) = (int32_t)((j * S + s * 7) % P);
  }
  const char *impl[2] = {"reference", "cpu"};
  for (int i = 0; i < 2; i++) {
    tk_paged_attention_args a = {&q.dl, &kc.dl, &vc.dl, &bt.dl, &kl.dl, NULL, &out[i].dl, 0, 0, -1, NULL, NULL};
    tk_call_options o = {impl[i], i ? "isa=512,block_q=16,block_kv=64,mr=2,kv_split=2" : NULL};
    tk_status st = tk_paged_attention(ctx, &a, &o);
    if (st == TK_ERR_INVALID_ARGUMENT && strstr(tk_last_error(), "config: invalid")) {
      o.config = "isa=256,block_q=16,block_kv=64,mr=2,kv_split=2";
      st = tk_paged_attention(ctx, &a, &o);
    }
    CHECK(st == TK_OK, "paged %s: %s", impl[i], tk_last_error());
  }
  double tol = tolerance(dt);
  for (int s = 0; s < S; s++)
    for (int h = 0; h < HQ; h++)
      for (int d = 0; d < D; d++) {
        float e = tk_load_f32(tensor_at(&out[0], s, h, d, 0), dt);
        float x = tk_load_f32(tensor_at(&out[1], s, h, d, 0), dt);
        CHECK(fabs(x - e) <= tol * fmax(fabs(e), 1), "paged out[%d,%d,%d] = %g, expected %g", s, h, d,
              (double)x, (double)e);
      }
  tensor_free(&q);
  tensor_free(&kc);
  tensor_free(&vc);
  tensor_free(&bt);
  tensor_free(&kl);
  for (int i = 0; i < 2; i++) tensor_free(&out[i]);
}

/* The float32 copy of 8-bit cache `cache` ([P,page,Hkv,D], contiguous),
 * every element times its scale (scale: [P,page,Hkv] or [1]). */
static float *dequantised(const tk_case_tensor *cache, const tk_case_tensor *scale) {
  int64_t n = cache->span, D = cache->shape[3];
  float *f = malloc(sizeof(float) * (size_t)(n ? n : 1));
  for (int64_t i = 0; i < n; i++) {
    float sc = ((const float *)scale->buf)[scale->dl.ndim == 1 ? 0 : i / D];
    f[i] = tk_load_f32(cache->buf + i, cache->dtype) * sc;
  }
  return f;
}

/* An 8-bit case (float32 q) run by cpu equals the reference on float32 caches holding
 * the dequantised values (no 8-bit code involved on that side). */
static void check_dequantised(tk_context *ctx, const char *spec) {
  char err[256];
  tk_case *c = NULL;
  CHECK(tk_case_create(spec, 11, &c, err, sizeof err) == TK_OK, "%s: %s", spec, err);
  if (!c) return;
  tk_paged_attention_args a = c->args.paged_attention;
  const tk_case_tensor *kc = NULL, *vc = NULL, *ks = NULL, *vs = NULL, *out = NULL;
  for (int i = 0; i < c->n_tensors; i++) {
    const tk_case_tensor *t = &c->t[i];
    if (!strcmp(t->name, "k_cache")) kc = t;
    if (!strcmp(t->name, "v_cache")) vc = t;
    if (!strcmp(t->name, "k_scale")) ks = t;
    if (!strcmp(t->name, "v_scale")) vs = t;
    if (!strcmp(t->name, "out")) out = t;
  }
  tk_call_options cpu = {"cpu", NULL}, ref = {"reference", NULL};
  CHECK_OK(tk_paged_attention(ctx, &a, &cpu));
  int64_t n_out = out->span;
  float *got = malloc(sizeof(float) * (size_t)n_out);
  for (int64_t i = 0; i < n_out; i++)
    got[i] = tk_load_f32(out->buf + i * tk_dtype_size(out->dtype), out->dtype);
  float *k32 = dequantised(kc, ks), *v32 = dequantised(vc, vs);
  DLTensor k = kc->dl, v = vc->dl;
  k.data = k32, v.data = v32;
  k.dtype = v.dtype = tk_dtype_dl(TK_F32);
  a.k_cache = &k, a.v_cache = &v, a.k_scale = a.v_scale = NULL;
  CHECK_OK(tk_paged_attention(ctx, &a, &ref));
  double tol = tolerance(out->dtype), worst = 0;
  for (int64_t i = 0; i < n_out; i++) {
    double e = tk_load_f32(out->buf + i * tk_dtype_size(out->dtype), out->dtype);
    double d = fabs(got[i] - e) / fmax(fabs(e), 0.05);
    if (d > worst) worst = d;
  }
  CHECK(worst <= tol, "%s: cpu on the 8-bit cache vs reference on its dequantised float32 copy: "
        "relative error %g over %g", spec, worst, tol);
  free(got), free(k32), free(v32);
  tk_case_destroy(c);
}

int main(void) {
  tk_context *ctx1 = NULL, *ctx2 = NULL;
  tk_context_options o1 = {":memory:", 1, TK_TUNE_OFF, NULL}, o2 = {":memory:", 2, TK_TUNE_OFF, NULL};
  CHECK_OK(tk_context_create(&o1, &ctx1));
  CHECK_OK(tk_context_create(&o2, &ctx2));
  if (!ctx1 || !ctx2) TK_TEST_END();
  char why[256];
  tk_case *probe = NULL;
  char err[256];
  CHECK_OK(tk_case_create(SPECS[0], 1, &probe, err, sizeof err));
  tk_status st = tk_impl_supports(ctx2, TK_OP_ATTENTION, "cpu", tk_case_args(probe), why, sizeof why);
  tk_case_destroy(probe);
  if (st == TK_ERR_UNSUPPORTED) {
    printf("cpu attention unsupported here (%s): skipped\n", why);
    tk_context_destroy(ctx1);
    tk_context_destroy(ctx2);
    return 77;
  }
  for (size_t i = 0; i < sizeof SPECS / sizeof SPECS[0]; i++) check_spec(ctx1, ctx2, SPECS[i]);
  check_dequantised(ctx2, "paged_attention dtype=f32 Hq=8 Hkv=2 D=64 page=16 decode=3 prefill=0 kvmax=300 kv=fp8");
  check_dequantised(ctx2, "paged_attention dtype=f32 Hq=4 Hkv=4 D=40 page=5 decode=2 prefill=1 qlen=7 kvmax=90 kv=i8 kvscale=tensor");
  check_dequantised(ctx2, "paged_attention dtype=f32 Hq=16 Hkv=2 D=128 page=16 decode=2 prefill=0 kvmax=500 kv=fp8 kvscale=tensor softcap=10");
  for (int dt = TK_F32; dt <= TK_BF16; dt++) {
    check_hand_attention(ctx2, (tk_dtype)dt);
    check_hand_paged(ctx2, (tk_dtype)dt);
  }
  tk_context_destroy(ctx1);
  tk_context_destroy(ctx2);
  TK_TEST_END();
}
