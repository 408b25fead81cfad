/* gemm_avx512.h: what the AVX-512 and AMX GEMM files share: the packers,
 * the tile store and the microkernels' write-back. Include only from files
 * compiled with AVX-512 flags (*_avx512.c, *_amx.c). */
#ifndef TK_CPU_GEMM_AVX512_H
#define TK_CPU_GEMM_AVX512_H

#include "impls/cpu/gemm.h"
#include "impls/cpu/simd_avx512.h"

/* Float32 panels dst[k][w] from any source dtype (tk_gemm_pack_fn). */
void tk_gemm_pack_f32_avx512(const tk_gemm_src *s, int64_t lines, int64_t kc, int64_t kcp, int w,
                             void *dst);

/* bfloat16 pair panels dst[k/2][w][2] from a bfloat16 source
 * (tk_gemm_pack_fn; kcp even). */
void tk_gemm_pack_bf16_avx512(const tk_gemm_src *s, int64_t lines, int64_t kc, int64_t kcp, int w,
                              void *dst);

/* tk_gemm_store_fn with AVX-512 conversions. */
void tk_gemm_store_avx512(const float *c, int64_t ldc, int64_t rows, int64_t cols, void *out,
                          int64_t out_rs, tk_dtype dt);

/* Where 16 consecutive lines l0 .. l0+15 of a pack go in panels of width w
 * (>= 8) and `panel` 32-bit elements each: the first lanes to panel l0 / w
 * from its lane l0 % w, the rest (up to n lanes in all) to the start of the
 * next panel. */
typedef struct {
  int64_t first, second; /* element offsets of lane 0 for depth row 0 */
  __mmask16 m1, m2;      /* the lanes each panel takes */
} tk_gemm_lines16;

static inline tk_gemm_lines16 tk_gemm_lines16_at(int64_t l0, int64_t n, int w, int64_t panel) {
  int64_t pa = l0 / w, la = l0 % w, n1 = w - la < 16 ? w - la : 16;
  tk_gemm_lines16 s;
  s.first = pa * panel + la;
  s.second = (pa + 1) * panel - n1;
  s.m1 = tk512_mask(n < n1 ? n : n1);
  s.m2 = (__mmask16)(tk512_mask(n) & ~tk512_mask(n1));
  return s;
}

/* Stores x, depth row `row` of the lines s describes, into panels of width
 * w of 32-bit elements at d. */
static inline void tk_gemm_store_lines16(float *d, const tk_gemm_lines16 *s, int64_t row, int w,
                                         __m512 x) {
  _mm512_mask_storeu_ps(d + s->first + row * w, s->m1, x);
  if (s->m2) _mm512_mask_storeu_ps(d + s->second + row * w, s->m2, x);
}

/* In a microkernel (tk_gemm_ukr_fn arguments in scope): starts loading the
 * rows < mv of its MR x NV*16 tile of c into L1. */
#define TK_GEMM_UKR_PREFETCH_C_AVX512(MR, NV)                                 \
  for (int i = 0; i < (MR) && i < mv; i++)                                  \
    for (int v = 0; v < (NV); v++) _mm_prefetch((const char *)(c + i * ldc + v * 16), _MM_HINT_T0);

/* In a microkernel with __m512 acc[MR][NV] and the tk_gemm_ukr_fn
 * arguments in scope: adds (accumulate) or writes the accumulators to c,
 * rows < mv and columns < nv only. Loops are unrolled so that acc stays in
 * registers. */
#define TK_GEMM_UKR_STORE_AVX512(MR, NV)                                          \
  if (mv == (MR) && nv == (NV) * 16) {                                            \
    _Pragma("GCC unroll 16") for (int i = 0; i < (MR); i++)                       \
        _Pragma("GCC unroll 4") for (int v = 0; v < (NV); v++) {                  \
      float *cp_ = c + i * ldc + v * 16;                                          \
      __m512 x_ = acc[i][v];                                                      \
      if (accumulate) x_ = _mm512_add_ps(x_, _mm512_loadu_ps(cp_));               \
      _mm512_storeu_ps(cp_, x_);                                                  \
    }                                                                             \
  } else {                                                                        \
    _Pragma("GCC unroll 16") for (int i = 0; i < (MR); i++)                       \
        _Pragma("GCC unroll 4") for (int v = 0; v < (NV); v++) {                  \
      if (i >= mv) continue;                                                      \
      __mmask16 m_ = tk512_mask(nv - v * 16 > 0 ? nv - v * 16 : 0);                \
      float *cp_ = c + i * ldc + v * 16;                                          \
      __m512 x_ = acc[i][v];                                                      \
      if (accumulate) x_ = _mm512_add_ps(x_, _mm512_maskz_loadu_ps(m_, cp_));     \
      _mm512_mask_storeu_ps(cp_, m_, x_);                                         \
    }                                                                             \
  }

#endif
