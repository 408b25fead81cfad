/* moe_permute_avx2.c: the row copies and zero fills of the cpu permute in
 * 32-byte vectors, optionally with non-temporal stores. */
#include <immintrin.h>
#include <string.h>

#include "impls/cpu/moe_cpu.h"

/* Bytes to the next 64-byte boundary of p, at most n. */
static inline size_t head_bytes(const void *p, size_t n) {
  size_t h = (64 - ((uintptr_t)p & 63)) & 63;
  return h < n ? h : n;
}

void tk_moe_copy_bytes_avx2(void *dst, const void *src, size_t n, int stream) {
  char *d = dst;
  const char *s = src;
  if (stream && n >= 256) {
    size_t h = head_bytes(d, n);
    memcpy(d, s, h);
    d += h, s += h, n -= h;
    for (; n >= 128; d += 128, s += 128, n -= 128) {
      __m256i a = _mm256_loadu_si256((const __m256i *)s);
      __m256i b = _mm256_loadu_si256((const __m256i *)(s + 32));
      __m256i c = _mm256_loadu_si256((const __m256i *)(s + 64));
      __m256i e = _mm256_loadu_si256((const __m256i *)(s + 96));
      _mm256_stream_si256((__m256i *)d, a);
      _mm256_stream_si256((__m256i *)(d + 32), b);
      _mm256_stream_si256((__m256i *)(d + 64), c);
      _mm256_stream_si256((__m256i *)(d + 96), e);
    }
    for (; n >= 64; d += 64, s += 64, n -= 64) {
      __m256i a = _mm256_loadu_si256((const __m256i *)s);
      __m256i b = _mm256_loadu_si256((const __m256i *)(s + 32));
      _mm256_stream_si256((__m256i *)d, a);
      _mm256_stream_si256((__m256i *)(d + 32), b);
    }
  }
  for (; n >= 128; d += 128, s += 128, n -= 128) {
    __m256i a = _mm256_loadu_si256((const __m256i *)s);
    __m256i b = _mm256_loadu_si256((const __m256i *)(s + 32));
    __m256i c = _mm256_loadu_si256((const __m256i *)(s + 64));
    __m256i e = _mm256_loadu_si256((const __m256i *)(s + 96));
    _mm256_storeu_si256((__m256i *)d, a);
    _mm256_storeu_si256((__m256i *)(d + 32), b);
    _mm256_storeu_si256((__m256i *)(d + 64), c);
    _mm256_storeu_si256((__m256i *)(d + 96), e);
  }
  for (; n >= 32; d += 32, s += 32, n -= 32)
    _mm256_storeu_si256((__m256i *)d, _mm256_loadu_si256((const __m256i *)s));
  if (n) memcpy(d, s, n); /* an empty buffer may be NULL */
}

void tk_moe_zero_bytes_avx2(void *dst, size_t n, int stream) {
  char *d = dst;
  const __m256i z = _mm256_setzero_si256();
  if (stream && n >= 256) {
    size_t h = head_bytes(d, n);
    memset(d, 0, h);
    d += h, n -= h;
    for (; n >= 64; d += 64, n -= 64) {
      _mm256_stream_si256((__m256i *)d, z);
      _mm256_stream_si256((__m256i *)(d + 32), z);
    }
  }
  for (; n >= 32; d += 32, n -= 32) _mm256_storeu_si256((__m256i *)d, z);
  if (n) memset(d, 0, n); /* an empty buffer may be NULL */
}
