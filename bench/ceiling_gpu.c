/* ceiling_gpu.c: the GPU ceilings as benchmarks (built only with CUDA):
 * bf16 and float32 GEMM peak from cublasGemmEx on a large square problem
 * (float32 accumulation; the f32 one without TF32), and device copy
 * bandwidth from cudaMemcpyAsync device to device. Timed with CUDA events. */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/ceiling.h"
#include "runtime/cuda/cuda_timer.h"
#include "runtime/half.h"
#include "runtime/status.h"

#define GEMM_N 8192
#define COPY_BYTES ((size_t)1 << 30)

typedef struct {
  int bf16;            /* GEMM: bf16 (else float32) */
  int copy;            /* the copy ceiling */
  void *a, *b, *c;     /* GEMM operands, or copy source (a) and destination (b) */
  cublasHandle_t blas;
  tk_cuda_timer *timer;
} gpu_ceiling;

static gpu_ceiling gemm_bf16 = {1, 0, NULL, NULL, NULL, NULL, NULL};
static gpu_ceiling gemm_f32 = {0, 0, NULL, NULL, NULL, NULL, NULL};
static gpu_ceiling copy = {0, 1, NULL, NULL, NULL, NULL, NULL};

/* Fills n elements at dev with random non-zero values in [-1, 1] of the
 * ceiling's dtype (bytes: copy source). */
static cudaError_t fill_random(void *dev, size_t n, int bf16) {
  size_t es = bf16 ? 2 : 4;
  unsigned char *h = malloc(n * es);
  if (!h) return cudaErrorMemoryAllocation;
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    float v = ((float)(x >> 40) + 1.0f) / 16777216.0f * ((x & 1) ? 1.0f : -1.0f);
    if (bf16) {
      uint16_t b = tk_f32_to_bf16(v);
      memcpy(h + 2 * i, &b, 2);
    } else {
      memcpy(h + 4 * i, &v, 4);
    }
  }
  cudaError_t e = cudaMemcpy(dev, h, n * es, cudaMemcpyHostToDevice);
  free(h);
  return e;
}

/* Allocates and fills the operands, the timer and cuBLAS handle; declines
 * with the CUDA error on failure. */
static int gpu_setup(void *user, char *why, size_t why_len) {
  gpu_ceiling *s = user;
  size_t n = (size_t)GEMM_N * GEMM_N, bytes = s->copy ? COPY_BYTES : n * (s->bf16 ? 2 : 4);
  cudaError_t e = cudaMalloc(&s->a, bytes);
  if (e == cudaSuccess) e = cudaMalloc(&s->b, bytes);
  if (e == cudaSuccess && !s->copy) e = cudaMalloc(&s->c, bytes);
  if (e == cudaSuccess) e = fill_random(s->a, s->copy ? bytes / 4 : n, s->bf16);
  if (e == cudaSuccess && !s->copy) e = fill_random(s->b, n, s->bf16);
  if (e != cudaSuccess) {
    snprintf(why, why_len, "CUDA: %s", cudaGetErrorString(e));
    return 1;
  }
  if (tk_cuda_timer_create(0, 0, &s->timer) != TK_OK) {
    snprintf(why, why_len, "%s", tk_last_error());
    return 1;
  }
  if (!s->copy && cublasCreate(&s->blas) != CUBLAS_STATUS_SUCCESS) {
    snprintf(why, why_len, "cublasCreate failed");
    return 1;
  }
  return 0;
}

/* One GEMM or copy between two CUDA events; returns its seconds. */
static double gpu_run(void *user, char *why, size_t why_len) {
  gpu_ceiling *s = user;
  const float one = 1.0f, zero = 0.0f;
  cudaDataType_t t = s->bf16 ? CUDA_R_16BF : CUDA_R_32F;
  if (tk_cuda_timer_start(s->timer, NULL) != TK_OK) {
    snprintf(why, why_len, "%s", tk_last_error());
    return -1;
  }
  if (s->copy) {
    cudaMemcpyAsync(s->b, s->a, COPY_BYTES, cudaMemcpyDeviceToDevice, 0);
  } else if (cublasGemmEx(s->blas, CUBLAS_OP_N, CUBLAS_OP_N, GEMM_N, GEMM_N, GEMM_N, &one, s->a, t,
                          GEMM_N, s->b, t, GEMM_N, &zero, s->c, t, GEMM_N, CUBLAS_COMPUTE_32F,
                          CUBLAS_GEMM_DEFAULT) != CUBLAS_STATUS_SUCCESS) {
    snprintf(why, why_len, "cublasGemmEx failed");
    return -1;
  }
  double ns = 0;
  if (tk_cuda_timer_stop(s->timer, NULL, &ns) != TK_OK) {
    snprintf(why, why_len, "%s", tk_last_error());
    return -1;
  }
  return 1e-9 * ns;
}

/* Frees what gpu_setup made (NULL members are skipped by CUDA). */
static void gpu_teardown(void *user) {
  gpu_ceiling *s = user;
  if (s->blas) cublasDestroy(s->blas);
  tk_cuda_timer_destroy(s->timer);
  s->timer = NULL;
  cudaFree(s->a);
  cudaFree(s->b);
  cudaFree(s->c);
}

void tk_ceiling_register_gpu(void) {
  double flops = 2.0 * GEMM_N * GEMM_N * (double)GEMM_N;
  tk_bench_def defs[] = {
      {TK_CEIL_GPU_GEMM_BF16, &gemm_bf16, gpu_setup, gpu_run, gpu_teardown, 1, flops, 0},
      {TK_CEIL_GPU_GEMM_F32, &gemm_f32, gpu_setup, gpu_run, gpu_teardown, 1, flops, 0},
      /* bytes read + bytes written, as for the CPU copy */
      {TK_CEIL_GPU_COPY, &copy, gpu_setup, gpu_run, gpu_teardown, 1, 0, 2.0 * COPY_BYTES},
  };
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) tk_bench_register(&defs[i]);
}
