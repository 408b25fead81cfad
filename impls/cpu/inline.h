/* inline.h: TK_INLINE, for the small SIMD helpers and tiles whose constant
 * arguments (dtype, tile shape) must be folded at every call: inlined
 * whatever the compiler's size heuristics say (GCC also drops calls to a
 * non-inlined function of nothing but prefetches as free of effects);
 * TK_NOINLINE for the instances such inlining builds, one per dtype. */
#ifndef TK_CPU_INLINE_H
#define TK_CPU_INLINE_H

#define TK_INLINE static inline __attribute__((always_inline))

/* A function kept out of line (where inlining one big instance per
 * dtype into one caller costs the register allocator more than a call). */
#define TK_NOINLINE __attribute__((noinline))

#endif
