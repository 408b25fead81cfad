/* attention_backward.cuh: the cuda_tiled attention backward's tensor-core
 * kernels (FlashAttention-2 style, no atomics), templated on the element
 * type and the head-dim bucket; attention_backward_<dtype>.cu instantiate
 * them and attention_backward.cu launches them.
 *
 * dK/dV kernel: a CTA of 4 warps holds 64 keys of one (batch, kv head),
 * 16 per warp, and walks every row (position x query head of the kv head)
 * in tiles of BQ: per tile each warp computes S^T = K Q^T and dP^T = V dO^T
 * (mma.sync m16n8k16 with the keys as the m dimension), P^T and dZ^T
 * lane-wise, and dV += P^T dO, dK += dZ^T Q into register accumulators.
 * dQ kernel: a CTA of 4 warps holds 64 query rows of one (batch, head), 16
 * per warp, and walks its visible keys in tiles of 64: S = Q K^T, dP =
 * dO V^T, dZ, dQ += dZ K. P and dZ enter the products as two 16-bit terms
 * (the rounding and the rounding of the residual), so they carry about 16
 * bits as the CPU path's do. Tiles are copied by cp.async into swizzled
 * shared memory (attention_mma.cuh). */
#ifndef TK_IMPLS_CUDA_ATTENTION_BACKWARD_CUH
#define TK_IMPLS_CUDA_ATTENTION_BACKWARD_CUH

#include <cuda_runtime.h>

#include "impls/cuda/attention_backward_cuda.h"
#include "impls/cuda/launch_cache.h"
#include "impls/cuda/attention_mma.cuh"
#include "runtime/tensor.h"

/* x rounded to T, back as a float. */
template <typename T>
static __device__ __forceinline__ float tk_round_b16(float x);
template <>
__device__ __forceinline__ float tk_round_b16<__nv_bfloat16>(float x) {
  return __bfloat162float(__float2bfloat16_rn(x));
}
template <>
__device__ __forceinline__ float tk_round_b16<__half>(float x) {
  return __half2float(__float2half_rn(x));
}

/* x -= its rounding to T, in place: what is left after a product that
 * took x as T (tk_attn_pv rounds its operand to nearest). */
template <typename T, int NT>
static __device__ __forceinline__ void tk_bwd_residual(float (&x)[1][NT][4]) {
#pragma unroll
  for (int n = 0; n < NT; n++)
#pragma unroll
    for (int e = 0; e < 4; e++) x[0][n][e] -= tk_round_b16<T>(x[0][n][e]);
}

/* Stores v at element offset i of a gradient of dtype dt (T or float32). */
template <typename T>
static __device__ __forceinline__ void tk_bwd_store(void *base, int dt, int64_t i, float v) {
  if (dt == TK_F32)
    ((float *)base)[i] = v;
  else
    ((T *)base)[i] = (T)v;
}

/* P and dZ of one score and its dP (log2 domain, lse2 = lse log2 e): 0
 * when not visible. */
struct tk_bwd_grad {
  tk_attn_logit logit;
  float scale, cap_in;
  __device__ __forceinline__ void operator()(float s, float dp, float lse2, float drow, bool visible,
                                             float *p, float *z) const {
    if (!visible) {
      *p = *z = 0.f;
      return;
    }
    float slope = 1.f;
    if (cap_in != 0.f) {
      const float th = tanhf(s * cap_in);
      slope = 1.f - th * th;
    }
    *p = tk_ex2(logit(s) - lse2);
    *z = *p * (dp - drow) * slope * scale;
  }
};

