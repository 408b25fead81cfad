/* test_backward_math.c: the backward ops checked against the maths, not
 * against the reference: float64 central finite differences of the scalar
 * loss L = sum(dout * out) for dq, dk, dv (attention, computed here by a
 * float64 forward of its own) and L = sum(dout * unpermute(rows)) for
 * d_rows and d_weights; the identity "dk and dv of MQA equal the sums over
 * heads of the MHA gradients with K/V repeated"; keys no query sees (masked
 * by the window or past kv_len) get exactly zero gradient; rows past q_len
 * are not written; and the gradient of permute is unpermute of the
 * gradient with unit weights. Every implementation of each op runs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "impls/registry.h"
#include "tests/tk_test.h"
#include "tokamax.h"

/* The names of op's host implementations (the CUDA ones run on device
 * tensors and have their own device tests). */
static int host_impls(tk_op op, const char **names, int cap) {
  int count = 0, n = 0;
  const tk_impl *const *list = tk_registry(op, &count);
  for (int i = 0; i < count && n < cap; i++)
    if (list[i]->backend == TK_BACKEND_CPU) names[n++] = list[i]->name;
  return n;
}

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

/* Uniform in [-1,-0.1] or [0.1,1]: never zero. */
static float rnd(void) {
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  float m = 0.1f + 0.9f * (float)(rng_state >> 40) / (float)(1 << 24);
  return (rng_state & 1) ? m : -m;
}

/* A row-major float32 or int32 CPU tensor over its own buffer. */
typedef struct {
  DLTensor t;
  int64_t shape[4];
  float *f;
  int64_t n;
} ten;

static void ten_init(ten *x, int is_int, int ndim, int64_t a, int64_t b, int64_t c, int64_t d) {
  int64_t dims[4] = {a, b, c, d};
  memset(x, 0, sizeof *x);
  x->n = 1;
  for (int i = 0; i < ndim; i++) x->shape[i] = dims[i], x->n *= dims[i];
  x->f = calloc((size_t)(x->n ? x->n : 1), 4);
  if (!is_int)
    for (int64_t i = 0; i < x->n; i++) x->f[i] = rnd();
  x->t.data = x->f;
  x->t.device.device_type = kDLCPU;
  x->t.ndim = ndim;
  x->t.dtype = is_int ? (DLDataType){kDLInt, 32, 1} : (DLDataType){kDLFloat, 32, 1};
  x->t.shape = x->shape;
}

/* ------------------------------------------------------------------ attention */

typedef struct {
  int64_t B, Tq, Tk, Hq, Hkv, D, Dv;
  int causal, wl, wr;
  double scale, softcap;
  const int32_t *q_lens, *kv_lens; /* NULL: full */
} shape;

/* Whether row i of batch b sees key j (DESIGN.md masks). */
static int sees(const shape *s, int64_t b, int64_t i, int64_t j) {
  int64_t tq = s->q_lens ? s->q_lens[b] : s->Tq, tk = s->kv_lens ? s->kv_lens[b] : s->Tk;
  int64_t diag = i + tk - tq;
  if (i >= tq || j >= tk) return 0;
  if (s->causal && j > diag) return 0;
  if (s->wl >= 0 && j < diag - s->wl) return 0;
  if (s->wr >= 0 && j > diag + s->wr) return 0;
  return 1;
}

/* The float64 forward of row (b, i, h): out[Dv] and its lse; 0 if it sees
 * no key. q, k, v are [B,T,H,D] row-major doubles. */
