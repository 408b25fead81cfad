/* attention_block_avx512.c: the AVX-512 block kernels of the cpu
 * attention: float32 FMA tiles for f32 and f16 (F16C-converted) inputs
 * (attention_tile_f32.h), and vdpbf16ps tiles for bf16 inputs when the CPU
 * has AVX512-BF16: queries and probabilities as bf16 pairs along the
 * reduced dimension, values packed as pairs of consecutive keys, float32
 * accumulation. */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "impls/cpu/vf_avx512.h"

#define S_NJ(nv) ((nv) == 4 ? 6 : 8)
#define PV_NDV(nv) ((nv) == 1 ? 16 : (nv) == 4 ? 4 : 8)
#define FN(name) name##_avx512

/* x where lo[lane] <= j <= hi[lane], else -inf. */
static inline __m512 vf_visible(__m512 x, int32_t j, const int32_t *lo, const int32_t *hi) {
  __m512i jv = _mm512_set1_epi32(j);
  __mmask16 k = _mm512_cmple_epi32_mask(_mm512_loadu_si512(lo), jv) &
                _mm512_cmple_epi32_mask(jv, _mm512_loadu_si512(hi));
  return _mm512_mask_blend_ps(k, _mm512_set1_ps(-INFINITY), x);
}

/* x with its -inf lanes set to 0. */
static inline __m512 vf_finite_or_zero(__m512 x) {
  __mmask16 k = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-INFINITY), _CMP_EQ_OQ);
  return _mm512_mask_blend_ps(k, x, _mm512_setzero_ps());
}

#include "impls/cpu/attention_tile_f32.h"

/* Index that interleaves the low and high 16 words of a vector. */
static inline __m512i interleave_index(void) {
  return _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22,
                          6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
}

/* S^T tile from bf16 pairs: qt holds dp pair-columns pad words apart; key
 * rows (bf16, contiguous, dp pairs) at k, k_key bytes apart. */
TK_INLINE void s_tile_bf16(const uint32_t *qt, int64_t pad, int64_t dp, const char *k,
                           int64_t k_key, int64_t nj, float *st, int64_t ldst, tk_attn_pf *pf,
                           const int NV, const int NJ) {
  __m512 acc[16][4];
  const char *kr[16];
#pragma GCC unroll 16
  for (int j = 0; j < NJ; j++) kr[j] = k + (j < nj ? j : nj - 1) * k_key;
#pragma GCC unroll 16
  for (int j = 0; j < NJ; j++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[j][v] = _mm512_setzero_ps();
  for (int64_t d = 0; d < dp; d++) {
    __m512bh q[4];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) q[v] = (__m512bh)_mm512_loadu_si512(qt + d * pad + v * 16);
    if (NV == 1 && (d & 1)) tk_attn_pf_step(pf);
#pragma GCC unroll 16
    for (int j = 0; j < NJ; j++) {
      if (NV == 1) {
        acc[j][0] = tk512_dp_bcast(acc[j][0], q[0], kr[j] + 4 * d);
        continue;
      }
      __m512bh b = (__m512bh)_mm512_set1_epi32(tk512_load_pair(kr[j] + 4 * d));
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[j][v] = _mm512_dpbf16_ps(acc[j][v], q[v], b);
    }
  }
#pragma GCC unroll 16
  for (int j = 0; j < NJ; j++)
    if (j < nj)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) _mm512_storeu_ps(st + j * ldst + v * 16, acc[j][v]);
}

/* Dot products of the n keys at k (rows key bytes apart) with nv row
 * vectors into st; one-vector tiles step pf as they go. */
static void s_tiles_bf16(const uint32_t *qt, int64_t pad, int64_t dp, const char *k, int64_t key,
                         int64_t n, float *st, int64_t ldst, tk_attn_pf *pf, int nv) {
  TK_ATTN_WITH_NV(nv, for (int64_t j = 0; j < n; j += S_NJ(NV)) s_tile_bf16(
                          qt, pad, dp, k + j * key, key, n - j < S_NJ(NV) ? n - j : S_NJ(NV),
                          st + j * ldst, ldst, pf, NV, S_NJ(NV)));
}

/* Logits of nk keys -> probabilities as bf16 pairs of consecutive keys
 * (pp: one row of ldp words per pair; a missing last key counts 0);
 * l = l * alpha + the float32 sum per lane. */
