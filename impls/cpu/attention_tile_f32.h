/* attention_tile_f32.h: the float32 block kernel of the cpu attention
 * (attention_engine.h), written once for any vector width. Rows of the
 * group lie in vector lanes: S^T = K Q^T is built from one broadcast key
 * element times packed query columns, the softmax is lane-wise (no
 * horizontal reductions), and O^T += V^T P^T from one broadcast value
 * element times probability columns. Both products are register tiles of
 * NV row vectors by NJ keys / NDV value columns.
 *
 * Included by attention_block_avx512.c and attention_block_avx2.c, which
 * first define:
 *   VF, VL                     float vector type and its lanes
 *   vf_zero() vf_load(p) vf_store(p, x) vf_set1(x) vf_fma(a, b, c) = a*b + c
 *   vf_mul vf_add vf_sub vf_max vf_exp2 vf_tanh
 *   vf_load_dt(p, dtype) vf_load_dt_n(p, dtype, n)   any dtype as floats
 *   vf_visible(x, j, lo, hi)   x where lo[lane] <= j <= hi[lane], else -inf
 *   vf_finite_or_zero(x)       x, with -inf lanes set to 0
 *   S_NJ(nv), PV_NDV(nv)       tile widths for nv = 1..4 row vectors
 *   FN(name)                   name with the file's suffix */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "impls/cpu/attention_engine.h"
#include "impls/cpu/inline.h"
#include "runtime/half.h"


/* S^T[j][0..NV*VL) = K[j] . Q^T for the nj (<= NJ) keys at k (rows k_key
 * bytes apart, float32, contiguous); qt: query columns, pad floats apart. */
TK_INLINE void FN(s_tile)(const float *qt, int64_t pad, int64_t D, const char *k, int64_t k_key,
                          int64_t nj, float *st, int64_t ldst, tk_attn_pf *pf, const int NV,
                          const int NJ) {
  VF acc[16][4];
  const float *kr[16];
#pragma GCC unroll 16
  for (int j = 0; j < NJ; j++) kr[j] = (const float *)(k + (j < nj ? j : nj - 1) * k_key);
#pragma GCC unroll 16
  for (int j = 0; j < NJ; j++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[j][v] = vf_zero();
  for (int64_t d = 0; d < D; d++) {
    VF q[4];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) q[v] = vf_load(qt + d * pad + v * VL);
    if (NV == 1) tk_attn_pf_step(pf);
#pragma GCC unroll 16
    for (int j = 0; j < NJ; j++) {
      VF b = vf_set1(kr[j][d]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[j][v] = vf_fma(b, q[v], acc[j][v]);
    }
  }
#pragma GCC unroll 16
  for (int j = 0; j < NJ; j++)
    if (j < nj)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) vf_store(st + j * ldst + v * VL, acc[j][v]);
}

/* Runs the statements with NV a constant equal to nv (1..4), so that the
 * tiles they call are built for that many row vectors. */
#define TK_ATTN_WITH_NV(nv, ...)       \
  switch (nv) {                        \
    case 1: {                          \
      enum { NV = 1 };                 \
      __VA_ARGS__;                     \
    } break;                           \
    case 2: {                          \
      enum { NV = 2 };                 \
      __VA_ARGS__;                     \
    } break;                           \
    case 3: {                          \
      enum { NV = 3 };                 \
      __VA_ARGS__;                     \
    } break;                           \
    default: {                         \
      enum { NV = 4 };                 \
      __VA_ARGS__;                     \
    } break;                           \
  }

/* First column of the tile of w (<= Dv) columns that covers column dv on:
 * the last tile is shifted back to end at Dv (its columns below dv belong
 * to the tile before and are not stored again). */
static inline int64_t tk_attn_tile_col(int64_t dv, int64_t w, int64_t Dv) {
  return dv + w <= Dv ? dv : Dv - w;
}

/* Logits of every key of view kv into st (ldst floats per key) for nv row
 * vectors; one-vector tiles step pf as they go. */
static void FN(s_tiles)(const float *qt, int64_t pad, int64_t D, tk_attn_view kv, float *st,
                        int64_t ldst, tk_attn_pf *pf, int nv) {
  for (int i = 0; i < kv.n; i++) {
    const char *k = kv.s[i].p;
    int64_t n = kv.s[i].n;
    TK_ATTN_WITH_NV(nv, for (int64_t j = 0; j < n; j += S_NJ(NV)) FN(s_tile)(
                            qt, pad, D, k + j * kv.key, kv.key, n - j < S_NJ(NV) ? n - j : S_NJ(NV),
                            st + j * ldst, ldst, pf, NV, S_NJ(NV)));
    st += n * ldst;
  }
}

