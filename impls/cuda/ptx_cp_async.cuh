/* ptx_cp_async.cuh: sm_80 asynchronous global -> shared copies (cp.async)
 * of 16 bytes with zero fill, their commit groups, and shared-memory
 * address conversion. Device code only; shared by the CUDA kernels. */
#ifndef TK_IMPLS_CUDA_PTX_CP_ASYNC_CUH
#define TK_IMPLS_CUDA_PTX_CP_ASYNC_CUH

#include <stdint.h>

/* The shared-state-space address of a generic pointer into shared memory. */
static __device__ __forceinline__ uint32_t tk_smem_u32(const void *p) {
  return (uint32_t)__cvta_generic_to_shared(p);
}

/* Starts copying src_bytes (0..16) from global src to the 16 bytes at
 * shared dst and zero-fills the rest; src_bytes == 0 reads nothing. dst and
 * src are 16-byte aligned (src may be any valid address when src_bytes is 0). */
static __device__ __forceinline__ void tk_cp_async16(void *dst, const void *src, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(tk_smem_u32(dst)),
               "l"(__cvta_generic_to_global(src)), "r"(src_bytes)
               : "memory");
}

/* Closes the group of copies started by this thread since the last commit. */
static __device__ __forceinline__ void tk_cp_async_commit(void) {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}

/* Waits until at most N of this thread's committed groups are pending. */
template <int N>
static __device__ __forceinline__ void tk_cp_async_wait(void) {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

/* tk_cp_async_wait with a run-time count (0..3; larger counts wait for 3). */
static __device__ __forceinline__ void tk_cp_async_wait_n(int n) {
  switch (n) {
    case 0: tk_cp_async_wait<0>(); break;
    case 1: tk_cp_async_wait<1>(); break;
    case 2: tk_cp_async_wait<2>(); break;
    default: tk_cp_async_wait<3>(); break;
  }
}

#endif
