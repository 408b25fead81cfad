/* attention_backward_tile.h: the float32 path of the cpu attention
 * backward's task kernel (attention_backward_engine.h), written once for
 * any vector width. All five products are register-tiled C += A B with A
 * broadcast one element at a time and B rows as vectors: S = Q K^T and
 * dP = dO V^T from packed K^T and V^T (keys in lanes), dV += P^T dO and
 * dK += dZ^T Q with P and dZ read down their columns, dQ += dZ K from K in
 * its own layout; P and dZ come from S and dP lane-wise, keys in lanes.
 *
 * Included by attention_backward_avx512.c and attention_backward_avx2.c,
 * which first define:
 *   VF, VL                       float vector type and its lanes
 *   vf_zero() vf_load(p) vf_store(p, x) vf_set1(x) vf_fma(a, b, c) = a*b + c
 *   vf_mul vf_sub vf_exp2 vf_tanh
 *   vf_load_dt_n(p, dtype, n)    the first n elements at p (any dtype) as floats
 *   vf_store_dt_n(p, dtype, x, n) the first n lanes of x at p in dtype
 *   vf_keep(x, j, lo, hi)        x where lo <= j + lane <= hi, else 0
 *   vf_sum(x)                    the sum of x's lanes
 *   MM_MR, MM_NV                 the largest tile: rows by vectors
 *   FN(name)                     name with the file's suffix */
#include <stdint.h>
#include <string.h>

#include "impls/cpu/attention_backward_engine.h"
#include "impls/cpu/inline.h"
#include "runtime/half.h"


/* ---------------------------------------------------------------- products */

/* C[i][0..NV*VL) (+)= sum over kk of A(i, k) B[k][..] for MR rows i, where
 * A(i, k) = a[i * ar + k * ak], B row k at b + k * ldb, C row i at
 * c + i * ldc; accumulate 0 overwrites C. */
TK_INLINE void FN(mm_tile)(int64_t kk, const float *a, int64_t ar, int64_t ak, const float *b,
                           int64_t ldb, float *c, int64_t ldc, int accumulate, const int MR,
                           const int NV) {
  VF x[MM_MR][4];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) x[i][v] = accumulate ? vf_load(c + i * ldc + v * VL) : vf_zero();
  for (int64_t k = 0; k < kk; k++) {
    VF bv[4];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) bv[v] = vf_load(b + k * ldb + v * VL);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      VF ai = vf_set1(a[i * ar + k * ak]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) x[i][v] = vf_fma(ai, bv[v], x[i][v]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) vf_store(c + i * ldc + v * VL, x[i][v]);
}

/* Runs the statement with MR_ a constant equal to mr (1..MM_MR). */
#define TK_ABW_WITH_MR(mr, ...)                                  \
  switch (mr) {                                                  \
    case 1: { enum { MR_ = 1 }; __VA_ARGS__; } break;            \
    case 2: { enum { MR_ = 2 < MM_MR ? 2 : MM_MR }; __VA_ARGS__; } break; \
    case 3: { enum { MR_ = 3 < MM_MR ? 3 : MM_MR }; __VA_ARGS__; } break; \
    case 4: { enum { MR_ = 4 < MM_MR ? 4 : MM_MR }; __VA_ARGS__; } break; \
    case 5: { enum { MR_ = 5 < MM_MR ? 5 : MM_MR }; __VA_ARGS__; } break; \
    default: { enum { MR_ = MM_MR }; __VA_ARGS__; } break;       \
  }

/* The same for NV_ = nv (1..4). */
#define TK_ABW_WITH_NV(nv, ...)                                  \
  switch (nv) {                                                  \
    case 1: { enum { NV_ = 1 }; __VA_ARGS__; } break;            \
    case 2: { enum { NV_ = 2 }; __VA_ARGS__; } break;            \
    case 3: { enum { NV_ = 3 }; __VA_ARGS__; } break;            \
    default: { enum { NV_ = 4 < MM_NV ? 4 : MM_NV }; __VA_ARGS__; } break; \
  }

