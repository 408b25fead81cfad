/* cuda_attr.c: the remembered device attributes of runtime/cuda/cuda_attr.h. */
#include "runtime/cuda/cuda_attr.h"

#include <cuda_runtime_api.h>
#include <stdatomic.h>

#include "runtime/device.h"

/* known[d][a] is 1 once value[d][a] holds the attribute (release/acquire
 * pairs order the value before the flag). Racing first queries both ask
 * the runtime and store the same value. */
static atomic_int known[TK_MAX_CUDA_DEVICES][TK_CUDA_ATTR_SLOTS];
static atomic_int value[TK_MAX_CUDA_DEVICES][TK_CUDA_ATTR_SLOTS];

int tk_cuda_device_attr(int device, int attr) {
  const int slot = device >= 0 && device < TK_MAX_CUDA_DEVICES && attr >= 0 && attr < TK_CUDA_ATTR_SLOTS;
  if (slot && atomic_load_explicit(&known[device][attr], memory_order_acquire))
    return atomic_load_explicit(&value[device][attr], memory_order_relaxed);
  int v = 0;
  if (cudaDeviceGetAttribute(&v, (enum cudaDeviceAttr)attr, device) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  if (slot) {
    atomic_store_explicit(&value[device][attr], v, memory_order_relaxed);
    atomic_store_explicit(&known[device][attr], 1, memory_order_release);
  }
  return v;
}
