/* cudart_stub.c: the counting CUDA runtime of cudart_stub.h. */
#include "tests/cuda/cudart_stub.h"

#include <cuda.h>
#include <cuda_runtime_api.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

tk_stub_device tk_stub_devices[TK_STUB_DEVICES] = {
    {9, 0, 232448, 272}, {9, 0, 232448, 272}, {9, 0, 232448, 272}, {9, 0, 232448, 272}};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static tk_stub_counts counts;
static _Thread_local int current;

/* The limits set by cudaFuncSetAttribute: (kernel, device) -> bytes. */
#define LIMITS 8192
static struct {
  const void *kernel;
  int device, bytes;
} limits[LIMITS];
static int n_limits;

static void count(long *c) {
  pthread_mutex_lock(&lock);
  (*c)++;
  pthread_mutex_unlock(&lock);
}

tk_stub_counts tk_stub_calls(void) {
  pthread_mutex_lock(&lock);
  tk_stub_counts c = counts;
  pthread_mutex_unlock(&lock);
  return c;
}

long tk_stub_total(tk_stub_counts c) {
  return c.get_device + c.set_device + c.device_attr + c.func_set_attr + c.func_get_attrs +
         c.entry_point + c.encode;
}

int tk_stub_kernel_limit(const void *kernel, int device) {
  int v = 0;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < n_limits; i++)
    if (limits[i].kernel == kernel && limits[i].device == device) v = limits[i].bytes;
  pthread_mutex_unlock(&lock);
  return v;
}

cudaError_t cudaGetDevice(int *device) {
  count(&counts.get_device);
  *device = current;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  count(&counts.set_device);
  if (device < 0 || device >= TK_STUB_DEVICES) return cudaErrorInvalidDevice;
  current = device;
  return cudaSuccess;
}

cudaError_t cudaGetLastError(void) { return cudaSuccess; }

cudaError_t cudaDeviceGetAttribute(int *value, enum cudaDeviceAttr attr, int device) {
  count(&counts.device_attr);
  if (device < 0 || device >= TK_STUB_DEVICES) return cudaErrorInvalidDevice;
  const tk_stub_device *d = &tk_stub_devices[device];
  switch (attr) {
    case cudaDevAttrComputeCapabilityMajor: *value = d->cc_major; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMinor: *value = d->cc_minor; return cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = d->smem_optin; return cudaSuccess;
    default: return cudaErrorInvalidValue;
  }
}

cudaError_t cudaFuncSetAttribute(const void *func, enum cudaFuncAttribute attr, int value) {
  count(&counts.func_set_attr);
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize) return cudaErrorInvalidValue;
  pthread_mutex_lock(&lock);
  int i = 0;
  while (i < n_limits && !(limits[i].kernel == func && limits[i].device == current)) i++;
  if (i == n_limits && n_limits < LIMITS) n_limits++;
  if (i < LIMITS) {
    limits[i].kernel = func;
    limits[i].device = current;
    limits[i].bytes = value;
  }
  pthread_mutex_unlock(&lock);
  return cudaSuccess;
}

cudaError_t cudaFuncGetAttributes(struct cudaFuncAttributes *attr, const void *func) {
  (void)func;
  count(&counts.func_get_attrs);
  memset(attr, 0, sizeof *attr);
  attr->sharedSizeBytes = (size_t)tk_stub_devices[current].probe_smem;
  return cudaSuccess;
}

/* The probe kernel's address: any unique pointer will do. */
static const char probe_kernel;
const void *tk_cuda_sm90a_probe_kernel(void) { return &probe_kernel; }

/* A fake cuTensorMapEncodeTiled: fills the map with a digest of its
 * arguments, so equal maps mean equal arguments. */
static CUresult encode(CUtensorMap *map, CUtensorMapDataType type, cuuint32_t rank, void *base,
                       const cuuint64_t *dims, const cuuint64_t *strides, const cuuint32_t *box,
                       const cuuint32_t *elem_strides, CUtensorMapInterleave il,
                       CUtensorMapSwizzle sw, CUtensorMapL2promotion l2,
                       CUtensorMapFloatOOBfill oob) {
  (void)elem_strides;
  count(&counts.encode);
  if (rank < 1 || rank > 5 || box[0] * 2 != 128) return CUDA_ERROR_INVALID_VALUE;
  uint64_t h = 1469598103934665603ull;
#define MIX(x) (h = (h ^ (uint64_t)(x)) * 1099511628211ull)
  MIX(type), MIX(rank), MIX((uintptr_t)base), MIX(il), MIX(sw), MIX(l2), MIX(oob);
  for (cuuint32_t i = 0; i < rank; i++) MIX(dims[i]), MIX(box[i]), MIX(i + 1 < rank ? strides[i] : 0);
#undef MIX
  for (size_t i = 0; i < sizeof map->opaque / sizeof map->opaque[0]; i++) map->opaque[i] = h + i;
  return CUDA_SUCCESS;
}

cudaError_t cudaGetDriverEntryPointByVersion(const char *symbol, void **fn, unsigned int version,
                                             unsigned long long flags,
                                             enum cudaDriverEntryPointQueryResult *status) {
  (void)version;
  (void)flags;
  count(&counts.entry_point);
  if (strcmp(symbol, "cuTensorMapEncodeTiled") != 0) {
    *fn = NULL;
    if (status) *status = cudaDriverEntryPointSymbolNotFound;
    return cudaSuccess;
  }
  *fn = (void *)encode;
  if (status) *status = cudaDriverEntryPointSuccess;
  return cudaSuccess;
}
