/* grouped_gemm_cublas.c: the cuBLAS baseline (grouped_gemm_cublas.h). Row-
 * major products are run as their column-major transposes: out^T = rhs^T
 * lhs^T (NN, NT) and out[g]^T = rhs_g^T lhs_g (TN). */
#include "impls/cublas/grouped_gemm_cublas.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime/device.h"
#include "runtime/status.h"
#include "runtime/tensor.h"
#include "runtime/cuda/cuda_memory.h"

/* One product in cuBLAS's terms: C (m x n) = op(A) op(B), column-major. */
typedef struct {
  cublasOperation_t ta, tb;
  int64_t m, n, k, lda, ldb, ldc;
  const void *a, *b;
  void *c;
} gemm;

/* The leading dimension of a column-major rows x cols matrix stored with
 * column stride `stride`: any value >= rows serves when there is one column. */
static int64_t ld(int64_t stride, int64_t rows, int64_t cols) {
  int64_t need = rows > 1 ? rows : 1;
  return cols <= 1 && stride < need ? need : stride;
}

/* Group g (rows [r0, r1) of lhs) as one product. */
static gemm gemm_of(const tk_cuda_gg *p, int64_t g, int64_t r0, int64_t r1) {
  int64_t es = tk_dtype_size((tk_dtype)p->dtype), oes = tk_dtype_size((tk_dtype)p->out_dtype);
  int64_t mg = r1 - r0;
  const char *lhs = (const char *)p->lhs + r0 * p->lhs_s0 * es;
  gemm x;
  if (p->layout == TK_GG_TN) {
    x.ta = CUBLAS_OP_N;
    x.tb = CUBLAS_OP_T;
    x.m = p->N;
    x.n = p->K;
    x.k = mg;
    x.a = (const char *)p->rhs + r0 * p->rhs_s0 * es;
    x.lda = ld(p->rhs_s0, p->N, mg);
    x.b = lhs;
    x.ldb = ld(p->lhs_s0, p->K, mg);
    x.c = (char *)p->out + g * p->out_s0 * oes;
    x.ldc = ld(p->out_s1, p->N, p->K);
    return x;
  }
  int nt = p->layout == TK_GG_NT;
  x.ta = nt ? CUBLAS_OP_T : CUBLAS_OP_N;
  x.tb = CUBLAS_OP_N;
  x.m = p->N;
  x.n = mg;
  x.k = p->K;
  x.a = (const char *)p->rhs + g * p->rhs_s0 * es;
  x.lda = nt ? ld(p->rhs_s1, p->K, p->N) : ld(p->rhs_s1, p->N, p->K);
  x.b = lhs;
  x.ldb = ld(p->lhs_s0, p->K, mg);
  x.c = (char *)p->out + r0 * p->out_s0 * oes;
  x.ldc = ld(p->out_s0, p->N, mg);
  return x;
}

int tk_cublas_gg_fits(const tk_cuda_gg *p, char *why, size_t why_len) {
  int tn = p->layout == TK_GG_TN, nt = p->layout == TK_GG_NT;
  int ok = (p->M <= 1 || p->lhs_s0 >= p->K) &&
           (tn ? (p->M <= 1 || p->rhs_s0 >= p->N) && (p->K <= 1 || p->out_s1 >= p->N)
               : (p->M <= 1 || p->out_s0 >= p->N) &&
                     (nt ? p->N <= 1 || p->rhs_s1 >= p->K : p->K <= 1 || p->rhs_s1 >= p->N));
  if (!ok) snprintf(why, why_len, "unsupported: cuBLAS needs row strides of at least a row");
  return ok;
}

static cudaDataType cuda_type(int dtype) {
  return dtype == TK_F32 ? CUDA_R_32F : dtype == TK_F16 ? CUDA_R_16F : CUDA_R_16BF;
}

/* This thread's handle for the current device, or NULL with *st set. */
static cublasHandle_t handle_here(cublasStatus_t *st) {
  static _Thread_local cublasHandle_t handles[TK_MAX_CUDA_DEVICES];
  int dev = 0;
  *st = CUBLAS_STATUS_SUCCESS;
  if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= TK_MAX_CUDA_DEVICES) {
    *st = CUBLAS_STATUS_NOT_INITIALIZED;
    return NULL;
  }
  if (!handles[dev]) *st = cublasCreate(&handles[dev]);
  return *st == CUBLAS_STATUS_SUCCESS ? handles[dev] : NULL;
}