static void probs_bf16(const float *st, int64_t ldst, int64_t nk, uint32_t *pp, int64_t ldp,
                       float *l, const __m512 *alpha, const __m512 *base, int nv) {
  const __m512i idx = interleave_index();
  for (int v = 0; v < nv; v++) {
    __m512 sum = _mm512_setzero_ps();
    for (int64_t j = 0; j < nk; j += 2) {
      __m512 e0 = tk512_exp2(_mm512_sub_ps(_mm512_loadu_ps(st + j * ldst + v * 16), base[v]));
      __m512 e1 = j + 1 < nk
                      ? tk512_exp2(_mm512_sub_ps(_mm512_loadu_ps(st + (j + 1) * ldst + v * 16), base[v]))
                      : _mm512_setzero_ps();
      sum = _mm512_add_ps(sum, _mm512_add_ps(e0, e1));
      __m512i pair = _mm512_permutexvar_epi16(idx, (__m512i)_mm512_cvtne2ps_pbh(e1, e0));
      _mm512_storeu_si512(pp + j / 2 * ldp + v * 16, pair);
    }
    _mm512_storeu_ps(l + v * 16, _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(l + v * 16), alpha[v]), sum));
  }
}

/* acc[dv] = acc * alpha + sum over npairs key pairs of P pairs . V pairs,
 * for dv in [dv0, dv0 + NDV), stored from store0 on; vp: V pairs, Dv words
 * per key pair. */
TK_INLINE void pv_tile_bf16(float *acc, int64_t pad, const __m512 *alpha, const uint32_t *pp,
                            int64_t ldp, int64_t npairs, const uint32_t *vp, int64_t Dv, int64_t dv0,
                            int64_t store0, tk_attn_pf *pf, const int NV, const int NDV) {
  __m512 a[16][4];
#pragma GCC unroll 16
  for (int t = 0; t < NDV; t++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
      a[t][v] = _mm512_mul_ps(_mm512_loadu_ps(acc + (dv0 + t) * pad + v * 16), alpha[v]);
  const uint32_t *vr = vp + dv0;
  for (int64_t jp = 0; jp < npairs; jp++, pp += ldp, vr += Dv) {
    __m512bh pv[4];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) pv[v] = (__m512bh)_mm512_loadu_si512(pp + v * 16);
    if (NV == 1) tk_attn_pf_step(pf);
#pragma GCC unroll 16
    for (int t = 0; t < NDV; t++) {
      if (NV == 1) {
        a[t][0] = tk512_dp_bcast(a[t][0], pv[0], vr + t);
        continue;
      }
      __m512bh b = (__m512bh)_mm512_set1_epi32((int32_t)vr[t]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) a[t][v] = _mm512_dpbf16_ps(a[t][v], pv[v], b);
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < NDV; t++)
    if (dv0 + t >= store0)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) _mm512_storeu_ps(acc + (dv0 + t) * pad + v * 16, a[t][v]);
}

/* acc = acc * alpha + V^T P^T over all Dv columns for nv row vectors;
 * one-vector tiles step pf as they go. */
static void pv_tiles_bf16(float *acc, int64_t pad, const __m512 *alpha, const uint32_t *pp,
                          int64_t ldp, int64_t npairs, const uint32_t *vp, int64_t Dv,
                          tk_attn_pf *pf, int nv) {
  TK_ATTN_WITH_NV(nv, if (Dv < PV_NDV(NV)) for (int64_t dv = 0; dv < Dv; dv++)
                          pv_tile_bf16(acc, pad, alpha, pp, ldp, npairs, vp, Dv, dv, dv, pf, NV, 1);
                      else for (int64_t dv = 0; dv < Dv; dv += PV_NDV(NV)) pv_tile_bf16(
                          acc, pad, alpha, pp, ldp, npairs, vp, Dv,
                          tk_attn_tile_col(dv, PV_NDV(NV), Dv), dv, pf, NV, PV_NDV(NV)));
}

/* Writes words dst[d] = (a[d], b[d]) for d < Dv: the bf16 values of two
 * consecutive keys' rows (elements step bytes apart; b NULL: zeros). */
static void pair_rows(uint32_t *dst, const char *a, const char *b, int64_t Dv, int64_t step) {
  if (step == 2) {
    const __m512i idx = interleave_index();
    int64_t d = 0;
    for (; d + 16 <= Dv; d += 16) {
      __m256i x = _mm256_loadu_si256((const __m256i *)(a + 2 * d));
      __m256i y = b ? _mm256_loadu_si256((const __m256i *)(b + 2 * d)) : _mm256_setzero_si256();
      __m512i xy = _mm512_inserti64x4(_mm512_castsi256_si512(x), y, 1);
      _mm512_storeu_si512(dst + d, _mm512_permutexvar_epi16(idx, xy));
    }
    if (d < Dv) {
      __mmask16 m = tk512_mask(Dv - d);
      __m256i x = _mm256_maskz_loadu_epi16(m, a + 2 * d);
      __m256i y = b ? _mm256_maskz_loadu_epi16(m, b + 2 * d) : _mm256_setzero_si256();
      __m512i xy = _mm512_inserti64x4(_mm512_castsi256_si512(x), y, 1);
      _mm512_mask_storeu_epi32(dst + d, m, _mm512_permutexvar_epi16(idx, xy));
    }
    return;
  }
  for (int64_t d = 0; d < Dv; d++) {
    uint32_t lo = *(const uint16_t *)(a + d * step), hi = b ? *(const uint16_t *)(b + d * step) : 0;
    dst[d] = lo | hi << 16;
  }
}

