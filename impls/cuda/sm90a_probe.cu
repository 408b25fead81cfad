/* sm90a_probe.cu: the probe kernel of impls/cuda/sm90a.h. Its sm_90a build
 * (the one that defines __CUDA_ARCH_FEAT_SM90_ALL) holds a static shared
 * array of TK_SM90A_PROBE_SMEM bytes; every other build holds none. It is
 * never launched for its result; a launch computes a harmless copy. */
#include "impls/cuda/sm90a.h"

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define TK_SM90A_PROBE_MARKED 1
#else
#define TK_SM90A_PROBE_MARKED 0
#endif

/* out[t] = t for each thread t (via the marker array in the sm_90a build). */
__global__ void tk_sm90a_probe(int *out) {
#if TK_SM90A_PROBE_MARKED
  constexpr int N = TK_SM90A_PROBE_SMEM / 4;
  __shared__ int mark[N];
  for (int i = threadIdx.x; i < N; i += blockDim.x) mark[i] = i;
  __syncthreads();
  if (out) out[threadIdx.x] = threadIdx.x < N ? mark[threadIdx.x] : threadIdx.x;
#else
  if (out) out[threadIdx.x] = threadIdx.x;
#endif
}

extern "C" const void *tk_cuda_sm90a_probe_kernel(void) { return (const void *)tk_sm90a_probe; }
