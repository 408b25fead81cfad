/* tolerance.h: how close to the reference an output must be, per dtype
 * (docs/suites.md): every element within `loose`, all but 1% within
 * `tight`, of |actual - expected| / max(|expected|, scale). Shared by the
 * sweep's check, the regress case check and the gate. */
#ifndef TK_AUTOTUNE_TOLERANCE_H
#define TK_AUTOTUNE_TOLERANCE_H

#include "runtime/tensor.h"

static inline void tk_tolerance(tk_dtype d, double *loose, double *tight) {
  switch (d) {
    case TK_F16: *loose = 5e-3; *tight = 2e-3; break;
    case TK_BF16: *loose = 2e-2; *tight = 8e-3; break;
    default: *loose = 1e-4; *tight = 1e-5; break;
  }
}

#endif
