/* gemm_f32_avx512.c: AVX-512 float32 GEMM microkernels (14x32 and 8x48,
 * FMA with broadcast A), the float32 panel packer (any source dtype and
 * strides; f16 through F16C, bf16 by shifting) and the tile store. */
#include <string.h>

#include "impls/cpu/gemm_avx512.h"
#include "runtime/half.h"

/* Depth steps a contiguous-lines pack reads per pass over its panels: 16
 * rows in flight at once keep more of the source streaming from memory
 * (about 1.4x the rate of going row by row here). */
enum { PACK_STEPS = 16 };

/* The n (may be <= 0 or >= 16) elements at p as floats, other lanes 0. */
static inline __attribute__((always_inline)) __m512 load_upto(const char *p, tk_dtype dt,
                                                              int64_t n) {
  if (n >= 16) return tk512_load(p, dt);
  return n > 0 ? tk512_load_n(p, dt, n) : _mm512_setzero_ps();
}

/* Stores the first n (1..16 or more) lanes of x at p. */
static inline __attribute__((always_inline)) void store_upto(float *p, __m512 x, int64_t n) {
  if (n >= 16)
    _mm512_storeu_ps(p, x);
  else
    _mm512_mask_storeu_ps(p, tk512_mask(n), x);
}

/* tk_gemm_pack_f32_avx512 for source dtype dt (a constant once inlined). */
static inline __attribute__((always_inline)) void pack_f32(const tk_gemm_src *s, int64_t lines,
                                                           int64_t kc, int64_t kcp, int w,
                                                           float *d, tk_dtype dt) {
  const char *base = s->base;
  const int64_t es = tk_dtype_size(dt), panels = (lines + w - 1) / w, panel = w * kcp;
  const int64_t ls = s->ls, ks = s->ks;
  if (ls == 1) { /* each depth step is a contiguous run of lines */
    const int64_t full = w % 16 == 0 ? lines / w : 0; /* panels copied with whole vectors */
    for (int64_t k0 = 0; k0 < kc; k0 += PACK_STEPS) {
      const int64_t k1 = k0 + PACK_STEPS < kc ? k0 + PACK_STEPS : kc;
      for (int64_t p = 0; p < full; p++)
        for (int64_t k = k0; k < k1; k++) {
          const char *row = base + (k * ks + p * w) * es;
          for (int v = 0; v < w; v += 16)
            _mm512_storeu_ps(d + p * panel + k * w + v, tk512_load(row + v * es, dt));
        }
      for (int64_t p = full; p < panels; p++)
        for (int64_t k = k0; k < k1; k++)
          for (int v = 0; v < w; v += 16) {
            int64_t l = p * w + v;
            __m512 x = load_upto(base + (k * ks + l) * es, dt, lines - l);
            store_upto(d + p * panel + k * w + v, x, w - v);
          }
    }
  } else if (ks == 1) { /* each line is contiguous in depth: transpose 16 x 16 blocks */
    for (int64_t l0 = 0; l0 < panels * w; l0 += 16) { /* 16 lines, across panels */
      int64_t nl = lines - l0;
      tk_gemm_lines16 at = tk_gemm_lines16_at(l0, panels * w - l0, w, panel);
      for (int64_t k0 = 0; k0 < kc; k0 += 16) {
        int64_t nk = kc - k0 < 16 ? kc - k0 : 16;
        __m512 r[16];
        for (int i = 0; i < 16; i++)
          r[i] = i < nl ? load_upto(base + ((l0 + i) * ls + k0) * es, dt, nk) : _mm512_setzero_ps();
        tk512_transpose16(r);
        for (int64_t j = 0; j < nk; j++) tk_gemm_store_lines16(d, &at, k0 + j, w, r[j]);
      }
    }
  } else {
    for (int64_t p = 0; p < panels; p++)
      for (int64_t k = 0; k < kc; k++)
        for (int v = 0; v < w; v++) {
          int64_t l = p * w + v;
          d[p * panel + k * w + v] =
              l < lines ? tk_load_f32(base + (l * ls + k * ks) * es, dt) : 0.0f;
        }
  }
  for (int64_t p = 0; p < panels; p++)
    memset(d + p * panel + kc * w, 0, sizeof(float) * (size_t)((kcp - kc) * w));
}

/* Packs panels dst[panel][k][w] of floats (see tk_gemm_pack_fn). */
void tk_gemm_pack_f32_avx512(const tk_gemm_src *s, int64_t lines, int64_t kc, int64_t kcp, int w,
                             void *dst) {
  switch (s->dt) {
    case TK_F16: pack_f32(s, lines, kc, kcp, w, dst, TK_F16); break;
    case TK_BF16: pack_f32(s, lines, kc, kcp, w, dst, TK_BF16); break;
    default: pack_f32(s, lines, kc, kcp, w, dst, TK_F32); break;
  }
}

void tk_gemm_store_avx512(const float *c, int64_t ldc, int64_t rows, int64_t cols, void *out,
                          int64_t out_rs, tk_dtype dt) {
  const int64_t es = tk_dtype_size(dt);
  for (int64_t i = 0; i < rows; i++) {
    char *o = (char *)out + i * out_rs * es;
    for (int64_t n = 0; n < cols; n += 16)
      tk512_store_n(o + n * es, dt, _mm512_loadu_ps(c + i * ldc + n), cols - n);
  }
}

/* An MR x (NV*16) float32 microkernel (see tk_gemm_ukr_fn). */
#define DEFINE_UKR_F32(NAME, MR, NV)                                                      \
  static void NAME(int64_t kc, const void *ap, const void *bp, float *c, int64_t ldc,     \
                   int accumulate, int mv, int nv) {                                      \
    const float *a = ap, *b = bp;                                                         \
    __m512 acc[MR][NV];                                                                   \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                 \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps(); \
    TK_GEMM_UKR_PREFETCH_C_AVX512(MR, NV)                                                 \
    for (int64_t k = 0; k < kc; k++) {                                                    \
      __m512 bv[NV];                                                                      \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) bv[v] = _mm512_loadu_ps(b + v * 16); \
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                             \
        __m512 av = _mm512_set1_ps(a[i]);                                                 \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                              \
            acc[i][v] = _mm512_fmadd_ps(bv[v], av, acc[i][v]);                            \
      }                                                                                   \
      a += MR;                                                                            \
      b += NV * 16;                                                                       \
    }                                                                                     \
    TK_GEMM_UKR_STORE_AVX512(MR, NV)                                                              \
  }

DEFINE_UKR_F32(ukr_f32_14x32, 14, 2)
DEFINE_UKR_F32(ukr_f32_8x48, 8, 3)

const tk_gemm_kernel tk_gemm_avx512_f32_14x32 = {
    "avx512_f32_14x32", 14, 32, 1, 4, tk_gemm_pack_f32_avx512, tk_gemm_pack_f32_avx512,
    ukr_f32_14x32, tk_gemm_store_avx512, NULL, NULL};
const tk_gemm_kernel tk_gemm_avx512_f32_8x48 = {
    "avx512_f32_8x48", 8, 48, 1, 4, tk_gemm_pack_f32_avx512, tk_gemm_pack_f32_avx512,
    ukr_f32_8x48, tk_gemm_store_avx512, NULL, NULL};
