/* ptx_tma.cuh: the sm_90 tensor copy engine (TMA). Device side: 2-D and
 * 3-D tile loads into shared memory that complete on an mbarrier. Host
 * side: encoding a tiled tensor map through the driver entry point the
 * runtime hands out (so libkernels does not link libcuda). */
#ifndef TK_IMPLS_CUDA_PTX_TMA_CUH
#define TK_IMPLS_CUDA_PTX_TMA_CUH

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime.h>
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

/* cuTensorMapEncodeTiled from the driver, or NULL when the driver lacks it. */
static inline PFN_cuTensorMapEncodeTiled_v12000 tk_tma_encode_fn(void) {
  static PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void *p = nullptr;
    cudaDriverEntryPointQueryResult q;
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault,
                                         &q) != cudaSuccess ||
        q != cudaDriverEntryPointSuccess) {
      cudaGetLastError();
      p = nullptr;
    }
    return (PFN_cuTensorMapEncodeTiled_v12000)p;
  }();
  return fn;
}

/* Encodes a tiled map of a row-major tensor of `rank` (2 or 3) dims of 16-bit
 * elements (bf16 when is_bf16, else f16): dims[0] innermost (contiguous),
 * byte strides[i] of dim i+1 (multiples of 16), box[] elements per dim,
 * 128-byte swizzle (box[0] * 2 must be 128), zero fill outside. Returns 0 on
 * success. */
static inline int tk_tma_encode_b16(CUtensorMap *map, int is_bf16, const void *base, int rank,
                                    const uint64_t *dims, const uint64_t *strides,
                                    const uint32_t *box) {
  PFN_cuTensorMapEncodeTiled_v12000 encode = tk_tma_encode_fn();
  if (!encode) return -1;
  const cuuint32_t elem_strides[3] = {1, 1, 1};
  CUresult r = encode(map, is_bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16,
                      (cuuint32_t)rank, const_cast<void *>(base), (const cuuint64_t *)dims,
                      (const cuuint64_t *)strides, (const cuuint32_t *)box, elem_strides,
                      CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                      CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  return r == CUDA_SUCCESS ? 0 : (int)r;
}

#endif
