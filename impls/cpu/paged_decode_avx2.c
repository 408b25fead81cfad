/* paged_decode_avx2.c: one task of the paged decode kernel that reads
 * rows in place, on AVX2 + FMA (every call but those that
 * tk_cpu_paged_decode_converts sends to paged_decode_convert_avx2.c):
 * steps of dec_keys keys, each run as three passes (logits, softmax,
 * values) over blocks of 8 keys that go through every kv head in turn, so
 * the cache is read in memory order. The tiles are R rows by 8 / R keys
 * (logits) or by 16 * B elements of Dv (values), 8 accumulators, R = 4 where
 * a head has four rows. Contiguous rows with D, Dv multiples of 16 are
 * turned into float vectors in registers (bf16: even and odd elements, by
 * a shift and a mask, with queries and accumulators kept in that order,
 * tk_paged_task_pairs; fp8 as 2^-120 times the value, tk_paged_task_q_gain);
 * other rows are converted to float once per head and step into a small
 * buffer. The next step's page ids are read while this one computes; with
 * t->prefetch the passes ask for the next step's K and V rows. */
#include "impls/cpu/paged_decode_common_avx2.h"

/* 1: the cache's rows are read where they lie (contiguous, D and Dv
 * multiples of 16); 0: each is converted to float first. */
static int in_place(const tk_paged_task *t) {
  int64_t es = tk_dtype_size(t->kv_dtype);
  return t->D % 16 == 0 && t->Dv % 16 == 0 && (t->D == 0 || t->k_d == es) &&
         (t->Dv == 0 || t->v_d == es);
}

int tk_paged_task_pairs(const tk_paged_task *t) {
  return t->kv_dtype == TK_BF16 && in_place(t);
}

/* Scratch: s [nh * n][nb], w [nh * n][nb], ks [nb], vs [nb], kf [nb][dp],
 * vf [nb][dvp]. */
int64_t tk_paged_task_scratch(const tk_paged_task *t) {
  int64_t nb = t->dec_keys;
  return 2 * t->nh * t->n * nb + 2 * nb + nb * (t->dp + t->dvp) + 16;
}

/* The tiles read an fp8 cache in place as fp8x8_raw gives it, without the
 * multiply (on Zen 3 multiplies of subnormal floats made the whole fp8
 * fold about twice as slow): the 2^120 is split between the queries
 * (tk_paged_task_q_gain) and the K scales (logits), and between the V
 * weights and the accumulators at the end, so every sum stays in range. */
#define FP8_GAIN 0x1p60f

float tk_paged_task_q_gain(const tk_paged_task *t) {
  return t->kv_dtype == TK_FP8_E4M3 && in_place(t) ? FP8_GAIN : 1.0f;
}

/* Rows src[0..nk) (n elements each) as floats in dst [nk][np]. Inlined
 * with a constant dt. */
TK_INLINE void convert_rows_dt(float *dst, const char *const *src, int64_t nk, int64_t n,
                               int64_t np, int64_t step, tk_dtype dt) {
  for (int64_t k = 0; k < nk; k++) convert_row(dst + k * np, src[k], n, np, step, dt);
}

static void convert_rows(float *dst, const char *const *src, int64_t nk, int64_t n, int64_t np,
                         int64_t step, tk_dtype dt) {
  switch (dt) {
    case TK_BF16: convert_rows_dt(dst, src, nk, n, np, step, TK_BF16); break;
    case TK_F16: convert_rows_dt(dst, src, nk, n, np, step, TK_F16); break;
    case TK_FP8_E4M3: convert_rows_dt(dst, src, nk, n, np, step, TK_FP8_E4M3); break;
    case TK_I8: convert_rows_dt(dst, src, nk, n, np, step, TK_I8); break;
    default: convert_rows_dt(dst, src, nk, n, np, step, TK_F32); break;
  }
}

/* Where a pass's prefetches go: kv head h of the keys r (r NULL: none). */
typedef struct {
  const step_rows *r;
  int64_t h;
} pf_target;

/* Asks for the cache lines of the K (v = 0) or V (v = 1) rows of keys
 * [k0, k1) of the target (those it has). */