static int forward_row(const shape *s, const double *q, const double *k, const double *v,
                       int64_t b, int64_t i, int64_t h, double *out, double *lse) {
  int64_t hkv = h / (s->Hq / s->Hkv);
  double m = -INFINITY, w[256];
  for (int64_t j = 0; j < s->Tk; j++) {
    w[j] = -INFINITY;
    if (!sees(s, b, i, j)) continue;
    double dot = 0;
    for (int64_t d = 0; d < s->D; d++)
      dot += q[((b * s->Tq + i) * s->Hq + h) * s->D + d] * k[((b * s->Tk + j) * s->Hkv + hkv) * s->D + d];
    double z = s->scale * dot;
    w[j] = s->softcap > 0 ? s->softcap * tanh(z / s->softcap) : z;
    if (w[j] > m) m = w[j];
  }
  for (int64_t d = 0; d < s->Dv; d++) out[d] = 0;
  if (m == -INFINITY) {
    *lse = -INFINITY;
    return 0;
  }
  double sum = 0;
  for (int64_t j = 0; j < s->Tk; j++) {
    if (w[j] == -INFINITY) continue;
    double e = exp(w[j] - m);
    sum += e;
    for (int64_t d = 0; d < s->Dv; d++) out[d] += e * v[((b * s->Tk + j) * s->Hkv + hkv) * s->Dv + d];
  }
  for (int64_t d = 0; d < s->Dv; d++) out[d] /= sum;
  *lse = m + log(sum);
  return 1;
}

/* L = sum over valid rows of dout . out, in float64. */
static double loss(const shape *s, const double *q, const double *k, const double *v,
                   const double *dout) {
  double L = 0, out[256], lse;
  for (int64_t b = 0; b < s->B; b++)
    for (int64_t i = 0; i < s->Tq; i++)
      for (int64_t h = 0; h < s->Hq; h++)
        if (forward_row(s, q, k, v, b, i, h, out, &lse))
          for (int64_t d = 0; d < s->Dv; d++) L += dout[((b * s->Tq + i) * s->Hq + h) * s->Dv + d] * out[d];
  return L;
}

/* dL/dx[e] by central differences, x being one of q, k, v (in place). */
static double numeric(const shape *s, double *x, int64_t e, double *q, double *k, double *v,
                      const double *dout) {
  const double eps = 1e-4, keep = x[e];
  x[e] = keep + eps;
  double up = loss(s, q, k, v, dout);
  x[e] = keep - eps;
  double down = loss(s, q, k, v, dout);
  x[e] = keep;
  return (up - down) / (2 * eps);
}

static double *to_double(const ten *t) {
  double *d = malloc(sizeof(double) * (size_t)(t->n ? t->n : 1));
  for (int64_t i = 0; i < t->n; i++) d[i] = t->f[i];
  return d;
}

typedef struct {
  shape s;
  ten q, k, v, out, dout, lse, dq, dk, dv, ql, kl;
  tk_attention_backward_args a;
} attn_fixture;

/* Random q, k, v, dout of shape s; out and lse from the float64 forward. */
static void attn_init(attn_fixture *f, const shape *s) {
  memset(f, 0, sizeof *f);
  f->s = *s;
  ten_init(&f->q, 0, 4, s->B, s->Tq, s->Hq, s->D);
  ten_init(&f->k, 0, 4, s->B, s->Tk, s->Hkv, s->D);
  ten_init(&f->v, 0, 4, s->B, s->Tk, s->Hkv, s->Dv);
  ten_init(&f->out, 0, 4, s->B, s->Tq, s->Hq, s->Dv);
  ten_init(&f->dout, 0, 4, s->B, s->Tq, s->Hq, s->Dv);
  ten_init(&f->lse, 0, 3, s->B, s->Hq, s->Tq, 0);
  ten_init(&f->dq, 0, 4, s->B, s->Tq, s->Hq, s->D);
  ten_init(&f->dk, 0, 4, s->B, s->Tk, s->Hkv, s->D);
  ten_init(&f->dv, 0, 4, s->B, s->Tk, s->Hkv, s->Dv);
  ten_init(&f->ql, 1, 1, s->B, 0, 0, 0);
  ten_init(&f->kl, 1, 1, s->B, 0, 0, 0);
  for (int64_t b = 0; b < s->B; b++) {
    ((int32_t *)f->ql.f)[b] = s->q_lens ? s->q_lens[b] : (int32_t)s->Tq;
    ((int32_t *)f->kl.f)[b] = s->kv_lens ? s->kv_lens[b] : (int32_t)s->Tk;
  }
  double *q = to_double(&f->q), *k = to_double(&f->k), *v = to_double(&f->v), out[256], lse;
  for (int64_t b = 0; b < s->B; b++)
    for (int64_t i = 0; i < s->Tq; i++)
      for (int64_t h = 0; h < s->Hq; h++) {
        forward_row(s, q, k, v, b, i, h, out, &lse);
        for (int64_t d = 0; d < s->Dv; d++) f->out.f[((b * s->Tq + i) * s->Hq + h) * s->Dv + d] = (float)out[d];
        f->lse.f[(b * s->Hq + h) * s->Tq + i] = (float)lse;
      }
  free(q), free(k), free(v);
  tk_attention_backward_args a = {&f->q.t,  &f->k.t,  &f->v.t,  &f->out.t, &f->dout.t, &f->lse.t,
                                  &f->dq.t, &f->dk.t, &f->dv.t, s->q_lens ? &f->ql.t : NULL,
                                  s->kv_lens ? &f->kl.t : NULL, (float)s->scale, s->causal,
                                  s->wl, s->wr, (float)s->softcap};
  f->a = a;
}

