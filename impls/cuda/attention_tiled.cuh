/* attention_tiled.cuh: the cuda_tiled dense attention kernel
 * (FlashAttention-2 style) and its launch, templated on the element type
 * and tile shape; attention_tiled_<dtype>.cu instantiate it.
 *
 * A CTA takes block_q query rows of one (batch, head), split among its
 * warps (16 * MT rows each). The Q tile is copied to shared memory once
 * (and, for MT = 1 and D <= 128, held in registers); K/V tiles of BK keys
 * stream through a ring of `stages` shared-memory buffers filled by
 * cp.async, `stages - 1` tiles ahead of the one being computed. Per tile
 * each warp computes S = Q K^T (mma.sync m16n8k16, fp32 accumulators),
 * masks and the online softmax, and O += P V with P rounded to the input
 * type. Only the CTA's visible key span is visited; tiles a warp's rows
 * cannot see are skipped and tiles they see entirely are not masked. */
#ifndef TK_IMPLS_CUDA_ATTENTION_TILED_CUH
#define TK_IMPLS_CUDA_ATTENTION_TILED_CUH

#include <cuda_runtime.h>

#include "impls/cuda/attention_cuda.h"
#include "impls/cuda/attention_mma.cuh"
#include "impls/cuda/launch_cache.h"

/* Attention of one CTA's block_q query rows of one (batch, head), as the
 * file comment describes; blockDim.x = 32 * block_q / (16 MT). */
template <typename T, int DP, int DVP, int BK, int MT>
__global__ void __launch_bounds__(256)
    tk_tiled_attention_kernel(const tk_cuda_attention_args a, int stages) {
  constexpr int CHQ = DP / 8, CHV = DVP / 8, NT = BK / 8, NV = DVP / 8, WR = 16 * MT;
  constexpr bool QREG = MT == 1 && DP <= 128;
  extern __shared__ __align__(128) char smem[];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, nthreads = blockDim.x;
  const int BQ = (nthreads >> 5) * WR;
  const int nqt = (a.Tq + BQ - 1) / BQ;
  const int qt = nqt - 1 - (int)(blockIdx.x % nqt); /* the longest causal rows first */
  const int bh = (int)(blockIdx.x / nqt), h = bh % a.Hq, b = bh / a.Hq;
  const int tq = a.q_lens ? min(max(a.q_lens[b * a.q_lens_stride], 0), a.Tq) : a.Tq;
  const int tk = a.kv_lens ? min(max(a.kv_lens[b * a.kv_lens_stride], 0), a.Tk) : a.Tk;
  const int q0 = qt * BQ;
  if (q0 >= tq) return;
  const int hkv = h / (a.Hq / a.Hkv), off = tk - tq;
  const int wl = a.window_left, wr = a.window_right;
  int lo, hi;
  tk_attn_key_span(a.causal, wl, wr, off, tk, q0, min(q0 + BQ, tq) - 1, &lo, &hi);
  const int kv0 = lo / BK * BK;
  const int ntiles = hi > lo ? (hi - kv0 + BK - 1) / BK : 0;

  const T *qb = (const T *)a.q + b * a.sq[0] + h * a.sq[2];
  const T *kb = (const T *)a.k + b * a.sk[0] + hkv * a.sk[2];
  const T *vb = (const T *)a.v + b * a.sv[0] + hkv * a.sv[2];
  char *qtile = smem, *ring = smem + 2 * BQ * DP;
  const int stage_bytes = 2 * BK * (DP + DVP);
  /* Starts copying K/V tile t (keys kv0 + t BK ...) into ring slot s. */
  auto load_kv = [&](int t, int s) {
    const int j0 = kv0 + t * BK;
    char *kt = ring + s * stage_bytes;
    tk_copy_tile<CHQ>(
        kt, BK, a.D / 8,
        [&](int r) { return j0 + r < tk ? (const void *)(kb + (int64_t)(j0 + r) * a.sk[1]) : nullptr; },
        a.k, tid, nthreads);
    tk_copy_tile<CHV>(
        kt + 2 * BK * DP, BK, a.Dv / 8,
        [&](int r) { return j0 + r < tk ? (const void *)(vb + (int64_t)(j0 + r) * a.sv[1]) : nullptr; },
        a.v, tid, nthreads);
  };

  const tk_attn_logit logit = tk_attn_logit::make(a.scale, a.softcap);
  const int wrow0 = warp * WR, wi0 = q0 + wrow0, wi1 = min(wi0 + WR, tq) - 1;
  float O[MT][NV][4], m[MT][2], l[MT][2];
#pragma unroll
  for (int mt = 0; mt < MT; mt++) {
    m[mt][0] = m[mt][1] = -INFINITY;
    l[mt][0] = l[mt][1] = 0.f;
#pragma unroll
    for (int n = 0; n < NV; n++) O[mt][n][0] = O[mt][n][1] = O[mt][n][2] = O[mt][n][3] = 0.f;
  }
  if (ntiles > 0) {
    tk_copy_tile<CHQ>(
        qtile, BQ, a.D / 8,
        [&](int r) { return q0 + r < tq ? (const void *)(qb + (int64_t)(q0 + r) * a.sq[1]) : nullptr; },
        a.q, tid, nthreads);
    load_kv(0, 0);
    tk_cp_async_commit();
    for (int s = 1; s < stages - 1; s++) {
      if (s < ntiles) load_kv(s, s);
      tk_cp_async_commit();
    }
    uint32_t qf[MT][QREG ? DP / 16 : 1][4];
    if (QREG) {
      tk_cp_async_wait_n(stages - 2); /* the Q tile (copied with tile 0) has landed */
      __syncthreads();
#pragma unroll
      for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int kk = 0; kk < DP / 16; kk++) tk_load_a<CHQ>(qf[mt][kk], qtile, wrow0 + 16 * mt, kk, lane);
    }
    for (int it = 0; it < ntiles; it++) {
      tk_cp_async_wait_n(stages - 2); /* tile it (and the Q tile) have landed */
      __syncthreads();                /* ... for every thread; slot (it - 1) % stages is free */
      if (it + stages - 1 < ntiles) load_kv(it + stages - 1, (it + stages - 1) % stages);
      tk_cp_async_commit();
      if (wi0 > wi1) continue;
      const int j0 = kv0 + it * BK;
      const int cls = tk_attn_block_class(a.causal, wl, wr, off, tk, wi0, wi1, j0, j0 + BK);
      if (cls == 0) continue;
      const char *kt = ring + (it % stages) * stage_bytes;
      float S[MT][NT][4];
      tk_attn_qk<tk_b16<T>::is_bf16, DP, NT, MT, QREG>(S, qf, qtile, wrow0, kt, 0, lane);
#pragma unroll
      for (int mt = 0; mt < MT; mt++) {
        const int diag0 = wi0 + 16 * mt + (lane >> 2) + off;
        float alpha[2];
        tk_attn_softmax<NT>(
            S[mt], m[mt], l[mt], alpha, logit, cls == 1,
            [&](int half, int key) {
              return tk_attn_sees(a.causal, wl, wr, diag0 + 8 * half, tk, j0 + key);
            },
            lane);
        tk_attn_rescale<NV>(O[mt], alpha);
      }
      tk_attn_pv<T, DVP, NT, MT>(O, S, kt + 2 * BK * DP, 0, lane);
    }
  }