TK_INLINE void prefetch_keys(const tk_paged_task *t, pf_target pf, int64_t k0, int64_t k1, int v) {
  if (!pf.r) return;
  int64_t bytes = v ? t->Dv * t->v_d : t->D * t->k_d, hb = v ? t->v_head : t->k_head;
  for (int64_t k = k0; k < k1 && k < pf.r->nk; k++) {
    const char *row = v ? pf.r->v[k] : pf.r->k[k];
    for (int64_t o = 0; row && o < bytes; o += 64) _mm_prefetch(row + pf.h * hb + o, _MM_HINT_T0);
  }
}

/* The two float vectors of the 16 elements at p: bf16: the even and the
 * odd elements; any other dtype: the first and the last 8 (8-bit values
 * before their scale, fp8 times 2^-120). Inlined with a constant dt. */
TK_INLINE void load16(const char *p, tk_dtype dt, __m256 *a, __m256 *b) {
  if (dt == TK_BF16) {
    __m256i x = _mm256_loadu_si256((const __m256i *)p);
    *a = _mm256_castsi256_ps(_mm256_slli_epi32(x, 16));
    *b = _mm256_castsi256_ps(_mm256_and_si256(x, _mm256_set1_epi32((int)0xffff0000u)));
  } else if (dt == TK_FP8_E4M3) {
    *a = fp8x8_raw(p);
    *b = fp8x8_raw(p + 8);
  } else if (dt == TK_I8) {
    *a = i8x8(p);
    *b = i8x8(p + 8);
  } else {
    *a = tk256_load(p, dt);
    *b = tk256_load(p + 8 * tk_dtype_size(dt), dt);
  }
}

/* Lane i: the sum of a[i]'s 8 lanes. */
TK_INLINE __m256 hsum8(const __m256 a[8]) {
  __m256 u0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
  __m256 u1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

/* A step's rows as the tiles read them: key k of kv head h at k[k] + h *
 * kh bytes, its value at v[k] + h * vh (k padded to a multiple of 8 with
 * real rows). */
typedef struct {
  const char *k[TK_PAGED_MAX_DEC_KEYS], *v[TK_PAGED_MAX_DEC_KEYS];
  int64_t kh, vh;
} tile_rows;

/* Logits s[r * nb + c] = q[r] . k[c] for R rows of q (dp floats apart) and
 * C = 8 / R keys kr[0..C) (each off bytes on) over dp elements (dtype dt:
 * bf16 rows in place against queries in pair order, or float). Inlined
 * with constants. */
TK_INLINE void qk_tile(const float *q, int64_t dp, const char *const *kr, int64_t off,
                       tk_dtype dt, int R, float *s, int64_t nb) {
  const int C = 8 / R;
  const int64_t es = tk_dtype_size(dt);
  __m256 a[8];
  for (int i = 0; i < 8; i++) a[i] = _mm256_setzero_ps();
  for (int64_t d = 0; d < dp; d += 16) {
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) {
      __m256 lo, hi;
      load16(kr[c] + off + d * es, dt, &lo, &hi);
#pragma GCC unroll 4
      for (int r = 0; r < R; r++) {
        a[r * C + c] = _mm256_fmadd_ps(_mm256_load_ps(q + r * dp + d), lo, a[r * C + c]);
        a[r * C + c] = _mm256_fmadd_ps(_mm256_load_ps(q + r * dp + d + 8), hi, a[r * C + c]);
      }
    }
  }
  float x[8];
  _mm256_storeu_ps(x, hsum8(a));
  for (int r = 0; r < R; r++)
    for (int c = 0; c < C; c++) s[r * nb + c] = x[r * C + c];
}

/* acc[r] (dvp floats apart) += sum_k w[r * nb + k] v[k] for R rows, keys
 * vr[k0..k1) (each off bytes on), over 16 * B elements from element d.
 * Inlined with constants. */