static void attn_free(attn_fixture *f) {
  ten *all[] = {&f->q, &f->k, &f->v, &f->out, &f->dout, &f->lse, &f->dq, &f->dk, &f->dv, &f->ql, &f->kl};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]->f);
}

/* Runs impl with the gradients poisoned to NaN first. */
static tk_status run_backward(tk_context *ctx, attn_fixture *f, const char *impl) {
  for (int64_t i = 0; i < f->dq.n; i++) f->dq.f[i] = NAN;
  for (int64_t i = 0; i < f->dk.n; i++) f->dk.f[i] = NAN;
  for (int64_t i = 0; i < f->dv.n; i++) f->dv.f[i] = NAN;
  tk_call_options o = {impl, NULL};
  return tk_attention_backward(ctx, &f->a, &o);
}

/* Compares a gradient with finite differences of x; rows of dq past q_len
 * must be NaN (not written). */
static void compare_fd(attn_fixture *f, const char *impl, const char *what, const ten *grad,
                       double *x, double *q, double *k, double *v, const double *dout, int is_dq) {
  const shape *s = &f->s;
  double worst = 0, scale = 0;
  int unwritten_ok = 1;
  for (int64_t e = 0; e < grad->n; e++) {
    if (is_dq) {
      int64_t b = e / (s->Tq * s->Hq * s->D), i = e / (s->Hq * s->D) % s->Tq;
      if (i >= (s->q_lens ? s->q_lens[b] : s->Tq)) {
        unwritten_ok &= isnan(grad->f[e]);
        continue;
      }
    }
    double want = numeric(s, x, e, q, k, v, dout), d = fabs(grad->f[e] - want);
    scale = fmax(scale, fabs(want));
    worst = fmax(worst, isnan(d) ? INFINITY : d);
  }
  CHECK(worst <= 2e-4 * fmax(scale, 1e-2), "%s: %s differs from finite differences by %.3g (max |grad| %.3g)",
        impl, what, worst, scale);
  CHECK(unwritten_ok, "%s: %s rows past q_len were written", impl, what);
}

/* Every impl's dq, dk, dv against finite differences for shape s. */
static void check_attention_fd(tk_context *ctx, const shape *s, const char *label) {
  const char *impls[16];
  const int n = host_impls(TK_OP_ATTENTION_BACKWARD, impls, 16);
  for (int i = 0; i < n; i++) {
    attn_fixture f;
    attn_init(&f, s);
    tk_status st = run_backward(ctx, &f, impls[i]);
    CHECK(st == TK_OK, "%s %s: %s", label, impls[i], tk_last_error());
    double *q = to_double(&f.q), *k = to_double(&f.k), *v = to_double(&f.v), *dout = to_double(&f.dout);
    char what[96];
    snprintf(what, sizeof what, "%s dq", label);
    compare_fd(&f, impls[i], what, &f.dq, q, q, k, v, dout, 1);
    snprintf(what, sizeof what, "%s dk", label);
    compare_fd(&f, impls[i], what, &f.dk, k, q, k, v, dout, 0);
    snprintf(what, sizeof what, "%s dv", label);
    compare_fd(&f, impls[i], what, &f.dv, v, q, k, v, dout, 0);
    free(q), free(k), free(v), free(dout);
    attn_free(&f);
  }
}

