/* record_common.c: device facts, the one-config rule and running an
 * enqueue on a tensor's device, for the CUDA records. */
#include "impls/cuda/record_common.h"

#include <cuda_runtime_api.h>
#include <stdio.h>
#include <string.h>

#include "impls/cuda/launch_cache.h"
#include "runtime/cuda/cuda_attr.h"
#include "runtime/cuda/cuda_memory.h"

long long tk_cuda_smem_limit(int device) {
  return tk_cuda_device_attr(device, cudaDevAttrMaxSharedMemoryPerBlockOptin);
}

int tk_cuda_cc_at_least(const tk_device_info *dev, int device, int major, int minor, char *why,
                        size_t len) {
  const tk_cuda_device *d = &dev->cuda[device];
  if (d->cc_major > major || (d->cc_major == major && d->cc_minor >= minor)) return 1;
  snprintf(why, len, "needs compute capability %d.%d, device %d (%s) has %d.%d", major, minor,
           device, d->name, d->cc_major, d->cc_minor);
  return 0;
}

int tk_cuda_kernel_fits(int compiled, long long need, long long limit, char *why, size_t len) {
  if (!compiled) {
    snprintf(why, len, "no kernel is compiled for this tile shape and head-dim bucket");
    return 0;
  }
  if (need > limit) {
    snprintf(why, len, "needs %lld bytes of shared memory per block, the device allows %lld", need,
             limit);
    return 0;
  }
  return 1;
}

int tk_cuda_only_config(const tk_config_space *s, const void *config, const void *only, char *why,
                        size_t len) {
  if (memcmp(config, only, s->size) == 0) return 1;
  size_t used = (size_t)snprintf(why, len, "this call takes the scalar path, whose only config is ");
  for (int i = 0; i < s->n_params && used < len; i++) {
    int v;
    memcpy(&v, (const char *)only + s->params[i].offset, sizeof v);
    used += (size_t)snprintf(why + used, len - used, "%s%s=%d", i ? "," : "", s->params[i].name, v);
  }
  return 0;
}

tk_status tk_cuda_enqueue_on(int device, int (*enqueue)(void *arg), void *arg, const char *what) {
  int prev;
  tk_status s = tk_cuda_use_device(device, &prev);
  if (s != TK_OK) return s;
  const int outer = tk_cuda_set_launch_device(device);
  int err = enqueue(arg);
  tk_cuda_set_launch_device(outer);
  tk_cuda_restore_device(prev);
  return tk_cuda_status(err, what);
}
