/* cuda_memory.h: the CUDA runtime calls the library makes outside its
 * kernels: CUDA errors as tk_status, switching to a tensor's device,
 * stream-ordered device workspace, and the plain allocations and copies
 * the test harness uses. Plain C (cudaStream_t passed as void *); defined
 * only in CUDA builds (runtime/cuda/cuda_memory.c). */
#ifndef TK_IMPLS_CUDA_CUDA_MEMORY_H
#define TK_IMPLS_CUDA_CUDA_MEMORY_H

#include <stddef.h>

#include "tokamax.h"

/* TK_OK for err == cudaSuccess; else TK_ERR_OUT_OF_MEMORY (allocation
 * failures) or TK_ERR_DEVICE, with "<what>: <CUDA's message>" set as the
 * last error and the runtime's sticky error state cleared where it can be. */
tk_status tk_cuda_status(int err, const char *what);

/* Makes `device` current and stores the device that was current in
 * *previous, for tk_cuda_restore_device. */
tk_status tk_cuda_use_device(int device, int *previous);

/* Makes `previous` current again. */
void tk_cuda_restore_device(int previous);

/* Allocates bytes of device memory on `device`, ordered on `stream`
 * (cudaMallocAsync where the device has memory pools, else cudaMalloc), so
 * a call can be captured in a CUDA graph. *out is NULL on failure. */
tk_status tk_cuda_workspace_alloc(int device, size_t bytes, void *stream, void **out);

/* Frees a tk_cuda_workspace_alloc block once the work queued on `stream`
 * before this call is done (without waiting where pools are supported). */
tk_status tk_cuda_workspace_free(int device, void *ptr, void *stream);

/* Plain device allocation / free on `device` (for tests and tools). */
tk_status tk_cuda_malloc(int device, size_t bytes, void **out);
void tk_cuda_free(int device, void *ptr);

/* Synchronous copies between host and device memory. */
tk_status tk_cuda_copy_to_device(void *dst, const void *src, size_t bytes);
tk_status tk_cuda_copy_to_host(void *dst, const void *src, size_t bytes);

/* Waits for all work on `device`; reports a kernel fault as TK_ERR_DEVICE. */
tk_status tk_cuda_synchronize(int device);

#endif
