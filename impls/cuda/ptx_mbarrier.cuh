/* ptx_mbarrier.cuh: sm_90 shared-memory barriers (mbarrier) with
 * transaction counts, the proxy fences around them, and named barriers.
 * Device code only.
 *
 * Phases: a barrier initialised with count n completes its current phase
 * when n arrivals have happened and every expected transaction byte has
 * landed; waiting on parity p returns once the phase of parity p is
 * complete. A fresh barrier is in phase 0, so a wait on parity 1 returns at
 * once (the "previous" phase counts as complete). */
#ifndef TK_IMPLS_CUDA_PTX_MBARRIER_CUH
#define TK_IMPLS_CUDA_PTX_MBARRIER_CUH

#include <stdint.h>

#include "impls/cuda/ptx_cp_async.cuh"

/* Initialises the barrier at bar for `count` arrivals per phase. */
static __device__ __forceinline__ void tk_mbar_init(uint64_t *bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(tk_smem_u32(bar)), "r"(count)
               : "memory");
}

/* Makes barrier initialisations visible to the other threads and to the
 * asynchronous proxy (the copy engine); follow it with a block barrier. */
static __device__ __forceinline__ void tk_mbar_init_fence(void) {
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

/* One arrival that also announces tx_bytes more bytes to be awaited. */
static __device__ __forceinline__ void tk_mbar_arrive_expect_tx(uint64_t *bar, uint32_t tx_bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(tk_smem_u32(bar)),
               "r"(tx_bytes)
               : "memory");
}

/* One plain arrival. */
static __device__ __forceinline__ void tk_mbar_arrive(uint64_t *bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(tk_smem_u32(bar)) : "memory");
}

/* 1 when the phase of the given parity has completed (may wait a while in
 * hardware before answering 0). */
static __device__ __forceinline__ uint32_t tk_mbar_try_wait(uint64_t *bar, uint32_t parity) {
  uint32_t done;
  asm volatile(
      "{\n.reg .pred p;\n"
      "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
      "selp.u32 %0, 1, 0, p;\n}\n"
      : "=r"(done)
      : "r"(tk_smem_u32(bar)), "r"(parity)
      : "memory");
  return done;
}

/* Returns once the phase of the given parity has completed. */
static __device__ __forceinline__ void tk_mbar_wait(uint64_t *bar, uint32_t parity) {
  while (!tk_mbar_try_wait(bar, parity)) {
  }
}

/* Orders this thread's earlier ordinary shared-memory accesses before later
 * accesses by the asynchronous proxy (TMA, wgmma) and vice versa. */
static __device__ __forceinline__ void tk_fence_proxy_async_smem(void) {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

/* Block-level named barrier `id` (1..15; 0 is __syncthreads) over `count`
 * threads (a multiple of 32). */
static __device__ __forceinline__ void tk_named_barrier(uint32_t id, uint32_t count) {
  asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(count) : "memory");
}

#endif