TK_INLINE void pv_tile(float *acc, int64_t dvp, const float *w, int64_t nb,
                       const char *const *vr, int64_t off, int64_t k0, int64_t k1, int64_t d,
                       tk_dtype dt, int R, int B) {
  const int64_t es = tk_dtype_size(dt);
  __m256 a[8];
  for (int r = 0; r < R; r++)
    for (int j = 0; j < 2 * B; j++) a[r * 2 * B + j] = _mm256_load_ps(acc + r * dvp + d + 8 * j);
  for (int64_t k = k0; k < k1; k++) {
#pragma GCC unroll 4
    for (int b = 0; b < B; b++) {
      __m256 lo, hi;
      load16(vr[k] + off + (d + 16 * b) * es, dt, &lo, &hi);
#pragma GCC unroll 4
      for (int r = 0; r < R; r++) {
        __m256 x = _mm256_broadcast_ss(w + r * nb + k);
        a[r * 2 * B + 2 * b] = _mm256_fmadd_ps(x, lo, a[r * 2 * B + 2 * b]);
        a[r * 2 * B + 2 * b + 1] = _mm256_fmadd_ps(x, hi, a[r * 2 * B + 2 * b + 1]);
      }
    }
  }
  for (int r = 0; r < R; r++)
    for (int j = 0; j < 2 * B; j++) _mm256_store_ps(acc + r * dvp + d + 8 * j, a[r * 2 * B + j]);
}

/* Logits s [nh * n][nb] of the rows q [nh * n][dp] of kv heads [0, nh)
 * against their keys tr [0, nk8) (nk8 a multiple of 8): blocks of 8 keys,
 * each through every head in turn, so the cache is read in memory order;
 * each block also asks for pf's rows of its keys. Inlined with a constant
 * dt. */
TK_INLINE void qk_step(const float *q, int64_t nh, int64_t n, int64_t dp,
                       const tile_rows *tr, int64_t nk8, tk_dtype dt, float *s, int64_t nb,
                       const tk_paged_task *t, pf_target pf) {
  for (int64_t kb = 0; kb < nk8; kb += 8) {
    for (int64_t h = 0; h < nh; h++) {
      prefetch_keys(t, (pf_target){pf.r, pf.h + h}, kb, kb + 8, 0);
      const float *qh = q + h * n * dp;
      float *sh = s + h * n * nb;
      int64_t off = h * tr->kh, r = 0;
      for (; r + 4 <= n; r += 4)
        for (int64_t k = kb; k < kb + 8; k += 2)
          qk_tile(qh + r * dp, dp, tr->k + k, off, dt, 4, sh + r * nb + k, nb);
      for (; r + 2 <= n; r += 2)
        for (int64_t k = kb; k < kb + 8; k += 4)
          qk_tile(qh + r * dp, dp, tr->k + k, off, dt, 2, sh + r * nb + k, nb);
      for (; r < n; r++) qk_tile(qh + r * dp, dp, tr->k + kb, off, dt, 1, sh + r * nb + kb, nb);
    }
  }
}

/* Adds the weighted values of keys [k0, k1) to the rows [r0, r1) of one
 * head (acc [..][dvp], w [..][nb]) in tiles of R rows, B 16-blocks of Dv
 * at a time. Inlined with constants. */
TK_INLINE void pv_rows(float *acc, int64_t r0, int64_t r1, int64_t dvp, const float *w,
                       int64_t nb, const char *const *vr, int64_t off, int64_t k0, int64_t k1,
                       tk_dtype dt, int R, int B) {
  for (int64_t r = r0; r + R <= r1; r += R) {
    int64_t d = 0;
    for (; d + 16 * B <= dvp; d += 16 * B)
      pv_tile(acc + r * dvp, dvp, w + r * nb, nb, vr, off, k0, k1, d, dt, R, B);
    for (; d < dvp; d += 16)
      pv_tile(acc + r * dvp, dvp, w + r * nb, nb, vr, off, k0, k1, d, dt, R, 1);
  }
}

/* Adds the weighted values w [nh * n][nb] of keys tr [0, nk) to the
 * accumulators acc [nh * n][dvp] of kv heads [0, nh): blocks of 8 keys,
 * each through every head in turn. Inlined with a constant dt. */
