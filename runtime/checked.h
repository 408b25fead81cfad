/* checked.h: size arithmetic that reports overflow instead of wrapping.
 * Every product or sum of sizes, strides, element or byte counts that
 * caller input can make large (validation, case building, scratch sizing)
 * goes through these. Each *_fits helper stores the exact result in *out
 * and returns 1 when it is representable, else returns 0 (*out is then
 * unspecified). */
#ifndef TK_RUNTIME_CHECKED_H
#define TK_RUNTIME_CHECKED_H

#include <stddef.h>
#include <stdint.h>

/* a * b in int64. */
static inline int tk_mul_fits(int64_t a, int64_t b, int64_t *out) {
  return !__builtin_mul_overflow(a, b, out);
}

/* a + b in int64. */
static inline int tk_add_fits(int64_t a, int64_t b, int64_t *out) {
  return !__builtin_add_overflow(a, b, out);
}

/* a - b in int64. */
static inline int tk_sub_fits(int64_t a, int64_t b, int64_t *out) {
  return !__builtin_sub_overflow(a, b, out);
}

/* a * b + c in int64. */
static inline int tk_mul_add_fits(int64_t a, int64_t b, int64_t c, int64_t *out) {
  return tk_mul_fits(a, b, out) && tk_add_fits(*out, c, out);
}

/* The bytes of n elements of elem_size bytes each, as a size_t: 0 when n
 * is negative or the product does not fit. */
static inline int tk_array_bytes_fit(int64_t n, size_t elem_size, size_t *out) {
  if (n < 0) return 0;
  return !__builtin_mul_overflow((uint64_t)n, elem_size, out);
}

/* a + b in size_t (byte counts). */
static inline int tk_size_add_fits(size_t a, size_t b, size_t *out) {
  return !__builtin_add_overflow(a, b, out);
}

/* a * b for a, b >= 0, saturating at INT64_MAX (a bound to compare
 * against, never a size to allocate). */
static inline int64_t tk_mul_saturated(int64_t a, int64_t b) {
  int64_t r;
  return tk_mul_fits(a, b, &r) ? r : INT64_MAX;
}

#endif
