/* gemm_bf16_amx.c: an AMX-BF16 GEMM microkernel: a 32x32 float32 tile as
 * 2x2 tiles of 16x16 (tmm0..3), A from tmm4/5 (16 rows x 32 depth each), B
 * from tmm6/7 (16 depth pairs x 16 columns each, the AVX-512 bf16 pair
 * panels of width 32). UNTESTED on hardware (no AMX machine was available):
 * off unless TOKAMAX_AMX=1, see docs/cpu-gemm.md. */
#include <string.h>

#include "impls/cpu/gemm_avx512.h"

/* Tile register configuration (the ldtilecfg memory layout). */
typedef struct {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} amx_config;

/* Palette 1; tmm0..7 all 16 rows of 64 bytes. */
static const amx_config tile_config = {
    1, 0, {0}, {64, 64, 64, 64, 64, 64, 64, 64}, {16, 16, 16, 16, 16, 16, 16, 16}};

static void amx_enter(void) { _tile_loadconfig(&tile_config); }
static void amx_leave(void) { _tile_release(); }

/* Packs bfloat16 panels dst[panel][k/32][w][32] (rows of 32 depth steps,
 * one tile row each); see tk_gemm_pack_fn (kcp a multiple of 32). */
static void pack_a_amx(const tk_gemm_src *s, int64_t lines, int64_t kc, int64_t kcp, int w,
                       void *dst) {
  uint16_t *d = dst;
  const uint16_t *base = s->base;
  const int64_t panels = (lines + w - 1) / w;
  for (int64_t p = 0; p < panels; p++)
    for (int64_t c = 0; c < kcp / 32; c++)
      for (int v = 0; v < w; v++) {
        int64_t l = p * w + v, k0 = c * 32;
        uint16_t *row = d + ((p * kcp / 32 + c) * w + v) * 32;
        int64_t n = l < lines ? (kc - k0 < 32 ? kc - k0 : 32) : 0;
        if (n < 0) n = 0;
        if (s->ks == 1)
          memcpy(row, base + l * s->ls + k0, sizeof(uint16_t) * (size_t)n);
        else
          for (int64_t kk = 0; kk < n; kk++) row[kk] = base[l * s->ls + (k0 + kk) * s->ks];
        memset(row + n, 0, sizeof(uint16_t) * (size_t)(32 - n));
      }
}

/* The 32x32 microkernel (see tk_gemm_ukr_fn); needs amx_enter() first. */
static void ukr_amx_32x32(int64_t kcp, const void *ap, const void *bp, float *c, int64_t ldc,
                          int accumulate, int mv, int nv) {
  const char *a = ap, *b = bp;
  float out[32 * 32] __attribute__((aligned(64)));
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int64_t ch = 0; ch < kcp / 32; ch++) {
    _tile_loadd(4, a + ch * 2048, 64);
    _tile_loadd(5, a + ch * 2048 + 1024, 64);
    _tile_loadd(6, b + ch * 2048, 128);
    _tile_loadd(7, b + ch * 2048 + 64, 128);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, out, 128);
  _tile_stored(1, out + 16, 128);
  _tile_stored(2, out + 16 * 32, 128);
  _tile_stored(3, out + 16 * 32 + 16, 128);
  for (int i = 0; i < mv; i++)
    for (int v = 0; v < 2; v++) {
      __mmask16 m = tk512_mask(nv - v * 16 > 0 ? nv - v * 16 : 0);
      float *cp = c + i * ldc + v * 16;
      __m512 x = _mm512_load_ps(out + i * 32 + v * 16);
      if (accumulate) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m, cp));
      _mm512_mask_storeu_ps(cp, m, x);
    }
}

const tk_gemm_kernel tk_gemm_amx_bf16_32x32 = {
    "amx_bf16_32x32", 32, 32, 32, 2, pack_a_amx, tk_gemm_pack_bf16_avx512, ukr_amx_32x32,
    tk_gemm_store_avx512, amx_enter, amx_leave};
