/* attention_backward_avx512.c: the AVX-512 task kernel of the cpu
 * attention backward: the float32 path of attention_backward_tile.h on 16
 * lanes for f32 and f16 inputs (and bf16 without AVX512-BF16), and for
 * bf16 inputs with AVX512-BF16 every product in vdpbf16ps: S^T = K Q^T and
 * dP^T = V dO^T with the rows in lanes; P^T and dZ^T as bf16 pairs of rows
 * for dV += P^T dO and dK += dZ^T Q, and dZ transposed back to pairs of
 * keys for dQ += dZ K, each as two bf16 terms (its rounding and the
 * residual's: about 16 bits together, since the gradients sum terms of
 * either sign whose cancellation one bf16 rounding would leave visible);
 * float32 accumulation throughout. */
#include <immintrin.h>
#include <string.h>

#include "impls/cpu/vf_avx512.h"

#define MM_MR 6
#define MM_NV 4
#define FN(name) name##_avx512

/* x where lo <= j + lane <= hi, else 0. */
static inline __m512 vf_keep(__m512 x, int64_t j, int32_t lo, int32_t hi) {
  __m512i key = _mm512_add_epi32(_mm512_set1_epi32((int32_t)j),
                                 _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  __mmask16 in = _mm512_cmple_epi32_mask(_mm512_set1_epi32(lo), key) &
                 _mm512_cmple_epi32_mask(key, _mm512_set1_epi32(hi));
  return _mm512_maskz_mov_ps(in, x);
}

#include "impls/cpu/attention_backward_tile.h"


/* ---------------------------------------------------------------- bf16 path */

/* C[i][0..NV*16) (+)= sum over kk pairs of A(i, k) . B[k][..] (vdpbf16ps),
 * A(i, k) the pair a[i * ar + k * ak], B row k at b + k * ldb (16 pairs a
 * vector), C row i at c + i * ldc; accumulate 0 overwrites C. */
TK_INLINE void mm_tile_bf16(int64_t kk, const uint32_t *a, int64_t ar, int64_t ak,
                            const uint32_t *b, int64_t ldb, float *c, int64_t ldc, int accumulate,
                            const int MR, const int NV) {
  __m512 x[MM_MR][4];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
      x[i][v] = accumulate ? _mm512_loadu_ps(c + i * ldc + v * 16) : _mm512_setzero_ps();
  for (int64_t k = 0; k < kk; k++) {
    __m512bh bv[4];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) bv[v] = (__m512bh)_mm512_loadu_si512(b + k * ldb + v * 16);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      const uint32_t *ai = a + i * ar + k * ak;
      if (NV == 1) {
        x[i][0] = tk512_dp_bcast(x[i][0], bv[0], ai);
        continue;
      }
      __m512bh bc = (__m512bh)_mm512_set1_epi32((int32_t)*ai);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) x[i][v] = _mm512_dpbf16_ps(x[i][v], bv[v], bc);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) _mm512_storeu_ps(c + i * ldc + v * 16, x[i][v]);
}

/* C[m][n] (+)= A B over kk pairs (n a multiple of 16). */
static void mm_bf16(int64_t m, int64_t n, int64_t kk, const uint32_t *a, int64_t ar, int64_t ak,
                    const uint32_t *b, int64_t ldb, float *c, int64_t ldc, int accumulate) {
  for (int64_t j = 0; j < n; j += MM_NV * 16) {
    const int nv = n - j >= MM_NV * 16 ? MM_NV : (int)((n - j) / 16);
    for (int64_t i = 0; i < m; i += MM_MR) {
      const int mr = m - i >= MM_MR ? MM_MR : (int)(m - i);
      TK_ABW_WITH_NV(nv, TK_ABW_WITH_MR(mr, mm_tile_bf16(kk, a + i * ar, ar, ak, b + j, ldb,
                                                       c + i * ldc + j, ldc, accumulate, MR_, NV_)));
    }
  }
}