/* Keys no query of batch b sees get exactly zero dk and dv. */
static void check_masked_keys_zero(tk_context *ctx, const shape *s) {
  const char *impls[16];
  const int n = host_impls(TK_OP_ATTENTION_BACKWARD, impls, 16);
  int masked = 0;
  for (int i = 0; i < n; i++) {
    attn_fixture f;
    attn_init(&f, s);
    if (run_backward(ctx, &f, impls[i]) != TK_OK) {
      CHECK(0, "%s: masked-key backward failed: %s", impls[i], tk_last_error());
      attn_free(&f);
      continue;
    }
    int zero = 1;
    for (int64_t b = 0; b < s->B; b++)
      for (int64_t j = 0; j < s->Tk; j++) {
        int seen = 0;
        for (int64_t r = 0; r < s->Tq; r++) seen |= sees(s, b, r, j);
        if (seen) continue;
        masked++;
        for (int64_t h = 0; h < s->Hkv; h++) {
          for (int64_t d = 0; d < s->D; d++) zero &= f.dk.f[((b * s->Tk + j) * s->Hkv + h) * s->D + d] == 0.0f;
          for (int64_t d = 0; d < s->Dv; d++) zero &= f.dv.f[((b * s->Tk + j) * s->Hkv + h) * s->Dv + d] == 0.0f;
        }
      }
    CHECK(masked > 0 && zero, "%s: keys no query sees (%d) have nonzero dk or dv", impls[i], masked);
    attn_free(&f);
  }
}

/* MQA's dk, dv equal the head sums of MHA with K/V repeated to every head,
 * and their dq are equal. */
static void check_mqa_identity(tk_context *ctx) {
  const shape mqa = {2, 6, 7, 3, 1, 8, 5, 1, -1, -1, 0.4, 0, NULL, NULL};
  shape mha = mqa;
  mha.Hkv = mha.Hq;
  const char *impls[16];
  const int n = host_impls(TK_OP_ATTENTION_BACKWARD, impls, 16);
  for (int i = 0; i < n; i++) {
    attn_fixture a, m;
    attn_init(&a, &mqa);
    attn_init(&m, &mha);
    memcpy(m.q.f, a.q.f, sizeof(float) * (size_t)a.q.n);
    memcpy(m.dout.f, a.dout.f, sizeof(float) * (size_t)a.dout.n);
    for (int64_t r = 0; r < mqa.B * mqa.Tk; r++)
      for (int64_t h = 0; h < mha.Hkv; h++) {
        memcpy(m.k.f + (r * mha.Hkv + h) * mha.D, a.k.f + r * mqa.D, sizeof(float) * (size_t)mqa.D);
        memcpy(m.v.f + (r * mha.Hkv + h) * mha.Dv, a.v.f + r * mqa.Dv, sizeof(float) * (size_t)mqa.Dv);
      }
    memcpy(m.out.f, a.out.f, sizeof(float) * (size_t)a.out.n); /* the same forward */
    memcpy(m.lse.f, a.lse.f, sizeof(float) * (size_t)a.lse.n);
    if (run_backward(ctx, &a, impls[i]) != TK_OK || run_backward(ctx, &m, impls[i]) != TK_OK) {
      CHECK(0, "%s: MQA/MHA backward failed: %s", impls[i], tk_last_error());
    } else {
      double worst = 0;
      for (int64_t r = 0; r < mqa.B * mqa.Tk; r++) {
        for (int64_t d = 0; d < mqa.D; d++) {
          double sum = 0;
          for (int64_t h = 0; h < mha.Hkv; h++) sum += m.dk.f[(r * mha.Hkv + h) * mha.D + d];
          worst = fmax(worst, fabs(sum - a.dk.f[r * mqa.D + d]));
        }
        for (int64_t d = 0; d < mqa.Dv; d++) {
          double sum = 0;
          for (int64_t h = 0; h < mha.Hkv; h++) sum += m.dv.f[(r * mha.Hkv + h) * mha.Dv + d];
          worst = fmax(worst, fabs(sum - a.dv.f[r * mqa.Dv + d]));
        }
      }
      for (int64_t e = 0; e < a.dq.n; e++) worst = fmax(worst, fabs(a.dq.f[e] - m.dq.f[e]));
      CHECK(worst < 1e-5, "%s: MQA gradients differ from MHA head sums by %.3g", impls[i], worst);
    }
    attn_free(&a);
    attn_free(&m);
  }
}

