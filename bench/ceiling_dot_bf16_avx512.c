/* ceiling_dot_bf16_avx512.c: bf16 dot-product peak of one core
 * (vdpbf16ps: 32 bf16 products summed into 16 float lanes per
 * instruction), 16 independent accumulator chains
 * (ceiling_chains_avx512.h). */
#include "bench/ceiling.h"
#include "bench/ceiling_chains_avx512.h"

double tk_ceiling_dot_bf16_avx512(int64_t iters) {
  /* bf16 0x3A83 is about 0.001: the sums grow by ~2e-6 a step, far from
   * overflow and never subnormal. */
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3A83), b = (__m512bh)_mm512_set1_epi16(0x3A83);
  volatile float sink;
#define DOT_STEP(c) _mm512_dpbf16_ps(c, a, b)
  TK_CEILING_CHAINS16_AVX512(iters, DOT_STEP, &sink);
#undef DOT_STEP
  (void)sink;
  return (double)iters * 16.0 * 32.0 * 2.0;
}
