/* gpu_timing.c: CUDA device presence, and CUDA-event timing of a plan with
 * the library's timer (runtime/cuda/cuda_timer.h). Built only with CUDA. */
#include "bench/gpu_timing.h"

#include <cuda_runtime.h>
#include <stdio.h>

#include "runtime/cuda/cuda_timer.h"

int tk_gpu_available(char *why, size_t why_len) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n == 0) {
    snprintf(why, why_len, "no CUDA device (%s)", e != cudaSuccess ? cudaGetErrorString(e) : "none found");
    return 0;
  }
  return 1;
}

tk_status tk_gpu_time_plan(tk_plan *plan, const void *args, int flush_l2, double *secs) {
  static tk_cuda_timer *timers[2]; /* [flush_l2]: kept for the process */
  tk_cuda_timer **t = &timers[flush_l2 != 0];
  tk_status s = *t ? TK_OK : tk_cuda_timer_create(0, flush_l2, t);
  if (s == TK_OK) s = tk_cuda_timer_start(*t, NULL);
  if (s != TK_OK) return s;
  tk_status st = tk_plan_run(plan, args);
  double ns = 0;
  s = tk_cuda_timer_stop(*t, NULL, &ns);
  if (st == TK_OK && s == TK_OK) *secs = 1e-9 * ns;
  return st != TK_OK ? st : s;
}
