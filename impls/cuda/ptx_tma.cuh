/* ptx_tma.cuh: the sm_90 tensor copy engine (TMA), device side: 2-D and
 * 3-D tile loads into shared memory that complete on an mbarrier, and the
 * map prefetch. The maps themselves come from impls/cuda/tma_map.h. */
#ifndef TK_IMPLS_CUDA_PTX_TMA_CUH
#define TK_IMPLS_CUDA_PTX_TMA_CUH

#include <cuda.h>
#include <stdint.h>

#include "impls/cuda/ptx_cp_async.cuh"

/* Loads the box of `map` at element coordinates (c0 innermost, c1) into
 * shared dst (aligned as the map's swizzle requires); the bytes complete on
 * bar. Elements outside the tensor arrive as zeros. */
static __device__ __forceinline__ void tk_tma_load_2d(void *dst, const CUtensorMap *map,
                                                      uint64_t *bar, int32_t c0, int32_t c1) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes"
      " [%0], [%1, {%3, %4}], [%2];\n" ::"r"(tk_smem_u32(dst)),
      "l"((uint64_t)map), "r"(tk_smem_u32(bar)), "r"(c0), "r"(c1)
      : "memory");
}

/* As tk_tma_load_2d for a 3-D map (c2 outermost). */
static __device__ __forceinline__ void tk_tma_load_3d(void *dst, const CUtensorMap *map,
                                                      uint64_t *bar, int32_t c0, int32_t c1,
                                                      int32_t c2) {
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes"
      " [%0], [%1, {%3, %4, %5}], [%2];\n" ::"r"(tk_smem_u32(dst)),
      "l"((uint64_t)map), "r"(tk_smem_u32(bar)), "r"(c0), "r"(c1), "r"(c2)
      : "memory");
}

/* Hints the copy engine to fetch the map (a kernel parameter) early. */
static __device__ __forceinline__ void tk_tma_prefetch_map(const CUtensorMap *map) {
  asm volatile("prefetch.tensormap [%0];\n" ::"l"((uint64_t)map) : "memory");
}

#endif
