/* ceiling_fma_avx2.c: float32 FMA peak of one core with AVX2+FMA (the
 * fallback when there is no AVX-512): 12 independent 8-lane chains (16
 * registers hold them and the two constants). */
#include <immintrin.h>

#include "bench/ceiling.h"

double tk_ceiling_fma_f32_avx2(int64_t iters) {
  const __m256 m = _mm256_set1_ps(0.999f), a = _mm256_set1_ps(0.001f);
#define INIT(i) __m256 c##i = _mm256_set1_ps(1.0f + 0.01f * i);
  INIT(0) INIT(1) INIT(2) INIT(3) INIT(4) INIT(5) INIT(6) INIT(7) INIT(8) INIT(9) INIT(10) INIT(11)
#undef INIT
  for (int64_t it = 0; it < iters; it++) {
#define STEP(i) c##i = _mm256_fmadd_ps(c##i, m, a);
    STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5) STEP(6) STEP(7) STEP(8) STEP(9) STEP(10) STEP(11)
#undef STEP
    /* keep every chain in a register and every step in the loop */
    __asm__ volatile("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5));
    __asm__ volatile("" : "+x"(c6), "+x"(c7), "+x"(c8), "+x"(c9), "+x"(c10), "+x"(c11));
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                           _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  volatile float sink = lanes[0] + lanes[7];
  (void)sink;
  return (double)iters * 12.0 * 8.0 * 2.0;
}
