/* gemm.h: the CPU grouped GEMM: strided operand views, the packed-panel
 * microkernels of each instruction set (gemm_*_avx2.c, gemm_*_avx512.c,
 * gemm_*_amx.c) and the threaded driver that runs them (gemm_driver.c).
 *
 * Every microkernel computes an MR x NR float32 tile C += A_panel * B_panel
 * from two packed panels. Packing copies a block of rows of A (or columns of
 * B) and a depth range from any strided source of any data dtype into
 * panels of MR rows (NR columns) in the kernel's packed format, zero-filling
 * the last panel past its end and the depth up to a multiple of the
 * kernel's k_align. Design notes: docs/cpu-gemm.md. */
#ifndef TK_CPU_GEMM_H
#define TK_CPU_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/problem.h"
#include "runtime/thread_pool.h"

/* A strided 2-D operand seen as lines (rows of A, columns of B) by depth
 * (the reduction index): element (l, k) is at base + l*ls + k*ks elements. */
typedef struct {
  const void *base;
  int64_t ls, ks;
  tk_dtype dt;
} tk_gemm_src;

/* Packs lines [0, lines) and depth [0, kc) of s into ceil(lines / w)
 * consecutive panels of the kernel's format, each w lines by kcp depth, at
 * dst; lines past `lines` and depth in [kc, kcp) are zeros. kcp is kc
 * rounded up to the kernel's k_align. */
typedef void (*tk_gemm_pack_fn)(const tk_gemm_src *s, int64_t lines, int64_t kc, int64_t kcp, int w,
                                void *dst);

/* C[0..mv) x [0..nv) (= or +=, per accumulate) the product of an A panel and
 * a B panel of packed depth kcp; c is float32 with row stride ldc and unit
 * column stride. mv <= MR, nv <= NR; only those elements of c are touched. */
typedef void (*tk_gemm_ukr_fn)(int64_t kcp, const void *a, const void *b, float *c, int64_t ldc,
                               int accumulate, int mv, int nv);

/* Writes rows x cols float32 values (row stride ldc) to out (row stride
 * out_rs elements, unit column stride) in dtype dt, rounding to nearest
 * even. */
typedef void (*tk_gemm_store_fn)(const float *c, int64_t ldc, int64_t rows, int64_t cols, void *out,
                                 int64_t out_rs, tk_dtype dt);

/* One microkernel with its packers. */
typedef struct {
  const char *name;          /* e.g. "avx512_f32_14x32" */
  int mr, nr;                /* tile of C one call computes */
  int k_align;               /* packed depth is a multiple of this */
  int elem_bytes;            /* bytes per packed element (4 f32, 2 bf16) */
  tk_gemm_pack_fn pack_a, pack_b;
  tk_gemm_ukr_fn ukr;
  tk_gemm_store_fn store;
  void (*enter)(void);       /* per-thread setup before ukr (AMX tile config), or NULL */
  void (*leave)(void);       /* per-thread teardown, or NULL */
} tk_gemm_kernel;

/* Kernels per instruction set (defined in the ISA files; call only on a CPU
 * with that ISA, see tk_cpu_isa()). */
extern const tk_gemm_kernel tk_gemm_avx512_f32_14x32, tk_gemm_avx512_f32_8x48;
extern const tk_gemm_kernel tk_gemm_avx512_bf16_14x32, tk_gemm_avx512_bf16_8x48;
extern const tk_gemm_kernel tk_gemm_avx2_f32_6x16, tk_gemm_avx2_f32_4x24;
extern const tk_gemm_kernel tk_gemm_amx_bf16_32x32;

/* Instruction-set choices of the cpu grouped GEMM (the values of its isa
 * config parameter: vector bits, 1024 for AMX tiles). */
typedef enum {
  TK_GEMM_ISA_AVX2 = 256,
  TK_GEMM_ISA_AVX512 = 512,
  TK_GEMM_ISA_AMX = 1024
} tk_gemm_isa;

/* The kernel for (isa, shape, input dtype) on a CPU with the TK_ISA_* bits
 * cpu_isa, or NULL when that CPU cannot run it (or shape does not exist for
 * isa). AVX-512 with bf16 inputs uses vdpbf16ps when the CPU has
 * AVX512-BF16, else converts to float32 while packing; f16 inputs always
 * convert while packing. */
const tk_gemm_kernel *tk_gemm_kernel_for(tk_gemm_isa isa, int shape, tk_dtype dt,
                                         unsigned cpu_isa);

/* Blocking of one call: task tiles of tm x tn outputs (rounded up to whole
 * kernel panels) and depth blocks of kc. */
typedef struct {
  int64_t kc, tm, tn;
} tk_gemm_blocking;

/* Computes the grouped GEMM p with kernel k and blocking b, splitting work
 * items (group, row tile, column tile) over pool (NULL: calling thread).
 * Every output element is reduced by one task in a fixed order, so results
 * do not depend on the thread count or timing. Returns TK_ERR_OUT_OF_MEMORY
 * when scratch cannot be allocated. */
tk_status tk_gemm_grouped(const tk_grouped_gemm_problem *p, const tk_gemm_kernel *k,
                          const tk_gemm_blocking *b, tk_pool *pool);

#endif