/* C[m][n] (+)= A B over kk (n a multiple of VL): tiles of MM_MR rows by
 * MM_NV vectors, then the remainders. */
static void FN(mm)(int64_t m, int64_t n, int64_t kk, const float *a, int64_t ar, int64_t ak,
                   const float *b, int64_t ldb, float *c, int64_t ldc, int accumulate) {
  for (int64_t j = 0; j < n; j += MM_NV * VL) {
    const int nv = n - j >= MM_NV * VL ? MM_NV : (int)((n - j) / VL);
    for (int64_t i = 0; i < m; i += MM_MR) {
      const int mr = m - i >= MM_MR ? MM_MR : (int)(m - i);
      TK_ABW_WITH_NV(nv, TK_ABW_WITH_MR(mr, FN(mm_tile)(kk, a + i * ar, ar, ak, b + j, ldb,
                                                       c + i * ldc + j, ldc, accumulate, MR_,
                                                       NV_)));
    }
  }
}

/* ---------------------------------------------------------------- packing */

/* n elements of a source row (elements step bytes apart) into dst as
 * floats, zeros up to pitch. */
static void FN(pack_row)(float *dst, const char *src, int64_t step, tk_dtype dt, int64_t n,
                         int64_t pitch) {
  const int64_t es = tk_dtype_size(dt);
  if (step == es) {
    for (int64_t d = 0; d < pitch; d += VL)
      vf_store(dst + d, d < n ? vf_load_dt_n(src + d * es, dt, n - d) : vf_zero());
    return;
  }
  for (int64_t d = 0; d < pitch; d++) dst[d] = d < n ? tk_load_f32(src + d * step, dt) : 0.0f;
}

/* The group's Q and dO rows as floats ([rows_p][Dp], [rows_p][Dvp], the
 * spare row zero), and Drow = dout . out of every row. */
static void FN(pack_group)(const tk_abw_params *p, const tk_abw_task *t, const tk_abw_layout *l,
                           char *ws) {
  float *qf = (float *)(ws + l->qf), *of = (float *)(ws + l->of), *drow = (float *)(ws + l->drow);
  float outr[512 + 64];
  for (int64_t r = 0; r < l->rows_p; r++) {
    const int64_t pos = r / t->G, g = r % t->G;
    if (r >= t->rows) {
      memset(qf + r * p->Dp, 0, sizeof(float) * (size_t)p->Dp);
      memset(of + r * p->Dvp, 0, sizeof(float) * (size_t)p->Dvp);
      drow[r] = 0;
      continue;
    }
    FN(pack_row)(qf + r * p->Dp, tk_abw_at(t->q, pos * t->q_pos + g * t->q_head), t->q_d, p->dtype, p->D, p->Dp);
    FN(pack_row)(of + r * p->Dvp, tk_abw_at(t->dout, pos * t->o_pos + g * t->o_head), t->o_d, p->dtype, p->Dv,
                 p->Dvp);
    FN(pack_row)(outr, tk_abw_at(t->out, pos * t->f_pos + g * t->f_head), t->f_d, p->dtype, p->Dv, p->Dvp);
    VF acc = vf_zero();
    for (int64_t d = 0; d < p->Dvp; d += VL)
      acc = vf_fma(vf_load(of + r * p->Dvp + d), vf_load(outr + d), acc);
    drow[r] = vf_sum(acc);
  }
}

/* Keys [j0, j0 + n) of K and V: K^T [Dp][bkp], V^T [Dvp][bkp] (zeros past
 * n and past the head dims) and K [n][Dp]. */