/* ------------------------------------------------------------------ MoE */

/* L = sum_t dout[t] . sum_s w[t,s] rows[dest[t,s]] in float64. */
static double unpermute_loss(const double *rows, const int32_t *dest, const double *w,
                             const double *dout, int64_t T, int64_t k, int64_t H) {
  double L = 0;
  for (int64_t t = 0; t < T; t++)
    for (int64_t s = 0; s < k; s++)
      for (int64_t h = 0; h < H; h++) L += dout[t * H + h] * w[t * k + s] * rows[dest[t * k + s] * H + h];
  return L;
}

/* Every impl's d_rows and d_weights against finite differences, with two
 * slots sharing a row and rows no slot points to. */
static void check_unpermute_fd(tk_context *ctx) {
  enum { T = 5, K = 2, H = 6, R = 13 };
  static const int32_t dest_v[T * K] = {3, 0, 7, 12, 3, 5, 9, 1, 10, 2}; /* row 3 twice; 4, 6, 8, 11 none */
  const char *impls[16];
  const int n = host_impls(TK_OP_MOE_UNPERMUTE_BACKWARD, impls, 16);
  for (int i = 0; i < n; i++) {
    ten dout, rows, dest, w, drows, dw;
    ten_init(&dout, 0, 2, T, H, 0, 0);
    ten_init(&rows, 0, 2, R, H, 0, 0);
    ten_init(&dest, 1, 2, T, K, 0, 0);
    ten_init(&w, 0, 2, T, K, 0, 0);
    ten_init(&drows, 0, 2, R, H, 0, 0);
    ten_init(&dw, 0, 2, T, K, 0, 0);
    memcpy(dest.f, dest_v, sizeof dest_v);
    for (int64_t e = 0; e < drows.n; e++) drows.f[e] = NAN;
    for (int64_t e = 0; e < dw.n; e++) dw.f[e] = NAN;
    tk_moe_unpermute_backward_args a = {&dout.t, &rows.t, &dest.t, &w.t, &drows.t, &dw.t};
    tk_call_options o = {impls[i], NULL};
    tk_status st = tk_moe_unpermute_backward(ctx, &a, &o);
    CHECK(st == TK_OK, "unpermute backward %s: %s", impls[i], tk_last_error());
    double *dr = to_double(&rows), *dd = to_double(&dout), *dwd = to_double(&w), worst = 0;
    const double eps = 1e-3;
    for (int64_t e = 0; e < rows.n; e++) {
      double keep = dr[e];
      dr[e] = keep + eps;
      double up = unpermute_loss(dr, dest_v, dwd, dd, T, K, H);
      dr[e] = keep - eps;
      double down = unpermute_loss(dr, dest_v, dwd, dd, T, K, H);
      dr[e] = keep;
      worst = fmax(worst, fabs(drows.f[e] - (up - down) / (2 * eps)));
    }
    for (int64_t e = 0; e < w.n; e++) {
      double keep = dwd[e];
      dwd[e] = keep + eps;
      double up = unpermute_loss(dr, dest_v, dwd, dd, T, K, H);
      dwd[e] = keep - eps;
      double down = unpermute_loss(dr, dest_v, dwd, dd, T, K, H);
      dwd[e] = keep;
      worst = fmax(worst, fabs(dw.f[e] - (up - down) / (2 * eps)));
    }
    CHECK(worst < 1e-5, "unpermute backward %s: d_rows/d_weights differ from finite differences by %.3g",
          impls[i], worst);
    for (int64_t h = 0; h < H; h++)
      CHECK(drows.f[4 * H + h] == 0.0f && drows.f[11 * H + h] == 0.0f,
            "%s: rows no slot points to are zero", impls[i]);
    free(dr), free(dd), free(dwd);
    free(dout.f), free(rows.f), free(dest.f), free(w.f), free(drows.f), free(dw.f);
  }
}

