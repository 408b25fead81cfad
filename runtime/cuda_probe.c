/* cuda_probe.c: the CUDA devices, through the CUDA runtime API (C-callable).
 * A machine without a GPU or driver gets device count 0 and the reason. */
#include "runtime/device.h"

#include <stdio.h>

#if TK_HAVE_CUDA
#include <cuda_runtime_api.h>

/* An integer device attribute, 0 when the runtime does not report it. */
static int attribute(enum cudaDeviceAttr attr, int dev) {
  int v = 0;
  return cudaDeviceGetAttribute(&v, attr, dev) == cudaSuccess ? v : 0;
}

/* Fills one device record from its properties; 0 on failure. */
static int describe_device(int dev, tk_cuda_device *c) {
  struct cudaDeviceProp p;
  if (cudaGetDeviceProperties(&p, dev) != cudaSuccess) return 0;
  snprintf(c->name, sizeof c->name, "%s", p.name);
  c->sm_count = p.multiProcessorCount;
  c->cc_major = p.major;
  c->cc_minor = p.minor;
  c->total_memory = (int64_t)p.totalGlobalMem;
  c->l2_bytes = p.l2CacheSize;
  c->smem_per_block_optin = (int64_t)p.sharedMemPerBlockOptin;
  c->clock_khz = attribute(cudaDevAttrClockRate, dev);
  c->memory_clock_khz = attribute(cudaDevAttrMemoryClockRate, dev);
  c->memory_bus_width = p.memoryBusWidth;
  return 1;
}

void tk_cuda_probe(tk_device_info *out) {
  out->cuda_built = 1;
  out->cuda_device_count = 0;
  out->cuda_status[0] = '\0';
  cudaRuntimeGetVersion(&out->cuda_runtime_version);
  cudaDriverGetVersion(&out->cuda_driver_version); /* 0 when no driver is installed */
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n <= 0) {
    snprintf(out->cuda_status, sizeof out->cuda_status, "no CUDA device: %s",
             e != cudaSuccess ? cudaGetErrorString(e) : "none found");
    cudaGetLastError(); /* the failure is reported here; don't leave it sticky */
    return;
  }
  if (n > TK_MAX_CUDA_DEVICES) n = TK_MAX_CUDA_DEVICES;
  for (int i = 0; i < n; i++) {
    if (!describe_device(i, &out->cuda[i])) {
      snprintf(out->cuda_status, sizeof out->cuda_status, "device %d: %s", i,
               cudaGetErrorString(cudaGetLastError()));
      return;
    }
    out->cuda_device_count = i + 1;
  }
}
#else
void tk_cuda_probe(tk_device_info *out) {
  out->cuda_built = 0;
  out->cuda_device_count = 0;
  out->cuda_driver_version = out->cuda_runtime_version = 0;
  snprintf(out->cuda_status, sizeof out->cuda_status, "built without CUDA");
}
#endif
