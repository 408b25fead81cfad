/* tma_map.h: tensor maps of the copy engine (TMA) for tiles of 16-bit
 * tensors, encoded through the driver entry point the runtime hands out
 * (so libkernels does not link libcuda) and remembered per thread, keyed
 * by every argument of the encoding (pointer, dims, strides, box, type):
 * a repeated call on the same buffers encodes nothing. A map is a pure
 * function of those arguments, so a hit is exact. Plain C; impls/cuda only. */
#ifndef TK_IMPLS_CUDA_TMA_MAP_H
#define TK_IMPLS_CUDA_TMA_MAP_H

#include <cuda.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Tensor maps remembered by each thread (the oldest is replaced first). */
#define TK_TMA_MAP_CACHE 32

/* Fills *map with a tiled map of a row-major tensor of `rank` (2..5) dims of
 * 16-bit elements (bf16 when is_bf16, else f16) at base: dims[0] innermost
 * and contiguous, byte strides[i] of dim i + 1 (multiples of 16), box[]
 * elements per dim, 128-byte swizzle (box[0] * 2 must be 128), zero fill
 * outside the tensor. Returns 0 on success, else the driver's error (-1
 * when the driver has no cuTensorMapEncodeTiled); *map is then unspecified. */
int tk_tma_map_b16(CUtensorMap *map, int is_bf16, const void *base, int rank, const uint64_t *dims,
                   const uint64_t *strides, const uint32_t *box);

#ifdef __cplusplus
}
#endif

#endif