#pragma unroll
  for (int mt = 0; mt < MT; mt++) {
    float lse[2];
    tk_attn_finish<NV>(O[mt], m[mt], l[mt], lse);
#pragma unroll
    for (int half = 0; half < 2; half++) {
      const int i = wi0 + 16 * mt + (lane >> 2) + 8 * half;
      if (i >= tq) continue;
      tk_attn_store_row<T, NV>((T *)a.out + b * a.so[0] + (int64_t)i * a.so[1] + h * a.so[2], O[mt],
                               half, a.Dv, lane);
      if (a.lse && (lane & 3) == 0)
        a.lse[b * a.slse[0] + h * a.slse[1] + (int64_t)i * a.slse[2]] = lse[half];
    }
  }
}

/* Launches the kernel of one compiled shape. */
template <typename T, int DP, int DVP, int BK, int MT>
static cudaError_t tk_tiled_launch_shape(const tk_cuda_attention_args &a,
                                         const tk_cuda_tiled_config &c, cudaStream_t stream) {
  auto kernel = tk_tiled_attention_kernel<T, DP, DVP, BK, MT>;
  const long long smem = tk_tiled_smem(DP, DVP, c.block_q, BK, c.stages);
  const long long ctas = (long long)((a.Tq + c.block_q - 1) / c.block_q) * a.Hq * a.B;
  cudaError_t e = tk_cuda_prepare_launch((const void *)kernel, smem, ctas);
  if (e != cudaSuccess) return e;
  kernel<<<(unsigned)ctas, c.block_q / (16 * MT) * 32, (size_t)smem, stream>>>(a, c.stages);
  return cudaGetLastError();
}

/* Launches the compiled shape that fits a and c (cudaErrorInvalidValue if
 * none does). */
template <typename T>
static cudaError_t tk_tiled_launch(const tk_cuda_attention_args &a, const tk_cuda_tiled_config &c,
                                   cudaStream_t stream) {
  int dp, dvp;
  if (!tk_attn_bucket(a.D, a.Dv, &dp, &dvp)) return cudaErrorInvalidValue;
#define TK_X_(P, V, K, M)                                             \
  if (dp == P && dvp == V && c.block_kv == K && c.warp_mtiles == M) \
    return tk_tiled_launch_shape<T, P, V, K, M>(a, c, stream);
  TK_TILED_SHAPES(TK_X_)
#undef TK_X_
  return cudaErrorInvalidValue;
}

/* tk_tiled_launch for each element type (attention_tiled_<dtype>.cu). */
cudaError_t tk_attention_tiled_bf16(const tk_cuda_attention_args &a, const tk_cuda_tiled_config &c,
                                    cudaStream_t stream);
cudaError_t tk_attention_tiled_f16(const tk_cuda_attention_args &a, const tk_cuda_tiled_config &c,
                                   cudaStream_t stream);

#endif
