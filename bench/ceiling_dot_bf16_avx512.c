/* ceiling_dot_bf16_avx512.c: bf16 dot-product peak of one core
 * (vdpbf16ps: 32 bf16 products summed into 16 float lanes per
 * instruction), 16 independent accumulator chains. */
#include <immintrin.h>

#include "bench/ceiling.h"

double tk_ceiling_dot_bf16_avx512(int64_t iters) {
  /* bf16 0x3A83 is about 0.001: the sums grow by ~2e-6 a step, far from
   * overflow and never subnormal. */
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3A83), b = (__m512bh)_mm512_set1_epi16(0x3A83);
#define INIT(i) __m512 c##i = _mm512_set1_ps(1.0f + 0.01f * i);
  INIT(0) INIT(1) INIT(2) INIT(3) INIT(4) INIT(5) INIT(6) INIT(7)
  INIT(8) INIT(9) INIT(10) INIT(11) INIT(12) INIT(13) INIT(14) INIT(15)
#undef INIT
  for (int64_t it = 0; it < iters; it++) {
#define STEP(i) c##i = _mm512_dpbf16_ps(c##i, a, b);
    STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5) STEP(6) STEP(7)
    STEP(8) STEP(9) STEP(10) STEP(11) STEP(12) STEP(13) STEP(14) STEP(15)
#undef STEP
    /* keep every chain in a register and every step in the loop */
    __asm__ volatile("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5), "+v"(c6),
                     "+v"(c7));
    __asm__ volatile("" : "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11), "+v"(c12), "+v"(c13),
                     "+v"(c14), "+v"(c15));
  }
  __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                           _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)),
                                     _mm512_add_ps(_mm512_add_ps(c12, c13), _mm512_add_ps(c14, c15))));
  volatile float sink = _mm512_reduce_add_ps(s);
  (void)sink;
  return (double)iters * 16.0 * 32.0 * 2.0;
}
