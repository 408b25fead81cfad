/* vf_avx2.h: the float-vector vocabulary of the cpu attention templates
 * (attention_tile_f32.h, attention_backward_tile.h) on AVX2: VF, VL and
 * the vf_* operations on 8 float lanes, loads and stores of any data
 * dtype, exp2 and tanh. Included by the AVX2 files that instantiate them,
 * each defining its own tile sizes and FN. */
#ifndef TK_CPU_VF_AVX2_H
#define TK_CPU_VF_AVX2_H

#include <immintrin.h>

#include "impls/cpu/simd_avx2.h"
#include "impls/cpu/vec_exp_avx2.h"

#define VF __m256
#define VL 8
#define vf_zero() _mm256_setzero_ps()
#define vf_load(p) _mm256_loadu_ps(p)
#define vf_store(p, x) _mm256_storeu_ps(p, x)
#define vf_set1(x) _mm256_set1_ps(x)
#define vf_fma(a, b, c) _mm256_fmadd_ps(a, b, c)
#define vf_mul(a, b) _mm256_mul_ps(a, b)
#define vf_add(a, b) _mm256_add_ps(a, b)
#define vf_sub(a, b) _mm256_sub_ps(a, b)
#define vf_max(a, b) _mm256_max_ps(a, b)
#define vf_exp2(x) tk256_exp2(x)
#define vf_tanh(x) tk256_tanh(x)
#define vf_load_dt(p, dt) tk256_load(p, dt)
#define vf_load_dt_n(p, dt, n) tk256_load_n(p, dt, n)
#define vf_store_dt_n(p, dt, x, n) tk256_store_n(p, dt, x, n)

#endif