/* The gradient of permute: d tokens = unpermute(d permuted, dest, unit
 * weights), checked against differences of L = sum(g * permute(tokens))
 * (permute is a copy, so the differences are exact). */
static void check_permute_gradient(tk_context *ctx) {
  enum { T = 6, K = 2, H = 4, E = 3, ALIGN = 2 };
  static const int32_t ids[T * K] = {0, 2, 1, 0, 2, 1, 0, 1, 2, 0, 1, 2};
  const int64_t R = tk_moe_permute_max_rows(T, K, E, ALIGN);
  ten tok, eid, per, gs, dest, g, dtok;
  ten_init(&tok, 0, 2, T, H, 0, 0);
  ten_init(&eid, 1, 2, T, K, 0, 0);
  ten_init(&per, 0, 2, R, H, 0, 0);
  ten_init(&gs, 1, 1, E, 0, 0, 0);
  ten_init(&dest, 1, 2, T, K, 0, 0);
  ten_init(&g, 0, 2, R, H, 0, 0);
  ten_init(&dtok, 0, 2, T, H, 0, 0);
  memcpy(eid.f, ids, sizeof ids);
  tk_moe_permute_args pa = {&tok.t, &eid.t, E, ALIGN, &per.t, &gs.t, &dest.t};
  tk_moe_unpermute_args ua = {&g.t, &dest.t, NULL, &dtok.t};
  CHECK_OK(tk_moe_permute(ctx, &pa, NULL));
  CHECK_OK(tk_moe_unpermute(ctx, &ua, NULL));
  double worst = 0;
  for (int64_t e = 0; e < tok.n; e++) {
    float keep = tok.f[e];
    double L[2];
    for (int side = 0; side < 2; side++) {
      tok.f[e] = keep + (side ? -0.5f : 0.5f);
      tk_moe_permute(ctx, &pa, NULL);
      L[side] = 0;
      for (int64_t r = 0; r < per.n; r++) L[side] += (double)g.f[r] * per.f[r];
    }
    tok.f[e] = keep;
    worst = fmax(worst, fabs((L[0] - L[1]) / 1.0 - dtok.f[e]));
  }
  CHECK(worst < 1e-5, "permute's gradient is unpermute with unit weights: off by %.3g", worst);
  ten *all[] = {&tok, &eid, &per, &gs, &dest, &g, &dtok};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]->f);
}

int main(void) {
  tk_context *ctx = NULL;
  tk_context_options o = {":memory:", 2, TK_TUNE_OFF, NULL};
  CHECK_OK(tk_context_create(&o, &ctx));
  if (!ctx) TK_TEST_END();
  static const int32_t ql[2] = {5, 0}, kl[2] = {3, 6}, ql2[2] = {2, 4}, kl2[2] = {7, 5};
  /* B Tq Tk Hq Hkv D Dv causal wl wr scale softcap q_lens kv_lens */
  const shape gqa = {2, 5, 6, 4, 2, 8, 6, 1, -1, -1, 0.35, 0, NULL, NULL};
  const shape window_softcap = {1, 6, 9, 2, 1, 8, 8, 0, 2, 1, 0.5, 2.0, NULL, NULL};
  const shape varlen = {2, 5, 6, 2, 2, 8, 4, 1, -1, -1, 0.4, 0, ql, kl}; /* q_len 5 > kv_len 3, an empty batch */
  const shape long_keys = {2, 4, 12, 2, 1, 16, 8, 1, 3, -1, 0.3, 0, ql2, kl2};
  check_attention_fd(ctx, &gqa, "GQA causal");
  check_attention_fd(ctx, &window_softcap, "MQA window+softcap");
  check_attention_fd(ctx, &varlen, "varlen causal");
  check_attention_fd(ctx, &long_keys, "varlen window");
  check_masked_keys_zero(ctx, &long_keys);
  check_mqa_identity(ctx);
  check_unpermute_fd(ctx);
  check_permute_gradient(ctx);
  tk_context_destroy(ctx);
  TK_TEST_END();
}