/* Zeroes `rows` rows of width_bytes, pitch_bytes apart, from base. */
static cudaError_t zero_rows(char *base, int64_t pitch_bytes, int64_t width_bytes, int64_t rows,
                             cudaStream_t st) {
  if (rows <= 0 || width_bytes <= 0) return cudaSuccess;
  if (rows == 1) return cudaMemsetAsync(base, 0, (size_t)width_bytes, st);
  return cudaMemset2DAsync(base, (size_t)pitch_bytes, 0, (size_t)width_bytes, (size_t)rows, st);
}

/* Reads the group sizes into start[0..G] (clamped as the kernels do). */
static tk_status group_starts(const tk_cuda_gg *p, cudaStream_t st, int64_t *start) {
  int32_t *sizes = malloc(sizeof(int32_t) * (size_t)(p->G + 1));
  if (!sizes) return tk_fail(TK_ERR_OUT_OF_MEMORY, "grouped_gemm (cublas): no host memory");
  cudaError_t e = p->G ? cudaMemcpyAsync(sizes, p->group_sizes, sizeof(int32_t) * (size_t)p->G,
                                         cudaMemcpyDeviceToHost, st)
                       : cudaSuccess;
  if (e == cudaSuccess) e = cudaStreamSynchronize(st);
  if (e != cudaSuccess) {
    free(sizes);
    return tk_cuda_status(e, "grouped_gemm (cublas): reading group sizes");
  }
  start[0] = 0;
  for (int64_t g = 0; g < p->G; g++) {
    int64_t end = start[g] + (sizes[g] > 0 ? sizes[g] : 0);
    start[g + 1] = end < p->M ? end : p->M;
  }
  free(sizes);
  return TK_OK;
}

/* Zeroes what no product writes: NN/NT rows past the groups, TN outputs of
 * empty groups. */
static cudaError_t zero_unwritten(const tk_cuda_gg *p, const int64_t *start, cudaStream_t st) {
  int64_t oes = tk_dtype_size((tk_dtype)p->out_dtype);
  char *out = p->out;
  if (p->layout != TK_GG_TN)
    return zero_rows(out + start[p->G] * p->out_s0 * oes, p->out_s0 * oes, p->N * oes,
                     p->M - start[p->G], st);
  for (int64_t g = 0; g < p->G; g++) {
    if (start[g + 1] > start[g]) continue;
    cudaError_t e = zero_rows(out + g * p->out_s0 * oes, p->out_s1 * oes, p->N * oes, p->K, st);
    if (e != cudaSuccess) return e;
  }
  return cudaSuccess;
}

static tk_status blas_fail(cublasStatus_t s, const char *what) {
  return tk_fail(s == CUBLAS_STATUS_NOT_SUPPORTED ? TK_ERR_UNSUPPORTED : TK_ERR_DEVICE,
                 "grouped_gemm (cublas): %s: %s", what, cublasGetStatusString(s));
}

/* One cublasGemmEx per non-empty group. */
static tk_status run_loop(cublasHandle_t h, const tk_cuda_gg *p, const int64_t *start) {
  const float one = 1.f, zero = 0.f;
  for (int64_t g = 0; g < p->G; g++) {
    if (start[g + 1] == start[g]) continue;
    gemm x = gemm_of(p, g, start[g], start[g + 1]);
    cublasStatus_t s = cublasGemmEx_64(h, x.ta, x.tb, x.m, x.n, x.k, &one, x.a, cuda_type(p->dtype),
                                       x.lda, x.b, cuda_type(p->dtype), x.ldb, &zero, x.c,
                                       cuda_type(p->out_dtype), x.ldc, CUBLAS_COMPUTE_32F,
                                       CUBLAS_GEMM_DEFAULT);
    if (s != CUBLAS_STATUS_SUCCESS) return blas_fail(s, "cublasGemmEx");
  }
  return TK_OK;
}

/* The host-side arrays of one cublasGemmGroupedBatchedEx call (one problem
 * per group of the call), allocated together. */
typedef struct {
  cublasOperation_t *ta, *tb;
  int64_t *m, *n, *k, *lda, *ldb, *ldc, *one_each;
  float *alpha, *beta;
  const void **ptrs; /* A[P], B[P], C[P] */
} batch;

/* Fills b with the non-empty groups' products; returns their count. */
static size_t fill_batch(const tk_cuda_gg *p, const int64_t *start, batch *b) {
  size_t G = (size_t)p->G, n = 0;
  for (int64_t g = 0; g < p->G; g++) {
    if (start[g + 1] == start[g]) continue;
    gemm x = gemm_of(p, g, start[g], start[g + 1]);
    b->ta[n] = x.ta;
    b->tb[n] = x.tb;
    b->m[n] = x.m;
    b->n[n] = x.n;
    b->k[n] = x.k;
    b->lda[n] = x.lda;
    b->ldb[n] = x.ldb;
    b->ldc[n] = x.ldc;
    b->one_each[n] = 1;
    b->alpha[n] = 1.f;
    b->beta[n] = 0.f;
    b->ptrs[n] = x.a;
    b->ptrs[G + n] = x.b;
    b->ptrs[2 * G + n] = x.c;
    n++;
  }
  return n;
}

