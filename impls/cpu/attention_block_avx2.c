/* attention_block_avx2.c: the AVX2+FMA block kernel of the cpu attention:
 * the float32 tiles of attention_tile_f32.h on 8 lanes, every input dtype
 * converted to float32 (bf16 by shifting, f16 through F16C). */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "impls/cpu/vf_avx2.h"

#define S_NJ(nv) ((nv) == 1 ? 8 : (nv) == 2 ? 5 : (nv) == 3 ? 3 : 2)
#define PV_NDV(nv) ((nv) == 1 ? 8 : (nv) == 2 ? 4 : (nv) == 3 ? 3 : 2)
#define FN(name) name##_avx2

/* x where lo[lane] <= j <= hi[lane], else -inf. */
static inline __m256 vf_visible(__m256 x, int32_t j, const int32_t *lo, const int32_t *hi) {
  __m256i jv = _mm256_set1_epi32(j);
  __m256i out = _mm256_or_si256(_mm256_cmpgt_epi32(_mm256_loadu_si256((const __m256i *)lo), jv),
                                _mm256_cmpgt_epi32(jv, _mm256_loadu_si256((const __m256i *)hi)));
  return _mm256_blendv_ps(x, _mm256_set1_ps(-INFINITY), _mm256_castsi256_ps(out));
}

/* x with its -inf lanes set to 0. */
static inline __m256 vf_finite_or_zero(__m256 x) {
  return _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(-INFINITY), _CMP_EQ_OQ), x);
}

#include "impls/cpu/attention_tile_f32.h"

void tk_attn_block_avx2(const tk_attn_params *p, tk_attn_state *s, const tk_attn_block *b) {
  block_f32_avx2(p, s, b);
}
