/* moe_unpermute_avx2.c: the cpu unpermute's gather-reduce
 * (moe_unpermute_body.h) and its backward's row kernels
 * (moe_unpermute_backward_body.h) in 8-lane AVX2 vectors, and the forward
 * one element at a time (any strides, any k) with the same arithmetic, so
 * the same bits. */
#include <math.h>

#include "impls/cpu/simd_avx2.h"
#include "runtime/half.h"

#define LANES 8
typedef __m256 vec;
#define VZERO() _mm256_setzero_ps()
#define VSET1(x) _mm256_set1_ps(x)
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VLOAD(p, d) tk256_load(p, d)
#define VLOAD_N(p, d, n) tk256_load_n(p, d, n)
#define VSTORE(p, d, v) tk256_store(p, d, v)
#define VSTORE_N(p, d, v, n) tk256_store_n(p, d, v, n)
#define VSTREAM(p, d, v) stream8(p, d, v)
#define REDUCE_TOKENS tk_moe_reduce_tokens_avx2
#define VHSUM(v) hsum8(v)
#define SCATTER_TOKENS tk_moe_scatter_tokens_avx2
#define GATHER_ROWS tk_moe_gather_rows_avx2
#define DOT_TOKENS tk_moe_dot_tokens_avx2

/* Non-temporal store of 8 lanes of v at p in dtype d (p 32-byte aligned
 * for f32, 16 for f16/bf16). */
static inline void stream8(void *p, tk_dtype d, __m256 v) {
  switch (d) {
    case TK_BF16: _mm_stream_si128(p, tk256_f32_to_bf16(v)); break;
    case TK_F16:
      _mm_stream_si128(p, _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      break;
    default: _mm256_stream_ps(p, v); break;
  }
}

/* The sum of the 8 lanes of v. */
static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

#include "impls/cpu/moe_unpermute_body.h"
#include "impls/cpu/moe_unpermute_backward_body.h"

void tk_moe_reduce_tokens_strided_avx2(const tk_moe_unpermute_problem *p, int64_t t0, int64_t t1) {
  for (int64_t t = t0; t < t1; t++)
    for (int64_t h = 0; h < p->H; h++) {
      float acc = 0.0f;
      for (int64_t s = 0; s < p->k; s++) {
        float w = p->weights.present ? *(const float *)tk_at(&p->weights, t, s, 0, 0) : 1.0f;
        const void *x = tk_at(&p->rows, tk_load_i32(&p->dest, t, s), h, 0, 0);
        acc = fmaf(w, tk_load_f32(x, p->rows.dtype), acc);
      }
      tk_store_f32(tk_at(&p->out, t, h, 0, 0), p->out.dtype, acc);
    }
}
