/* ptx_wgmma.cuh: sm_90a warpgroup matrix multiply (wgmma) with operands in
 * shared memory: matrix descriptors for 128-byte-swizzled tiles, the
 * fence / commit / wait protocol, register-count hand-off between
 * warpgroups (setmaxnreg), and m64n128k16 / m64n256k16 with float
 * accumulators. Device code only; use it only in code compiled for sm_90a.
 *
 * Shared-memory tiles (16-bit elements, 128-byte swizzle as TMA writes them
 * with CU_TENSOR_MAP_SWIZZLE_128B, tile base 1024-byte aligned):
 *   K-major: rows of 64 K-elements (128 B) one after another; 8-row groups
 *     1024 B apart (SBO = 1024; LBO unused). The k16 step j starts at +32 j.
 *   MN-major: rows of 64 MN-elements (128 B), one row per K index; 8-row
 *     (8 K) groups 1024 B apart (SBO), further 64-element MN blocks LBO
 *     bytes apart. The k16 step j starts at +2048 j.
 * Accumulator layout (m64nN, float, per warpgroup thread; w = warp in the
 * warpgroup, lane as usual): d[i] is row 16 w + lane / 4 + 8 ((i / 2) % 2),
 * column 8 (i / 4) + 2 (lane % 4) + i % 2. */
#ifndef TK_IMPLS_CUDA_PTX_WGMMA_CUH
#define TK_IMPLS_CUDA_PTX_WGMMA_CUH

#include <stdint.h>

#include "impls/cuda/ptx_cp_async.cuh"

/* The descriptor of a 128-byte-swizzled tile starting at shared address
 * `addr` with leading / stride byte offsets lbo / sbo (multiples of 16). */
static __device__ __forceinline__ uint64_t tk_wgmma_desc_sw128(uint32_t addr, uint32_t lbo,
                                                               uint32_t sbo) {
  uint64_t d = 0;
  d |= (uint64_t)((addr & 0x3FFFF) >> 4);
  d |= (uint64_t)((lbo & 0x3FFFF) >> 4) << 16;
  d |= (uint64_t)((sbo & 0x3FFFF) >> 4) << 32;
  d |= (uint64_t)1 << 62; /* swizzle mode 1: 128 bytes; base offset 0 */
  return d;
}

/* Orders earlier register writes of this warpgroup before the wgmma that
 * follows (needed before the first wgmma touching freshly written
 * accumulators). */
static __device__ __forceinline__ void tk_wgmma_fence(void) {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}

/* Closes the group of wgmma operations issued since the last commit. */
static __device__ __forceinline__ void tk_wgmma_commit(void) {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}

/* Waits until at most N committed wgmma groups are pending. */
template <int N>
static __device__ __forceinline__ void tk_wgmma_wait(void) {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

/* Marks the n accumulators as rewritten here, so the compiler keeps their
 * uses after a preceding tk_wgmma_wait (and their definitions before it). */
template <int NREG>
static __device__ __forceinline__ void tk_wgmma_fence_regs(float (&d)[NREG]) {
#pragma unroll
  for (int i = 0; i < NREG; i++) asm volatile("" : "+f"(d[i])::"memory");
}

/* Lowers this warpgroup's register budget to N per thread. */
template <int N>
static __device__ __forceinline__ void tk_setmaxnreg_dec(void) {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N));
}

/* Raises this warpgroup's register budget to N per thread. */
template <int N>
static __device__ __forceinline__ void tk_setmaxnreg_inc(void) {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N));
}

#define TK_WGMMA_REGS64 \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"

#define TK_WGMMA_ACC64(d) \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
  "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
  "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), \
  "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), \
  "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
  "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), \
  "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
  "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])

#define TK_WGMMA_REGS128 \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, " \
  "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, " \
  "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, " \
  "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, " \
  "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"

#define TK_WGMMA_ACC128(d) \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
  "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
  "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), \
  "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), \
  "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
  "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), \
  "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
  "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), \
  "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]), \
  "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), \
  "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), \
  "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), \
  "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), \
  "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]), \
  "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]), \
  "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])

/* d (64 x 128, float) = A * B + (scale_d ? d : 0): one k16 step of the
 * calling warpgroup. IS_BF16: bf16 (else f16) inputs; TA = 1: A M-major
 * (else K-major); TB = 1: B N-major (else K-major). */
template <bool IS_BF16, int TA, int TB>
static __device__ __forceinline__ void tk_wgmma_m64n128k16(float (&d)[64], uint64_t desc_a,
                                                           uint64_t desc_b, int scale_d) {
  if (IS_BF16)
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {" TK_WGMMA_REGS64
                 "}, %64, %65, p, 1, 1, %67, %68;\n}\n"
                 : TK_WGMMA_ACC64(d)
                 : "l"(desc_a), "l"(desc_b), "r"(scale_d), "n"(TA), "n"(TB));
  else
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {" TK_WGMMA_REGS64
                 "}, %64, %65, p, 1, 1, %67, %68;\n}\n"
                 : TK_WGMMA_ACC64(d)
                 : "l"(desc_a), "l"(desc_b), "r"(scale_d), "n"(TA), "n"(TB));
}

/* d (64 x 256, float) = A * B + (scale_d ? d : 0): one k16 step of the
 * calling warpgroup. IS_BF16: bf16 (else f16) inputs; TA = 1: A M-major
 * (else K-major); TB = 1: B N-major (else K-major). */
template <bool IS_BF16, int TA, int TB>
static __device__ __forceinline__ void tk_wgmma_m64n256k16(float (&d)[128], uint64_t desc_a,
                                                           uint64_t desc_b, int scale_d) {
  if (IS_BF16)
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {" TK_WGMMA_REGS128
                 "}, %128, %129, p, 1, 1, %131, %132;\n}\n"
                 : TK_WGMMA_ACC128(d)
                 : "l"(desc_a), "l"(desc_b), "r"(scale_d), "n"(TA), "n"(TB));
  else
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16 {" TK_WGMMA_REGS128
                 "}, %128, %129, p, 1, 1, %131, %132;\n}\n"
                 : TK_WGMMA_ACC128(d)
                 : "l"(desc_a), "l"(desc_b), "r"(scale_d), "n"(TA), "n"(TB));
}

#endif
