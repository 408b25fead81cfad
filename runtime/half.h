/* half.h: float16 and bfloat16 conversions (round to nearest even) and
 * loading/storing any data dtype as float or double. */
#ifndef TK_RUNTIME_HALF_H
#define TK_RUNTIME_HALF_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "runtime/tensor.h"

/* The float of a bfloat16 bit pattern (exact). */
static inline float tk_bf16_to_f32(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* The bfloat16 nearest f (ties to even); NaN stays a quiet NaN. */
static inline uint16_t tk_f32_to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

/* The float of an IEEE binary16 bit pattern (exact). */
static inline float tk_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  uint32_t u;
  if (exp == 0) {
    if (man == 0) {
      u = sign;
    } else { /* subnormal: normalise */
      int e = -1;
      do { man <<= 1; e++; } while (!(man & 0x400u));
      u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | (man << 13);
  } else {
    u = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* The binary16 nearest f (ties to even), overflowing to infinity. */
static inline uint16_t tk_f32_to_f16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);      /* NaN */
  if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);     /* rounds to >= 65520: inf */
  if (a < 0x38800000u) {                                       /* subnormal or zero in f16 */
    if (a < 0x33000000u) return sign;                          /* below half the smallest subnormal */
    uint32_t man = (a & 0x7fffffu) | 0x800000u;
    int shift = 126 - (int)(a >> 23);                          /* 14..24 */
    uint32_t q = man >> shift;
    uint32_t rem = man & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return (uint16_t)(sign | q);
  }
  uint32_t r = a + 0xfffu + ((a >> 13) & 1u);                  /* round mantissa to 10 bits */
  return (uint16_t)(sign | (((r >> 13) - ((127 - 15) << 10)) & 0x7fffu));
}

/* The float of a float8 e4m3fn bit pattern (exact; S.1111.111 is NaN). */
static inline float tk_fp8_to_f32(uint8_t b) {
  uint32_t e = (b >> 3) & 0xfu, m = b & 7u;
  float mag;
  if ((b & 0x7fu) == 0x7fu) {
    uint32_t nan = 0x7fc00000u;
    memcpy(&mag, &nan, 4);
  } else {
    mag = e ? (float)(8u + m) * (float)(1u << e) / 1024.0f : (float)m / 512.0f; /* 2^(e-7) 1.m; 2^-6 0.m */
  }
  return b & 0x80u ? -mag : mag;
}

/* The float8 e4m3fn nearest f (ties to even), saturating to +-448; NaN
 * gives the NaN pattern. */
static inline uint8_t tk_f32_to_fp8(float f) {
  if (f != f) return 0x7fu;
  uint8_t sign = signbit(f) ? 0x80u : 0u;
  float a = fabsf(f);
  long bits;
  if (a < 0x1p-6f) {
    bits = lrintf(a * 512.0f); /* subnormal: 0.m 2^-6; 8 rounds up to the smallest normal */
  } else if (a >= 464.0f) {
    bits = 0x7e; /* past the midpoint of 448 and (absent) 480 */
  } else {
    int e;
    frexpf(a, &e); /* a in [2^(e-1), 2^e): fp8 exponent field e + 6 */
    bits = ((long)(e + 6) << 3) + lrintf(ldexpf(a, 4 - e)) - 8; /* carry moves into the exponent */
  }
  if (bits > 0x7e) bits = 0x7e;
  return (uint8_t)(sign | (uint8_t)bits);
}

/* Loads element p of dtype d (a data dtype, or an 8-bit cache dtype: its
 * value before the scale) as float. */
static inline float tk_load_f32(const void *p, tk_dtype d) {
  switch (d) {
    case TK_F16: return tk_f16_to_f32(*(const uint16_t *)p);
    case TK_BF16: return tk_bf16_to_f32(*(const uint16_t *)p);
    case TK_FP8_E4M3: return tk_fp8_to_f32(*(const uint8_t *)p);
    case TK_I8: return (float)*(const int8_t *)p;
    default: return *(const float *)p;
  }
}

/* Stores x into element p of dtype d, rounding to nearest even (int8:
 * clamped to [-127,127], NaN to 0). */
static inline void tk_store_f32(void *p, tk_dtype d, float x) {
  switch (d) {
    case TK_F16: *(uint16_t *)p = tk_f32_to_f16(x); break;
    case TK_BF16: *(uint16_t *)p = tk_f32_to_bf16(x); break;
    case TK_FP8_E4M3: *(uint8_t *)p = tk_f32_to_fp8(x); break;
    case TK_I8: *(int8_t *)p = (int8_t)(x != x ? 0 : x > 127.0f ? 127 : x < -127.0f ? -127 : (int)lrintf(x)); break;
    default: *(float *)p = x; break;
  }
}

#endif
