/* test_reference.c: the reference implementations through the public API
 * (impl "reference"), against answers known in closed form, identities
 * between ops, and a naive float64 oracle written here; plus bit-identical
 * results with and without the thread pool (config parallel=0 / parallel=1). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/half.h"
#include "regress/case_internal.h"
#include "tests/tk_test.h"
#include "tokamax.h"

/* ---------------------------------------------------------------- helpers */

static const tk_call_options SERIAL = {"reference", "parallel=0"};
static const tk_call_options PARALLEL = {"reference", "parallel=1"};
#define SENTINEL 96.0

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* The next pseudo-random 64-bit word (the case builder's splitmix64). */
static uint64_t rng_next(void) { return tk_case_rand(&rng_state); }

/* Uniform in [0, n). */
static int64_t rng_int(int64_t n) { return tk_case_randint(&rng_state, n); }

/* Uniform in [-1, 1] with |x| >= 1/16: never zero. */
static double rng_value(void) {
  double u = (double)(rng_next() >> 11) / 9007199254740992.0;
  double x = 0.0625 + 0.9375 * u;
  return rng_next() & 1 ? x : -x;
}

/* A test tensor: a DLTensor over its own buffer. Must not move after tb_init
 * (the DLTensor points into it). Strided ones have gaps between rows and
 * every element two apart. */
typedef struct {
  DLTensor dl;
  int64_t shape[4], stride[4];
  tk_dtype dt;
  size_t bytes;
} tb;

static void tb_init(tb *t, tk_dtype dt, int ndim, const int64_t *shape, int strided) {
  memset(t, 0, sizeof *t);
  t->dt = dt;
  int64_t n = 1;
  for (int d = ndim - 1; d >= 0; d--) {
    t->shape[d] = shape[d];
    t->stride[d] = d == ndim - 1 ? (strided ? 2 : 1) : t->stride[d + 1] * t->shape[d + 1] + (strided ? 1 : 0);
  }
  for (int d = 0; d < ndim; d++) n += (shape[d] > 0 ? shape[d] - 1 : 0) * t->stride[d];
  t->bytes = (size_t)n * (size_t)tk_dtype_size(dt);
  t->dl.data = calloc(1, t->bytes);
  t->dl.device = (DLDevice){kDLCPU, 0};
  t->dl.ndim = ndim;
  t->dl.dtype = tk_dtype_dl(dt);
  t->dl.shape = t->shape;
  t->dl.strides = strided ? t->stride : NULL;
}

static void tb_free(tb *t) { free(t->dl.data); }

static int64_t tb_count(const tb *t) {
  int64_t n = 1;
  for (int d = 0; d < t->dl.ndim; d++) n *= t->shape[d];
  return n;
}

/* Address of logical element lin (row-major order). */
static void *tb_lin(const tb *t, int64_t lin) {
  int64_t off = 0;
  for (int d = t->dl.ndim - 1; d >= 0; d--) {
    off += (lin % t->shape[d]) * t->stride[d];
    lin /= t->shape[d];
  }
  return (char *)t->dl.data + off * tk_dtype_size(t->dt);
}

static void *tb_ptr(const tb *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  int64_t idx[4] = {i0, i1, i2, i3}, off = 0;
  for (int d = 0; d < t->dl.ndim; d++) off += idx[d] * t->stride[d];
  return (char *)t->dl.data + off * tk_dtype_size(t->dt);
}

static double tb_load(const tb *t, const void *p) {
  if (t->dt == TK_I32) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
  }
  return tk_load_f32(p, t->dt);
}

static void tb_store(const tb *t, void *p, double x) {
  if (t->dt == TK_I32) {
    int32_t v = (int32_t)x;
    memcpy(p, &v, 4);
  } else {
    tk_store_f32(p, t->dt, (float)x);
  }
}

static double tb_get(const tb *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  return tb_load(t, tb_ptr(t, i0, i1, i2, i3));
}

static void tb_set(tb *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3, double x) {
  tb_store(t, tb_ptr(t, i0, i1, i2, i3), x);
}

/* Every element random (never zero), rounded to the dtype. */
static void tb_random(tb *t) {
  for (int64_t i = 0; i < tb_count(t); i++) tb_store(t, tb_lin(t, i), rng_value());
}

static void tb_fill(tb *t, double x) {
  for (int64_t i = 0; i < tb_count(t); i++) tb_store(t, tb_lin(t, i), x);
}

/* 1 if every logical element of a and b has the same bits. */
static int tb_same_bits(const tb *a, const tb *b) {
  for (int64_t i = 0; i < tb_count(a); i++)
    if (memcmp(tb_lin(a, i), tb_lin(b, i), (size_t)tk_dtype_size(a->dt))) return 0;
  return 1;
}

/* Loose relative bound for values rounded once to dt. */
static double tol_of(tk_dtype dt) { return dt == TK_F32 ? 1e-5 : dt == TK_F16 ? 2e-3 : 8e-3; }

