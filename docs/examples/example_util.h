/* example_util.h: the few helpers every example program shares: random
 * data, wrapping an array as a DLTensor, and comparing results. */
#ifndef TK_EXAMPLE_UTIL_H
#define TK_EXAMPLE_UTIL_H

#include <math.h>
#include <stdint.h>

#include <tokamax.h>

/* A uniform random value in [-1, 1] that is never zero. */
static inline float rnd(unsigned *state) {
  *state = *state * 1664525u + 1013904223u;
  float x = (float)(*state >> 8) / 16777216.0f * 2.0f - 1.0f;
  return x == 0.0f ? 0.5f : x;
}

/* A contiguous (row-major: strides NULL) CPU tensor over data with the
 * given dtype code (kDLFloat, kDLInt, kDLBfloat) and bits. */
static inline DLTensor tensor(const void *data, uint8_t code, uint8_t bits, int ndim,
                              int64_t *shape) {
  DLTensor t = {0};
  t.data = (void *)data;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.dtype.code = code;
  t.dtype.bits = bits;
  t.dtype.lanes = 1;
  t.shape = shape;
  return t;
}

/* The largest |a[i] - b[i]|; infinity if any difference is NaN. */
static inline float max_diff(const float *a, const float *b, int n) {
  float m = 0;
  for (int i = 0; i < n; i++) {
    float e = fabsf(a[i] - b[i]);
    if (e != e) return INFINITY;
    if (e > m) m = e;
  }
  return m;
}

#endif
