/* paged_decode_convert_avx2.c: one task of the paged decode kernel that
 * converts first (tk_cpu_paged_decode_converts: 16/32-bit caches, GQA of
 * 4 or more), on AVX2 + FMA: steps of dec_keys keys; each step converts
 * the K and V rows of every kv head to float in memory order (token by
 * token, heads adjacent, so the hardware prefetchers stream) into L2, then
 * for each head computes the logits of its rows two rows by four keys at
 * a time, folds them into the online softmax and adds the weighted V rows
 * two rows at a time. The next step's page ids are read while this one
 * computes. */
#include "impls/cpu/paged_decode_common_avx2.h"

/* Scratch: kf [nh][nb][dp], vf [nh][nb][dvp], ks [nh][nb], vs [nh][nb],
 * s [n][nb], w [n][nb]. */
int64_t tk_paged_convert_task_scratch(const tk_paged_task *t) {
  int64_t nb = t->dec_keys;
  return t->nh * nb * (t->dp + t->dvp + 2) + 2 * t->n * nb + 16;
}

/* The K and V rows of every kv head of a step's keys src_k[0..nk),
 * src_v[0..nk) (head 0's; head h is h * k_head / v_head bytes on)
 * converted in memory order (token by token, heads adjacent, so the
 * hardware prefetchers see streams) into kf [nh][nb][dp] and vf
 * [nh][nb][dvp]. Inlined with a constant dt. */
TK_INLINE void convert_step_dt(const tk_paged_task *t, const char *const *src_k,
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
    default: convert_step_dt(t, src_k, src_v, nk, kf, vf, TK_F32); break;
  }
}

/* Sum of each of a0..a3 (8 lanes each) in the 4 lanes of the result. */
TK_INLINE __m128 hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

/* Logits s[r][k] = q[r] . kf[k] for rows r, r+1 (two = 0: r only) and
 * keys k .. k+3, over dp floats. */
TK_INLINE void dots_2x4(const float *q0, const float *q1, const float *kf, int64_t dp,
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

void tk_paged_convert_task_avx2(const tk_paged_task *t, float *scratch, tk_paged_partial *o) {
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
    if (c0 + nb < t->ke) /* the next step's page ids */
      find_rows(t, c0 + nb, t->ke - c0 - nb < nb ? t->ke - c0 - nb : nb, &rows[i ^ 1]);
    if (nk < nb) /* a short last step: clear the rows it leaves */
      for (int64_t h = 0; h < t->nh; h++) {
        for (int64_t x = nk * dp; x < nb * dp; x++) kf[h * nb * dp + x] = 0.0f;
        for (int64_t x = nk * dvp; x < nb * dvp; x++) vf[h * nb * dvp + x] = 0.0f;
      }
    convert_step(t, rows[i].k, rows[i].v, nk, kf, vf);
    for (int64_t h = 0; h < t->nh; h++) head_step(t, &rows[i], h, c0, nk, scratch, o);
  }
}
