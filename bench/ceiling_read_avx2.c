/* ceiling_read_avx2.c: one thread's part of the read ceiling with AVX2:
 * 32-byte loads into four independent integer sums (integer adds: no
 * denormal or NaN slow paths, whatever the bytes). */
#include <immintrin.h>

#include "bench/ceiling.h"

uint64_t tk_ceiling_read_avx2(const void *src, size_t bytes) {
  const char *s = src;
  __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
  for (size_t i = 0; i < bytes; i += 128) {
    a = _mm256_add_epi64(a, _mm256_load_si256((const __m256i *)(s + i)));
    b = _mm256_add_epi64(b, _mm256_load_si256((const __m256i *)(s + i + 32)));
    c = _mm256_add_epi64(c, _mm256_load_si256((const __m256i *)(s + i + 64)));
    d = _mm256_add_epi64(d, _mm256_load_si256((const __m256i *)(s + i + 96)));
  }
  __m256i t = _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(c, d));
  __m128i h = _mm_add_epi64(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
  return (uint64_t)_mm_cvtsi128_si64(h) + (uint64_t)_mm_extract_epi64(h, 1);
}