/* A bf16 row of n elements (step bytes apart) into dst, zeros up to pitch. */
static void bf16_row(uint16_t *dst, const char *src, int64_t step, int64_t n, int64_t pitch) {
  if (step == 2) {
    for (int64_t d = 0; d < pitch; d += 16)
      _mm256_storeu_si256((__m256i *)(dst + d),
                          d < n ? _mm256_maskz_loadu_epi16(tk512_mask(n - d), src + 2 * d)
                                : _mm256_setzero_si256());
    return;
  }
  for (int64_t d = 0; d < pitch; d++) {
    uint16_t h = 0;
    if (d < n) memcpy(&h, src + d * step, 2);
    dst[d] = h;
  }
}

/* Interleaves the bf16 rows r0 and r1 (pitch elements each) into pairs:
 * dst[d] = (r0[d], r1[d]). */
static void pair_rows(uint32_t *dst, const uint16_t *r0, const uint16_t *r1, int64_t pitch) {
  for (int64_t d = 0; d < pitch; d += 16) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(r0 + d));
    __m256i b = _mm256_loadu_si256((const __m256i *)(r1 + d));
    __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_unpacklo_epi16(a, b)),
                                   _mm256_unpackhi_epi16(a, b), 1);
    /* unpack works per 128-bit half: reorder to d order */
    w = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 4, 5, 2, 3, 6, 7), w);
    _mm512_storeu_si512(dst + d, w);
  }
}

/* Writes the 16 x 16 block of 32-bit words src (rows ld words apart) to
 * dst transposed (rows ldd words apart). */
static void transpose16_words(uint32_t *dst, int64_t ldd, const uint32_t *src, int64_t ld) {
  __m512 r[16];
  for (int i = 0; i < 16; i++) r[i] = _mm512_castsi512_ps(_mm512_loadu_si512(src + i * ld));
  tk512_transpose16(r);
  for (int i = 0; i < 16; i++) _mm512_storeu_si512(dst + i * ldd, _mm512_castps_si512(r[i]));
}

/* The group in bf16 pairs: Q^T and dO^T (pairs of d, rows in lanes), Q and
 * dO (pairs of rows), and Drow; rows past t->rows are zero. */
static void pack_group_bf16(const tk_abw_params *p, const tk_abw_task *t, const tk_abw_layout *l,
                            char *ws) {
  uint32_t *qt = (uint32_t *)(ws + l->qt), *ot = (uint32_t *)(ws + l->ot);
  uint32_t *qr = (uint32_t *)(ws + l->qr), *orr = (uint32_t *)(ws + l->orr);
  float *drow = (float *)(ws + l->drow);
  const int64_t D2 = p->Dp / 2, Dv2 = p->Dvp / 2;
  uint16_t qb[16][512 + 64], ob[16][512 + 64]; /* 16 rows at a time */
  for (int64_t r0 = 0; r0 < l->rows_p; r0 += 16) {
    for (int i = 0; i < 16; i++) {
      const int64_t r = r0 + i, pos = r / t->G, g = r % t->G;
      if (r >= t->rows) {
        memset(qb[i], 0, sizeof qb[i]);
        memset(ob[i], 0, sizeof ob[i]);
        drow[r] = 0;
        continue;
      }
      bf16_row(qb[i], tk_abw_at(t->q, pos * t->q_pos + g * t->q_head), t->q_d, p->D, p->Dp);
      bf16_row(ob[i], tk_abw_at(t->dout, pos * t->o_pos + g * t->o_head), t->o_d, p->Dv, p->Dvp);
      uint16_t fr[512 + 64];
      bf16_row(fr, tk_abw_at(t->out, pos * t->f_pos + g * t->f_head), t->f_d, p->Dv, p->Dvp);
      __m512 acc = _mm512_setzero_ps();
      for (int64_t d = 0; d < p->Dvp; d += 16)
        acc = _mm512_fmadd_ps(tk512_bf16_to_f32(_mm256_loadu_si256((const __m256i *)(ob[i] + d))),
                              tk512_bf16_to_f32(_mm256_loadu_si256((const __m256i *)(fr + d))), acc);
      drow[r] = _mm512_reduce_add_ps(acc);
    }
    for (int i = 0; i < 16; i += 2) {
      pair_rows(qr + (r0 + i) / 2 * p->Dp, qb[i], qb[i + 1], p->Dp);
      pair_rows(orr + (r0 + i) / 2 * p->Dvp, ob[i], ob[i + 1], p->Dvp);
    }
    for (int64_t w = 0; w < D2; w += 16)
      transpose16_words(qt + w * l->rows_p + r0, l->rows_p, (const uint32_t *)qb[0] + w,
                        (int64_t)sizeof qb[0] / 4);
    for (int64_t w = 0; w < Dv2; w += 16)
      transpose16_words(ot + w * l->rows_p + r0, l->rows_p, (const uint32_t *)ob[0] + w,
                        (int64_t)sizeof ob[0] / 4);
  }
}

