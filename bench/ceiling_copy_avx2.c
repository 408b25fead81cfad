/* ceiling_copy_avx2.c: one thread's part of the copy ceiling with AVX2:
 * 32-byte loads and non-temporal stores (see ceiling_copy_avx512.c). */
#include <immintrin.h>

#include "bench/ceiling.h"

void tk_ceiling_copy_avx2(void *dst, const void *src, size_t bytes) {
  char *d = dst;
  const char *s = src;
  for (size_t i = 0; i < bytes; i += 128) {
    __m256i a = _mm256_load_si256((const __m256i *)(s + i));
    __m256i b = _mm256_load_si256((const __m256i *)(s + i + 32));
    __m256i c = _mm256_load_si256((const __m256i *)(s + i + 64));
    __m256i e = _mm256_load_si256((const __m256i *)(s + i + 96));
    _mm256_stream_si256((__m256i *)(d + i), a);
    _mm256_stream_si256((__m256i *)(d + i + 32), b);
    _mm256_stream_si256((__m256i *)(d + i + 64), c);
    _mm256_stream_si256((__m256i *)(d + i + 96), e);
  }
  _mm_sfence();
}