/* The n products of b in one cublasGemmGroupedBatchedEx, its pointer
 * arrays copied to ws (3 G pointers); waits for the stream. */
static tk_status call_batch(cublasHandle_t h, const tk_cuda_gg *p, const batch *b, size_t n,
                            void *ws, cudaStream_t st) {
  size_t G = (size_t)p->G;
  const void **dev = ws;
  cudaError_t e = cudaMemcpyAsync(dev, b->ptrs, sizeof(void *) * 3 * G, cudaMemcpyHostToDevice, st);
  if (e != cudaSuccess) return tk_cuda_status(e, "grouped_gemm (cublas): copying pointers");
  cublasStatus_t s = cublasGemmGroupedBatchedEx_64(
      h, b->ta, b->tb, b->m, b->n, b->k, b->alpha, dev, cuda_type(p->dtype), b->lda, dev + G,
      cuda_type(p->dtype), b->ldb, b->beta, (void *const *)(dev + 2 * G), cuda_type(p->out_dtype),
      b->ldc, (int64_t)n, b->one_each, CUBLAS_COMPUTE_32F);
  e = cudaStreamSynchronize(st); /* the copy has read b->ptrs before they are freed */
  if (s != CUBLAS_STATUS_SUCCESS) return blas_fail(s, "cublasGemmGroupedBatchedEx");
  return tk_cuda_status(e, "grouped_gemm (cublas): cudaStreamSynchronize");
}

/* All non-empty groups in one cublasGemmGroupedBatchedEx. */
static tk_status run_grouped(cublasHandle_t h, const tk_cuda_gg *p, const int64_t *start, void *ws,
                             cudaStream_t st) {
  size_t G = (size_t)p->G;
  batch b;
  b.ta = malloc(sizeof(cublasOperation_t) * 2 * G + 1);
  b.m = malloc(sizeof(int64_t) * 7 * G + 1);
  b.alpha = malloc(sizeof(float) * 2 * G + 1);
  b.ptrs = calloc(3 * G + 1, sizeof(void *));
  tk_status status = TK_OK;
  if (!b.ta || !b.m || !b.alpha || !b.ptrs) {
    status = tk_fail(TK_ERR_OUT_OF_MEMORY, "grouped_gemm (cublas): no host memory");
  } else {
    b.tb = b.ta + G;
    b.n = b.m + G;
    b.k = b.m + 2 * G;
    b.lda = b.m + 3 * G;
    b.ldb = b.m + 4 * G;
    b.ldc = b.m + 5 * G;
    b.one_each = b.m + 6 * G;
    b.beta = b.alpha + G;
    size_t n = fill_batch(p, start, &b);
    if (n) status = call_batch(h, p, &b, n, ws, st);
  }
  free(b.ta);
  free(b.m);
  free(b.alpha);
  free(b.ptrs);
  return status;
}

size_t tk_cublas_gg_workspace(const tk_cuda_gg *p, int mode) {
  return mode == TK_CUBLAS_GROUPED ? sizeof(void *) * 3 * (size_t)p->G : 0;
}

tk_status tk_cublas_gg_run(const tk_cuda_gg *p, int mode, void *ws, void *stream) {
  cudaStream_t st = (cudaStream_t)stream;
  enum cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(st, &capture) == cudaSuccess && capture != cudaStreamCaptureStatusNone)
    return tk_fail(TK_ERR_UNSUPPORTED, "grouped_gemm (cublas): it reads group sizes on the host, "
                                       "so it cannot run inside CUDA graph capture");
  cublasStatus_t bs;
  cublasHandle_t h = handle_here(&bs);
  if (!h) return blas_fail(bs, "cublasCreate");
  if ((bs = cublasSetStream(h, st)) != CUBLAS_STATUS_SUCCESS) return blas_fail(bs, "cublasSetStream");
  int64_t *start = malloc(sizeof(int64_t) * (size_t)(p->G + 1));
  if (!start) return tk_fail(TK_ERR_OUT_OF_MEMORY, "grouped_gemm (cublas): no host memory");
  tk_status s = group_starts(p, st, start);
  if (s == TK_OK) {
    s = tk_cuda_status(zero_unwritten(p, start, st), "grouped_gemm (cublas): zeroing");
  }
  if (s == TK_OK)
    s = mode == TK_CUBLAS_GROUPED ? run_grouped(h, p, start, ws, st) : run_loop(h, p, start);
  free(start);
  return s;
}
