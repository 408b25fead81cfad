/* attention_backward_avx2.c: the AVX2+FMA task kernel of the cpu attention
 * backward: the float32 path of attention_backward_tile.h on 8 lanes,
 * every input dtype converted to float32. */
#include <immintrin.h>
#include <string.h>

#include "impls/cpu/vf_avx2.h"

#define MM_MR 4
#define MM_NV 3
#define FN(name) name##_avx2

/* x where lo <= j + lane <= hi, else 0. */
static inline __m256 vf_keep(__m256 x, int64_t j, int32_t lo, int32_t hi) {
  __m256i key = _mm256_add_epi32(_mm256_set1_epi32((int32_t)j), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  __m256i out = _mm256_or_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(lo), key),
                                _mm256_cmpgt_epi32(key, _mm256_set1_epi32(hi)));
  return _mm256_andnot_ps(_mm256_castsi256_ps(out), x);
}

/* The sum of the 8 lanes of x. */
static inline float vf_sum(__m256 x) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

#include "impls/cpu/attention_backward_tile.h"

void tk_abw_task_avx2(const tk_abw_params *p, const tk_abw_task *t, void *scratch) {
  const tk_abw_layout l = tk_abw_layout_of(p, t->rows);
  pack_group_avx2(p, t, &l, scratch);
  for (int64_t j0 = t->kb0; j0 < t->kb1; j0 += p->bk)
    key_block_f32_avx2(p, t, &l, scratch, j0, t->kb1 - j0 < p->bk ? t->kb1 - j0 : p->bk);
}
