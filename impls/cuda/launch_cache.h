/* launch_cache.h: what a CUDA kernel launch asks of the runtime, asked
 * once: the device the calling thread's enqueue runs on, each device's
 * opt-in shared memory per block, and each (kernel, device)'s raised
 * dynamic shared memory limit. After the first launch of a kernel on a
 * device, tk_cuda_prepare_launch makes no runtime call at all (counted by
 * tests/cuda/test_launch_cache.c). Plain C, thread-safe; impls/cuda only. */
#ifndef TK_IMPLS_CUDA_LAUNCH_CACHE_H
#define TK_IMPLS_CUDA_LAUNCH_CACHE_H

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Makes `device` (>= 0) the device the calling thread's launches go to,
 * or forgets it (-1); returns the value it replaces. tk_cuda_enqueue_on
 * sets it around each enqueue (after making the device current). */
int tk_cuda_set_launch_device(int device);

/* The device set by tk_cuda_set_launch_device, else the runtime's current
 * device; -1 when the runtime cannot say. */
int tk_cuda_launch_device(void);

/* The opt-in shared memory per block of the launch device (bytes), 0 when
 * the runtime cannot say. */
int tk_cuda_smem_optin(void);

/* Readies `kernel` for a launch of `ctas` CTAs (1..2^31-1 along x) with
 * `smem` bytes of dynamic shared memory on the launch device: raises the
 * kernel's limit past the default 48 KB when needed, once per (kernel,
 * device) and again only when a later launch needs more.
 * cudaErrorInvalidConfiguration when the grid or the memory does not fit
 * the device. */
cudaError_t tk_cuda_prepare_launch(const void *kernel, long long smem, long long ctas);

#ifdef __cplusplus
}
#endif

#endif