static int close_to(double got, double want, double tol) {
  if (isinf(want)) return got == want;
  return fabs(got - want) <= tol * fmax(1.0, fabs(want));
}

static const char *dt_name(tk_dtype dt) { return dt == TK_F32 ? "f32" : dt == TK_F16 ? "f16" : "bf16"; }

/* ---------------------------------------------------------------- attention */

typedef struct {
  int64_t B, Tq, Tk, Hq, Hkv, D, Dv;
  int causal, wl, wr;
  float scale, softcap;
  int varlen, lse;
} attn_case;

typedef struct {
  tb q, k, v, out, lse, ql, kl;
  tk_attention_args a;
} attn_bufs;

static void attn_make(attn_bufs *t, const attn_case *c, tk_dtype dt, int strided) {
  tb_init(&t->q, dt, 4, (int64_t[]){c->B, c->Tq, c->Hq, c->D}, strided);
  tb_init(&t->k, dt, 4, (int64_t[]){c->B, c->Tk, c->Hkv, c->D}, strided);
  tb_init(&t->v, dt, 4, (int64_t[]){c->B, c->Tk, c->Hkv, c->Dv}, strided);
  tb_init(&t->out, dt, 4, (int64_t[]){c->B, c->Tq, c->Hq, c->Dv}, strided);
  tb_init(&t->lse, TK_F32, 3, (int64_t[]){c->B, c->Hq, c->Tq}, strided);
  tb_init(&t->ql, TK_I32, 1, (int64_t[]){c->B}, 0);
  tb_init(&t->kl, TK_I32, 1, (int64_t[]){c->B}, 0);
  tb_random(&t->q);
  tb_random(&t->k);
  tb_random(&t->v);
  for (int64_t b = 0; b < c->B; b++) { /* varlen: b=1 has no keys, the rest random lengths */
    tb_set(&t->ql, b, 0, 0, 0, 1 + rng_int(c->Tq));
    tb_set(&t->kl, b, 0, 0, 0, b == 1 ? 0 : 1 + rng_int(c->Tk));
  }
  t->a = (tk_attention_args){&t->q.dl, &t->k.dl, &t->v.dl, &t->out.dl, c->lse ? &t->lse.dl : NULL,
                             c->varlen ? &t->ql.dl : NULL, c->varlen ? &t->kl.dl : NULL,
                             c->scale, c->causal, c->wl, c->wr, c->softcap};
}

static void attn_free(attn_bufs *t) {
  tb *all[] = {&t->q, &t->k, &t->v, &t->out, &t->lse, &t->ql, &t->kl};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) tb_free(all[i]);
}

/* Fills the outputs with the sentinel and runs attention. */
static tk_status attn_run(tk_context *ctx, attn_bufs *t, const tk_call_options *o) {
  tb_fill(&t->out, SENTINEL);
  tb_fill(&t->lse, SENTINEL);
  return tk_attention(ctx, &t->a, o);
}

/* Checks t's outputs against a naive float64 attention (mask tested key by
 * key) and rows past q_lens against the sentinel. */
static void attn_check_oracle(const attn_bufs *t, const attn_case *c, const char *what) {
  double scale = c->scale != 0 ? c->scale : 1.0 / sqrt((double)c->D);
  double *w = malloc(sizeof(double) * (size_t)c->Tk), tol = tol_of(t->out.dt);
  int bad = 0;
  for (int64_t b = 0; b < c->B; b++) {
    int64_t tq = c->varlen ? (int64_t)tb_get(&t->ql, b, 0, 0, 0) : c->Tq;
    int64_t tk = c->varlen ? (int64_t)tb_get(&t->kl, b, 0, 0, 0) : c->Tk;
    for (int64_t h = 0; h < c->Hq; h++) {
      int64_t hk = h / (c->Hq / c->Hkv);
      for (int64_t i = 0; i < c->Tq; i++) {
        if (i >= tq) { /* untouched */
          for (int64_t d = 0; d < c->Dv; d++) bad += tb_get(&t->out, b, i, h, d) != SENTINEL;
          if (c->lse) bad += tb_get(&t->lse, b, h, i, 0) != SENTINEL;
          continue;
        }
        int64_t diag = i + tk - tq;
        double max = -INFINITY, sum = 0;
        for (int64_t j = 0; j < tk; j++) {
          int seen = (!c->causal || j <= diag) && (c->wl < 0 || j >= diag - c->wl) &&
                     (c->wr < 0 || j <= diag + c->wr);
          w[j] = -INFINITY;
          if (!seen) continue;
          double dot = 0;
          for (int64_t d = 0; d < c->D; d++) dot += tb_get(&t->q, b, i, h, d) * tb_get(&t->k, b, j, hk, d);
          w[j] = scale * dot;
          if (c->softcap > 0) w[j] = c->softcap * tanh(w[j] / c->softcap);
          max = fmax(max, w[j]);
        }
        for (int64_t j = 0; j < tk; j++) sum += w[j] == -INFINITY ? 0 : exp(w[j] - max);
        for (int64_t d = 0; d < c->Dv; d++) {
          double o = 0;
          for (int64_t j = 0; j < tk; j++)
            if (w[j] != -INFINITY) o += exp(w[j] - max) / sum * tb_get(&t->v, b, j, hk, d);
          bad += !close_to(tb_get(&t->out, b, i, h, d), o, tol);
        }
        if (c->lse) bad += !close_to(tb_get(&t->lse, b, h, i, 0), sum > 0 ? max + log(sum) : -INFINITY, 1e-5);
      }
    }
  }
  CHECK(bad == 0, "%s: %d elements differ from the naive oracle", what, bad);
  free(w);
}

