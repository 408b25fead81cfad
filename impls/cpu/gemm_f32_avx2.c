/* gemm_f32_avx2.c: AVX2+FMA float32 GEMM microkernels (6x16 and 4x24,
 * broadcast A), the float32 panel packer (any source dtype and strides; f16
 * through F16C, bf16 by shifting) and the tile store: the fallback for CPUs
 * without AVX-512. */
#include <string.h>

#include "impls/cpu/gemm.h"
#include "impls/cpu/simd_avx2.h"
#include "runtime/half.h"

/* Depth steps a contiguous-lines pack reads per pass over its panels (16
 * rows streaming at once; see gemm_f32_avx512.c). */
enum { PACK_STEPS = 16 };

/* The first n (may be <= 0 or >= 8) lanes of p as floats, others 0. */
static __m256 load_upto(const void *p, tk_dtype dt, int64_t n) {
  return n <= 0 ? _mm256_setzero_ps() : tk256_load_n(p, dt, n);
}

/* Stores the first n (1..8) lanes of v at p (float32). */
static void store_f32_n(float *p, __m256 v, int64_t n) {
  if (n >= 8) {
    _mm256_storeu_ps(p, v);
    return;
  }
  float t[8];
  _mm256_storeu_ps(t, v);
  memcpy(p, t, sizeof(float) * (size_t)n);
}

/* Packs panels dst[panel][k][w] of floats (see tk_gemm_pack_fn). */
static void pack_f32_avx2(const tk_gemm_src *s, int64_t lines, int64_t kc, int64_t kcp, int w,
                          void *dst) {
  float *d = dst;
  const char *base = s->base;
  const int64_t es = tk_dtype_size(s->dt), panels = (lines + w - 1) / w, panel = w * kcp;
  if (s->ls == 1) { /* each depth step is a contiguous run of lines: PACK_STEPS at a time */
    for (int64_t k0 = 0; k0 < kc; k0 += PACK_STEPS)
      for (int64_t p = 0; p < panels; p++)
        for (int64_t k = k0; k < kc && k < k0 + PACK_STEPS; k++)
          for (int v = 0; v < w; v += 8) {
            int64_t l = p * w + v;
            store_f32_n(d + p * panel + k * w + v,
                        load_upto(base + (k * s->ks + l) * es, s->dt, lines - l), w - v);
          }
  } else if (s->ks == 1) { /* each line is contiguous in depth: transpose 8 x 8 blocks */
    for (int64_t p = 0; p < panels; p++)
      for (int v = 0; v < w; v += 8) {
        int64_t l0 = p * w + v;
        for (int64_t k0 = 0; k0 < kc; k0 += 8) {
          int64_t nk = kc - k0 < 8 ? kc - k0 : 8;
          __m256 r[8];
          for (int i = 0; i < 8; i++)
            r[i] = l0 + i < lines && i < w - v
                       ? load_upto(base + ((l0 + i) * s->ls + k0) * es, s->dt, nk)
                       : _mm256_setzero_ps();
          tk256_transpose8(r);
          for (int64_t j = 0; j < nk; j++)
            store_f32_n(d + p * panel + (k0 + j) * w + v, r[j], w - v);
        }
      }
  } else {
    for (int64_t p = 0; p < panels; p++)
      for (int64_t k = 0; k < kc; k++)
        for (int v = 0; v < w; v++) {
          int64_t l = p * w + v;
          d[p * panel + k * w + v] =
              l < lines ? tk_load_f32(base + (l * s->ls + k * s->ks) * es, s->dt) : 0.0f;
        }
  }
  for (int64_t p = 0; p < panels; p++)
    memset(d + p * panel + kc * w, 0, sizeof(float) * (size_t)((kcp - kc) * w));
}

/* tk_gemm_store_fn with AVX2/F16C conversions. */
static void store_avx2(const float *c, int64_t ldc, int64_t rows, int64_t cols, void *out,
                       int64_t out_rs, tk_dtype dt) {
  const int64_t es = tk_dtype_size(dt);
  for (int64_t i = 0; i < rows; i++) {
    char *o = (char *)out + i * out_rs * es;
    for (int64_t n = 0; n < cols; n += 8)
      tk256_store_n(o + n * es, dt, _mm256_loadu_ps(c + i * ldc + n), cols - n);
  }
}

/* An MR x (NV*8) float32 microkernel (see tk_gemm_ukr_fn). */
#define DEFINE_UKR_AVX2(NAME, MR, NV)                                                     \
  static void NAME(int64_t kc, const void *ap, const void *bp, float *c, int64_t ldc,     \
                   int accumulate, int mv, int nv) {                                      \
    const float *a = ap, *b = bp;                                                         \
    __m256 acc[MR][NV];                                                                   \
    _Pragma("GCC unroll 8") for (int i = 0; i < MR; i++)                                  \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) acc[i][v] = _mm256_setzero_ps(); \
    for (int64_t k = 0; k < kc; k++) {                                                    \
      __m256 bv[NV];                                                                      \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) bv[v] = _mm256_loadu_ps(b + v * 8); \
      _Pragma("GCC unroll 8") for (int i = 0; i < MR; i++) {                              \
        __m256 av = _mm256_broadcast_ss(a + i);                                           \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                              \
            acc[i][v] = _mm256_fmadd_ps(bv[v], av, acc[i][v]);                            \
      }                                                                                   \
      a += MR;                                                                            \
      b += NV * 8;                                                                        \
    }                                                                                     \
    if (mv == MR && nv == NV * 8) {                                                       \
      _Pragma("GCC unroll 8") for (int i = 0; i < MR; i++)                                \
          _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) {                          \
        float *cp = c + i * ldc + v * 8;                                                  \
        __m256 x = acc[i][v];                                                             \
        if (accumulate) x = _mm256_add_ps(x, _mm256_loadu_ps(cp));                        \
        _mm256_storeu_ps(cp, x);                                                          \
      }                                                                                   \
      return;                                                                             \
    }                                                                                     \
    float t[MR][NV * 8];                                                                  \
    _Pragma("GCC unroll 8") for (int i = 0; i < MR; i++)                                  \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                              \
            _mm256_storeu_ps(&t[i][v * 8], acc[i][v]);                                    \
    for (int i = 0; i < mv; i++)                                                          \
      for (int n = 0; n < nv; n++)                                                        \
        c[i * ldc + n] = (accumulate ? c[i * ldc + n] : 0.0f) + t[i][n];                  \
  }

DEFINE_UKR_AVX2(ukr_f32_6x16, 6, 2)
DEFINE_UKR_AVX2(ukr_f32_4x24, 4, 3)

const tk_gemm_kernel tk_gemm_avx2_f32_6x16 = {"avx2_f32_6x16", 6, 16, 1, 4, pack_f32_avx2,
                                              pack_f32_avx2, ukr_f32_6x16, store_avx2, NULL, NULL};
const tk_gemm_kernel tk_gemm_avx2_f32_4x24 = {"avx2_f32_4x24", 4, 24, 1, 4, pack_f32_avx2,
                                              pack_f32_avx2, ukr_f32_4x24, store_avx2, NULL, NULL};
