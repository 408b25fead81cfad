/* ceiling.h: the machine's limits, measured as benchmarks in the same run
 * as the rows they are compared with (docs/bench.md says how).
 *
 * CPU (every thread of the pool at once): float32 FMA peak, bf16 dot-product
 * peak (vdpbf16ps), memory copy bandwidth (streaming stores), memory read
 * bandwidth (loads only: the bound of a kernel that only reads). GPU (built with CUDA and a device
 * present): bf16 and float32 GEMM peak through cuBLAS, device copy
 * bandwidth. Each is a benchmark under the name below; read it back with
 * tk_bench_result_get and tk_ceiling_rate. */
#ifndef TK_BENCH_CEILING_H
#define TK_BENCH_CEILING_H

#include <stddef.h>
#include <stdint.h>

#include "bench/bench.h"
#include "runtime/thread_pool.h"

#define TK_CEIL_CPU_FMA_F32 "ceiling/cpu_fma_f32"
#define TK_CEIL_CPU_DOT_BF16 "ceiling/cpu_dot_bf16"
#define TK_CEIL_CPU_COPY "ceiling/cpu_copy"
#define TK_CEIL_CPU_READ "ceiling/cpu_read"
#define TK_CEIL_GPU_GEMM_BF16 "ceiling/gpu_gemm_bf16"
#define TK_CEIL_GPU_GEMM_F32 "ceiling/gpu_gemm_f32"
#define TK_CEIL_GPU_COPY "ceiling/gpu_copy"

/* Registers the four CPU ceilings, run on every thread of pool (which must
 * outlive tk_bench_run). The bf16 one declines, with the reason, on a CPU
 * without AVX512-BF16; the FMA one uses AVX-512, else AVX2+FMA, else
 * declines. */
void tk_ceiling_register_cpu(tk_pool *pool);

/* Registers the GPU ceilings (ceiling_gpu.c, built only with CUDA; call
 * only when a device is usable). */
void tk_ceiling_register_gpu(void);

/* The rate of a ceiling benchmark: for the compute peaks (FLOP/s) that of
 * its fastest repetition, since the peak is fixed by the hardware and
 * interference only ever lowers it; for the copy and read ceilings (bytes/s) that
 * of its median repetition, since memory bandwidth varies both ways from
 * one repetition to the next, so a lucky repetition is no bound. 0 when it
 * did not run or was skipped. */
double tk_ceiling_rate(const char *name);

/* Per-thread kernels (ceiling_*_avx512.c, ceiling_*_avx2.c): each runs
 * `iters` rounds of independent multiply-add chains on one core and
 * returns the floating-point operations done (2 per multiply-add). Call
 * only when tk_cpu_isa() has the instruction set of the file. */
double tk_ceiling_fma_f32_avx512(int64_t iters);
double tk_ceiling_fma_f32_avx2(int64_t iters);
double tk_ceiling_dot_bf16_avx512(int64_t iters);

/* Copies bytes (a multiple of 256; both pointers 64-byte aligned) with
 * non-temporal stores, on the calling thread (ceiling_copy_*.c). */
void tk_ceiling_copy_avx512(void *dst, const void *src, size_t bytes);
void tk_ceiling_copy_avx2(void *dst, const void *src, size_t bytes);

/* Reads bytes (a multiple of 256; src 64-byte aligned) on the calling
 * thread and returns the 64-bit sum of its words (so the loads stay). */
uint64_t tk_ceiling_read_avx512(const void *src, size_t bytes);
uint64_t tk_ceiling_read_avx2(const void *src, size_t bytes);

#endif
