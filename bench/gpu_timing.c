/* gpu_timing.c: CUDA device presence, CUDA-event timing and an L2 flush for
 * the rows that run on a GPU. Built only with CUDA. */
#include "bench/gpu_timing.h"

#include <cuda_runtime.h>
#include <stdio.h>

int tk_gpu_available(char *why, size_t why_len) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n == 0) {
    snprintf(why, why_len, "no CUDA device (%s)", e != cudaSuccess ? cudaGetErrorString(e) : "none found");
    return 0;
  }
  return 1;
}

tk_status tk_gpu_time_plan(tk_plan *plan, const void *args, double *secs) {
  static cudaEvent_t start, stop;
  if (!start && (cudaEventCreate(&start) != cudaSuccess || cudaEventCreate(&stop) != cudaSuccess))
    return TK_ERR_DEVICE;
  cudaEventRecord(start, 0);
  tk_status st = tk_plan_run(plan, args);
  cudaEventRecord(stop, 0);
  if (cudaEventSynchronize(stop) != cudaSuccess) return TK_ERR_DEVICE;
  float ms = 0;
  cudaEventElapsedTime(&ms, start, stop);
  if (st == TK_OK) *secs = 1e-3 * ms;
  return st;
}

void tk_gpu_flush_l2(void) {
  static void *buf;
  static size_t bytes;
  if (!buf) {
    int l2 = 0;
    cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, 0);
    bytes = 2 * (size_t)(l2 > 0 ? l2 : 64 << 20);
    if (cudaMalloc(&buf, bytes) != cudaSuccess) {
      buf = NULL;
      return;
    }
  }
  cudaMemsetAsync(buf, 1, bytes, 0);
}
