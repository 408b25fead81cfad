/* ceiling_chains_avx512.h: the loop the AVX-512 peak ceilings share (for
 * _avx512.c files only): 16 independent 512-bit float accumulator chains,
 * enough to cover the latency of one instruction times its ports. */
#ifndef TK_BENCH_CEILING_CHAINS_AVX512_H
#define TK_BENCH_CEILING_CHAINS_AVX512_H

#include <immintrin.h>

/* Starts chain i at 1 + 0.01 i, steps every chain `iters` times with
 * c = STEP(c) (a macro of one __m512), keeps every chain in a register and
 * every step in the loop, and stores the sum of all lanes in *sink (a
 * volatile float), so nothing is optimised away. */
#define TK_CEILING_CHAINS16_AVX512(iters, STEP, sink)                                             \
  do {                                                                                            \
    __m512 c0 = _mm512_set1_ps(1.00f), c1 = _mm512_set1_ps(1.01f), c2 = _mm512_set1_ps(1.02f),   \
           c3 = _mm512_set1_ps(1.03f), c4 = _mm512_set1_ps(1.04f), c5 = _mm512_set1_ps(1.05f),   \
           c6 = _mm512_set1_ps(1.06f), c7 = _mm512_set1_ps(1.07f), c8 = _mm512_set1_ps(1.08f),   \
           c9 = _mm512_set1_ps(1.09f), c10 = _mm512_set1_ps(1.10f), c11 = _mm512_set1_ps(1.11f), \
           c12 = _mm512_set1_ps(1.12f), c13 = _mm512_set1_ps(1.13f), c14 = _mm512_set1_ps(1.14f), \
           c15 = _mm512_set1_ps(1.15f);                                                           \
    for (int64_t it_ = 0; it_ < (iters); it_++) {                                                 \
      c0 = STEP(c0), c1 = STEP(c1), c2 = STEP(c2), c3 = STEP(c3), c4 = STEP(c4);                  \
      c5 = STEP(c5), c6 = STEP(c6), c7 = STEP(c7), c8 = STEP(c8), c9 = STEP(c9);                  \
      c10 = STEP(c10), c11 = STEP(c11), c12 = STEP(c12), c13 = STEP(c13), c14 = STEP(c14);        \
      c15 = STEP(c15);                                                                            \
      __asm__ volatile("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5),         \
                       "+v"(c6), "+v"(c7));                                                       \
      __asm__ volatile("" : "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11), "+v"(c12), "+v"(c13),     \
                       "+v"(c14), "+v"(c15));                                                     \
    }                                                                                             \
    __m512 s_ = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),       \
                              _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));      \
    s_ = _mm512_add_ps(s_, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c8, c9),                     \
                                                       _mm512_add_ps(c10, c11)),                  \
                                         _mm512_add_ps(_mm512_add_ps(c12, c13),                   \
                                                       _mm512_add_ps(c14, c15))));                \
    *(sink) = _mm512_reduce_add_ps(s_);                                                           \
  } while (0)

#endif