/* Keys [j0, j0 + n) in bf16 pairs: K and V (pairs of d) and K (pairs of
 * keys); keys past n are zero. */
static void pack_keys_bf16(const tk_abw_params *p, const tk_abw_task *t, const tk_abw_layout *l,
                           char *ws, int64_t j0, int64_t n) {
  uint16_t *kb = (uint16_t *)(ws + l->kb), *vb = (uint16_t *)(ws + l->vb);
  uint32_t *kr = (uint32_t *)(ws + l->kr);
  const int64_t n2 = (n + 1) & ~(int64_t)1;
  for (int64_t j = 0; j < n2; j++) {
    if (j >= n) {
      memset(kb + j * p->Dp, 0, 2 * (size_t)p->Dp);
      memset(vb + j * p->Dvp, 0, 2 * (size_t)p->Dvp);
      continue;
    }
    bf16_row(kb + j * p->Dp, tk_abw_at(t->k, (j0 + j) * t->k_key), t->k_d, p->D, p->Dp);
    bf16_row(vb + j * p->Dvp, tk_abw_at(t->v, (j0 + j) * t->v_key), t->v_d, p->Dv, p->Dvp);
  }
  for (int64_t j = 0; j < n2; j += 2) pair_rows(kr + j / 2 * p->Dp, kb + j * p->Dp, kb + (j + 1) * p->Dp, p->Dp);
}

/* The bf16 rounding of x (16 values) and the rounding of its residual. */
static inline void split_bf16(__m512 x, __m256i *hi, __m256i *lo) {
  *hi = (__m256i)_mm512_cvtneps_pbh(x);
  *lo = (__m256i)_mm512_cvtneps_pbh(_mm512_sub_ps(x, tk512_bf16_to_f32(*hi)));
}

/* From S^T and dP^T (keys n of ld rows, lanes = the block's rows, nvec
 * vectors; zero outside each row's keys): dZ^T in place of dP^T, and the
 * pairs of rows of P^T and dZ^T as two terms each (pt and ptl, zt and
 * ztl; ldp words a key). */
