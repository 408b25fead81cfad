/* sm90a.c: the per-device sm_90a answer of impls/cuda/sm90a.h. */
#include "impls/cuda/sm90a.h"

#include <cuda_runtime_api.h>
#include <stdatomic.h>
#include <stdio.h>

#include "runtime/cuda/cuda_attr.h"
#include "runtime/device.h"

/* Per device: 0 not asked yet, 1 no, 2 yes. */
static atomic_int answer[TK_MAX_CUDA_DEVICES];

/* Asks the runtime which build of the probe it loads for `device`. */
static int probe(int device) {
  if (tk_cuda_device_attr(device, cudaDevAttrComputeCapabilityMajor) != 9 ||
      tk_cuda_device_attr(device, cudaDevAttrComputeCapabilityMinor) != 0)
    return 0;
  int current = 0;
  if (cudaGetDevice(&current) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  struct cudaFuncAttributes attr;
  cudaError_t e = current == device ? cudaSuccess : cudaSetDevice(device);
  if (e == cudaSuccess) e = cudaFuncGetAttributes(&attr, tk_cuda_sm90a_probe_kernel());
  if (current != device) cudaSetDevice(current);
  if (e != cudaSuccess) {
    cudaGetLastError(); /* no image for the device: not sm_90a */
    return 0;
  }
  /* sm_90 code may count the 1 KB the system reserves per block: compare modulo it */
  return attr.sharedSizeBytes % 1024 == TK_SM90A_PROBE_SMEM;
}

int tk_cuda_sm90a_available(int device) {
  if (device < 0 || device >= TK_MAX_CUDA_DEVICES) return 0;
  int a = atomic_load_explicit(&answer[device], memory_order_relaxed);
  if (a == 0) {
    a = probe(device) ? 2 : 1;
    atomic_store_explicit(&answer[device], a, memory_order_relaxed);
  }
  return a == 2;
}

int tk_cuda_sm90a_or_why(const tk_device_info *dev, int device, char *why, size_t len) {
  const tk_cuda_device *d = &dev->cuda[device];
  if (d->cc_major != 9 || d->cc_minor != 0) {
    snprintf(why, len,
             "unsupported: needs compute capability 9.0 (sm_90a: TMA, wgmma), device %d (%s) has %d.%d",
             device, d->name, d->cc_major, d->cc_minor);
    return 0;
  }
  if (!tk_cuda_sm90a_available(device)) {
    snprintf(why, len,
             "unsupported: built without sm_90a (the code this binary holds for device %d, %s, is "
             "not the sm_90a build; configure with CMAKE_CUDA_ARCHITECTURES including 90a)",
             device, d->name);
    return 0;
  }
  return 1;
}
