/* gemm_bf16_avx512.c: AVX512-BF16 GEMM microkernels (14x32 and 8x48 on
 * vdpbf16ps, two depth steps per instruction, float32 accumulators) and the
 * bfloat16 pair packer they (and the AMX kernel's B side) read. */
#include <string.h>

#include "impls/cpu/gemm_avx512.h"

/* Depth pairs a contiguous-lines pack reads per pass over its panels: 16
 * rows in flight at once keep more of the source streaming from memory
 * (about 2x the rate of going one row pair at a time here). */
enum { PACK_PAIRS = 8 };

/* All 32 16-bit lanes up to n (0..32). */
static __mmask32 mask32(int64_t n) {
  return n >= 32 ? (__mmask32)0xffffffffu : (__mmask32)((1u << n) - 1u);
}

/* Packs panels dst[panel][k/2][w] of 32-bit pairs (lo: even k, hi: odd k). */
void tk_gemm_pack_bf16_avx512(const tk_gemm_src *s, int64_t lines, int64_t kc, int64_t kcp, int w,
                              void *dst) {
  uint32_t *d = dst;
  const uint16_t *base = s->base;
  const int64_t pairs = (kc + 1) / 2, panels = (lines + w - 1) / w, panel = w * kcp / 2;
  if (s->ls == 1) { /* each depth step is a contiguous run of lines: interleave two steps */
    const int64_t full = w % 16 == 0 ? lines / w : 0; /* panels copied with whole vectors */
    for (int64_t kp0 = 0; kp0 < pairs; kp0 += PACK_PAIRS)
      for (int64_t p = 0; p < panels; p++)
        for (int64_t kp = kp0; kp < pairs && kp < kp0 + PACK_PAIRS; kp++) {
          const uint16_t *r0 = base + 2 * kp * s->ks, *r1 = r0 + s->ks;
          uint32_t *dk = d + p * panel + kp * w;
          if (p < full && 2 * kp + 1 < kc) {
            for (int v = 0; v < w; v += 16) {
              const __m256i *e0 = (const __m256i *)(r0 + p * w + v);
              const __m256i *e1 = (const __m256i *)(r1 + p * w + v);
              __m512i lo = _mm512_cvtepu16_epi32(_mm256_loadu_si256(e0));
              __m512i hi = _mm512_cvtepu16_epi32(_mm256_loadu_si256(e1));
              _mm512_storeu_si512(dk + v, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
            }
            continue;
          }
          for (int v = 0; v < w; v += 16) {
            int64_t l = p * w + v;
            __mmask16 m = tk512_mask(lines - l > 0 ? lines - l : 0);
            __m512i lo = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, r0 + l));
            __m512i hi = 2 * kp + 1 < kc
                             ? _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, r1 + l))
                             : _mm512_setzero_si512();
            _mm512_mask_storeu_epi32(dk + v, tk512_mask(w - v),
                                     _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
          }
        }
  } else if (s->ks == 1) { /* each line is contiguous in depth: transpose 16 x 16 pairs */
    for (int64_t l0 = 0; l0 < panels * w; l0 += 16) { /* 16 lines, across panels */
      int64_t nl = lines - l0;
      tk_gemm_lines16 at = tk_gemm_lines16_at(l0, panels * w - l0, w, panel);
      for (int64_t kp0 = 0; kp0 < pairs; kp0 += 16) {
        int64_t np = pairs - kp0 < 16 ? pairs - kp0 : 16;
        __mmask32 m = mask32(kc - 2 * kp0);
        __m512 r[16];
        for (int i = 0; i < 16; i++)
          r[i] = i < nl ? _mm512_castsi512_ps(
                              _mm512_maskz_loadu_epi16(m, base + (l0 + i) * s->ls + 2 * kp0))
                        : _mm512_setzero_ps();
        tk512_transpose16(r);
        for (int64_t j = 0; j < np; j++) tk_gemm_store_lines16((float *)d, &at, kp0 + j, w, r[j]);
      }
    }
  } else {
    for (int64_t p = 0; p < panels; p++)
      for (int64_t kp = 0; kp < pairs; kp++)
        for (int v = 0; v < w; v++) {
          int64_t l = p * w + v;
          const uint16_t *e = base + l * s->ls + 2 * kp * s->ks;
          uint32_t lo = l < lines ? e[0] : 0, hi = l < lines && 2 * kp + 1 < kc ? e[s->ks] : 0;
          d[p * panel + kp * w + v] = lo | hi << 16;
        }
  }
  for (int64_t p = 0; p < panels; p++)
    memset(d + p * panel + pairs * w, 0, sizeof(uint32_t) * (size_t)((kcp / 2 - pairs) * w));
}

/* An MR x (NV*16) bfloat16 microkernel over kcp/2 pairs (see tk_gemm_ukr_fn). */
#define DEFINE_UKR_BF16(NAME, MR, NV)                                                     \
  static void NAME(int64_t kcp, const void *ap, const void *bp, float *c, int64_t ldc,    \
                   int accumulate, int mv, int nv) {                                      \
    const uint32_t *a = ap;                                                               \
    const __m512i *b = bp;                                                                \
    __m512 acc[MR][NV];                                                                   \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                 \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps(); \
    TK_GEMM_UKR_PREFETCH_C_AVX512(MR, NV)                                                 \
    for (int64_t kp = 0; kp < kcp / 2; kp++) {                                            \
      __m512bh bv[NV];                                                                    \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                                \
          bv[v] = (__m512bh)_mm512_loadu_si512(b + v);                                    \
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                             \
        __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[i]);                             \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                              \
            acc[i][v] = _mm512_dpbf16_ps(acc[i][v], bv[v], av);                           \
      }                                                                                   \
      a += MR;                                                                            \
      b += NV;                                                                            \
    }                                                                                     \
    TK_GEMM_UKR_STORE_AVX512(MR, NV)                                                      \
  }

DEFINE_UKR_BF16(ukr_bf16_14x32, 14, 2)
DEFINE_UKR_BF16(ukr_bf16_8x48, 8, 3)

const tk_gemm_kernel tk_gemm_avx512_bf16_14x32 = {
    "avx512_bf16_14x32", 14, 32, 2, 2, tk_gemm_pack_bf16_avx512, tk_gemm_pack_bf16_avx512,
    ukr_bf16_14x32, tk_gemm_store_avx512, NULL, NULL};
const tk_gemm_kernel tk_gemm_avx512_bf16_8x48 = {
    "avx512_bf16_8x48", 8, 48, 2, 2, tk_gemm_pack_bf16_avx512, tk_gemm_pack_bf16_avx512,
    ukr_bf16_8x48, tk_gemm_store_avx512, NULL, NULL};