static void FN(pack_keys)(const tk_abw_params *p, const tk_abw_task *t, const tk_abw_layout *l,
                          char *ws, int64_t j0, int64_t n) {
  float *kt = (float *)(ws + l->kt), *vt = (float *)(ws + l->vt), *kn = (float *)(ws + l->kn);
  float row[512 + 64];
  memset(kt, 0, sizeof(float) * (size_t)(p->Dp * l->bkp));
  memset(vt, 0, sizeof(float) * (size_t)(p->Dvp * l->bkp));
  for (int64_t j = 0; j < n; j++) {
    FN(pack_row)(kn + j * p->Dp, tk_abw_at(t->k, (j0 + j) * t->k_key), t->k_d, p->dtype, p->D, p->Dp);
    for (int64_t d = 0; d < p->D; d++) kt[d * l->bkp + j] = kn[j * p->Dp + d];
    FN(pack_row)(row, tk_abw_at(t->v, (j0 + j) * t->v_key), t->v_d, p->dtype, p->Dv, p->Dvp);
    for (int64_t d = 0; d < p->Dv; d++) vt[d * l->bkp + j] = row[d];
  }
}

/* ---------------------------------------------------------------- masks */

/* The keys row r of the group sees, clipped to [j0, j1]: [*lo, *hi]
 * (empty when *lo > *hi). */
static inline void FN(row_keys)(const tk_abw_task *t, int64_t r, int64_t j0, int64_t j1,
                                int32_t *lo, int32_t *hi) {
  const int64_t diag = r / t->G + t->tk - t->tq;
  int64_t a = j0, b = j1 < t->tk - 1 ? j1 : t->tk - 1;
  if (t->causal && b > diag) b = diag;
  if (t->wl >= 0 && a < diag - t->wl) a = diag - t->wl;
  if (t->wr >= 0 && b > diag + t->wr) b = diag + t->wr;
  *lo = (int32_t)a;
  *hi = (int32_t)b;
}

/* lo/hi of rows [r0, r0 + m) against keys [j0, j0 + n); 1 if any sees one. */
static int FN(block_keys)(const tk_abw_task *t, int64_t r0, int64_t m, int64_t j0, int64_t n,
                          int32_t *lo, int32_t *hi) {
  int any = 0;
  for (int64_t i = 0; i < m; i++) {
    FN(row_keys)(t, r0 + i, j0, j0 + n - 1, &lo[i], &hi[i]);
    any |= lo[i] <= hi[i];
  }
  return any;
}

/* The first nc columns (a multiple of VL) of S (m rows, ld apart) -> P in
 * place, of dP -> dZ = scale P (dP - Drow) ds/dz in place; zero outside
 * each row's keys [lo, hi] (j0 is key 0 of the block). */
static void FN(probs)(const tk_abw_params *p, float *s, float *dp, int64_t ld, int64_t m, int64_t nc,
                      const float *lse, const float *drow, const int32_t *lo, const int32_t *hi,
                      int64_t j0) {
  const float log2e = 1.4426950408889634f;
  const VF scale = vf_set1(p->scale), cap = vf_set1(p->softcap), inv_cap = vf_set1(1.0f / p->softcap);
  const VF one = vf_set1(1.0f);
  for (int64_t i = 0; i < m; i++) {
    float *si = s + i * ld, *di = dp + i * ld;
    if (lo[i] > hi[i]) {
      memset(si, 0, sizeof(float) * (size_t)nc);
      memset(di, 0, sizeof(float) * (size_t)nc);
      continue;
    }
    const VF base = vf_set1(lse[i] * log2e), l2e = vf_set1(log2e), dr = vf_set1(drow[i]);
    for (int64_t j = 0; j < nc; j += VL) {
      VF x = vf_mul(vf_load(si + j), scale), slope = scale;
      if (p->softcap > 0) {
        VF th = vf_tanh(vf_mul(x, inv_cap));
        x = vf_mul(cap, th);
        slope = vf_mul(scale, vf_sub(one, vf_mul(th, th)));
      }
      VF pr = vf_keep(vf_exp2(vf_sub(vf_mul(x, l2e), base)), j0 + j, lo[i], hi[i]);
      vf_store(si + j, pr);
      vf_store(di + j, vf_mul(vf_mul(pr, vf_sub(vf_load(di + j), dr)), slope));
    }
  }
}