/* acc[dv][0..NV*VL) = acc * alpha + sum over keys j of P^T[j] * V[j][dv]
 * for dv in [dv0, dv0 + NDV), storing only dv >= store0 (columns below it
 * belong to the tile before); V rows come from view vv. */
TK_INLINE void FN(pv_tile)(float *acc, int64_t pad, const VF *alpha, const float *pt, int64_t ldst,
                           tk_attn_view vv, int64_t dv0, int64_t store0, tk_attn_pf *pf,
                           const int NV, const int NDV) {
  VF a[16][4];
#pragma GCC unroll 16
  for (int t = 0; t < NDV; t++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) a[t][v] = vf_mul(vf_load(acc + (dv0 + t) * pad + v * VL), alpha[v]);
  for (int i = 0; i < vv.n; i++) {
    const char *vr = vv.s[i].p + dv0 * 4;
    for (int64_t j = 0; j < vv.s[i].n; j++, vr += vv.key, pt += ldst) {
      VF pv[4];
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) pv[v] = vf_load(pt + v * VL);
      if (NV == 1) tk_attn_pf_step(pf);
#pragma GCC unroll 16
      for (int t = 0; t < NDV; t++) {
        VF b = vf_set1(((const float *)vr)[t]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) a[t][v] = vf_fma(b, pv[v], a[t][v]);
      }
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < NDV; t++)
    if (dv0 + t >= store0)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) vf_store(acc + (dv0 + t) * pad + v * VL, a[t][v]);
}

/* acc = acc * alpha + V^T P^T over all Dv columns for nv row vectors;
 * one-vector tiles step pf as they go. */
static void FN(pv_tiles)(float *acc, int64_t pad, const VF *alpha, const float *pt, int64_t ldst,
                         tk_attn_view vv, int64_t Dv, tk_attn_pf *pf, int nv) {
  TK_ATTN_WITH_NV(nv, if (Dv < PV_NDV(NV)) for (int64_t dv = 0; dv < Dv; dv++)
                          FN(pv_tile)(acc, pad, alpha, pt, ldst, vv, dv, dv, pf, NV, 1);
                      else for (int64_t dv = 0; dv < Dv; dv += PV_NDV(NV))
                          FN(pv_tile)(acc, pad, alpha, pt, ldst, vv, tk_attn_tile_col(dv, PV_NDV(NV), Dv),
                                      dv, pf, NV, PV_NDV(NV)));
}

/* Turns the raw dot products st[j] (keys j0 + j, j < nk) of nv row vectors
 * into base-2 logits in place (scale, softcap, masks when masked != 0) and
 * returns their max per lane in mx. */
static void FN(logits)(const tk_attn_params *p, float *st, int64_t ldst, int64_t nk, int64_t j0,
                       const int32_t *lo, const int32_t *hi, int nv, int masked, VF *mx) {
  VF c = vf_set1(p->c_logit), cap = vf_set1(p->c_cap);
  for (int v = 0; v < nv; v++) {
    VF m = vf_set1(-INFINITY);
    float *row = st + v * VL;
    if (p->c_cap == 0.0f && !masked) {
      for (int64_t j = 0; j < nk; j++, row += ldst) {
        VF x = vf_mul(vf_load(row), c);
        vf_store(row, x);
        m = vf_max(m, x);
      }
    } else {
      for (int64_t j = 0; j < nk; j++, row += ldst) {
        VF x = vf_mul(vf_load(row), c);
        if (p->c_cap != 0.0f) x = vf_mul(cap, vf_tanh(x));
        if (masked) x = vf_visible(x, (int32_t)(j0 + j), lo + v * VL, hi + v * VL);
        vf_store(row, x);
        m = vf_max(m, x);
      }
    }
    mx[v] = m;
  }
}

/* Updates the running max m of nv row vectors with the block max mx;
 * returns in alpha the factor older sums and accumulators are scaled by,
 * and in base the value logits are taken from (the new max, 0 where it is
 * still -inf). */
static void FN(rescale)(float *m, const VF *mx, int nv, VF *alpha, VF *base) {
  for (int v = 0; v < nv; v++) {
    VF old = vf_load(m + v * VL), now = vf_max(old, mx[v]);
    base[v] = vf_finite_or_zero(now);
    alpha[v] = vf_exp2(vf_sub(old, base[v]));
    vf_store(m + v * VL, now);
  }
}