/* dK and dV of 64 keys of one (batch, kv head); blockDim 128. */
template <typename T, int DP, int DVP, int BQ>
__global__ void __launch_bounds__(128)
    tk_bwd_dkv_kernel(const tk_cuda_attention_backward_args A, const float *drow) {
  constexpr int CHQ = DP / 8, CHV = DVP / 8, NT = BQ / 8, NK = DP / 8, NV = DVP / 8;
  constexpr bool BF16 = tk_b16<T>::is_bf16;
  extern __shared__ __align__(128) char smem[];
  const tk_cuda_attention_args &a = A.f;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int nkt = (a.Tk + 63) / 64, kt = (int)(blockIdx.x % nkt), bh = (int)(blockIdx.x / nkt);
  const int hkv = bh % a.Hkv, b = bh / a.Hkv, G = a.Hq / a.Hkv;
  const int tq = a.q_lens ? min(max(a.q_lens[b * a.q_lens_stride], 0), a.Tq) : a.Tq;
  const int tk = a.kv_lens ? min(max(a.kv_lens[b * a.kv_lens_stride], 0), a.Tk) : a.Tk;
  const int rows = tq * G, off = tk - tq, kb0 = kt * 64, kw0 = kb0 + 16 * warp;
  const int wl = a.window_left, wr = a.window_right;
  char *ktile = smem, *vtile = ktile + 2 * 64 * DP, *qtile = vtile + 2 * 64 * DVP;
  char *otile = qtile + 2 * BQ * DP;
  float *lse2 = (float *)(otile + 2 * BQ * DVP), *drs = lse2 + BQ;
  const T *kb = (const T *)a.k + b * a.sk[0] + hkv * a.sk[2];
  const T *vb = (const T *)a.v + b * a.sv[0] + hkv * a.sv[2];
  tk_copy_tile<CHQ>(
      ktile, 64, a.D / 8,
      [&](int r) { return kb0 + r < tk ? (const void *)(kb + (int64_t)(kb0 + r) * a.sk[1]) : nullptr; },
      a.k, tid, 128);
  tk_copy_tile<CHV>(
      vtile, 64, a.Dv / 8,
      [&](int r) { return kb0 + r < tk ? (const void *)(vb + (int64_t)(kb0 + r) * a.sv[1]) : nullptr; },
      a.v, tid, 128);
  tk_cp_async_commit();
  const tk_bwd_grad grad = {tk_attn_logit::make(a.scale, a.softcap), a.scale,
                            a.softcap > 0.f ? a.scale / a.softcap : 0.f};
  float dK[1][NK][4] = {}, dV[1][NV][4] = {};
  const uint32_t none[1][1][4] = {};
  /* row r of the group: position r / G, query head hkv * G + r % G */
  auto q_row = [&](int r) {
    return (const void *)((const T *)a.q + b * a.sq[0] + (int64_t)(r / G) * a.sq[1] +
                          (hkv * G + r % G) * a.sq[2]);
  };
  auto o_row = [&](int r) {
    return (const void *)((const T *)A.dout + b * A.sdo[0] + (int64_t)(r / G) * A.sdo[1] +
                          (hkv * G + r % G) * A.sdo[2]);
  };
  for (int r0 = 0; r0 < rows; r0 += BQ) {
    const int p0 = r0 / G, p1 = (min(r0 + BQ, rows) - 1) / G;
    if (tk_attn_block_class(a.causal, wl, wr, off, tk, p0, p1, kb0, kb0 + 64) == 0) continue;
    __syncthreads(); /* the previous tile's Q and dO are no longer read */
    tk_copy_tile<CHQ>(qtile, BQ, a.D / 8, [&](int r) { return r0 + r < rows ? q_row(r0 + r) : nullptr; },
                      a.q, tid, 128);
    tk_copy_tile<CHV>(otile, BQ, a.Dv / 8,
                      [&](int r) { return r0 + r < rows ? o_row(r0 + r) : nullptr; }, A.dout, tid, 128);
    tk_cp_async_commit();
    for (int r = tid; r < BQ; r += 128) {
      const int g = r0 + r, pos = g / G, h = hkv * G + g % G;
      lse2[r] = g < rows ? a.lse[b * a.slse[0] + h * a.slse[1] + (int64_t)pos * a.slse[2]] * TK_LOG2E : 0.f;
      drs[r] = g < rows ? drow[((int64_t)b * a.Hq + h) * a.Tq + pos] : 0.f;
    }
    tk_cp_async_wait_n(0);
    __syncthreads();
    if (tk_attn_block_class(a.causal, wl, wr, off, tk, p0, p1, kw0, kw0 + 16) == 0) continue;
    float S[1][NT][4], dP[1][NT][4];
    tk_attn_qk<BF16, DP, NT, 1, false>(S, none, ktile, 16 * warp, qtile, 0, lane);
    tk_attn_qk<BF16, DVP, NT, 1, false>(dP, none, vtile, 16 * warp, otile, 0, lane);
#pragma unroll
    for (int n = 0; n < NT; n++)
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const int key = kw0 + (lane >> 2) + 8 * (e >> 1), rr = 8 * n + 2 * (lane & 3) + (e & 1);
        const int r = r0 + rr;
        const bool vis = r < rows && tk_attn_sees(a.causal, wl, wr, r / G + off, tk, key);
        grad(S[0][n][e], dP[0][n][e], lse2[rr], drs[rr], vis, &S[0][n][e], &dP[0][n][e]);
      }
    tk_attn_pv<T, DVP, NT, 1>(dV, S, otile, 0, lane);
    tk_bwd_residual<T, NT>(S);
    tk_attn_pv<T, DVP, NT, 1>(dV, S, otile, 0, lane);
    tk_attn_pv<T, DP, NT, 1>(dK, dP, qtile, 0, lane);
    tk_bwd_residual<T, NT>(dP);
    tk_attn_pv<T, DP, NT, 1>(dK, dP, qtile, 0, lane);
  }