/* The oracle check in each dtype and layout, and serial == parallel bits. */
static void test_attention_oracle(tk_context *ctx) {
  static const attn_case cases[] = {
      {2, 5, 7, 4, 2, 8, 6, 1, -1, -1, 0.3f, 0, 0, 1},
      {2, 6, 6, 3, 1, 5, 5, 0, 2, 1, 0, 0, 0, 1},
      {3, 7, 9, 2, 2, 16, 8, 1, 3, -1, 0.25f, 5, 1, 1},
      {1, 9, 4, 2, 1, 4, 4, 1, -1, -1, 0.5f, 0, 0, 1},
      {2, 4, 11, 6, 3, 8, 8, 0, -1, -1, 0.2f, 2, 1, 0},
      {1, 3, 8, 2, 2, 8, 8, 1, 0, 2, 0.4f, 0, 0, 0},
      {2, 5, 5, 2, 1, 8, 8, 0, -1, 0, 0.3f, 0, 1, 1},
      {1, 6, 8, 3, 3, 4, 8, 0, 0, 2, 0.6f, 1.5f, 0, 1},
  };
  static const tk_dtype dts[] = {TK_F32, TK_F16, TK_BF16};
  for (size_t n = 0; n < sizeof cases / sizeof *cases; n++) {
    for (int di = 0; di < 3; di++) {
      for (int strided = 0; strided < 2; strided++) {
        char what[96];
        snprintf(what, sizeof what, "attention case %zu %s%s", n, dt_name(dts[di]), strided ? " strided" : "");
        attn_bufs t;
        attn_make(&t, &cases[n], dts[di], strided);
        CHECK_OK(attn_run(ctx, &t, &SERIAL));
        attn_check_oracle(&t, &cases[n], what);
        void *out0 = malloc(t.out.bytes), *lse0 = malloc(t.lse.bytes);
        memcpy(out0, t.out.dl.data, t.out.bytes);
        memcpy(lse0, t.lse.dl.data, t.lse.bytes);
        CHECK_OK(attn_run(ctx, &t, &PARALLEL));
        CHECK(!memcmp(out0, t.out.dl.data, t.out.bytes) && !memcmp(lse0, t.lse.dl.data, t.lse.bytes),
              "%s: parallel=1 differs from parallel=0", what);
        free(out0);
        free(lse0);
        attn_free(&t);
      }
    }
  }
}

/* One key: the output is that value row exactly and lse is its logit. */
static void test_attention_single_key(tk_context *ctx) {
  static const tk_dtype dts[] = {TK_F32, TK_F16, TK_BF16};
  for (int di = 0; di < 3; di++) {
    attn_case c = {2, 3, 1, 4, 2, 16, 8, 0, -1, -1, 0.3f, 0, 0, 1};
    attn_bufs t;
    attn_make(&t, &c, dts[di], 0);
    CHECK_OK(attn_run(ctx, &t, &SERIAL));
    int bad = 0;
    for (int64_t b = 0; b < c.B; b++)
      for (int64_t i = 0; i < c.Tq; i++)
        for (int64_t h = 0; h < c.Hq; h++) {
          double dot = 0;
          for (int64_t d = 0; d < c.D; d++) dot += tb_get(&t.q, b, i, h, d) * tb_get(&t.k, b, 0, h / 2, d);
          bad += !close_to(tb_get(&t.lse, b, h, i, 0), (double)c.scale * dot, 1e-6);
          for (int64_t d = 0; d < c.Dv; d++) bad += tb_get(&t.out, b, i, h, d) != tb_get(&t.v, b, 0, h / 2, d);
        }
    CHECK(bad == 0, "single key %s: %d elements wrong", dt_name(dts[di]), bad);
    attn_free(&t);
  }
}

