/* paged_decode_common_avx2.h: what the paged decode kernel's two task
 * functions share (paged_decode_avx2.c reads rows in place,
 * paged_decode_convert_avx2.c converts each step first): reading 8-bit
 * values, converting a row to float, walking the block table, folding a
 * row's logits into its online softmax. Include only from *_avx2.c files. */
#ifndef TK_CPU_PAGED_DECODE_COMMON_AVX2_H
#define TK_CPU_PAGED_DECODE_COMMON_AVX2_H

#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "impls/cpu/inline.h"
#include "impls/cpu/paged_cpu.h"
#include "impls/cpu/simd_avx2.h"
#include "impls/cpu/vec_exp_avx2.h"
#include "runtime/half.h"

/* Floats of 8 float8 e4m3 values times 2^-120, exactly: the pattern's
 * bits moved into a float's sign, exponent and mantissa (fp8 subnormals
 * become float subnormals; S.1111.111 reads 480). */
TK_INLINE __m256 fp8x8_raw(const void *p) {
  __m256i b = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p));
  __m256i f = _mm256_and_si256(_mm256_slli_epi32(b, 20), _mm256_set1_epi32((int)0x87f00000u));
  return _mm256_castsi256_ps(f);
}

/* Floats of 8 float8 e4m3 values, exactly (one multiply undoes the 2^-120
 * before any product can underflow). */
TK_INLINE __m256 fp8x8(const void *p) {
  return _mm256_mul_ps(fp8x8_raw(p), _mm256_set1_ps(0x1p120f));
}

/* Floats of 8 int8 values. */
TK_INLINE __m256 i8x8(const void *p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}

/* Row src (n elements, step bytes apart) of dtype dt as floats in
 * dst[0..np), zero past n; 8-bit values before their scale (fp8 exact; the
 * NaN pattern reads 480 in whole vectors, NaN in the scalar tail).
 * Inlined with a constant dt. */
TK_INLINE void convert_row(float *dst, const char *src, int64_t n, int64_t np, int64_t step,
                           tk_dtype dt) {
  int64_t es = tk_dtype_size(dt), d = 0;
  if (step == es) {
    for (; d + 8 <= n; d += 8) {
      const char *p = src + d * es;
      __m256 x = dt == TK_FP8_E4M3 ? fp8x8(p) : dt == TK_I8 ? i8x8(p) : tk256_load(p, dt);
      _mm256_store_ps(dst + d, x);
    }
  }
  for (; d < n; d++) dst[d] = tk_load_f32(src + d * step, dt);
  for (; d < np; d++) dst[d] = 0.0f;
}

/* Of keys [c0, c0 + nk) of kv head 0: the K and V rows and the offsets of
 * their scales, walking the block table one page at a time. */
typedef struct {
  const char *k[TK_PAGED_MAX_DEC_KEYS], *v[TK_PAGED_MAX_DEC_KEYS];
  int64_t ks[TK_PAGED_MAX_DEC_KEYS], vs[TK_PAGED_MAX_DEC_KEYS];
  int64_t nk;
} step_rows;

static inline void find_rows(const tk_paged_task *t, int64_t c0, int64_t nk, step_rows *r) {
  int64_t pi = c0 / t->page_size, slot = c0 % t->page_size;
  int64_t page = t->table[pi * t->table_step];
  r->nk = nk;
  for (int64_t k = 0; k < nk; k++, slot++) {
    if (slot == t->page_size) {
      slot = 0;
      page = t->table[++pi * t->table_step];
    }
    /* a cache of empty rows (D or Dv 0) holds no data: its pointer may be
     * NULL and its strides anything, so no row address is formed */
    r->k[k] = t->k && t->D ? t->k + (page * t->k_page + slot * t->k_key) : NULL;
    r->v[k] = t->v && t->Dv ? t->v + (page * t->v_page + slot * t->v_key) : NULL;
    r->ks[k] = page * t->ks_page + slot * t->ks_key;
    r->vs[k] = page * t->vs_page + slot * t->vs_key;
  }
}

/* Folds the logits s[0..nb) of row r of a head (partial row hr; keys c0..,
 * nk real ones) into its running max, sum and accumulator; writes the V
 * weights w[0..nb) (times the keys' V scales vs when given). */
static inline void softmax_row(const tk_paged_task *t, int64_t r, int64_t hr, int64_t c0,
                               int64_t nk, int64_t nb, float *s, float *w, const float *ks,
                               const float *vs, tk_paged_partial *o) {
  int64_t lo = t->lo[r] - c0, hi = t->hi[r] - c0 + 1; /* visible keys [lo, hi) of the step */
  if (lo < 0) lo = 0;
  if (hi > nk) hi = nk;
  if (lo >= hi) {
    for (int64_t k = 0; k < nb; k++) w[k] = 0.0f;
    return;
  }
  __m256 mx = _mm256_set1_ps(-INFINITY);
  for (int64_t k = 0; k < nb; k += 8) {
    __m256 x = _mm256_load_ps(s + k);
    if (ks) x = _mm256_mul_ps(x, _mm256_load_ps(ks + k));
    if (t->c_cap > 0) x = _mm256_mul_ps(_mm256_set1_ps(t->c_cap), tk256_tanh(x));
    _mm256_store_ps(s + k, x);
  }
  for (int64_t k = 0; k < lo; k++) s[k] = -INFINITY;
  for (int64_t k = hi; k < nb; k++) s[k] = -INFINITY;
  for (int64_t k = 0; k < nb; k += 8) mx = _mm256_max_ps(mx, _mm256_load_ps(s + k));
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
  float m_old = o->m[hr], m_new = _mm_cvtss_f32(m4) > m_old ? _mm_cvtss_f32(m4) : m_old;
  __m256 mn = _mm256_set1_ps(m_new), sum = _mm256_setzero_ps();
  for (int64_t k = 0; k < nb; k += 8) {
    __m256 e = tk256_exp2(_mm256_sub_ps(_mm256_load_ps(s + k), mn));
    sum = _mm256_add_ps(sum, e);
    _mm256_store_ps(w + k, vs ? _mm256_mul_ps(e, _mm256_load_ps(vs + k)) : e);
  }
  __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
  s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  s4 = _mm_add_ss(s4, _mm_shuffle_ps(s4, s4, 1));
  if (m_new > m_old) {
    float alpha = m_old == -INFINITY ? 0.0f : exp2f(m_old - m_new);
    o->l[hr] *= alpha;
    __m256 a = _mm256_set1_ps(alpha);
    float *acc = o->acc + hr * t->dvp;
    for (int64_t d = 0; d < t->dvp; d += 8)
      _mm256_store_ps(acc + d, _mm256_mul_ps(a, _mm256_load_ps(acc + d)));
    o->m[hr] = m_new;
  }
  o->l[hr] += _mm_cvtss_f32(s4);
}

#endif