#pragma unroll
  for (int half = 0; half < 2; half++) {
    const int key = kw0 + (lane >> 2) + 8 * half;
    if (key >= a.Tk) continue;
    const int64_t kr = b * A.sdk[0] + (int64_t)key * A.sdk[1] + hkv * A.sdk[2];
    const int64_t vr = b * A.sdv[0] + (int64_t)key * A.sdv[1] + hkv * A.sdv[2];
#pragma unroll
    for (int n = 0; n < NK; n++)
#pragma unroll
      for (int e = 0; e < 2; e++) {
        const int col = 8 * n + 2 * (lane & 3) + e;
        if (col < a.D) tk_bwd_store<T>(A.dk, A.dk_dtype, kr + col * A.sdk[3], dK[0][n][2 * half + e]);
      }
#pragma unroll
    for (int n = 0; n < NV; n++)
#pragma unroll
      for (int e = 0; e < 2; e++) {
        const int col = 8 * n + 2 * (lane & 3) + e;
        if (col < a.Dv) tk_bwd_store<T>(A.dv, A.dv_dtype, vr + col * A.sdv[3], dV[0][n][2 * half + e]);
      }
  }
}

/* dQ of 64 query rows of one (batch, head); blockDim 128. */
template <typename T, int DP, int DVP>
__global__ void __launch_bounds__(128)
    tk_bwd_dq_kernel(const tk_cuda_attention_backward_args A, const float *drow) {
  constexpr int CHQ = DP / 8, CHV = DVP / 8, NT = 8, NQ = DP / 8;
  constexpr bool BF16 = tk_b16<T>::is_bf16;
  extern __shared__ __align__(128) char smem[];
  const tk_cuda_attention_args &a = A.f;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int nqt = (a.Tq + 63) / 64, qt = nqt - 1 - (int)(blockIdx.x % nqt);
  const int bh = (int)(blockIdx.x / nqt), h = bh % a.Hq, b = bh / a.Hq, hkv = h / (a.Hq / a.Hkv);
  const int tq = a.q_lens ? min(max(a.q_lens[b * a.q_lens_stride], 0), a.Tq) : a.Tq;
  const int tk = a.kv_lens ? min(max(a.kv_lens[b * a.kv_lens_stride], 0), a.Tk) : a.Tk;
  const int q0 = qt * 64;
  if (q0 >= tq) return; /* rows past q_len are not written */
  const int off = tk - tq, wl = a.window_left, wr = a.window_right;
  int lo, hi;
  tk_attn_key_span(a.causal, wl, wr, off, tk, q0, min(q0 + 64, tq) - 1, &lo, &hi);
  const int kv0 = lo / 64 * 64, ntiles = hi > lo ? (hi - kv0 + 63) / 64 : 0;
  char *qtile = smem, *otile = qtile + 2 * 64 * DP, *ktile = otile + 2 * 64 * DVP;
  char *vtile = ktile + 2 * 64 * DP;
  float *lse2 = (float *)(vtile + 2 * 64 * DVP), *drs = lse2 + 64;
  const T *qb = (const T *)a.q + b * a.sq[0] + h * a.sq[2];
  const T *ob = (const T *)A.dout + b * A.sdo[0] + h * A.sdo[2];
  const T *kb = (const T *)a.k + b * a.sk[0] + hkv * a.sk[2];
  const T *vb = (const T *)a.v + b * a.sv[0] + hkv * a.sv[2];
  tk_copy_tile<CHQ>(
      qtile, 64, a.D / 8,
      [&](int r) { return q0 + r < tq ? (const void *)(qb + (int64_t)(q0 + r) * a.sq[1]) : nullptr; },
      a.q, tid, 128);
  tk_copy_tile<CHV>(
      otile, 64, a.Dv / 8,
      [&](int r) { return q0 + r < tq ? (const void *)(ob + (int64_t)(q0 + r) * A.sdo[1]) : nullptr; },
      A.dout, tid, 128);
  tk_cp_async_commit();
  for (int r = tid; r < 64; r += 128) {
    const int i = q0 + r;
    lse2[r] = i < tq ? a.lse[b * a.slse[0] + h * a.slse[1] + (int64_t)i * a.slse[2]] * TK_LOG2E : 0.f;
    drs[r] = i < tq ? drow[((int64_t)b * a.Hq + h) * a.Tq + i] : 0.f;
  }
  const tk_bwd_grad grad = {tk_attn_logit::make(a.scale, a.softcap), a.scale,
                            a.softcap > 0.f ? a.scale / a.softcap : 0.f};
  const int wi0 = q0 + 16 * warp, wi1 = min(wi0 + 16, tq) - 1;
  float dQ[1][NQ][4] = {};
  const uint32_t none[1][1][4] = {};
  for (int it = 0; it < ntiles; it++) {
    const int j0 = kv0 + 64 * it;
    __syncthreads(); /* the previous tile is no longer read */
    tk_copy_tile<CHQ>(
        ktile, 64, a.D / 8,
        [&](int r) { return j0 + r < tk ? (const void *)(kb + (int64_t)(j0 + r) * a.sk[1]) : nullptr; },
        a.k, tid, 128);
    tk_copy_tile<CHV>(
        vtile, 64, a.Dv / 8,
        [&](int r) { return j0 + r < tk ? (const void *)(vb + (int64_t)(j0 + r) * a.sv[1]) : nullptr; },
        a.v, tid, 128);
    tk_cp_async_commit();
    tk_cp_async_wait_n(0);
    __syncthreads();
    if (wi0 > wi1 || tk_attn_block_class(a.causal, wl, wr, off, tk, wi0, wi1, j0, j0 + 64) == 0) continue;
    float S[1][NT][4], dP[1][NT][4];
    tk_attn_qk<BF16, DP, NT, 1, false>(S, none, qtile, 16 * warp, ktile, 0, lane);
    tk_attn_qk<BF16, DVP, NT, 1, false>(dP, none, otile, 16 * warp, vtile, 0, lane);
#pragma unroll
    for (int n = 0; n < NT; n++)
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const int rr = 16 * warp + (lane >> 2) + 8 * (e >> 1), i = q0 + rr;
        const int key = j0 + 8 * n + 2 * (lane & 3) + (e & 1);
        const bool vis = i < tq && tk_attn_sees(a.causal, wl, wr, i + off, tk, key);
        float p;
        grad(S[0][n][e], dP[0][n][e], lse2[rr], drs[rr], vis, &p, &dP[0][n][e]);
      }
    tk_attn_pv<T, DP, NT, 1>(dQ, dP, ktile, 0, lane);
    tk_bwd_residual<T, NT>(dP);
    tk_attn_pv<T, DP, NT, 1>(dQ, dP, ktile, 0, lane);
  }