/* All keys equal: the output is the mean of the values, lse = logit + log(Tk). */
static void test_attention_equal_keys(tk_context *ctx) {
  attn_case c = {1, 2, 5, 2, 1, 8, 4, 0, -1, -1, 0.5f, 0, 0, 1};
  attn_bufs t;
  attn_make(&t, &c, TK_F32, 0);
  for (int64_t j = 1; j < c.Tk; j++)
    for (int64_t d = 0; d < c.D; d++) tb_set(&t.k, 0, j, 0, d, tb_get(&t.k, 0, 0, 0, d));
  CHECK_OK(attn_run(ctx, &t, &SERIAL));
  int bad = 0;
  for (int64_t i = 0; i < c.Tq; i++)
    for (int64_t h = 0; h < c.Hq; h++) {
      double dot = 0;
      for (int64_t d = 0; d < c.D; d++) dot += tb_get(&t.q, 0, i, h, d) * tb_get(&t.k, 0, 0, 0, d);
      bad += !close_to(tb_get(&t.lse, 0, h, i, 0), c.scale * dot + log((double)c.Tk), 1e-6);
      for (int64_t d = 0; d < c.Dv; d++) {
        double mean = 0;
        for (int64_t j = 0; j < c.Tk; j++) mean += tb_get(&t.v, 0, j, 0, d) / (double)c.Tk;
        bad += !close_to(tb_get(&t.out, 0, i, h, d), mean, 1e-6);
      }
    }
  CHECK(bad == 0, "equal keys: %d elements wrong", bad);
  attn_free(&t);
}

/* Causal masks are bottom-right aligned: one query sees every key (same bits
 * as no mask); a causal window of 0 sees only the diagonal key; rows with a
 * negative diagonal see nothing (0, lse -inf). */
static void test_attention_masks(tk_context *ctx) {
  attn_case c = {2, 1, 7, 2, 2, 8, 8, 1, -1, -1, 0.3f, 0, 0, 1};
  attn_bufs t;
  attn_make(&t, &c, TK_F32, 0);
  CHECK_OK(attn_run(ctx, &t, &SERIAL));
  void *causal = malloc(t.out.bytes);
  memcpy(causal, t.out.dl.data, t.out.bytes);
  t.a.causal = 0;
  CHECK_OK(attn_run(ctx, &t, &SERIAL));
  CHECK(!memcmp(causal, t.out.dl.data, t.out.bytes), "causal Tq=1 differs from no mask");
  free(causal);
  attn_free(&t);

  attn_case w = {2, 6, 4, 2, 1, 8, 8, 1, 0, -1, 0.3f, 0, 0, 1};
  attn_make(&t, &w, TK_BF16, 0);
  CHECK_OK(attn_run(ctx, &t, &SERIAL));
  int bad = 0;
  for (int64_t b = 0; b < w.B; b++)
    for (int64_t i = 0; i < w.Tq; i++)
      for (int64_t h = 0; h < w.Hq; h++) {
        int64_t diag = i + w.Tk - w.Tq;
        for (int64_t d = 0; d < w.Dv; d++)
          bad += tb_get(&t.out, b, i, h, d) != (diag >= 0 ? tb_get(&t.v, b, diag, 0, d) : 0.0);
        bad += diag < 0 && tb_get(&t.lse, b, h, i, 0) != -INFINITY;
      }
  CHECK(bad == 0, "causal window 0: %d elements wrong", bad);
  attn_free(&t);
}

/* A huge softcap changes nothing beyond rounding. */
static void test_attention_softcap(tk_context *ctx) {
  attn_case c = {2, 5, 6, 2, 1, 8, 8, 1, -1, -1, 0.5f, 0, 0, 1};
  attn_bufs t;
  attn_make(&t, &c, TK_F32, 0);
  CHECK_OK(attn_run(ctx, &t, &SERIAL));
  float *plain = malloc(t.out.bytes);
  memcpy(plain, t.out.dl.data, t.out.bytes);
  t.a.softcap = 1e6f;
  CHECK_OK(attn_run(ctx, &t, &SERIAL));
  int bad = 0;
  for (int64_t i = 0; i < tb_count(&t.out); i++) bad += !close_to(((float *)t.out.dl.data)[i], plain[i], 1e-6);
  CHECK(bad == 0, "softcap 1e6: %d elements differ from no softcap", bad);
  t.a.softcap = 0.5f; /* a small one does change the result */
  CHECK_OK(attn_run(ctx, &t, &SERIAL));
  CHECK(memcmp(plain, t.out.dl.data, t.out.bytes), "softcap 0.5 changed nothing");
  free(plain);
  attn_free(&t);
}

/* ---------------------------------------------------------------- grouped GEMM */

typedef struct {
  tk_gg_layout layout;
  int64_t M, K, N, G;
  int sizes[6];
} gg_case;

