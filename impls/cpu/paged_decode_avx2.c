/* paged_decode_avx2.c: one task of the paged decode kernel on AVX2 + FMA:
 * steps of dec_keys keys; for each kv head a step converts the keys' K and
 * V rows to float once (bf16, f16, f32, fp8 e4m3 or int8), then computes
 * the logits of the head's rows against them two rows by four keys at a
 * time (all lanes busy whatever the GQA ratio), folds them into the online
 * softmax and adds the weighted V rows two rows at a time. The next step's
 * page ids are read while this one computes; with t->prefetch each head
 * also asks for the next head's rows (off by default: on Zen 3 the
 * hardware prefetchers alone were faster, docs/cpu-attention.md). */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "impls/cpu/paged_cpu.h"
#include "impls/cpu/simd_avx2.h"
#include "impls/cpu/vec_exp_avx2.h"
#include "runtime/half.h"

/* Scratch: kf [nh][nb][dp], vf [nh][nb][dvp], ks [nh][nb], vs [nh][nb],
 * s [n][nb], w [n][nb]. */
int64_t tk_paged_task_scratch(const tk_paged_task *t) {
  int64_t nb = t->dec_keys;
  return t->nh * nb * (t->dp + t->dvp + 2) + 2 * t->n * nb + 16;
}

/* Floats of 8 float8 e4m3 values: the pattern's bits moved into a float's
 * sign, exponent and mantissa give the value times 2^-120 exactly
 * (subnormals too), which one multiply undoes before any product can
 * underflow (S.1111.111 reads 480). */
static inline __m256 fp8x8(const void *p) {
  __m256i b = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p));
  __m256i f = _mm256_and_si256(_mm256_slli_epi32(b, 20), _mm256_set1_epi32((int)0x87f00000u));
  return _mm256_mul_ps(_mm256_castsi256_ps(f), _mm256_set1_ps(0x1p120f));
}

/* Floats of 8 int8 values. */
static inline __m256 i8x8(const void *p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}

/* Row src (n elements, step bytes apart) of dtype dt as floats in
 * dst[0..np), zero past n; 8-bit values before their scale (fp8 exact; the
 * NaN pattern reads 480 in whole vectors, NaN in the scalar tail).
 * Inlined with a constant dt. */
