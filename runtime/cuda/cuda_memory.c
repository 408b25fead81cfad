/* cuda_memory.c: CUDA errors as tk_status, device switching, device
 * workspace and the copies of runtime/cuda/cuda_memory.h. */
#include "runtime/cuda/cuda_memory.h"

#include <cuda_runtime_api.h>

#include "runtime/cuda/cuda_attr.h"
#include "runtime/status.h"

tk_status tk_cuda_status(int err, const char *what) {
  if (err == cudaSuccess) return TK_OK;
  cudaGetLastError(); /* clear a non-sticky error so later calls start clean */
  return tk_fail(err == cudaErrorMemoryAllocation ? TK_ERR_OUT_OF_MEMORY : TK_ERR_DEVICE, "%s: %s",
                 what, cudaGetErrorString((cudaError_t)err));
}

tk_status tk_cuda_use_device(int device, int *previous) {
  tk_status s = tk_cuda_status(cudaGetDevice(previous), "cudaGetDevice");
  if (s == TK_OK && *previous != device) s = tk_cuda_status(cudaSetDevice(device), "cudaSetDevice");
  return s;
}

void tk_cuda_restore_device(int previous) { cudaSetDevice(previous); }

/* 1 if `device` supports stream-ordered allocation (memory pools). */
static int has_pools(int device) {
  return tk_cuda_device_attr(device, cudaDevAttrMemoryPoolsSupported) != 0;
}

tk_status tk_cuda_workspace_alloc(int device, size_t bytes, void *stream, void **out) {
  int prev;
  *out = NULL;
  tk_status s = tk_cuda_use_device(device, &prev);
  if (s != TK_OK) return s;
  if (has_pools(device))
    s = tk_cuda_status(cudaMallocAsync(out, bytes, (cudaStream_t)stream), "cudaMallocAsync (workspace)");
  else
    s = tk_cuda_status(cudaMalloc(out, bytes), "cudaMalloc (workspace)");
  if (s != TK_OK) *out = NULL;
  tk_cuda_restore_device(prev);
  return s;
}

tk_status tk_cuda_workspace_free(int device, void *ptr, void *stream) {
  int prev;
  tk_status s = tk_cuda_use_device(device, &prev);
  if (s != TK_OK) return s;
  if (has_pools(device)) {
    s = tk_cuda_status(cudaFreeAsync(ptr, (cudaStream_t)stream), "cudaFreeAsync (workspace)");
  } else {
    s = tk_cuda_status(cudaStreamSynchronize((cudaStream_t)stream), "cudaStreamSynchronize");
    tk_status f = tk_cuda_status(cudaFree(ptr), "cudaFree (workspace)");
    if (s == TK_OK) s = f;
  }
  tk_cuda_restore_device(prev);
  return s;
}

tk_status tk_cuda_malloc(int device, size_t bytes, void **out) {
  int prev;
  *out = NULL;
  tk_status s = tk_cuda_use_device(device, &prev);
  if (s != TK_OK) return s;
  s = tk_cuda_status(cudaMalloc(out, bytes ? bytes : 1), "cudaMalloc");
  if (s != TK_OK) *out = NULL;
  tk_cuda_restore_device(prev);
  return s;
}

void tk_cuda_free(int device, void *ptr) {
  int prev;
  if (!ptr || tk_cuda_use_device(device, &prev) != TK_OK) return;
  cudaFree(ptr);
  tk_cuda_restore_device(prev);
}

tk_status tk_cuda_copy_to_device(void *dst, const void *src, size_t bytes) {
  return tk_cuda_status(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
}

tk_status tk_cuda_copy_to_host(void *dst, const void *src, size_t bytes) {
  return tk_cuda_status(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host");
}

tk_status tk_cuda_synchronize(int device) {
  int prev;
  tk_status s = tk_cuda_use_device(device, &prev);
  if (s != TK_OK) return s;
  s = tk_cuda_status(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  tk_cuda_restore_device(prev);
  return s;
}