static void test_grouped_gemm(tk_context *ctx) {
  static const gg_case cases[] = {
      {TK_GG_NN, 13, 7, 9, 4, {3, 0, 5, 2}},  {TK_GG_NT, 13, 7, 9, 4, {3, 0, 5, 2}},
      {TK_GG_TN, 13, 7, 9, 4, {3, 0, 5, 2}},  {TK_GG_NN, 40, 5, 3, 1, {40}},
      {TK_GG_NT, 37, 9, 6, 5, {0, 9, 8, 0, 20}}, {TK_GG_TN, 37, 9, 6, 5, {0, 9, 8, 0, 20}},
  };
  static const struct { tk_dtype in, out; } dts[] = {{TK_F32, TK_F32}, {TK_BF16, TK_F32}, {TK_BF16, TK_BF16}, {TK_F16, TK_F16}};
  for (size_t n = 0; n < sizeof cases / sizeof *cases; n++) {
    const gg_case *c = &cases[n];
    for (size_t di = 0; di < sizeof dts / sizeof *dts; di++) {
      for (int strided = 0; strided < 2; strided++) {
        tb lhs, rhs, gs, out;
        tb_init(&lhs, dts[di].in, 2, (int64_t[]){c->M, c->K}, strided);
        if (c->layout == TK_GG_NN) tb_init(&rhs, dts[di].in, 3, (int64_t[]){c->G, c->K, c->N}, strided);
        else if (c->layout == TK_GG_NT) tb_init(&rhs, dts[di].in, 3, (int64_t[]){c->G, c->N, c->K}, strided);
        else tb_init(&rhs, dts[di].in, 2, (int64_t[]){c->M, c->N}, strided);
        if (c->layout == TK_GG_TN) tb_init(&out, dts[di].out, 3, (int64_t[]){c->G, c->K, c->N}, strided);
        else tb_init(&out, dts[di].out, 2, (int64_t[]){c->M, c->N}, strided);
        tb_init(&gs, TK_I32, 1, (int64_t[]){c->G}, 0);
        tb_random(&lhs);
        tb_random(&rhs);
        for (int64_t g = 0; g < c->G; g++) tb_set(&gs, g, 0, 0, 0, c->sizes[g]);
        tk_grouped_gemm_args a = {&lhs.dl, &rhs.dl, &gs.dl, &out.dl, c->layout};
        tb_fill(&out, SENTINEL);
        CHECK_OK(tk_grouped_gemm(ctx, &a, &SERIAL));
        int bad = 0;
        double tol = tol_of(dts[di].out);
        int64_t start = 0;
        for (int64_t g = 0; g < c->G; g++) {
          int64_t end = start + c->sizes[g];
          if (c->layout == TK_GG_TN) {
            for (int64_t k = 0; k < c->K; k++)
              for (int64_t j = 0; j < c->N; j++) {
                double s = 0;
                for (int64_t m = start; m < end; m++) s += tb_get(&lhs, m, k, 0, 0) * tb_get(&rhs, m, j, 0, 0);
                bad += !close_to(tb_get(&out, g, k, j, 0), s, tol) || (start == end && tb_get(&out, g, k, j, 0) != 0);
              }
          } else {
            for (int64_t m = start; m < end; m++)
              for (int64_t j = 0; j < c->N; j++) {
                double s = 0;
                for (int64_t k = 0; k < c->K; k++)
                  s += tb_get(&lhs, m, k, 0, 0) *
                       (c->layout == TK_GG_NN ? tb_get(&rhs, g, k, j, 0) : tb_get(&rhs, g, j, k, 0));
                bad += !close_to(tb_get(&out, m, j, 0, 0), s, tol);
              }
          }
          start = end;
        }
        if (c->layout != TK_GG_TN)
          for (int64_t m = start; m < c->M; m++)
            for (int64_t j = 0; j < c->N; j++) bad += tb_get(&out, m, j, 0, 0) != 0;
        CHECK(bad == 0, "grouped_gemm case %zu dtypes %zu%s: %d elements wrong", n, di, strided ? " strided" : "", bad);
        void *first = malloc(out.bytes);
        memcpy(first, out.dl.data, out.bytes);
        tb_fill(&out, SENTINEL);
        CHECK_OK(tk_grouped_gemm(ctx, &a, &PARALLEL));
        CHECK(!memcmp(first, out.dl.data, out.bytes), "grouped_gemm case %zu: parallel differs", n);
        free(first);
        tb_free(&lhs);
        tb_free(&rhs);
        tb_free(&gs);
        tb_free(&out);
      }
    }
  }
}

/* ---------------------------------------------------------------- MoE */

/* permute then unpermute: placement rules, exact copies, zero padding, and
 * unit weights giving k times the tokens; random weights against a float64
 * sum; serial == parallel. */
