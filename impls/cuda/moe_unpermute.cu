/* moe_unpermute.cu: MoE unpermute on the device (moe_cuda.h): one warp
 * per token, each lane summing whole 16-byte column chunks (single
 * elements when rows are not 16-byte aligned) over the token's slots in
 * slot order, in float, then rounding once to the output dtype. */
#include "impls/cuda/moe_cuda.h"
#include "impls/cuda/moe_elem.cuh"
#include "runtime/tensor.h"

namespace {

/* The kernel's view of the problem (strides of rows and out in bytes). */
struct Args {
  const char *rows;
  const int32_t *dest;
  const float *weights;
  char *out;
  int64_t rows_s0, out_s0, dest_s0, dest_s1, w_s0, w_s1;
  int64_t T, H, R;
  int k, vec;
};

/* out[t] for the tokens of this warp: chunks of V = 16 / sizeof(T)
 * elements when a.vec, else single elements (V = 1). */
template <typename T, int V>
__device__ __forceinline__ void token_row(const Args &a, int64_t t, int lane) {
  const int32_t *dt = a.dest + t * a.dest_s0;
  const float *wt = a.weights ? a.weights + t * a.w_s0 : nullptr;
  T *to = (T *)(a.out + t * a.out_s0);
  for (int64_t col = (int64_t)lane * V; col < a.H; col += 32 * V) {
    float acc[V];
#pragma unroll
    for (int i = 0; i < V; i++) acc[i] = 0.f;
#pragma unroll 4
    for (int s = 0; s < a.k; s++) {
      int32_t r = dt[s * a.dest_s1];
      if (r < 0 || r >= a.R) continue;
      tk_moe_fma_chunk<T, V>((const T *)(a.rows + r * a.rows_s0) + col, wt ? wt[s * a.w_s1] : 1.f,
                             acc);
    }
    tk_moe_store_chunk<T, V>(to + col, acc);
  }
}

template <typename T>
__global__ void unpermute_kernel(const Args a) {
  const int lane = threadIdx.x % 32, warps = blockDim.x / 32;
  for (int64_t t = (int64_t)blockIdx.x * warps + threadIdx.x / 32; t < a.T;
       t += (int64_t)gridDim.x * warps) {
    if (a.vec) token_row<T, 16 / sizeof(T)>(a, t, lane);
    else token_row<T, 1>(a, t, lane);
  }
}

}  // namespace

cudaError_t tk_cuda_unpermute_run(const tk_cuda_unpermute *p, const tk_cuda_unpermute_cfg *c,
                                  void *stream) {
  if (p->T == 0) return cudaSuccess;
  int es = (int)tk_dtype_size((tk_dtype)p->dtype);
  Args a;
  a.rows = (const char *)p->rows;
  a.dest = p->dest;
  a.weights = p->weights;
  a.out = (char *)p->out;
  a.rows_s0 = p->rows_s0 * es;
  a.out_s0 = p->out_s0 * es;
  a.dest_s0 = p->dest_s0;
  a.dest_s1 = p->dest_s1;
  a.w_s0 = p->w_s0;
  a.w_s1 = p->w_s1;
  a.T = p->T;
  a.H = p->H;
  a.R = p->R;
  a.k = (int)p->k;
  a.vec = (uintptr_t)p->rows % 16 == 0 && (uintptr_t)p->out % 16 == 0 && a.rows_s0 % 16 == 0 &&
          a.out_s0 % 16 == 0 && (p->H * es) % 16 == 0;
  int64_t blocks = (p->T + c->warps - 1) / c->warps;
  unsigned grid = (unsigned)(blocks < (1 << 20) ? blocks : (1 << 20));
  cudaStream_t st = (cudaStream_t)stream;
  if (p->dtype == TK_F32) unpermute_kernel<float><<<grid, 32 * c->warps, 0, st>>>(a);
  else if (p->dtype == TK_F16) unpermute_kernel<__half><<<grid, 32 * c->warps, 0, st>>>(a);
  else unpermute_kernel<__nv_bfloat16><<<grid, 32 * c->warps, 0, st>>>(a);
  return cudaGetLastError();
}
