/* simd_avx512.h: 16-lane float vectors loaded from and stored to any data
 * dtype, with the same rounding as runtime/half.h (ties to even).
 * Include only from files compiled with AVX-512 flags (*_avx512.c). */
#ifndef TK_CPU_SIMD_AVX512_H
#define TK_CPU_SIMD_AVX512_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "runtime/tensor.h"

/* Mask of the first n (0..16) lanes. */
static inline __mmask16 tk512_mask(int64_t n) {
  return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

/* The bfloat16 bits of 16 floats, rounded like tk_f32_to_bf16. */
static inline __m256i tk512_f32_to_bf16(__m512 v) {
  __m512i u = _mm512_castps_si512(v);
  __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
  __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  r = _mm512_mask_or_epi32(r, nan, u, _mm512_set1_epi32(0x400000));
  return _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16));
}

/* Floats of 16 bfloat16 values. */
static inline __m512 tk512_bf16_to_f32(__m256i h) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* The first n (<= 16) elements at p, as floats; other lanes 0. */
static inline __m512 tk512_load_n(const void *p, tk_dtype d, int64_t n) {
  __mmask16 m = tk512_mask(n);
  switch (d) {
    case TK_BF16: return tk512_bf16_to_f32(_mm256_maskz_loadu_epi16(m, p));
    case TK_F16: return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
    default: return _mm512_maskz_loadu_ps(m, p);
  }
}

/* 16 elements at p, as floats. */
static inline __m512 tk512_load(const void *p, tk_dtype d) {
  switch (d) {
    case TK_BF16: return tk512_bf16_to_f32(_mm256_loadu_si256((const __m256i *)p));
    case TK_F16: return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
    default: return _mm512_loadu_ps(p);
  }
}

/* Stores the first n (<= 16) lanes of v at p in dtype d. */
static inline void tk512_store_n(void *p, tk_dtype d, __m512 v, int64_t n) {
  __mmask16 m = tk512_mask(n);
  switch (d) {
    case TK_BF16: _mm256_mask_storeu_epi16(p, m, tk512_f32_to_bf16(v)); break;
    case TK_F16:
      _mm256_mask_storeu_epi16(p, m, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      break;
    default: _mm512_mask_storeu_ps(p, m, v); break;
  }
}

/* Stores 16 lanes of v at p in dtype d. */
static inline void tk512_store(void *p, tk_dtype d, __m512 v) {
  switch (d) {
    case TK_BF16: _mm256_storeu_si256((__m256i *)p, tk512_f32_to_bf16(v)); break;
    case TK_F16:
      _mm256_storeu_si256((__m256i *)p, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      break;
    default: _mm512_storeu_ps(p, v); break;
  }
}

/* The 32 bits at p (a pair of bf16). */
static inline int32_t tk512_load_pair(const void *p) {
  int32_t x;
  memcpy(&x, p, 4);
  return x;
}

/* acc + the pairwise dot product of q with the pair at p broadcast to every
 * lane, the broadcast folded into the instruction (GCC does not fold it). */
static inline __m512 tk512_dp_bcast(__m512 acc, __m512bh q, const void *p) {
  __asm__("vdpbf16ps %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(q), "m"(*(const int32_t *)p));
  return acc;
}

/* Transposes the 16 x 16 matrix of 32-bit lanes held in r[0..15] (row i in
 * r[i]) in place: afterwards r[c] holds column c. Works for any 32-bit
 * data cast to __m512. */
static inline void tk512_transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 4; j++) {
      t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0x88);
      t[8 * i + 4 + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0xdd);
    }
  for (int j = 0; j < 8; j++) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xdd);
  }
}

#endif
