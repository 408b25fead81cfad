/* ceiling_read_avx512.c: one thread's part of the read ceiling with
 * AVX-512: 64-byte loads into four independent integer sums (see
 * ceiling_read_avx2.c). */
#include <immintrin.h>

#include "bench/ceiling.h"

uint64_t tk_ceiling_read_avx512(const void *src, size_t bytes) {
  const char *s = src;
  __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
  for (size_t i = 0; i < bytes; i += 256) {
    a = _mm512_add_epi64(a, _mm512_load_si512((const void *)(s + i)));
    b = _mm512_add_epi64(b, _mm512_load_si512((const void *)(s + i + 64)));
    c = _mm512_add_epi64(c, _mm512_load_si512((const void *)(s + i + 128)));
    d = _mm512_add_epi64(d, _mm512_load_si512((const void *)(s + i + 192)));
  }
  return (uint64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a, b),
                                                            _mm512_add_epi64(c, d)));
}