static void test_moe_roundtrip(tk_context *ctx, int64_t align) {
  enum { T = 11, K = 3, E = 5, H = 6 };
  int64_t R = T * K + E * (align - 1);
  tb tok, ids, perm, gs, dest, w, out;
  tb_init(&tok, TK_F32, 2, (int64_t[]){T, H}, 0);
  tb_init(&ids, TK_I32, 2, (int64_t[]){T, K}, 0);
  tb_init(&perm, TK_F32, 2, (int64_t[]){R, H}, 0);
  tb_init(&gs, TK_I32, 1, (int64_t[]){E}, 0);
  tb_init(&dest, TK_I32, 2, (int64_t[]){T, K}, 0);
  tb_init(&w, TK_F32, 2, (int64_t[]){T, K}, 0);
  tb_init(&out, TK_F32, 2, (int64_t[]){T, H}, 0);
  for (int64_t i = 0; i < T * H; i++) tb_store(&tok, tb_lin(&tok, i), (double)(1 + rng_int(15)) * (rng_int(2) ? 1 : -1));
  tb_random(&w);
  int64_t count[E] = {0};
  for (int64_t t = 0; t < T; t++) { /* K distinct experts of {0,1,2,4}: expert 3 gets none */
    static const int pool[4] = {0, 1, 2, 4};
    int skip = (int)rng_int(4), s = 0;
    for (int e = 0; e < 4; e++)
      if (e != skip) {
        tb_set(&ids, t, s++, 0, 0, pool[e]);
        count[pool[e]]++;
      }
  }
  tb_fill(&perm, SENTINEL);
  tk_moe_permute_args pa = {&tok.dl, &ids.dl, E, (int)align, &perm.dl, &gs.dl, &dest.dl};
  CHECK_OK(tk_moe_permute(ctx, &pa, &SERIAL));
  int64_t start[E + 1] = {0}, rank[E] = {0};
  int bad = 0;
  for (int e = 0; e < E; e++) {
    int64_t size = (int64_t)tb_get(&gs, e, 0, 0, 0);
    bad += size % align != 0 || size != (count[e] + align - 1) / align * align;
    start[e + 1] = start[e] + size;
  }
  CHECK(bad == 0, "moe_permute align %lld: group sizes wrong", (long long)align);
  char *used = calloc((size_t)R, 1);
  bad = 0;
  for (int64_t t = 0; t < T; t++)
    for (int64_t s = 0; s < K; s++) {
      int e = (int)tb_get(&ids, t, s, 0, 0);
      int64_t r = (int64_t)tb_get(&dest, t, s, 0, 0);
      bad += r != start[e] + rank[e]++; /* stable: flattened order within the block */
      if (r < 0 || r >= R || used[r]++) {
        bad++;
        continue;
      }
      bad += memcmp(tb_ptr(&perm, r, 0, 0, 0), tb_ptr(&tok, t, 0, 0, 0), H * 4) != 0;
    }
  for (int64_t r = 0; r < R; r++)
    for (int64_t h = 0; !used[r] && h < H; h++) bad += *(uint32_t *)tb_ptr(&perm, r, h, 0, 0) != 0;
  CHECK(bad == 0, "moe_permute align %lld: %d placement/copy/padding errors", (long long)align, bad);
  free(used);

  tb perm1, gs1, dest1;
  tb_init(&perm1, TK_F32, 2, (int64_t[]){R, H}, 0);
  tb_init(&gs1, TK_I32, 1, (int64_t[]){E}, 0);
  tb_init(&dest1, TK_I32, 2, (int64_t[]){T, K}, 0);
  tk_moe_permute_args pa1 = {&tok.dl, &ids.dl, E, (int)align, &perm1.dl, &gs1.dl, &dest1.dl};
  CHECK_OK(tk_moe_permute(ctx, &pa1, &PARALLEL));
  CHECK(tb_same_bits(&perm, &perm1) && tb_same_bits(&gs, &gs1) && tb_same_bits(&dest, &dest1),
        "moe_permute: parallel differs");
  tb_free(&perm1);
  tb_free(&gs1);
  tb_free(&dest1);

  tk_moe_unpermute_args ua = {&perm.dl, &dest.dl, NULL, &out.dl};
  tb_fill(&out, SENTINEL);
  CHECK_OK(tk_moe_unpermute(ctx, &ua, &SERIAL));
  bad = 0;
  for (int64_t t = 0; t < T; t++)
    for (int64_t h = 0; h < H; h++) bad += tb_get(&out, t, h, 0, 0) != K * tb_get(&tok, t, h, 0, 0);
  CHECK(bad == 0, "unpermute(permute(x)) != k x (align %lld): %d elements", (long long)align, bad);

  ua.weights = &w.dl;
  tb_fill(&out, SENTINEL);
  CHECK_OK(tk_moe_unpermute(ctx, &ua, &SERIAL));
  bad = 0;
  for (int64_t t = 0; t < T; t++)
    for (int64_t h = 0; h < H; h++) {
      double s = 0;
      for (int64_t k = 0; k < K; k++) s += tb_get(&w, t, k, 0, 0) * tb_get(&tok, t, h, 0, 0);
      bad += !close_to(tb_get(&out, t, h, 0, 0), s, 1e-6);
    }
  CHECK(bad == 0, "weighted unpermute: %d elements wrong", bad);
  void *first = malloc(out.bytes);
  memcpy(first, out.dl.data, out.bytes);
  tb_fill(&out, SENTINEL);
  CHECK_OK(tk_moe_unpermute(ctx, &ua, &PARALLEL));
  CHECK(!memcmp(first, out.dl.data, out.bytes), "moe_unpermute: parallel differs");
  free(first);
  tb *all[] = {&tok, &ids, &perm, &gs, &dest, &w, &out};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) tb_free(all[i]);
}

