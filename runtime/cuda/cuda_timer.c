/* cuda_timer.c: the event pair and L2 scratch of runtime/cuda/cuda_timer.h. */
#include "runtime/cuda/cuda_timer.h"

#include <cuda_runtime_api.h>
#include <stdlib.h>

#include "runtime/cuda/cuda_memory.h"
#include "runtime/status.h"

struct tk_cuda_timer {
  int device;
  cudaEvent_t start, stop;
  void *flush;          /* NULL: no eviction */
  size_t flush_bytes;
};

tk_status tk_cuda_timer_create(int device, int flush_l2, tk_cuda_timer **out) {
  *out = NULL;
  tk_cuda_timer *t = calloc(1, sizeof *t);
  if (!t) return tk_fail(TK_ERR_OUT_OF_MEMORY, "cuda timer: out of memory");
  t->device = device;
  int prev;
  tk_status s = tk_cuda_use_device(device, &prev);
  if (s != TK_OK) {
    free(t);
    return s;
  }
  s = tk_cuda_status(cudaEventCreate(&t->start), "cudaEventCreate");
  if (s == TK_OK) s = tk_cuda_status(cudaEventCreate(&t->stop), "cudaEventCreate");
  if (s == TK_OK && flush_l2) {
    int l2 = 0;
    cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device);
    t->flush_bytes = 2 * (size_t)(l2 > 0 ? l2 : 64 << 20);
    s = tk_cuda_malloc(device, t->flush_bytes, &t->flush);
  }
  tk_cuda_restore_device(prev);
  if (s != TK_OK) {
    tk_cuda_timer_destroy(t);
    return s;
  }
  *out = t;
  return TK_OK;
}

void tk_cuda_timer_destroy(tk_cuda_timer *t) {
  if (!t) return;
  if (t->start) cudaEventDestroy(t->start);
  if (t->stop) cudaEventDestroy(t->stop);
  tk_cuda_free(t->device, t->flush);
  free(t);
}

tk_status tk_cuda_timer_start(tk_cuda_timer *t, void *stream) {
  int prev;
  tk_status s = tk_cuda_use_device(t->device, &prev);
  if (s != TK_OK) return s;
  if (t->flush)
    s = tk_cuda_status(cudaMemsetAsync(t->flush, 0x5a, t->flush_bytes, (cudaStream_t)stream),
                       "cudaMemsetAsync (L2 eviction)");
  if (s == TK_OK)
    s = tk_cuda_status(cudaEventRecord(t->start, (cudaStream_t)stream), "cudaEventRecord");
  tk_cuda_restore_device(prev);
  return s;
}

tk_status tk_cuda_timer_stop(tk_cuda_timer *t, void *stream, double *ns) {
  int prev;
  tk_status s = tk_cuda_use_device(t->device, &prev);
  if (s != TK_OK) return s;
  s = tk_cuda_status(cudaEventRecord(t->stop, (cudaStream_t)stream), "cudaEventRecord");
  if (s == TK_OK) s = tk_cuda_status(cudaEventSynchronize(t->stop), "kernel run");
  float ms = 0;
  if (s == TK_OK) s = tk_cuda_status(cudaEventElapsedTime(&ms, t->start, t->stop), "cudaEventElapsedTime");
  if (s == TK_OK) *ns = 1e6 * (double)ms;
  tk_cuda_restore_device(prev);
  return s;
}