/* Logits -> probabilities in place; l = l * alpha + their sum per lane. */
static void FN(probs_f32)(float *st, int64_t ldst, int64_t nk, float *l, const VF *alpha,
                          const VF *base, int nv) {
  for (int v = 0; v < nv; v++) {
    VF sum = vf_zero();
    for (int64_t j = 0; j < nk; j++) {
      VF e = vf_exp2(vf_sub(vf_load(st + j * ldst + v * VL), base[v]));
      vf_store(st + j * ldst + v * VL, e);
      sum = vf_add(sum, e);
    }
    vf_store(l + v * VL, vf_add(vf_mul(vf_load(l + v * VL), alpha[v]), sum));
  }
}

/* Converts n rows of the block's K (which = 0) or V (which = 1), width
 * elements each, to contiguous float32 rows at dst. */
static void FN(pack_f32)(float *dst, int64_t width, tk_dtype dt, const tk_attn_block *b, int which) {
  int64_t key = which ? b->v_key : b->k_key, step = which ? b->v_d : b->k_d;
  int64_t es = tk_dtype_size(dt);
  for (int i = 0; i < b->nseg; i++) {
    const char *row = which ? b->seg[i].v : b->seg[i].k;
    for (int64_t j = 0; j < b->seg[i].n; j++, row += key, dst += width) {
      if (step == es) {
        int64_t d = 0;
        for (; d + VL <= width; d += VL) vf_store(dst + d, vf_load_dt(row + d * es, dt));
        if (d < width) {
          float tail[VL];
          vf_store(tail, vf_load_dt_n(row + d * es, dt, width - d));
          memcpy(dst + d, tail, sizeof(float) * (size_t)(width - d));
        }
      } else {
        for (int64_t d = 0; d < width; d++) dst[d] = tk_load_f32(row + d * step, dt);
      }
    }
  }
}

/* A row tile's share of block b: keys [*kb, *ke) (offsets into the block)
 * that some row of the tile sees; *masked when some row sees only part of
 * them. Returns 0 when no row of the tile sees any key of the block. */
static int FN(tile_keys)(const int32_t *bounds, const tk_attn_block *b, int64_t *kb, int64_t *ke,
                         int *masked) {
  int64_t first = bounds[0] > b->j0 ? bounds[0] : b->j0;
  int64_t last = bounds[3] < b->j0 + b->nk - 1 ? bounds[3] : b->j0 + b->nk - 1;
  if (first > last) return 0;
  *kb = first - b->j0;
  *ke = last - b->j0 + 1;
  *masked = !(bounds[1] <= first && bounds[2] >= last);
  return 1;
}

/* The float32 path of a block: K and V read in place when they are float32
 * with unit element stride, else converted to packed float32 rows first. */
static void FN(block_f32)(const tk_attn_params *p, tk_attn_state *s, const tk_attn_block *b) {
  int64_t T = p->mr * VL;
  int direct_k = p->dtype == TK_F32 && b->k_d == 4, direct_v = p->dtype == TK_F32 && b->v_d == 4;
  if (!direct_k) FN(pack_f32)(s->kp, p->D, p->dtype, b, 0);
  if (!direct_v) FN(pack_f32)(s->vp, p->Dv, p->dtype, b, 1);
  for (int64_t t0 = 0; t0 < s->n; t0 += T) {
    int64_t kb, ke;
    int masked;
    if (!FN(tile_keys)(s->tile[t0 / T], b, &kb, &ke, &masked)) continue;
    int nv = (int)((s->n - t0 + VL - 1) / VL);
    if (nv > p->mr) nv = p->mr;
    int64_t ld = nv * VL; /* floats per key in st: the tile's rows only */
    tk_attn_span kspan = {(const char *)s->kp + kb * p->D * 4, ke - kb};
    tk_attn_span vspan = {(const char *)s->vp + kb * p->Dv * 4, ke - kb};
    tk_attn_view kv = direct_k ? tk_attn_view_of(b, 0, kb, ke, s->kspan)
                               : (tk_attn_view){1, &kspan, p->D * 4};
    tk_attn_view vv = direct_v ? tk_attn_view_of(b, 1, kb, ke, s->vspan)
                               : (tk_attn_view){1, &vspan, p->Dv * 4};
    VF mx[4], alpha[4], base[4];
    FN(s_tiles)((const float *)s->qt + t0, s->pad, p->D, kv, s->st, ld, &s->pf, nv);
    FN(logits)(p, s->st, ld, ke - kb, b->j0 + kb, s->lo + t0, s->hi + t0, nv, masked, mx);
    FN(rescale)(s->m + t0, mx, nv, alpha, base);
    FN(probs_f32)(s->st, ld, ke - kb, s->l + t0, alpha, base, nv);
    FN(pv_tiles)(s->acc + t0, s->pad, alpha, s->st, ld, vv, p->Dv, &s->pf, nv);
  }
}