TK_INLINE void pv_step(float *acc, int64_t nh, int64_t n, int64_t dvp, const float *w, int64_t nb,
                       const tile_rows *tr, int64_t nk, tk_dtype dt, const tk_paged_task *t,
                       pf_target pf) {
  int64_t n4 = n & ~(int64_t)3, n2 = n & ~(int64_t)1;
  int64_t kstep = n >= 4 ? 16 : 8;
  for (int64_t kb = 0; kb < nk; kb += kstep) {
    int64_t ke = kb + kstep < nk ? kb + kstep : nk;
    for (int64_t h = 0; h < nh; h++) {
      prefetch_keys(t, (pf_target){pf.r, pf.h + h}, kb, ke, 1);
      float *ah = acc + h * n * dvp;
      const float *wh = w + h * n * nb;
      int64_t off = h * tr->vh;
      pv_rows(ah, 0, n4, dvp, wh, nb, tr->v, off, kb, ke, dt, 4, 1);
      pv_rows(ah, n4, n2, dvp, wh, nb, tr->v, off, kb, ke, dt, 2, 2);
      pv_rows(ah, n2, n, dvp, wh, nb, tr->v, off, kb, ke, dt, 1, 4);
    }
  }
}

/* Folds one step (keys c0.., rows rw; their tile rows tr) into the rows
 * of kv heads [h0, h0 + nh): logits, scales, softmax and values. Inlined
 * with a constant dt (the dtype the tiles read: bf16 in place, else f32). */
TK_INLINE void fold_heads(const tk_paged_task *t, const step_rows *rw, const tile_rows *tr,
                          int64_t h0, int64_t nh, int64_t c0, pf_target pf, float *scratch,
                          tk_paged_partial *o, tk_dtype dt) {
  int64_t nb = t->dec_keys, n = t->n, nk = rw->nk, nk8 = (nk + 7) & ~(int64_t)7;
  int64_t rows = t->nh * n;
  float *s = scratch + h0 * n * nb, *w = scratch + rows * nb + h0 * n * nb;
  float *ks = scratch + 2 * rows * nb, *vs = ks + nb;
  for (int64_t k = nk8; k < nb; k++)
    for (int64_t r = 0; r < nh * n; r++) s[r * nb + k] = 0.0f;
  qk_step(t->q + h0 * n * t->dp, nh, n, t->dp, tr, nk8, dt, s, nb, t, pf);
  float gain = dt == TK_FP8_E4M3 ? FP8_GAIN : 1.0f;
  int scaled = t->k_scale != NULL || gain != 1.0f;
  for (int64_t h = h0; h < h0 + nh; h++) {
    if (scaled) {
      for (int64_t k = 0; k < nk; k++) {
        ks[k] = (t->k_scale ? t->k_scale[rw->ks[k] + h * t->ks_head] : 1.0f) * gain;
        vs[k] = (t->v_scale ? t->v_scale[rw->vs[k] + h * t->vs_head] : 1.0f) * gain;
      }
      for (int64_t k = nk; k < nb; k++) ks[k] = vs[k] = 0.0f;
    }
    for (int64_t r = 0; r < n; r++) {
      int64_t hr = h * n + r, i = (h - h0) * n + r;
      softmax_row(t, r, hr, c0, nk, nb, s + i * nb, w + i * nb, scaled ? ks : NULL,
                  scaled ? vs : NULL, o);
    }
  }
  pv_step(o->acc + h0 * n * t->dvp, nh, n, t->dvp, w, nb, tr, nk, dt, t, pf);
}

/* fold_heads for one dtype, each a function of its own: with the five
 * inlined into fold_step, GCC 12 kept the bf16 vectors on the stack (a
 * store and a reload for every K and V load), 15-20% slower. */
#define FOLD_HEADS_AS(name, DT)                                                               \
  static TK_NOINLINE void name(const tk_paged_task *t, const step_rows *rw, const tile_rows *tr, \
                               int64_t h0, int64_t nh, int64_t c0, pf_target pf,               \
                               float *scratch, tk_paged_partial *o) {                          \
    fold_heads(t, rw, tr, h0, nh, c0, pf, scratch, o, DT);                                     \
  }
FOLD_HEADS_AS(fold_heads_bf16, TK_BF16)
FOLD_HEADS_AS(fold_heads_f16, TK_F16)
FOLD_HEADS_AS(fold_heads_fp8, TK_FP8_E4M3)
FOLD_HEADS_AS(fold_heads_i8, TK_I8)
FOLD_HEADS_AS(fold_heads_f32, TK_F32)

