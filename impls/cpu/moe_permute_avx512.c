/* moe_permute_avx512.c: the row copies and zero fills of the cpu permute in
 * 64-byte vectors, optionally with non-temporal stores. */
#include <immintrin.h>

#include "impls/cpu/moe_cpu.h"

/* Mask of the first n (0..64) bytes. */
static inline __mmask64 byte_mask(size_t n) {
  return n >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << n) - 1;
}

/* Bytes to the next 64-byte boundary of p, at most n. */
static inline size_t head_bytes(const void *p, size_t n) {
  size_t h = (64 - ((uintptr_t)p & 63)) & 63;
  return h < n ? h : n;
}

void tk_moe_copy_bytes_avx512(void *dst, const void *src, size_t n, int stream) {
  char *d = dst;
  const char *s = src;
  if (stream && n >= 256) {
    size_t h = head_bytes(d, n);
    _mm512_mask_storeu_epi8(d, byte_mask(h), _mm512_maskz_loadu_epi8(byte_mask(h), s));
    d += h, s += h, n -= h;
    for (; n >= 256; d += 256, s += 256, n -= 256) {
      __m512i a = _mm512_loadu_si512(s), b = _mm512_loadu_si512(s + 64);
      __m512i c = _mm512_loadu_si512(s + 128), e = _mm512_loadu_si512(s + 192);
      _mm512_stream_si512((void *)d, a);
      _mm512_stream_si512((void *)(d + 64), b);
      _mm512_stream_si512((void *)(d + 128), c);
      _mm512_stream_si512((void *)(d + 192), e);
    }
    for (; n >= 64; d += 64, s += 64, n -= 64)
      _mm512_stream_si512((void *)d, _mm512_loadu_si512(s));
  }
  for (; n >= 256; d += 256, s += 256, n -= 256) {
    __m512i a = _mm512_loadu_si512(s), b = _mm512_loadu_si512(s + 64);
    __m512i c = _mm512_loadu_si512(s + 128), e = _mm512_loadu_si512(s + 192);
    _mm512_storeu_si512(d, a);
    _mm512_storeu_si512(d + 64, b);
    _mm512_storeu_si512(d + 128, c);
    _mm512_storeu_si512(d + 192, e);
  }
  for (; n >= 64; d += 64, s += 64, n -= 64) _mm512_storeu_si512(d, _mm512_loadu_si512(s));
  if (n) _mm512_mask_storeu_epi8(d, byte_mask(n), _mm512_maskz_loadu_epi8(byte_mask(n), s));
}

void tk_moe_zero_bytes_avx512(void *dst, size_t n, int stream) {
  char *d = dst;
  const __m512i z = _mm512_setzero_si512();
  if (stream && n >= 256) {
    size_t h = head_bytes(d, n);
    _mm512_mask_storeu_epi8(d, byte_mask(h), z);
    d += h, n -= h;
    for (; n >= 64; d += 64, n -= 64) _mm512_stream_si512((void *)d, z);
  }
  for (; n >= 64; d += 64, n -= 64) _mm512_storeu_si512(d, z);
  if (n) _mm512_mask_storeu_epi8(d, byte_mask(n), z);
}
