/* attention_scalar.cu: cuda_tiled's scalar path for dense attention
 * (float32 inputs, head dims outside the tensor-core buckets, unaligned
 * layouts): one CTA per 16 query rows of one (batch, head). */
#include "impls/cuda/attention_cuda.h"
#include "impls/cuda/attention_scalar.cuh"
#include "impls/cuda/launch_cache.h"
#include "runtime/tensor.h"

/* Attention of 16 query rows of one (batch, head) in float32. */
template <typename T>
__global__ void __launch_bounds__(TK_SCALAR_THREADS, 1)
    tk_scalar_attention_kernel(const tk_cuda_attention_args a, int bk) {
  extern __shared__ __align__(128) char smem[];
  tk_scalar_rows<T> &R = *reinterpret_cast<tk_scalar_rows<T> *>(smem);
  const int nqt = (a.Tq + TK_SCALAR_ROWS - 1) / TK_SCALAR_ROWS;
  const int qt = nqt - 1 - (int)(blockIdx.x % nqt);
  const int bh = (int)(blockIdx.x / nqt), h = bh % a.Hq, b = bh / a.Hq;
  const int tq = a.q_lens ? min(max(a.q_lens[b * a.q_lens_stride], 0), a.Tq) : a.Tq;
  const int tk = a.kv_lens ? min(max(a.kv_lens[b * a.kv_lens_stride], 0), a.Tk) : a.Tk;
  const int q0 = qt * TK_SCALAR_ROWS;
  if (q0 >= tq) return;
  const int hkv = h / (a.Hq / a.Hkv), off = tk - tq, n = min(TK_SCALAR_ROWS, tq - q0);
  if (threadIdx.x < TK_SCALAR_ROWS) {
    const int r = threadIdx.x, i = q0 + r;
    R.q[r] = (const T *)a.q + b * a.sq[0] + (int64_t)i * a.sq[1] + h * a.sq[2];
    R.out[r] = (T *)a.out + b * a.so[0] + (int64_t)i * a.so[1] + h * a.so[2];
    R.lse[r] = a.lse ? a.lse + b * a.slse[0] + h * a.slse[1] + (int64_t)i * a.slse[2] : nullptr;
    R.diag[r] = i + off;
    if (r == 0) R.n = n;
  }
  __syncthreads();
  int lo, hi;
  tk_attn_key_span(a.causal, a.window_left, a.window_right, off, tk, q0, q0 + n - 1, &lo, &hi);
  const T *kb = (const T *)a.k + b * a.sk[0] + hkv * a.sk[2];
  const T *vb = (const T *)a.v + b * a.sv[0] + hkv * a.sv[2];
  tk_scalar_attend<T>(
      R, a.D, a.Dv, a.sq[3], a.sk[3], a.sv[3], a.so[3], lo, hi, a.causal, a.window_left,
      a.window_right, tk, tk_attn_logit::make(a.scale, a.softcap),
      [&](int j, int which) { return which ? vb + (int64_t)j * a.sv[1] : kb + (int64_t)j * a.sk[1]; },
      bk, reinterpret_cast<float *>(smem + sizeof(tk_scalar_rows<T>)));
}

/* Launches the scalar kernel for element type T. */
template <typename T>
static cudaError_t tk_scalar_launch(const tk_cuda_attention_args &a, cudaStream_t stream) {
  auto kernel = tk_scalar_attention_kernel<T>;
  const int bk = tk_scalar_key_tile(a.D, a.Dv, tk_cuda_smem_optin(), sizeof(tk_scalar_rows<T>));
  if (!bk || a.D > TK_SCALAR_MAX_DIM || a.Dv > TK_SCALAR_MAX_DIM) return cudaErrorInvalidValue;
  const long long smem = (long long)tk_scalar_smem(a.D, a.Dv, bk, sizeof(tk_scalar_rows<T>));
  const long long ctas = (long long)((a.Tq + TK_SCALAR_ROWS - 1) / TK_SCALAR_ROWS) * a.Hq * a.B;
  cudaError_t e = tk_cuda_prepare_launch((const void *)kernel, smem, ctas);
  if (e != cudaSuccess) return e;
  kernel<<<(unsigned)ctas, TK_SCALAR_THREADS, (size_t)smem, stream>>>(a, bk);
  return cudaGetLastError();
}

extern "C" int tk_cuda_attention_scalar(const tk_cuda_attention_args *a, void *stream) {
  if (a->B == 0 || a->Hq == 0 || a->Tq == 0) return cudaSuccess;
  cudaStream_t s = (cudaStream_t)stream;
  switch (a->dtype) {
    case TK_F32: return tk_scalar_launch<float>(*a, s);
    case TK_F16: return tk_scalar_launch<__half>(*a, s);
    case TK_BF16: return tk_scalar_launch<__nv_bfloat16>(*a, s);
    default: return cudaErrorInvalidValue;
  }
}
