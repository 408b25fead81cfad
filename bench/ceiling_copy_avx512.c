/* ceiling_copy_avx512.c: one thread's part of the copy ceiling with
 * AVX-512: 64-byte loads and non-temporal stores, which skip reading the
 * destination into cache before writing it (glibc's memcpy does not, and
 * reaches less of the memory bandwidth on Zen 5). */
#include <immintrin.h>

#include "bench/ceiling.h"

void tk_ceiling_copy_avx512(void *dst, const void *src, size_t bytes) {
  char *d = dst;
  const char *s = src;
  for (size_t i = 0; i < bytes; i += 256) {
    __m512i a = _mm512_load_si512(s + i), b = _mm512_load_si512(s + i + 64);
    __m512i c = _mm512_load_si512(s + i + 128), e = _mm512_load_si512(s + i + 192);
    _mm512_stream_si512((__m512i *)(d + i), a);
    _mm512_stream_si512((__m512i *)(d + i + 64), b);
    _mm512_stream_si512((__m512i *)(d + i + 128), c);
    _mm512_stream_si512((__m512i *)(d + i + 192), e);
  }
  _mm_sfence();
}