#pragma unroll
  for (int half = 0; half < 2; half++) {
    const int i = wi0 + (lane >> 2) + 8 * half;
    if (i >= tq) continue;
    const int64_t row = b * A.sdq[0] + (int64_t)i * A.sdq[1] + h * A.sdq[2];
#pragma unroll
    for (int n = 0; n < NQ; n++)
#pragma unroll
      for (int e = 0; e < 2; e++) {
        const int col = 8 * n + 2 * (lane & 3) + e;
        if (col < a.D) tk_bwd_store<T>(A.dq, A.dq_dtype, row + col * A.sdq[3], dQ[0][n][2 * half + e]);
      }
  }
}

/* Shared memory of the two kernels. */
static inline long long tk_bwd_dkv_smem(int dp, int dvp, int bq) {
  return 2LL * 64 * (dp + dvp) + 2LL * bq * (dp + dvp) + 8LL * bq;
}
static inline long long tk_bwd_dq_smem(int dp, int dvp) { return 4LL * 64 * (dp + dvp) + 8LL * 64; }

/* The dK/dV kernel of a bucket for block_q rows a tile: 16 or 32 rows up
 * to 64 columns, 16 rows for 128 (larger tiles spill under ptxas 13). */
template <typename T, int DP, int DVP>
static auto tk_bwd_dkv_for(int block_q) {
  if constexpr (DP <= 64 && DVP <= 64)
    return block_q == 32 ? tk_bwd_dkv_kernel<T, DP, DVP, 32> : tk_bwd_dkv_kernel<T, DP, DVP, 16>;
  else
    return tk_bwd_dkv_kernel<T, DP, DVP, 16>;
}

