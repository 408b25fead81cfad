/* attention_wgmma.cuh: the sm_90a pieces cuda_pipelined needs beyond
 * ptx_wgmma.cuh / ptx_tma.cuh: wgmma m64n64k16 with both operands in shared
 * memory, wgmma with A from registers and B N-major (transposed) in shared
 * memory (the P V product), register fences for those A fragments, and
 * 4-D TMA tile loads. Use them only in code compiled for sm_90a. */
#ifndef TK_IMPLS_CUDA_ATTENTION_WGMMA_CUH
#define TK_IMPLS_CUDA_ATTENTION_WGMMA_CUH

#include <stdint.h>

#include "impls/cuda/ptx_tma.cuh"
#include "impls/cuda/ptx_wgmma.cuh"

#define TK_ATTN_WG_REGS32 \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, " \
  "%18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"

#define TK_ATTN_WG_ACC32(d) \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), \
  "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), \
  "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), \
  "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), \
  "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])

/* d (64 x 64, float) = A B + (scale_d ? d : 0), A and B K-major in shared
 * memory: one k16 step of the calling warpgroup. */
template <bool IS_BF16>
static __device__ __forceinline__ void tk_wgmma_m64n64k16_ss(float (&d)[32], uint64_t desc_a,
                                                             uint64_t desc_b, int scale_d) {
  if (IS_BF16)
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {" TK_ATTN_WG_REGS32
                 "}, %32, %33, p, 1, 1, 0, 0;\n}\n"
                 : TK_ATTN_WG_ACC32(d)
                 : "l"(desc_a), "l"(desc_b), "r"(scale_d));
  else
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {" TK_ATTN_WG_REGS32
                 "}, %32, %33, p, 1, 1, 0, 0;\n}\n"
                 : TK_ATTN_WG_ACC32(d)
                 : "l"(desc_a), "l"(desc_b), "r"(scale_d));
}

/* d (64 x 64, float) += A B: A (64 x 16) from registers in the wgmma A
 * fragment layout (that of an m64 accumulator's 16 columns, packed in
 * pairs), B N-major in shared memory. */
template <bool IS_BF16>
static __device__ __forceinline__ void tk_wgmma_m64n64k16_rs(float (&d)[32], const uint32_t (&a)[4],
                                                             uint64_t desc_b) {
  if (IS_BF16)
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {" TK_ATTN_WG_REGS32
                 "}, {%32, %33, %34, %35}, %36, p, 1, 1, 1;\n}\n"
                 : TK_ATTN_WG_ACC32(d)
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(1));
  else
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {" TK_ATTN_WG_REGS32
                 "}, {%32, %33, %34, %35}, %36, p, 1, 1, 1;\n}\n"
                 : TK_ATTN_WG_ACC32(d)
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(1));
}

/* As tk_wgmma_m64n64k16_rs for a 64 x 128 product. */
template <bool IS_BF16>
static __device__ __forceinline__ void tk_wgmma_m64n128k16_rs(float (&d)[64], const uint32_t (&a)[4],
                                                              uint64_t desc_b) {
  if (IS_BF16)
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {" TK_WGMMA_REGS64
                 "}, {%64, %65, %66, %67}, %68, p, 1, 1, 1;\n}\n"
                 : TK_WGMMA_ACC64(d)
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(1));
  else
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {" TK_WGMMA_REGS64
                 "}, {%64, %65, %66, %67}, %68, p, 1, 1, 1;\n}\n"
                 : TK_WGMMA_ACC64(d)
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(1));
}

/* Marks the A fragments r as rewritten here, so writes to them after a
 * preceding tk_wgmma_wait stay after it (a wgmma in flight reads them). */
template <int N>
static __device__ __forceinline__ void tk_wgmma_fence_frags(uint32_t (&r)[N][4]) {
#pragma unroll
  for (int i = 0; i < N; i++)
#pragma unroll
    for (int j = 0; j < 4; j++) asm volatile("" : "+r"(r[i][j])::"memory");
}

/* Loads the box of a 4-D `map` at element coordinates (c0 innermost .. c3)
 * into shared dst; the bytes complete on bar, elements outside the tensor
 * arrive as zeros. */
static __device__ __forceinline__ void tk_tma_load_4d(void *dst, const CUtensorMap *map,
                                                      uint64_t *bar, int32_t c0, int32_t c1,
                                                      int32_t c2, int32_t c3) {
  asm volatile(
      "cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes"
      " [%0], [%1, {%3, %4, %5, %6}], [%2];\n" ::"r"(tk_smem_u32(dst)),
      "l"((uint64_t)map), "r"(tk_smem_u32(bar)), "r"(c0), "r"(c1), "r"(c2), "r"(c3)
      : "memory");
}

#endif