/* ---------------------------------------------------------------- the task */

/* Stores the n gradient rows acc ([n][pitch]) of keys j0.. into out. */
static void FN(store_keys)(const float *acc, int64_t pitch, int64_t width, char *out, int64_t key,
                           int64_t step, tk_dtype dt, int64_t n) {
  const int64_t es = tk_dtype_size(dt);
  for (int64_t j = 0; j < n; j++) {
    char *o = tk_abw_at(out, j * key);
    if (step == es) {
      for (int64_t d = 0; d < width; d += VL)
        vf_store_dt_n(o + d * es, dt, vf_load(acc + j * pitch + d), width - d);
    } else {
      for (int64_t d = 0; d < width; d++) tk_store_f32(o + d * step, dt, acc[j * pitch + d]);
    }
  }
}

/* The float32 path of one key block [j0, j0 + n) against every row block. */
static void FN(key_block_f32)(const tk_abw_params *p, const tk_abw_task *t, const tk_abw_layout *l,
                              char *ws, int64_t j0, int64_t n) {
  const float *qf = (const float *)(ws + l->qf), *of = (const float *)(ws + l->of);
  const float *drow = (const float *)(ws + l->drow);
  float *kt = (float *)(ws + l->kt), *vt = (float *)(ws + l->vt), *kn = (float *)(ws + l->kn);
  float *s = (float *)(ws + l->s), *dp = (float *)(ws + l->dp);
  float *dk = (float *)(ws + l->dk), *dv = (float *)(ws + l->dv);
  int32_t *lo = (int32_t *)(ws + l->lo), *hi = (int32_t *)(ws + l->hi);
  const int64_t nv = (n + VL - 1) / VL * VL; /* key columns computed */
  float lse[1024];
  FN(pack_keys)(p, t, l, ws, j0, n);
  memset(dk, 0, sizeof(float) * (size_t)(n * p->Dp));
  memset(dv, 0, sizeof(float) * (size_t)(n * p->Dvp));
  for (int64_t r0 = 0; r0 < t->rows; r0 += p->bq) {
    const int64_t m = t->rows - r0 < p->bq ? t->rows - r0 : p->bq;
    if (!FN(block_keys)(t, r0, m, j0, n, lo, hi)) continue;
    for (int64_t i = 0; i < m; i++) {
      const int64_t r = r0 + i;
      lse[i] = t->lse[(r / t->G) * t->l_pos + (r % t->G) * t->l_head];
    }
    FN(mm)(m, nv, p->D, qf + r0 * p->Dp, p->Dp, 1, kt, l->bkp, s, l->bkp, 0);
    FN(mm)(m, nv, p->Dv, of + r0 * p->Dvp, p->Dvp, 1, vt, l->bkp, dp, l->bkp, 0);
    FN(probs)(p, s, dp, l->bkp, m, nv, lse, drow + r0, lo, hi, j0);
    FN(mm)(n, p->Dvp, m, s, 1, l->bkp, of + r0 * p->Dvp, p->Dvp, dv, p->Dvp, 1);
    FN(mm)(n, p->Dp, m, dp, 1, l->bkp, qf + r0 * p->Dp, p->Dp, dk, p->Dp, 1);
    FN(mm)(m, p->Dp, n, dp, l->bkp, 1, kn, p->Dp, t->dq + r0 * p->Dp, p->Dp, 1);
  }
  FN(store_keys)(dk, p->Dp, p->D, tk_abw_at(t->dk, j0 * t->dk_key), t->dk_key, t->dk_d, t->dk_dtype, n);
  FN(store_keys)(dv, p->Dvp, p->Dv, tk_abw_at(t->dv, j0 * t->dv_key), t->dv_key, t->dv_d, t->dv_dtype, n);
}
