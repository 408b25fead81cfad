/* vec_exp_avx512.h: 2^x and tanh(x) on 16 float lanes, accurate to a few
 * float ulps (relative error below 4e-7), for softmax and logit softcaps.
 * Include only from files compiled with AVX-512 flags (*_avx512.c). */
#ifndef TK_CPU_VEC_EXP_AVX512_H
#define TK_CPU_VEC_EXP_AVX512_H

#include <immintrin.h>

/* 2^x per lane. Inputs at or below -150 (and -inf) give exactly 0; inputs
 * must not exceed 128. */
static inline __m512 tk512_exp2(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-150.0f));
  __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 f = _mm512_sub_ps(x, n); /* [-0.5, 0.5] */
  /* 2^f = 1 + f * P(f), Cephes exp2f minimax coefficients */
  __m512 p = _mm512_set1_ps(1.535336188319500e-4f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.339887440266574e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.618437357674640e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550332471162809e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402264791363012e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931472028550421e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

/* tanh(x) per lane: an odd Taylor polynomial below |x| = 0.25, else
 * (1 - e) / (1 + e) with e = exp(-2|x|), carrying the sign of x. */
static inline __m512 tk512_tanh(__m512 x) {
  __m512 ax = _mm512_abs_ps(x);
  __m512 e = tk512_exp2(_mm512_mul_ps(ax, _mm512_set1_ps(-2.8853900817779268f))); /* -2 log2(e) */
  __m512 one = _mm512_set1_ps(1.0f);
  __m512 big = _mm512_div_ps(_mm512_sub_ps(one, e), _mm512_add_ps(one, e));
  big = _mm512_castsi512_ps(_mm512_or_si512(
      _mm512_castps_si512(big),
      _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u))));
  __m512 x2 = _mm512_mul_ps(x, x);
  __m512 s = _mm512_set1_ps(62.0f / 2835.0f);
  s = _mm512_fmadd_ps(s, x2, _mm512_set1_ps(-17.0f / 315.0f));
  s = _mm512_fmadd_ps(s, x2, _mm512_set1_ps(2.0f / 15.0f));
  s = _mm512_fmadd_ps(s, x2, _mm512_set1_ps(-1.0f / 3.0f));
  s = _mm512_fmadd_ps(_mm512_mul_ps(s, x2), x, x);
  __mmask16 small = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.25f), _CMP_LT_OQ);
  return _mm512_mask_blend_ps(small, big, s);
}

#endif