/* Copies a key row of D bf16 (elements step bytes apart) to dst, zero
 * past D up to dq. */
static void copy_key(uint16_t *dst, const char *k, int64_t D, int64_t dq, int64_t step) {
  if (step == 2) {
    int64_t d = 0;
    for (; d + 32 <= D; d += 32) _mm512_storeu_si512(dst + d, _mm512_loadu_si512(k + 2 * d));
    if (d < dq) {
      __mmask32 m = (__mmask32)((1ull << (D - d)) - 1), all = (__mmask32)((1ull << (dq - d)) - 1);
      _mm512_mask_storeu_epi16(dst + d, all, _mm512_maskz_loadu_epi16(m, k + 2 * d));
    }
    return;
  }
  for (int64_t d = 0; d < dq; d++) dst[d] = d < D ? *(const uint16_t *)(k + d * step) : 0;
}

/* Packs the block in one pass over its keys: K rows contiguous (dq bf16
 * each), V rows as pairs of consecutive keys (Dv words per pair), asking
 * for the (contiguous) rows TK_ATTN_PREFETCH_KEYS keys ahead as it goes. */
static void pack_kv_bf16(const tk_attn_params *p, tk_attn_state *s, const tk_attn_block *b) {
  tk_attn_cursor cur = {b, 0, 0}, ahead = {b, 0, 0};
  const char *k, *v, *first = NULL;
  int64_t kbytes = b->k_d == 2 ? p->D * 2 : 0, vbytes = b->v_d == 2 ? p->Dv * 2 : 0, i = 0;
  for (int n = 0; n < TK_ATTN_PREFETCH_KEYS && tk_attn_next_key(&ahead, &k, &v); n++) continue;
  uint16_t *kd = s->kp;
  uint32_t *vd = s->vp;
  for (; tk_attn_next_key(&cur, &k, &v); i++) {
    const char *pk, *pv;
    if (tk_attn_next_key(&ahead, &pk, &pv)) {
      for (int64_t o = 0; o < kbytes; o += 64) _mm_prefetch(pk + o, _MM_HINT_T0);
      for (int64_t o = 0; o < vbytes; o += 64) _mm_prefetch(pv + o, _MM_HINT_T0);
    }
    copy_key(kd + i * p->dq, k, p->D, p->dq, b->k_d);
    if (i & 1)
      pair_rows(vd + i / 2 * p->Dv, first, v, p->Dv, b->v_d);
    else
      first = v;
  }
  if (i & 1) pair_rows(vd + i / 2 * p->Dv, first, NULL, p->Dv, b->v_d);
}

/* The bf16 path of a block: K and V packed in one pass, then per row tile
 * S, softmax and PV; key ranges start at even offsets so that probability
 * pairs line up with value pairs. */
static void block_bf16(const tk_attn_params *p, tk_attn_state *s, const tk_attn_block *b) {
  int64_t T = p->mr * 16;
  pack_kv_bf16(p, s, b);
  for (int64_t t0 = 0; t0 < s->n; t0 += T) {
    int64_t kb, ke;
    int masked;
    const int32_t *bounds = s->tile[t0 / T];
    if (!tile_keys_avx512(bounds, b, &kb, &ke, &masked)) continue;
    kb &= ~(int64_t)1;
    masked = !(bounds[1] <= b->j0 + kb && bounds[2] >= b->j0 + ke - 1);
    int nv = (int)((s->n - t0 + 15) / 16);
    if (nv > p->mr) nv = p->mr;
    int64_t ld = nv * 16; /* st floats (pp words) per key (pair): the tile's rows */
    __m512 mx[4], alpha[4], base[4];
    s_tiles_bf16((const uint32_t *)s->qt + t0, s->pad, p->dq / 2,
                 (const char *)s->kp + kb * p->dq * 2, p->dq * 2, ke - kb, s->st, ld, &s->pf, nv);
    logits_avx512(p, s->st, ld, ke - kb, b->j0 + kb, s->lo + t0, s->hi + t0, nv, masked, mx);
    rescale_avx512(s->m + t0, mx, nv, alpha, base);
    probs_bf16(s->st, ld, ke - kb, s->pp, ld, s->l + t0, alpha, base, nv);
    pv_tiles_bf16(s->acc + t0, s->pad, alpha, s->pp, ld, (ke - kb + 1) / 2,
                  (const uint32_t *)s->vp + kb / 2 * p->Dv, p->Dv, &s->pf, nv);
  }
}

void tk_attn_block_avx512(const tk_attn_params *p, tk_attn_state *s, const tk_attn_block *b) {
  if (p->bf16_dot)
    block_bf16(p, s, b);
  else
    block_f32_avx512(p, s, b);
}