/* Launches both kernels of one bucket. */
template <typename T, int DP, int DVP>
static cudaError_t tk_bwd_launch_bucket(const tk_cuda_attention_backward_args &A,
                                        const tk_cuda_attn_bwd_config &c, const float *drow,
                                        cudaStream_t stream) {
  const tk_cuda_attention_args &a = A.f;
  const long long dkv_ctas = (long long)((a.Tk + 63) / 64) * a.Hkv * a.B;
  const long long dq_ctas = (long long)((a.Tq + 63) / 64) * a.Hq * a.B;
  cudaError_t e = cudaSuccess;
  if (dkv_ctas > 0) {
    const int bq = DP <= 64 && DVP <= 64 && c.block_q == 32 ? 32 : 16;
    auto dkv = tk_bwd_dkv_for<T, DP, DVP>(bq);
    const long long smem = tk_bwd_dkv_smem(DP, DVP, bq);
    e = tk_cuda_prepare_launch((const void *)dkv, smem, dkv_ctas);
    if (e != cudaSuccess) return e;
    dkv<<<(unsigned)dkv_ctas, 128, (size_t)smem, stream>>>(A, drow);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
  }
  if (dq_ctas > 0) {
    auto dq = tk_bwd_dq_kernel<T, DP, DVP>;
    const long long smem = tk_bwd_dq_smem(DP, DVP);
    e = tk_cuda_prepare_launch((const void *)dq, smem, dq_ctas);
    if (e != cudaSuccess) return e;
    dq<<<(unsigned)dq_ctas, 128, (size_t)smem, stream>>>(A, drow);
    e = cudaGetLastError();
  }
  return e;
}

/* tk_bwd_launch_bucket for the bucket of the call's head dims (64 or 128). */
template <typename T>
static cudaError_t tk_bwd_launch(const tk_cuda_attention_backward_args &A,
                                 const tk_cuda_attn_bwd_config &c, const float *drow,
                                 cudaStream_t stream) {
  const int m = A.f.D > A.f.Dv ? A.f.D : A.f.Dv;
  return m <= 64 ? tk_bwd_launch_bucket<T, 64, 64>(A, c, drow, stream)
                 : tk_bwd_launch_bucket<T, 128, 128>(A, c, drow, stream);
}

/* The launches for each element type (attention_backward_<dtype>.cu). */
cudaError_t tk_attention_backward_bf16(const tk_cuda_attention_backward_args &a,
                                       const tk_cuda_attn_bwd_config &c, const float *drow,
                                       cudaStream_t stream);
cudaError_t tk_attention_backward_f16(const tk_cuda_attention_backward_args &a,
                                      const tk_cuda_attn_bwd_config &c, const float *drow,
                                      cudaStream_t stream);

#endif
