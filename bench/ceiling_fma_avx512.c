/* ceiling_fma_avx512.c: float32 FMA peak of one core with AVX-512: 16
 * independent accumulator chains (ceiling_chains_avx512.h), values that
 * converge to 1 so nothing overflows or goes subnormal. */
#include "bench/ceiling.h"
#include "bench/ceiling_chains_avx512.h"

double tk_ceiling_fma_f32_avx512(int64_t iters) {
  const __m512 m = _mm512_set1_ps(0.999f), a = _mm512_set1_ps(0.001f);
  volatile float sink;
#define FMA_STEP(c) _mm512_fmadd_ps(c, m, a)
  TK_CEILING_CHAINS16_AVX512(iters, FMA_STEP, &sink);
#undef FMA_STEP
  (void)sink;
  return (double)iters * 16.0 * 16.0 * 2.0;
}