static void probs_t(const tk_abw_params *p, float *dp, const float *s, int64_t ld, int64_t n, int nvec,
                    const float *lse, const float *drow, const int32_t *lo, const int32_t *hi,
                    int64_t j0, uint32_t *pt, uint32_t *ptl, uint32_t *zt, uint32_t *ztl,
                    int64_t ldp) {
  const float log2e = 1.4426950408889634f;
  const __m512 scale = _mm512_set1_ps(p->scale), cap = _mm512_set1_ps(p->softcap);
  const __m512 inv_cap = _mm512_set1_ps(1.0f / p->softcap), one = _mm512_set1_ps(1.0f);
  const __m512 l2e = _mm512_set1_ps(log2e);
  for (int v = 0; v < nvec; v++) {
    const __m512 base = _mm512_mul_ps(_mm512_loadu_ps(lse + 16 * v), l2e);
    const __m512 dr = _mm512_loadu_ps(drow + 16 * v);
    const __m512i lov = _mm512_loadu_si512(lo + 16 * v), hiv = _mm512_loadu_si512(hi + 16 * v);
    for (int64_t j = 0; j < n; j++) {
      const float *sj = s + j * ld + 16 * v;
      float *dj = dp + j * ld + 16 * v;
      __m512 x = _mm512_mul_ps(_mm512_loadu_ps(sj), scale), slope = scale;
      if (p->softcap > 0) {
        __m512 th = tk512_tanh(_mm512_mul_ps(x, inv_cap));
        x = _mm512_mul_ps(cap, th);
        slope = _mm512_mul_ps(scale, _mm512_sub_ps(one, _mm512_mul_ps(th, th)));
      }
      const __m512i key = _mm512_set1_epi32((int32_t)(j0 + j));
      const __mmask16 in = _mm512_cmple_epi32_mask(lov, key) & _mm512_cmple_epi32_mask(key, hiv);
      __m512 pr = _mm512_maskz_mov_ps(in, tk512_exp2(_mm512_fmsub_ps(x, l2e, base)));
      __m512 dz = _mm512_mul_ps(_mm512_mul_ps(pr, _mm512_sub_ps(_mm512_loadu_ps(dj), dr)), slope);
      _mm512_storeu_ps(dj, dz);
      __m256i ph, pl, zh, zl;
      split_bf16(pr, &ph, &pl);
      _mm256_storeu_si256((__m256i *)(pt + j * ldp + 8 * v), ph);
      _mm256_storeu_si256((__m256i *)(ptl + j * ldp + 8 * v), pl);
      split_bf16(dz, &zh, &zl);
      _mm256_storeu_si256((__m256i *)(zt + j * ldp + 8 * v), zh);
      _mm256_storeu_si256((__m256i *)(ztl + j * ldp + 8 * v), zl);
    }
  }
}

/* dZ (rows of the block, pairs of keys) from dZ^T: 16 x 16 transposes,
 * then two bf16 terms (zb, zbl: ldz words a row); keys past n are zero. */
static void dz_rows(const float *dzt, int64_t ld, int64_t n, int nvec, uint32_t *zb, uint32_t *zbl,
                    int64_t ldz) {
  const int64_t n16 = (n + 15) & ~(int64_t)15;
  for (int64_t j = 0; j < n16; j += 16)
    for (int v = 0; v < nvec; v++) {
      __m512 r[16];
      for (int i = 0; i < 16; i++)
        r[i] = j + i < n ? _mm512_loadu_ps(dzt + (j + i) * ld + 16 * v) : _mm512_setzero_ps();
      tk512_transpose16(r); /* r[c]: row 16 v + c over keys j .. j + 15 */
      for (int c = 0; c < 16; c++) {
        __m256i zh, zl;
        split_bf16(r[c], &zh, &zl);
        _mm256_storeu_si256((__m256i *)(zb + (16 * v + c) * ldz + j / 2), zh);
        _mm256_storeu_si256((__m256i *)(zbl + (16 * v + c) * ldz + j / 2), zl);
      }
    }
}

