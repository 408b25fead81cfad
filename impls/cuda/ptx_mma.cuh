/* ptx_mma.cuh: sm_80 warp-level tensor-core operations: ldmatrix loads of
 * 8x8 b16 matrices from shared memory and mma.sync m16n8k16 with float
 * accumulators for bf16 and f16. Device code only.
 *
 * Fragment layouts (lane = threadIdx.x % 32, g = lane / 4, t = lane % 4):
 *   A (16x16, row-major): a[0] = (g, 2t..2t+1), a[1] = (g+8, 2t..),
 *                         a[2] = (g, 2t+8..),   a[3] = (g+8, 2t+8..)
 *   B (16x8, "col"):      b[0] = (k 2t..2t+1, n g), b[1] = (k 2t+8.., n g)
 *   C (16x8, float):      c[0..1] = (g, 2t..2t+1), c[2..3] = (g+8, 2t..2t+1) */
#ifndef TK_IMPLS_CUDA_PTX_MMA_CUH
#define TK_IMPLS_CUDA_PTX_MMA_CUH

#include <stdint.h>

#include "impls/cuda/ptx_cp_async.cuh"

/* Loads four 8x8 b16 matrices; lane l gives the address of row l % 8 of
 * matrix l / 8 (16-byte aligned); r[i] receives matrix i's fragment
 * (row lane / 4, elements 2 (lane % 4) and the next). */
static __device__ __forceinline__ void tk_ldmatrix_x4(uint32_t r[4], const void *row_addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(tk_smem_u32(row_addr)));
}

/* As tk_ldmatrix_x4, but each matrix is transposed on the way: r[i] holds
 * (column lane / 4, rows 2 (lane % 4) and the next) of the stored matrix. */
static __device__ __forceinline__ void tk_ldmatrix_x4_trans(uint32_t r[4], const void *row_addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(tk_smem_u32(row_addr)));
}

/* c += a * b for one m16n8k16 tile; IS_BF16 selects bf16 (else f16) inputs. */
template <bool IS_BF16>
static __device__ __forceinline__ void tk_mma_16816(float c[4], const uint32_t a[4],
                                                    const uint32_t b[2]) {
  if (IS_BF16)
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, "
        "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  else
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, "
        "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

#endif