/* Folds one step (keys c0.., rows rw) into every kv head's rows: a cache
 * read in place through all heads at once; any other converted one head
 * at a time. */
static void fold_step(const tk_paged_task *t, const step_rows *rw, int64_t c0, pf_target pf,
                      float *scratch, tk_paged_partial *o) {
  int64_t nb = t->dec_keys, nk = rw->nk, nk8 = (nk + 7) & ~(int64_t)7;
  tile_rows tr;
  if (in_place(t)) {
    for (int64_t k = 0; k < nk8; k++) {
      tr.k[k] = rw->k[k < nk ? k : 0];
      tr.v[k] = rw->v[k < nk ? k : 0];
    }
    tr.kh = t->k_head;
    tr.vh = t->v_head;
    switch (t->kv_dtype) {
      case TK_BF16: fold_heads_bf16(t, rw, &tr, 0, t->nh, c0, pf, scratch, o); break;
      case TK_F16: fold_heads_f16(t, rw, &tr, 0, t->nh, c0, pf, scratch, o); break;
      case TK_FP8_E4M3: fold_heads_fp8(t, rw, &tr, 0, t->nh, c0, pf, scratch, o); break;
      case TK_I8: fold_heads_i8(t, rw, &tr, 0, t->nh, c0, pf, scratch, o); break;
      default: fold_heads_f32(t, rw, &tr, 0, t->nh, c0, pf, scratch, o); break;
    }
    return;
  }
  float *kf = scratch + 2 * t->nh * t->n * nb + 2 * nb, *vf = kf + nb * t->dp;
  const char *src_k[TK_PAGED_MAX_DEC_KEYS], *src_v[TK_PAGED_MAX_DEC_KEYS];
  for (int64_t k = 0; k < nk8; k++) {
    tr.k[k] = (const char *)(kf + (k < nk ? k : 0) * t->dp);
    tr.v[k] = (const char *)(vf + (k < nk ? k : 0) * t->dvp);
  }
  tr.kh = tr.vh = 0;
  for (int64_t h = 0; h < t->nh; h++) {
    for (int64_t k = 0; k < nk; k++) {
      src_k[k] = rw->k[k] ? rw->k[k] + h * t->k_head : NULL;
      src_v[k] = rw->v[k] ? rw->v[k] + h * t->v_head : NULL;
    }
    convert_rows(kf, src_k, nk, t->D, t->dp, t->k_d, t->kv_dtype);
    convert_rows(vf, src_v, nk, t->Dv, t->dvp, t->v_d, t->kv_dtype);
    fold_heads_f32(t, rw, &tr, h, 1, c0, (pf_target){pf.r, h}, scratch, o);
  }
}

void tk_paged_task_avx2(const tk_paged_task *t, float *scratch, tk_paged_partial *o) {
  int64_t nb = t->dec_keys;
  for (int64_t r = 0; r < t->nh * t->n; r++) {
    o->m[r] = -INFINITY;
    o->l[r] = 0.0f;
    for (int64_t d = 0; d < t->dvp; d++) o->acc[r * t->dvp + d] = 0.0f;
  }
  step_rows rows[2];
  if (t->kb < t->ke) find_rows(t, t->kb, t->ke - t->kb < nb ? t->ke - t->kb : nb, &rows[0]);
  for (int64_t c0 = t->kb, i = 0; c0 < t->ke; c0 += nb, i ^= 1) {
    int64_t more = c0 + nb < t->ke;
    if (more) /* the next step's page ids */
      find_rows(t, c0 + nb, t->ke - c0 - nb < nb ? t->ke - c0 - nb : nb, &rows[i ^ 1]);
    /* with t->prefetch: the next step's rows */
    pf_target pf = {t->prefetch && more ? &rows[i ^ 1] : NULL, 0};
    fold_step(t, &rows[i], c0, pf, scratch, o);
  }
  if (tk_paged_task_q_gain(t) != 1.0f) /* the V side's 2^60 (FP8_GAIN) */
    for (int64_t x = 0; x < t->nh * t->n * t->dvp; x++) o->acc[x] *= FP8_GAIN;
}
