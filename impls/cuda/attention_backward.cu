/* attention_backward.cu: the cuda_tiled attention backward entry points:
 * Drow = rowsum(dout * out), which path takes a call (the tensor-core
 * kernels of attention_backward.cuh, or the scalar float kernels here),
 * and the dispatch on the element type.
 *
 * Scalar kernels (any dtype incl. float32, any strides, D and Dv up to
 * 512): a warp per key computes that key's dK and dV over every row of
 * its kv head's query heads; a warp per query row computes its dQ over
 * its visible keys. Each lane holds the columns lane, lane + 32, ... of
 * the vectors it keeps; dot products are warp sums. No atomics. */
#include "impls/cuda/attention_backward.cuh"
#include "impls/cuda/attention_scalar.cuh"

#include <type_traits>

#define TK_BWD_LANE_COLS (TK_SCALAR_MAX_DIM / 32)
#define TK_BWD_MAX_CTAS (1LL << 20)

/* The sum of x over the warp, in every lane. */
static __device__ __forceinline__ float tk_warp_sum(float x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

/* Loads the n columns of a row (stride sd) into this lane's slots. */
template <typename T>
static __device__ __forceinline__ void tk_bwd_load_row(float (&r)[TK_BWD_LANE_COLS], const T *row,
                                                       int64_t sd, int n, int lane) {
#pragma unroll
  for (int c = 0; c < TK_BWD_LANE_COLS; c++) {
    const int d = 32 * c + lane;
    r[c] = d < n ? tk_to_f32(row[d * sd]) : 0.f;
  }
}

/* x . r over this lane's slots, summed over the warp. */
template <typename T>
static __device__ __forceinline__ float tk_bwd_dot(const float (&r)[TK_BWD_LANE_COLS], const T *row,
                                                   int64_t sd, int n, int lane) {
  float s = 0.f;
#pragma unroll
  for (int c = 0; c < TK_BWD_LANE_COLS; c++) {
    const int d = 32 * c + lane;
    if (d < n) s += r[c] * tk_to_f32(row[d * sd]);
  }
  return tk_warp_sum(s);
}

/* Stores this lane's slots of a gradient row (n columns, stride sd). */
template <typename T>
static __device__ __forceinline__ void tk_bwd_store_row(void *base, int dt, int64_t row, int64_t sd,
                                                        const float (&r)[TK_BWD_LANE_COLS], int n,
                                                        int lane) {
#pragma unroll
  for (int c = 0; c < TK_BWD_LANE_COLS; c++) {
    const int d = 32 * c + lane;
    if (d < n) tk_bwd_store<T>(base, dt, row + d * sd, r[c]);
  }
}

/* Valid lengths of batch b. */
static __device__ __forceinline__ void tk_bwd_lengths(const tk_cuda_attention_args &a, int b, int *tq,
                                                      int *tk) {
  *tq = a.q_lens ? min(max(a.q_lens[b * a.q_lens_stride], 0), a.Tq) : a.Tq;
  *tk = a.kv_lens ? min(max(a.kv_lens[b * a.kv_lens_stride], 0), a.Tk) : a.Tk;
}

/* Drow of every valid row, a warp per (b, i, h). */
template <typename T>
__global__ void __launch_bounds__(128) tk_bwd_drow_kernel(const tk_cuda_attention_backward_args A,
                                                          float *drow) {
  const tk_cuda_attention_args &a = A.f;
  const int lane = threadIdx.x & 31;
  const long long rows = (long long)a.B * a.Tq * a.Hq;
  for (long long w = (blockIdx.x * 128LL + threadIdx.x) >> 5; w < rows; w += gridDim.x * 4LL) {
    const int h = (int)(w % a.Hq), i = (int)(w / a.Hq % a.Tq), b = (int)(w / a.Hq / a.Tq);
    int tq, tk;
    tk_bwd_lengths(a, b, &tq, &tk);
    if (i >= tq) continue;
    const T *o = (const T *)a.out + b * a.so[0] + (int64_t)i * a.so[1] + h * a.so[2];
    const T *g = (const T *)A.dout + b * A.sdo[0] + (int64_t)i * A.sdo[1] + h * A.sdo[2];
    float s = 0.f;
    for (int d = lane; d < a.Dv; d += 32) s += tk_to_f32(o[d * a.so[3]]) * tk_to_f32(g[d * A.sdo[3]]);
    s = tk_warp_sum(s);
    if (lane == 0) drow[((int64_t)b * a.Hq + h) * a.Tq + i] = s;
  }
}

/* dK and dV of one key per warp (zero past kv_len). */
template <typename T>
__global__ void __launch_bounds__(128) tk_bwd_scalar_dkv_kernel(const tk_cuda_attention_backward_args A,
                                                                const float *drow) {
  const tk_cuda_attention_args &a = A.f;
  const int lane = threadIdx.x & 31, G = a.Hq / a.Hkv;
  const long long keys = (long long)a.B * a.Hkv * a.Tk;
  const tk_bwd_grad grad = {tk_attn_logit::make(a.scale, a.softcap), a.scale,
                            a.softcap > 0.f ? a.scale / a.softcap : 0.f};
  for (long long w = (blockIdx.x * 128LL + threadIdx.x) >> 5; w < keys; w += gridDim.x * 4LL) {
    const int j = (int)(w % a.Tk), hkv = (int)(w / a.Tk % a.Hkv), b = (int)(w / a.Tk / a.Hkv);
    int tq, tk;
    tk_bwd_lengths(a, b, &tq, &tk);
    float kr[TK_BWD_LANE_COLS], vr[TK_BWD_LANE_COLS], dk[TK_BWD_LANE_COLS] = {},
        dv[TK_BWD_LANE_COLS] = {};
    const T *kp = (const T *)a.k + b * a.sk[0] + (int64_t)j * a.sk[1] + hkv * a.sk[2];
    const T *vp = (const T *)a.v + b * a.sv[0] + (int64_t)j * a.sv[1] + hkv * a.sv[2];
    tk_bwd_load_row(kr, kp, a.sk[3], j < tk ? a.D : 0, lane);
    tk_bwd_load_row(vr, vp, a.sv[3], j < tk ? a.Dv : 0, lane);
    for (int i = 0; j < tk && i < tq; i++) {
      if (!tk_attn_sees(a.causal, a.window_left, a.window_right, i + tk - tq, tk, j)) continue;
      for (int g = 0; g < G; g++) {
        const int h = hkv * G + g;
        const T *qp = (const T *)a.q + b * a.sq[0] + (int64_t)i * a.sq[1] + h * a.sq[2];
        const T *op = (const T *)A.dout + b * A.sdo[0] + (int64_t)i * A.sdo[1] + h * A.sdo[2];
        const float s = tk_bwd_dot(kr, qp, a.sq[3], a.D, lane);
        const float dp = tk_bwd_dot(vr, op, A.sdo[3], a.Dv, lane);
        const float lse2 = a.lse[b * a.slse[0] + h * a.slse[1] + (int64_t)i * a.slse[2]] * TK_LOG2E;
        float p, z;
        grad(s, dp, lse2, drow[((int64_t)b * a.Hq + h) * a.Tq + i], true, &p, &z);
#pragma unroll
        for (int c = 0; c < TK_BWD_LANE_COLS; c++) {
          const int d = 32 * c + lane;
          if (d < a.Dv) dv[c] += p * tk_to_f32(op[d * A.sdo[3]]);
          if (d < a.D) dk[c] += z * tk_to_f32(qp[d * a.sq[3]]);
        }
      }
    }
    tk_bwd_store_row<T>(A.dk, A.dk_dtype, b * A.sdk[0] + (int64_t)j * A.sdk[1] + hkv * A.sdk[2],
                        A.sdk[3], dk, a.D, lane);
    tk_bwd_store_row<T>(A.dv, A.dv_dtype, b * A.sdv[0] + (int64_t)j * A.sdv[1] + hkv * A.sdv[2],
                        A.sdv[3], dv, a.Dv, lane);
  }
}

/* dQ of one valid query row per warp. */
template <typename T>
__global__ void __launch_bounds__(128) tk_bwd_scalar_dq_kernel(const tk_cuda_attention_backward_args A,
                                                               const float *drow) {
  const tk_cuda_attention_args &a = A.f;
  const int lane = threadIdx.x & 31, G = a.Hq / a.Hkv;
  const long long rows = (long long)a.B * a.Tq * a.Hq;
  const tk_bwd_grad grad = {tk_attn_logit::make(a.scale, a.softcap), a.scale,
                            a.softcap > 0.f ? a.scale / a.softcap : 0.f};
  for (long long w = (blockIdx.x * 128LL + threadIdx.x) >> 5; w < rows; w += gridDim.x * 4LL) {
    const int h = (int)(w % a.Hq), i = (int)(w / a.Hq % a.Tq), b = (int)(w / a.Hq / a.Tq);
    const int hkv = h / G;
    int tq, tk, lo, hi;
    tk_bwd_lengths(a, b, &tq, &tk);
    if (i >= tq) continue;
    tk_attn_key_span(a.causal, a.window_left, a.window_right, tk - tq, tk, i, i, &lo, &hi);
    float qr[TK_BWD_LANE_COLS], gr[TK_BWD_LANE_COLS], dq[TK_BWD_LANE_COLS] = {};
    tk_bwd_load_row(qr, (const T *)a.q + b * a.sq[0] + (int64_t)i * a.sq[1] + h * a.sq[2], a.sq[3],
                    a.D, lane);
    tk_bwd_load_row(gr, (const T *)A.dout + b * A.sdo[0] + (int64_t)i * A.sdo[1] + h * A.sdo[2],
                    A.sdo[3], a.Dv, lane);
    const float lse2 = a.lse[b * a.slse[0] + h * a.slse[1] + (int64_t)i * a.slse[2]] * TK_LOG2E;
    const float dr = drow[((int64_t)b * a.Hq + h) * a.Tq + i];
    for (int j = lo; j < hi; j++) {
      const T *kp = (const T *)a.k + b * a.sk[0] + (int64_t)j * a.sk[1] + hkv * a.sk[2];
      const T *vp = (const T *)a.v + b * a.sv[0] + (int64_t)j * a.sv[1] + hkv * a.sv[2];
      const float s = tk_bwd_dot(qr, kp, a.sk[3], a.D, lane);
      const float dp = tk_bwd_dot(gr, vp, a.sv[3], a.Dv, lane);
      float p, z;
      grad(s, dp, lse2, dr, true, &p, &z);
#pragma unroll
      for (int c = 0; c < TK_BWD_LANE_COLS; c++) {
        const int d = 32 * c + lane;
        if (d < a.D) dq[c] += z * tk_to_f32(kp[d * a.sk[3]]);
      }
    }
    tk_bwd_store_row<T>(A.dq, A.dq_dtype, b * A.sdq[0] + (int64_t)i * A.sdq[1] + h * A.sdq[2],
                        A.sdq[3], dq, a.D, lane);
  }
}

/* CTAs of 4 warps for n warps of work, capped (the kernels stride). */
static unsigned tk_bwd_warp_grid(long long n) {
  long long ctas = (n + 3) / 4;
  return (unsigned)(ctas < 1 ? 1 : ctas > TK_BWD_MAX_CTAS ? TK_BWD_MAX_CTAS : ctas);
}

/* Drow, then the scalar kernels or the tensor-core ones, for element T. */
template <typename T>
static cudaError_t tk_bwd_run(const tk_cuda_attention_backward_args &A, const tk_cuda_attn_bwd_config &c,
                              float *drow, bool fast, cudaStream_t s) {
  const tk_cuda_attention_args &a = A.f;
  const long long rows = (long long)a.B * a.Tq * a.Hq, keys = (long long)a.B * a.Hkv * a.Tk;
  cudaError_t e;
  if (rows > 0) {
    tk_bwd_drow_kernel<T><<<tk_bwd_warp_grid(rows), 128, 0, s>>>(A, drow);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
  }
  if constexpr (!std::is_same<T, float>::value) {
    if (fast) return std::is_same<T, __nv_bfloat16>::value ? tk_attention_backward_bf16(A, c, drow, s)
                                                           : tk_attention_backward_f16(A, c, drow, s);
  }
  (void)c;
  (void)fast;
  if (keys > 0) {
    tk_bwd_scalar_dkv_kernel<T><<<tk_bwd_warp_grid(keys), 128, 0, s>>>(A, drow);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
  }
  if (rows > 0) {
    tk_bwd_scalar_dq_kernel<T><<<tk_bwd_warp_grid(rows), 128, 0, s>>>(A, drow);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
  }
  return cudaSuccess;
}

extern "C" int tk_cuda_attention_backward_fast(const tk_cuda_attention_backward_args *A) {
  const tk_cuda_attention_args &a = A->f;
  if ((a.dtype != TK_F16 && a.dtype != TK_BF16) || a.D % 8 || a.Dv % 8 || a.D < 8 || a.Dv < 8 ||
      a.D > 128 || a.Dv > 128)
    return 0;
  const int qe[4] = {a.B, a.Tq, a.Hq, a.D}, ke[4] = {a.B, a.Tk, a.Hkv, a.D};
  const int ve[4] = {a.B, a.Tk, a.Hkv, a.Dv}, oe[4] = {a.B, a.Tq, a.Hq, a.Dv};
  return tk_rows_aligned16(a.q, a.sq, qe, 4) && tk_rows_aligned16(a.k, a.sk, ke, 4) &&
         tk_rows_aligned16(a.v, a.sv, ve, 4) && tk_rows_aligned16(A->dout, A->sdo, oe, 4);
}

extern "C" size_t tk_cuda_attention_backward_workspace(const tk_cuda_attention_backward_args *A) {
  return sizeof(float) * (size_t)A->f.B * (size_t)A->f.Hq * (size_t)A->f.Tq;
}

extern "C" int tk_cuda_attention_backward(const tk_cuda_attention_backward_args *A,
                                          const tk_cuda_attn_bwd_config *c, void *workspace,
                                          void *stream) {
  cudaStream_t s = (cudaStream_t)stream;
  float *drow = (float *)workspace;
  const bool fast = tk_cuda_attention_backward_fast(A) != 0;
  switch (A->f.dtype) {
    case TK_BF16: return tk_bwd_run<__nv_bfloat16>(*A, *c, drow, fast, s);
    case TK_F16: return tk_bwd_run<__half>(*A, *c, drow, fast, s);
    default: return tk_bwd_run<float>(*A, *c, drow, false, s);
  }
}