/* The bf16 path of one key block [j0, j0 + n) against every row block. */
static void key_block_bf16(const tk_abw_params *p, const tk_abw_task *t, const tk_abw_layout *l,
                           char *ws, int64_t j0, int64_t n) {
  const uint32_t *qt = (const uint32_t *)(ws + l->qt), *ot = (const uint32_t *)(ws + l->ot);
  const uint32_t *qr = (const uint32_t *)(ws + l->qr), *orr = (const uint32_t *)(ws + l->orr);
  const uint32_t *kb = (const uint32_t *)(ws + l->kb), *vb = (const uint32_t *)(ws + l->vb);
  const uint32_t *kr = (const uint32_t *)(ws + l->kr);
  const float *drow = (const float *)(ws + l->drow);
  uint32_t *pt = (uint32_t *)(ws + l->pt), *zt = (uint32_t *)(ws + l->zt), *zb = (uint32_t *)(ws + l->zb);
  uint32_t *ptl = (uint32_t *)(ws + l->ptl), *ztl = (uint32_t *)(ws + l->ztl);
  uint32_t *zbl = (uint32_t *)(ws + l->zbl);
  float *s = (float *)(ws + l->s), *dp = (float *)(ws + l->dp);
  float *dk = (float *)(ws + l->dk), *dv = (float *)(ws + l->dv);
  int32_t *lo = (int32_t *)(ws + l->lo), *hi = (int32_t *)(ws + l->hi);
  const int64_t D2 = (p->D + 1) / 2, Dv2 = (p->Dv + 1) / 2, ldp = l->bqp / 2;
  float lse[1024];
  pack_keys_bf16(p, t, l, ws, j0, n);
  memset(dk, 0, sizeof(float) * (size_t)(n * p->Dp));
  memset(dv, 0, sizeof(float) * (size_t)(n * p->Dvp));
  for (int64_t r0 = 0; r0 < t->rows; r0 += p->bq) {
    const int64_t m = t->rows - r0 < p->bq ? t->rows - r0 : p->bq;
    const int nvec = (int)((m + 15) / 16);
    if (!block_keys_avx512(t, r0, m, j0, n, lo, hi)) continue;
    for (int64_t i = 0; i < 16 * nvec; i++) {
      const int64_t r = r0 + i;
      if (i >= m) lo[i] = INT32_MAX, hi[i] = INT32_MIN; /* lanes of no row */
      lse[i] = i < m ? t->lse[(r / t->G) * t->l_pos + (r % t->G) * t->l_head] : 0.0f;
    }
    mm_bf16(n, 16 * nvec, D2, kb, p->Dp / 2, 1, qt + r0, l->rows_p, s, l->bqp, 0);
    mm_bf16(n, 16 * nvec, Dv2, vb, p->Dvp / 2, 1, ot + r0, l->rows_p, dp, l->bqp, 0);
    probs_t(p, dp, s, l->bqp, n, nvec, lse, drow + r0, lo, hi, j0, pt, ptl, zt, ztl, ldp);
    const int64_t mp = (m + 1) / 2, np = (n + 1) / 2; /* pairs of rows, of keys */
    mm_bf16(n, p->Dvp, mp, pt, ldp, 1, orr + r0 / 2 * p->Dvp, p->Dvp, dv, p->Dvp, 1);
    mm_bf16(n, p->Dvp, mp, ptl, ldp, 1, orr + r0 / 2 * p->Dvp, p->Dvp, dv, p->Dvp, 1);
    mm_bf16(n, p->Dp, mp, zt, ldp, 1, qr + r0 / 2 * p->Dp, p->Dp, dk, p->Dp, 1);
    mm_bf16(n, p->Dp, mp, ztl, ldp, 1, qr + r0 / 2 * p->Dp, p->Dp, dk, p->Dp, 1);
    dz_rows(dp, l->bqp, n, nvec, zb, zbl, l->bkp / 2);
    mm_bf16(m, p->Dp, np, zb, l->bkp / 2, 1, kr, p->Dp, t->dq + r0 * p->Dp, p->Dp, 1);
    mm_bf16(m, p->Dp, np, zbl, l->bkp / 2, 1, kr, p->Dp, t->dq + r0 * p->Dp, p->Dp, 1);
  }
  store_keys_avx512(dk, p->Dp, p->D, tk_abw_at(t->dk, j0 * t->dk_key), t->dk_key, t->dk_d, t->dk_dtype, n);
  store_keys_avx512(dv, p->Dvp, p->Dv, tk_abw_at(t->dv, j0 * t->dv_key), t->dv_key, t->dv_d, t->dv_dtype, n);
}

void tk_abw_task_avx512(const tk_abw_params *p, const tk_abw_task *t, void *scratch) {
  const tk_abw_layout l = tk_abw_layout_of(p, t->rows);
  if (p->bf16_dot) pack_group_bf16(p, t, &l, scratch);
  else pack_group_avx512(p, t, &l, scratch);
  for (int64_t j0 = t->kb0; j0 < t->kb1; j0 += p->bk) {
    const int64_t n = t->kb1 - j0 < p->bk ? t->kb1 - j0 : p->bk;
    if (p->bf16_dot) key_block_bf16(p, t, &l, scratch, j0, n);
    else key_block_f32_avx512(p, t, &l, scratch, j0, n);
  }
}