/* Permute copies element bits: a bfloat16 NaN payload survives. */
static void test_moe_permute_bits(tk_context *ctx) {
  enum { T = 4, K = 2, E = 3, H = 5 };
  tb tok, ids, perm, gs, dest;
  tb_init(&tok, TK_BF16, 2, (int64_t[]){T, H}, 1);
  tb_init(&ids, TK_I32, 2, (int64_t[]){T, K}, 0);
  tb_init(&perm, TK_BF16, 2, (int64_t[]){T * K, H}, 1);
  tb_init(&gs, TK_I32, 1, (int64_t[]){E}, 0);
  tb_init(&dest, TK_I32, 2, (int64_t[]){T, K}, 0);
  tb_random(&tok);
  *(uint16_t *)tb_ptr(&tok, 2, 3, 0, 0) = 0x7fc5; /* NaN with a payload */
  *(uint16_t *)tb_ptr(&tok, 1, 0, 0, 0) = 0xff81; /* negative signalling NaN */
  for (int64_t t = 0; t < T; t++) {
    tb_set(&ids, t, 0, 0, 0, t % E);
    tb_set(&ids, t, 1, 0, 0, (t + 1) % E);
  }
  tk_moe_permute_args pa = {&tok.dl, &ids.dl, E, 1, &perm.dl, &gs.dl, &dest.dl};
  CHECK_OK(tk_moe_permute(ctx, &pa, &PARALLEL));
  int bad = 0;
  for (int64_t t = 0; t < T; t++)
    for (int64_t s = 0; s < K; s++)
      for (int64_t h = 0; h < H; h++)
        bad += *(uint16_t *)tb_ptr(&perm, (int64_t)tb_get(&dest, t, s, 0, 0), h, 0, 0) !=
               *(uint16_t *)tb_ptr(&tok, t, h, 0, 0);
  CHECK(bad == 0, "moe_permute bf16 strided: %d elements not bit copies", bad);
  tb *all[] = {&tok, &ids, &perm, &gs, &dest};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) tb_free(all[i]);
}

/* ---------------------------------------------------------------- paged attention */

enum { PS = 4, S = 3, PHQ = 4, PHKV = 2, PD = 8, PDV = 6, MAXP = 3, NP = 8 };

/* Paged attention over pages holding dense per-sequence k/v equals dense
 * causal attention of each sequence bit for bit, with pages in order and
 * shuffled; decode (no cu_q_lens) too. */
