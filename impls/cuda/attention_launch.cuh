/* attention_launch.cuh: host-side checks before launching an attention
 * kernel: grid size limits and the dynamic shared memory opt-in. */
#ifndef TK_IMPLS_CUDA_ATTENTION_LAUNCH_CUH
#define TK_IMPLS_CUDA_ATTENTION_LAUNCH_CUH

#include <cuda_runtime.h>

/* The current device's opt-in shared memory per block (bytes), 0 if the
 * runtime cannot say. */
static inline int tk_cuda_smem_optin(void) {
  int dev = 0, v = 0;
  if (cudaGetDevice(&dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev) != cudaSuccess)
    return 0;
  return v;
}

/* Readies `kernel` for a launch of `ctas` CTAs (1..2^31-1 along x) with
 * `smem` bytes of dynamic shared memory: raises the kernel's limit past the
 * default 48 KB when needed. cudaErrorInvalidConfiguration when the grid or
 * the memory does not fit the device. */
static inline cudaError_t tk_cuda_prepare_launch(const void *kernel, long long smem,
                                                 long long ctas) {
  if (ctas < 1 || ctas > 0x7fffffffLL) return cudaErrorInvalidConfiguration;
  if (smem > 48 * 1024) {
    if (smem > tk_cuda_smem_optin()) return cudaErrorInvalidConfiguration;
    return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
  }
  return cudaSuccess;
}

#endif