static inline void convert_row(float *dst, const char *src, int64_t n, int64_t np, int64_t step,
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

/* The K and V rows of every kv head of a step's keys src_k[0..nk),
 * src_v[0..nk) (head 0's; head h is h * k_head / v_head bytes on)
 * converted in memory order (token by token, heads adjacent, so the
 * hardware prefetchers see streams) into kf [nh][nb][dp] and vf
 * [nh][nb][dvp]. Inlined with a constant dt. */
static inline void convert_step_dt(const tk_paged_task *t, const char *const *src_k,
                                   const char *const *src_v, int64_t nk, float *kf, float *vf,
                                   tk_dtype dt) {
  int64_t nb = t->dec_keys;
  for (int64_t k = 0; k < nk; k++)
    for (int64_t h = 0; h < t->nh; h++) {
      const char *ks = src_k[k] ? src_k[k] + h * t->k_head : NULL;
      const char *vs = src_v[k] ? src_v[k] + h * t->v_head : NULL;
      convert_row(kf + (h * nb + k) * t->dp, ks, t->D, t->dp, t->k_d, dt);
      convert_row(vf + (h * nb + k) * t->dvp, vs, t->Dv, t->dvp, t->v_d, dt);
    }
}

static void convert_step(const tk_paged_task *t, const char *const *src_k,
                         const char *const *src_v, int64_t nk, float *kf, float *vf) {
  switch (t->kv_dtype) {
    case TK_BF16: convert_step_dt(t, src_k, src_v, nk, kf, vf, TK_BF16); break;
    case TK_F16: convert_step_dt(t, src_k, src_v, nk, kf, vf, TK_F16); break;
    case TK_FP8_E4M3: convert_step_dt(t, src_k, src_v, nk, kf, vf, TK_FP8_E4M3); break;
    case TK_I8: convert_step_dt(t, src_k, src_v, nk, kf, vf, TK_I8); break;
    default: convert_step_dt(t, src_k, src_v, nk, kf, vf, TK_F32); break;
  }
}

/* Of keys [c0, c0 + nk) of kv head 0: the K and V rows and the offsets of
 * their scales, walking the block table one page at a time. */
typedef struct {
  const char *k[TK_PAGED_MAX_DEC_KEYS], *v[TK_PAGED_MAX_DEC_KEYS];
  int64_t ks[TK_PAGED_MAX_DEC_KEYS], vs[TK_PAGED_MAX_DEC_KEYS];
} step_rows;

static void find_rows(const tk_paged_task *t, int64_t c0, int64_t nk, step_rows *r) {
  int64_t pi = c0 / t->page_size, slot = c0 % t->page_size;
  int64_t page = t->table[pi * t->table_step];
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

/* Asks for the cache lines of every kv head's rows of r's first nk keys. */
static void prefetch_rows(const tk_paged_task *t, const step_rows *r, int64_t nk) {
  int64_t kb = (t->nh - 1) * t->k_head + t->D * t->k_d, vb = (t->nh - 1) * t->v_head + t->Dv * t->v_d;
  for (int64_t k = 0; k < nk; k++) {
    for (int64_t o = 0; r->k[k] && o < kb; o += 64) _mm_prefetch(r->k[k] + o, _MM_HINT_T2);
    for (int64_t o = 0; r->v[k] && o < vb; o += 64) _mm_prefetch(r->v[k] + o, _MM_HINT_T2);
  }
}


/* Sum of each of a0..a3 (8 lanes each) in the 4 lanes of the result. */
static inline __m128 hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

/* Logits s[r][k] = q[r] . kf[k] for rows r, r+1 (two = 0: r only) and
 * keys k .. k+3, over dp floats. */
static inline void dots_2x4(const float *q0, const float *q1, const float *kf, int64_t dp,
                            int two, float *s0, float *s1) {
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a03 = a00;
  __m256 a10 = a00, a11 = a00, a12 = a00, a13 = a00;
  const float *k0 = kf, *k1 = kf + dp, *k2 = kf + 2 * dp, *k3 = kf + 3 * dp;
  if (two) {
    for (int64_t d = 0; d < dp; d += 8) {
      __m256 x0 = _mm256_load_ps(q0 + d), x1 = _mm256_load_ps(q1 + d);
      __m256 y = _mm256_load_ps(k0 + d);
      a00 = _mm256_fmadd_ps(x0, y, a00);
      a10 = _mm256_fmadd_ps(x1, y, a10);
      y = _mm256_load_ps(k1 + d);
      a01 = _mm256_fmadd_ps(x0, y, a01);
      a11 = _mm256_fmadd_ps(x1, y, a11);
      y = _mm256_load_ps(k2 + d);
      a02 = _mm256_fmadd_ps(x0, y, a02);
      a12 = _mm256_fmadd_ps(x1, y, a12);
      y = _mm256_load_ps(k3 + d);
      a03 = _mm256_fmadd_ps(x0, y, a03);
      a13 = _mm256_fmadd_ps(x1, y, a13);
    }
    _mm_storeu_ps(s1, hsum4(a10, a11, a12, a13));
  } else {
    for (int64_t d = 0; d < dp; d += 8) {
      __m256 x0 = _mm256_load_ps(q0 + d);
      a00 = _mm256_fmadd_ps(x0, _mm256_load_ps(k0 + d), a00);
      a01 = _mm256_fmadd_ps(x0, _mm256_load_ps(k1 + d), a01);
      a02 = _mm256_fmadd_ps(x0, _mm256_load_ps(k2 + d), a02);
      a03 = _mm256_fmadd_ps(x0, _mm256_load_ps(k3 + d), a03);
    }
  }
  _mm_storeu_ps(s0, hsum4(a00, a01, a02, a03));
}

/* acc[r] += sum_k w[r][k] vf[k] for rows r, r+1 (two = 0: r only), nk
 * keys, 32 floats of Dv at a time. */
static void pv_2(float *acc0, float *acc1, const float *w0, const float *w1, const float *vf,
                 int64_t nk, int64_t dvp, int two) {
  int64_t d = 0;
  for (; d + 32 <= dvp; d += 32) {
    __m256 b00 = _mm256_load_ps(acc0 + d), b01 = _mm256_load_ps(acc0 + d + 8);
    __m256 b02 = _mm256_load_ps(acc0 + d + 16), b03 = _mm256_load_ps(acc0 + d + 24);
    __m256 b10 = _mm256_setzero_ps(), b11 = b10, b12 = b10, b13 = b10;
    if (two) {
      b10 = _mm256_load_ps(acc1 + d), b11 = _mm256_load_ps(acc1 + d + 8);
      b12 = _mm256_load_ps(acc1 + d + 16), b13 = _mm256_load_ps(acc1 + d + 24);
    }
    for (int64_t k = 0; k < nk; k++) {
      const float *v = vf + k * dvp + d;
      __m256 v0 = _mm256_load_ps(v), v1 = _mm256_load_ps(v + 8);
      __m256 v2 = _mm256_load_ps(v + 16), v3 = _mm256_load_ps(v + 24);
      __m256 x = _mm256_broadcast_ss(w0 + k);
      b00 = _mm256_fmadd_ps(x, v0, b00);
      b01 = _mm256_fmadd_ps(x, v1, b01);
      b02 = _mm256_fmadd_ps(x, v2, b02);
      b03 = _mm256_fmadd_ps(x, v3, b03);
      if (two) {
        x = _mm256_broadcast_ss(w1 + k);
        b10 = _mm256_fmadd_ps(x, v0, b10);
        b11 = _mm256_fmadd_ps(x, v1, b11);
        b12 = _mm256_fmadd_ps(x, v2, b12);
        b13 = _mm256_fmadd_ps(x, v3, b13);
      }
    }
    _mm256_store_ps(acc0 + d, b00), _mm256_store_ps(acc0 + d + 8, b01);
    _mm256_store_ps(acc0 + d + 16, b02), _mm256_store_ps(acc0 + d + 24, b03);
    if (two) {
      _mm256_store_ps(acc1 + d, b10), _mm256_store_ps(acc1 + d + 8, b11);
      _mm256_store_ps(acc1 + d + 16, b12), _mm256_store_ps(acc1 + d + 24, b13);
    }
  }
  for (; d < dvp; d += 8) {
    __m256 b0 = _mm256_load_ps(acc0 + d), b1 = two ? _mm256_load_ps(acc1 + d) : b0;
    for (int64_t k = 0; k < nk; k++) {
      __m256 v = _mm256_load_ps(vf + k * dvp + d);
      b0 = _mm256_fmadd_ps(_mm256_broadcast_ss(w0 + k), v, b0);
      if (two) b1 = _mm256_fmadd_ps(_mm256_broadcast_ss(w1 + k), v, b1);
    }
    _mm256_store_ps(acc0 + d, b0);
    if (two) _mm256_store_ps(acc1 + d, b1);
  }
}

/* Folds the logits s[0..nb) of row r of a head (partial row hr; keys c0..,
 * nk real ones) into its
 * running max, sum and accumulator; writes the V weights w[0..nb) (times
 * the keys' V scales vs when given). */
static void softmax_row(const tk_paged_task *t, int64_t r, int64_t hr, int64_t c0, int64_t nk,
                        int64_t nb, float *s, float *w, const float *ks, const float *vs,
                        tk_paged_partial *o) {
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

/* Folds one step (keys c0.., nk of them, rows rw, already converted) into
 * the rows of kv head h: scales, logits, softmax and values. */
static void head_step(const tk_paged_task *t, const step_rows *rw, int64_t h, int64_t c0,
                      int64_t nk, float *scratch, tk_paged_partial *o) {
  int64_t nb = t->dec_keys, dp = t->dp, dvp = t->dvp, nk4 = (nk + 3) & ~(int64_t)3;
  float *kf = scratch + h * nb * dp, *vf = scratch + t->nh * nb * dp + h * nb * dvp;
  float *ks = scratch + t->nh * nb * (dp + dvp) + h * 2 * nb, *vs = ks + nb;
  float *s = scratch + t->nh * nb * (dp + dvp + 2), *w = s + t->n * nb;
  int scaled = t->k_scale != NULL;
  if (scaled)
    for (int64_t k = 0; k < nk; k++) {
      ks[k] = t->k_scale[rw->ks[k] + h * t->ks_head];
      vs[k] = t->v_scale[rw->vs[k] + h * t->vs_head];
    }
  for (int64_t k = nk; k < nb; k++) ks[k] = vs[k] = 0.0f;
  const float *q = t->q + h * t->n * dp;
  for (int64_t r = 0; r < t->n; r += 2) {
    int two = r + 1 < t->n;
    float *s0 = s + r * nb, *s1 = two ? s0 + nb : s0;
    for (int64_t k = 0; k < nk4; k += 4)
      dots_2x4(q + r * dp, q + (r + two) * dp, kf + k * dp, dp, two, s0 + k, s1 + k);
    for (int64_t k = nk4; k < nb; k++) s0[k] = s1[k] = 0.0f;
    for (int64_t i = 0; i <= two; i++)
      softmax_row(t, r + i, h * t->n + r + i, c0, nk, nb, s + (r + i) * nb, w + (r + i) * nb,
                  scaled ? ks : NULL, scaled ? vs : NULL, o);
    int64_t hr = h * t->n + r;
    pv_2(o->acc + hr * dvp, o->acc + (hr + two) * dvp, w + r * nb, w + (r + two) * nb, vf, nk, dvp,
         two);
  }
}

void tk_paged_task_avx2(const tk_paged_task *t, float *scratch, tk_paged_partial *o) {
  int64_t nb = t->dec_keys, dp = t->dp, dvp = t->dvp, kv_floats = t->nh * nb * (dp + dvp);
  float *kf = scratch, *vf = kf + t->nh * nb * dp;
  for (int64_t r = 0; r < t->nh * t->n; r++) {
    o->m[r] = -INFINITY;
    o->l[r] = 0.0f;
    for (int64_t d = 0; d < dvp; d++) o->acc[r * dvp + d] = 0.0f;
  }
  /* rows past a short last step stay zero: their logits are masked and
   * their weights zero, so no NaN of stale data reaches the sums */
  for (int64_t i = 0; i < kv_floats; i++) scratch[i] = 0.0f;
  step_rows rows[2];
  if (t->kb < t->ke) find_rows(t, t->kb, t->ke - t->kb < nb ? t->ke - t->kb : nb, &rows[0]);
  for (int64_t c0 = t->kb, i = 0; c0 < t->ke; c0 += nb, i ^= 1) {
    int64_t nk = t->ke - c0 < nb ? t->ke - c0 : nb;
    if (t->prefetch && c0 == t->kb) prefetch_rows(t, &rows[i], nk);
    if (c0 + nb < t->ke) { /* the next step's page ids (and, with t->prefetch, its rows) */
      int64_t nn = t->ke - c0 - nb < nb ? t->ke - c0 - nb : nb;
      find_rows(t, c0 + nb, nn, &rows[i ^ 1]);
      if (t->prefetch) prefetch_rows(t, &rows[i ^ 1], nn);
    }
    if (nk < nb) /* a short last step: clear the rows it leaves */
      for (int64_t h = 0; h < t->nh; h++) {
        for (int64_t x = nk * dp; x < nb * dp; x++) kf[h * nb * dp + x] = 0.0f;
        for (int64_t x = nk * dvp; x < nb * dvp; x++) vf[h * nb * dvp + x] = 0.0f;
      }
    convert_step(t, rows[i].k, rows[i].v, nk, kf, vf);
    for (int64_t h = 0; h < t->nh; h++) head_step(t, &rows[i], h, c0, nk, scratch, o);
  }
}