static void test_paged(tk_context *ctx, tk_dtype dt, int decode, int wl, float softcap) {
  const int kv_lens[S] = {5, 9, 3};
  const int q_lens[S] = {1, decode ? 1 : 4, decode ? 1 : 3};
  int cu[S + 1] = {0};
  for (int s = 0; s < S; s++) cu[s + 1] = cu[s] + q_lens[s];
  tb q, kc, vc, bt, kl, cul, out;
  tb_init(&q, dt, 3, (int64_t[]){cu[S], PHQ, PD}, 0);
  tb_init(&kc, dt, 4, (int64_t[]){NP, PS, PHKV, PD}, 0);
  tb_init(&vc, dt, 4, (int64_t[]){NP, PS, PHKV, PDV}, 0);
  tb_init(&bt, TK_I32, 2, (int64_t[]){S, MAXP}, 0);
  tb_init(&kl, TK_I32, 1, (int64_t[]){S}, 0);
  tb_init(&cul, TK_I32, 1, (int64_t[]){S + 1}, 0);
  tb_init(&out, dt, 3, (int64_t[]){cu[S], PHQ, PDV}, 0);
  tb_random(&q);
  tb_random(&kc);
  tb_random(&vc);
  int next_page = 0;
  for (int s = 0; s < S; s++) {
    tb_set(&kl, s, 0, 0, 0, kv_lens[s]);
    for (int p = 0; p < MAXP; p++) /* entries past the last used page are ignored */
      tb_set(&bt, s, p, 0, 0, p * PS < kv_lens[s] ? next_page++ : 12345);
  }
  for (int s = 0; s <= S; s++) tb_set(&cul, s, 0, 0, 0, cu[s]);
  tk_paged_attention_args a = {&q.dl, &kc.dl, &vc.dl, &bt.dl, &kl.dl, decode ? NULL : &cul.dl,
                               &out.dl, 0.35f, softcap, wl, NULL, NULL};
  tb_fill(&out, SENTINEL);
  CHECK_OK(tk_paged_attention(ctx, &a, &SERIAL));

  int bad = 0;
  for (int s = 0; s < S; s++) { /* dense causal attention of sequence s */
    attn_case c = {1, q_lens[s], kv_lens[s], PHQ, PHKV, PD, PDV, 1, wl, -1, 0.35f, softcap, 0, 0};
    attn_bufs t;
    attn_make(&t, &c, dt, 0);
    for (int i = 0; i < q_lens[s]; i++)
      for (int h = 0; h < PHQ; h++)
        memcpy(tb_ptr(&t.q, 0, i, h, 0), tb_ptr(&q, cu[s] + i, h, 0, 0), PD * (size_t)tk_dtype_size(dt));
    for (int j = 0; j < kv_lens[s]; j++) {
      int64_t page = (int64_t)tb_get(&bt, s, j / PS, 0, 0);
      for (int h = 0; h < PHKV; h++) {
        memcpy(tb_ptr(&t.k, 0, j, h, 0), tb_ptr(&kc, page, j % PS, h, 0), PD * (size_t)tk_dtype_size(dt));
        memcpy(tb_ptr(&t.v, 0, j, h, 0), tb_ptr(&vc, page, j % PS, h, 0), PDV * (size_t)tk_dtype_size(dt));
      }
    }
    CHECK_OK(attn_run(ctx, &t, &SERIAL));
    for (int i = 0; i < q_lens[s]; i++)
      for (int h = 0; h < PHQ; h++)
        bad += memcmp(tb_ptr(&t.out, 0, i, h, 0), tb_ptr(&out, cu[s] + i, h, 0, 0), PDV * (size_t)tk_dtype_size(dt)) != 0;
    attn_free(&t);
  }
  CHECK(bad == 0, "paged %s decode=%d wl=%d softcap=%g: %d rows differ from dense causal attention",
        dt_name(dt), decode, wl, softcap, bad);

  /* Shuffle the pages (new id perm[p]) and move their data: same bits. */
  tb kc2, vc2, bt2, out2;
  tb_init(&kc2, dt, 4, (int64_t[]){NP, PS, PHKV, PD}, 0);
  tb_init(&vc2, dt, 4, (int64_t[]){NP, PS, PHKV, PDV}, 0);
  tb_init(&bt2, TK_I32, 2, (int64_t[]){S, MAXP}, 0);
  tb_init(&out2, dt, 3, (int64_t[]){cu[S], PHQ, PDV}, 0);
  int perm[NP];
  for (int p = 0; p < NP; p++) perm[p] = p;
  for (int p = NP - 1; p > 0; p--) {
    int r = (int)rng_int(p + 1), x = perm[p];
    perm[p] = perm[r];
    perm[r] = x;
  }
  for (int p = 0; p < NP; p++) {
    memcpy(tb_ptr(&kc2, perm[p], 0, 0, 0), tb_ptr(&kc, p, 0, 0, 0), (size_t)PS * PHKV * PD * tk_dtype_size(dt));
    memcpy(tb_ptr(&vc2, perm[p], 0, 0, 0), tb_ptr(&vc, p, 0, 0, 0), (size_t)PS * PHKV * PDV * tk_dtype_size(dt));
  }
  for (int s = 0; s < S; s++)
    for (int p = 0; p < MAXP; p++) {
      int id = (int)tb_get(&bt, s, p, 0, 0);
      tb_set(&bt2, s, p, 0, 0, id < NP ? perm[id] : id);
    }
  tk_paged_attention_args a2 = a;
  a2.k_cache = &kc2.dl;
  a2.v_cache = &vc2.dl;
  a2.block_table = &bt2.dl;
  a2.out = &out2.dl;
  tb_fill(&out2, SENTINEL);
  CHECK_OK(tk_paged_attention(ctx, &a2, &PARALLEL));
  CHECK(tb_same_bits(&out, &out2), "paged %s: shuffled pages (parallel) differ", dt_name(dt));
  tb *all[] = {&q, &kc, &vc, &bt, &kl, &cul, &out, &kc2, &vc2, &bt2, &out2};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) tb_free(all[i]);
}

int main(void) {
  tk_context_options co = {":memory:", 2, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  CHECK_OK(tk_context_create(&co, &ctx));
  if (!ctx) TK_TEST_END();
  test_attention_oracle(ctx);
  test_attention_single_key(ctx);
  test_attention_equal_keys(ctx);
  test_attention_masks(ctx);
  test_attention_softcap(ctx);
  test_grouped_gemm(ctx);
  test_moe_roundtrip(ctx, 1);
  test_moe_roundtrip(ctx, 16);
  test_moe_permute_bits(ctx);
  test_paged(ctx, TK_F32, 0, -1, 0);
  test_paged(ctx, TK_F32, 0, 2, 3.0f);
  test_paged(ctx, TK_F32, 1, -1, 0);
  test_paged(ctx, TK_BF16, 0, 1, 0);
  test_paged(ctx, TK_F16, 1, 3, 2.0f);
  tk_context_destroy(ctx);
  TK_TEST_END();
}
