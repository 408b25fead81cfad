/* vec_exp_avx2.h: 2^x and tanh(x) on 8 float lanes, accurate to a few
 * float ulps (relative error below 4e-7), for softmax and logit softcaps.
 * Include only from files compiled with AVX2 flags (*_avx2.c). */
#ifndef TK_CPU_VEC_EXP_AVX2_H
#define TK_CPU_VEC_EXP_AVX2_H

#include <immintrin.h>

/* 2^x per lane for x <= 127. Inputs below -126.5 (and -inf) give exactly
 * 0. */
static inline __m256 tk256_exp2(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-127.0f));
  __m256 n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 f = _mm256_sub_ps(x, n); /* [-0.5, 0.5] */
  /* 2^f = 1 + f * P(f), Cephes exp2f minimax coefficients */
  __m256 p = _mm256_set1_ps(1.535336188319500e-4f);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.339887440266574e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.618437357674640e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.550332471162809e-2f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.402264791363012e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.931472028550421e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  /* 2^n from the exponent bits; n = -127 makes the bits 0, i.e. 0.0f */
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* tanh(x) per lane: an odd Taylor polynomial below |x| = 0.25, else
 * (1 - e) / (1 + e) with e = exp(-2|x|), carrying the sign of x. */
static inline __m256 tk256_tanh(__m256 x) {
  __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 ax = _mm256_andnot_ps(sign, x);
  __m256 e = tk256_exp2(_mm256_mul_ps(ax, _mm256_set1_ps(-2.8853900817779268f))); /* -2 log2(e) */
  __m256 one = _mm256_set1_ps(1.0f);
  __m256 big = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
  big = _mm256_or_ps(big, _mm256_and_ps(sign, x));
  __m256 x2 = _mm256_mul_ps(x, x);
  __m256 s = _mm256_set1_ps(62.0f / 2835.0f);
  s = _mm256_fmadd_ps(s, x2, _mm256_set1_ps(-17.0f / 315.0f));
  s = _mm256_fmadd_ps(s, x2, _mm256_set1_ps(2.0f / 15.0f));
  s = _mm256_fmadd_ps(s, x2, _mm256_set1_ps(-1.0f / 3.0f));
  s = _mm256_fmadd_ps(_mm256_mul_ps(s, x2), x, x);
  __m256 small = _mm256_cmp_ps(ax, _mm256_set1_ps(0.25f), _CMP_LT_OQ);
  return _mm256_blendv_ps(big, s, small);
}

#endif
