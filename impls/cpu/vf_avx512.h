/* vf_avx512.h: the float-vector vocabulary of the cpu attention templates
 * (attention_tile_f32.h, attention_backward_tile.h) on AVX-512: VF, VL and
 * the vf_* operations on 16 float lanes, loads and stores of any data
 * dtype, exp2, tanh and a lane sum. Included by the AVX-512 files that
 * instantiate them, each defining its own tile sizes and FN. */
#ifndef TK_CPU_VF_AVX512_H
#define TK_CPU_VF_AVX512_H

#include <immintrin.h>

#include "impls/cpu/simd_avx512.h"
#include "impls/cpu/vec_exp_avx512.h"

#define VF __m512
#define VL 16
#define vf_zero() _mm512_setzero_ps()
#define vf_load(p) _mm512_loadu_ps(p)
#define vf_store(p, x) _mm512_storeu_ps(p, x)
#define vf_set1(x) _mm512_set1_ps(x)
#define vf_fma(a, b, c) _mm512_fmadd_ps(a, b, c)
#define vf_mul(a, b) _mm512_mul_ps(a, b)
#define vf_add(a, b) _mm512_add_ps(a, b)
#define vf_sub(a, b) _mm512_sub_ps(a, b)
#define vf_max(a, b) _mm512_max_ps(a, b)
#define vf_exp2(x) tk512_exp2(x)
#define vf_tanh(x) tk512_tanh(x)
#define vf_load_dt(p, dt) tk512_load(p, dt)
#define vf_load_dt_n(p, dt, n) tk512_load_n(p, dt, n)
#define vf_store_dt_n(p, dt, x, n) tk512_store_n(p, dt, x, n)
#define vf_sum(x) _mm512_reduce_add_ps(x)

#endif
