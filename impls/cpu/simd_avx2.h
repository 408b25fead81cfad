/* simd_avx2.h: 8-lane float vectors loaded from and stored to any data
 * dtype, with the same rounding as runtime/half.h (ties to even).
 * Include only from files compiled with AVX2 flags (*_avx2.c). */
#ifndef TK_CPU_SIMD_AVX2_H
#define TK_CPU_SIMD_AVX2_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "runtime/tensor.h"

/* The bfloat16 bits of 8 floats, rounded like tk_f32_to_bf16. */
static inline __m128i tk256_f32_to_bf16(__m256 v) {
  __m256i u = _mm256_castps_si256(v);
  __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  __m256i r = _mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff)));
  __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  r = _mm256_blendv_epi8(r, _mm256_or_si256(u, _mm256_set1_epi32(0x400000)), nan);
  r = _mm256_srli_epi32(r, 16);
  __m128i lo = _mm256_castsi256_si128(r), hi = _mm256_extracti128_si256(r, 1);
  return _mm_packus_epi32(lo, hi);
}

/* Floats of 8 bfloat16 values. */
static inline __m256 tk256_bf16_to_f32(__m128i h) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* 8 elements at p, as floats. */
static inline __m256 tk256_load(const void *p, tk_dtype d) {
  switch (d) {
    case TK_BF16: return tk256_bf16_to_f32(_mm_loadu_si128((const __m128i *)p));
    case TK_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
    default: return _mm256_loadu_ps(p);
  }
}

/* The first n (<= 8) elements at p, as floats; other lanes 0. */
static inline __m256 tk256_load_n(const void *p, tk_dtype d, int64_t n) {
  if (n >= 8) return tk256_load(p, d);
  float f[8] = {0};
  uint16_t h[8] = {0};
  if (d == TK_F32) {
    memcpy(f, p, (size_t)n * 4);
    return _mm256_loadu_ps(f);
  }
  memcpy(h, p, (size_t)n * 2);
  __m128i v = _mm_loadu_si128((const __m128i *)h);
  return d == TK_BF16 ? tk256_bf16_to_f32(v) : _mm256_cvtph_ps(v);
}

/* Stores 8 lanes of v at p in dtype d. */
static inline void tk256_store(void *p, tk_dtype d, __m256 v) {
  switch (d) {
    case TK_BF16: _mm_storeu_si128((__m128i *)p, tk256_f32_to_bf16(v)); break;
    case TK_F16:
      _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      break;
    default: _mm256_storeu_ps(p, v); break;
  }
}

/* Stores the first n (<= 8) lanes of v at p in dtype d. */
static inline void tk256_store_n(void *p, tk_dtype d, __m256 v, int64_t n) {
  if (n >= 8) {
    tk256_store(p, d, v);
    return;
  }
  unsigned char tmp[32];
  tk256_store(tmp, d, v);
  memcpy(p, tmp, (size_t)(n * tk_dtype_size(d)));
}

/* Transposes the 8 x 8 matrix of floats held in r[0..7] (row i in r[i]) in
 * place: afterwards r[c] holds column c. */
static inline void tk256_transpose8(__m256 r[8]) {
  __m256 t[8], s[8];
  for (int i = 0; i < 4; i++) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; i++) {
    s[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    s[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
    s[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    s[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
  }
  for (int j = 0; j < 4; j++) {
    r[j] = _mm256_permute2f128_ps(s[j], s[j + 4], 0x20);
    r[j + 4] = _mm256_permute2f128_ps(s[j], s[j + 4], 0x31);
  }
}

#endif
