/* launch_cache.c: the launch device and the per-(kernel, device) shared
 * memory limits of impls/cuda/launch_cache.h.
 *
 * The limits live in an open-addressed table read without a lock: a slot's
 * device and limit are written before its kernel pointer is published
 * (release), and a reader that finds the kernel (acquire) sees them. Slots
 * are claimed and raised under one mutex, which also orders the runtime
 * calls. A full table leaves further kernels uncached (correct, slower). */
#include "impls/cuda/launch_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "runtime/cuda/cuda_attr.h"

#define TK_LAUNCH_SLOTS 1024 /* a power of two, well above the kernels x devices in use */

static _Thread_local int launch_device = -1;

int tk_cuda_set_launch_device(int device) {
  int old = launch_device;
  launch_device = device;
  return old;
}

int tk_cuda_launch_device(void) {
  if (launch_device >= 0) return launch_device;
  int d = -1;
  if (cudaGetDevice(&d) != cudaSuccess) {
    cudaGetLastError();
    return -1;
  }
  return d;
}

int tk_cuda_smem_optin(void) {
  return tk_cuda_device_attr(tk_cuda_launch_device(), cudaDevAttrMaxSharedMemoryPerBlockOptin);
}

typedef struct {
  _Atomic(uintptr_t) kernel; /* 0: free */
  atomic_int device;
  atomic_llong smem; /* the dynamic shared memory limit set on the kernel */
} limit_slot;

static limit_slot slots[TK_LAUNCH_SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

/* The slot of (kernel, device), or the free slot where it would go, or
 * NULL when the probe sequence finds neither. */
static limit_slot *find(uintptr_t kernel, int device) {
  uintptr_t h = (kernel >> 4) * 0x9E3779B97F4A7C15ull + (uintptr_t)device;
  for (int i = 0; i < 16; i++) {
    limit_slot *s = &slots[(h + (uintptr_t)i) & (TK_LAUNCH_SLOTS - 1)];
    uintptr_t k = atomic_load_explicit(&s->kernel, memory_order_acquire);
    if (k == 0 || (k == kernel && atomic_load_explicit(&s->device, memory_order_relaxed) == device))
      return s;
  }
  return NULL;
}

/* 1 if the slot already records a limit of at least smem for (kernel, device). */
static int covered(const limit_slot *s, uintptr_t kernel, int device, long long smem) {
  return s && atomic_load_explicit(&s->kernel, memory_order_acquire) == kernel &&
         atomic_load_explicit(&s->device, memory_order_relaxed) == device &&
         atomic_load_explicit(&s->smem, memory_order_relaxed) >= smem;
}

/* Sets the kernel's dynamic shared memory limit to smem on the launch
 * device and records it (device is that device). */
static cudaError_t raise_limit(const void *kernel, int device, long long smem) {
  const uintptr_t k = (uintptr_t)kernel;
  pthread_mutex_lock(&slots_lock);
  limit_slot *s = find(k, device);
  cudaError_t e = cudaSuccess;
  if (!covered(s, k, device, smem)) {
    e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e == cudaSuccess && s) {
      atomic_store_explicit(&s->smem, smem, memory_order_relaxed);
      if (atomic_load_explicit(&s->kernel, memory_order_relaxed) == 0) {
        atomic_store_explicit(&s->device, device, memory_order_relaxed);
        atomic_store_explicit(&s->kernel, k, memory_order_release);
      }
    }
  }
  pthread_mutex_unlock(&slots_lock);
  return e;
}

cudaError_t tk_cuda_prepare_launch(const void *kernel, long long smem, long long ctas) {
  if (ctas < 1 || ctas > 0x7fffffffLL) return cudaErrorInvalidConfiguration;
  if (smem <= 48 * 1024) return cudaSuccess;
  const int device = tk_cuda_launch_device();
  if (device < 0) return cudaErrorInvalidDevice;
  if (covered(find((uintptr_t)kernel, device), (uintptr_t)kernel, device, smem)) return cudaSuccess;
  if (smem > tk_cuda_device_attr(device, cudaDevAttrMaxSharedMemoryPerBlockOptin))
    return cudaErrorInvalidConfiguration;
  return raise_limit(kernel, device, smem);
}
