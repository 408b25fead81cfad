/* attention_pipelined.cuh: the cuda_pipelined dense attention kernel
 * (FlashAttention-3 style, sm_90a) and its launch, templated on the element
 * type and tile shape; attention_pipelined_<dtype>.cu instantiate it.
 *
 * A CTA takes 64 * NC query rows of one (batch, head) and has NC + 1
 * warpgroups. Warpgroup 0 is the producer: one thread loads the Q tile and
 * then streams K and V tiles of BK keys with TMA into a ring of `stages`
 * shared-memory slots, each slot guarded by three mbarriers: K landed,
 * V landed (transaction counts), and slot free (one arrival per consumer
 * warp once its wgmmas reading the slot are done). Warpgroups 1..NC are
 * consumers of 64 rows each: S = Q K^T by wgmma with both operands in
 * shared memory (128-byte swizzled, K-major), the online softmax in
 * registers, and O += P V by wgmma with P from registers and V N-major in
 * shared memory. The product S of tile j + 1 is issued before O += P V of
 * tile j, so the softmax of one tile runs while the tensor cores work on
 * the next. The code exists only for sm_90a; elsewhere the kernel is
 * empty and tk_cuda_sm90a_available (impls/cuda/sm90a.h) says no. */
#ifndef TK_IMPLS_CUDA_ATTENTION_PIPELINED_CUH
#define TK_IMPLS_CUDA_ATTENTION_PIPELINED_CUH

#include <cuda_runtime.h>

#include "impls/cuda/attention_cuda.h"
#include "impls/cuda/attention_mma.cuh"
#include "impls/cuda/attention_wgmma.cuh"
#include "impls/cuda/launch_cache.h"
#include "impls/cuda/ptx_mbarrier.cuh"
#include "impls/cuda/tma_map.h"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define TK_PIPELINED_SM90A 1
#else
#define TK_PIPELINED_SM90A 0
#endif

/* The descriptor of a K-major 128-byte-swizzled tile at shared address addr
 * (8-row groups 1024 bytes apart). */
static __device__ __forceinline__ uint64_t tk_desc_kmajor(uint32_t addr) {
  return tk_wgmma_desc_sw128(addr, 16, 1024);
}

/* S (64 x BK of this warpgroup) = Q (rows at qaddr) K^T (slot at kaddr)
 * over DP columns; both tiles are DP / 64 column blocks of `rows` x 128 B. */
template <bool BF16, int DP, int BK, int QROWS>
static __device__ __forceinline__ void tk_pipe_qk(float (&S)[BK / 8][4], uint32_t qaddr,
                                                  uint32_t kaddr) {
  float(&d)[BK / 2] = *reinterpret_cast<float(*)[BK / 2]>(&S[0][0]);
#pragma unroll
  for (int kk = 0; kk < DP / 16; kk++) {
    const uint64_t da = tk_desc_kmajor(qaddr + (kk / 4) * (QROWS * 128) + (kk % 4) * 32);
    const uint64_t db = tk_desc_kmajor(kaddr + (kk / 4) * (BK * 128) + (kk % 4) * 32);
    if constexpr (BK == 128)
      tk_wgmma_m64n128k16<BF16, 0, 0>(d, da, db, kk > 0);
    else
      tk_wgmma_m64n64k16_ss<BF16>(d, da, db, kk > 0);
  }
}

/* O (64 x DVP of this warpgroup) += P (registers, BK keys) V (slot at
 * vaddr: DVP / 64 column blocks of BK x 128 B, N-major for the product). */
template <bool BF16, int DVP, int BK>
static __device__ __forceinline__ void tk_pipe_pv(float (&O)[DVP / 8][4], const uint32_t (&P)[BK / 16][4],
                                                  uint32_t vaddr) {
#pragma unroll
  for (int kk = 0; kk < BK / 16; kk++) {
    if constexpr (DVP == 64) {
      float(&d)[32] = *reinterpret_cast<float(*)[32]>(&O[0][0]);
      tk_wgmma_m64n64k16_rs<BF16>(d, P[kk], tk_wgmma_desc_sw128(vaddr + kk * 2048, BK * 128, 1024));
    } else {
#pragma unroll
      for (int h = 0; h < DVP / 128; h++) {
        float(&d)[64] = *reinterpret_cast<float(*)[64]>(&O[16 * h][0]);
        tk_wgmma_m64n128k16_rs<BF16>(
            d, P[kk], tk_wgmma_desc_sw128(vaddr + 2 * h * (BK * 128) + kk * 2048, BK * 128, 1024));
      }
    }
  }
}

/* P (the A fragments of the P V product) from the probabilities in S. */
template <typename T, int BK>
static __device__ __forceinline__ void tk_pipe_pack(uint32_t (&P)[BK / 16][4], const float (&S)[BK / 8][4]) {
#pragma unroll
  for (int kk = 0; kk < BK / 16; kk++) {
    P[kk][0] = tk_b16<T>::pack(S[2 * kk][0], S[2 * kk][1]);
    P[kk][1] = tk_b16<T>::pack(S[2 * kk][2], S[2 * kk][3]);
    P[kk][2] = tk_b16<T>::pack(S[2 * kk + 1][0], S[2 * kk + 1][1]);
    P[kk][3] = tk_b16<T>::pack(S[2 * kk + 1][2], S[2 * kk + 1][3]);
  }
}

/* Attention of one CTA's 64 NC query rows of one (batch, head), as the
 * file comment describes (sm_90a only). */
template <typename T, int DP, int DVP, int BK, int NC>
__global__ void __launch_bounds__((NC + 1) * 128, 1)
    tk_pipelined_kernel(const __grid_constant__ CUtensorMap qmap,
                        const __grid_constant__ CUtensorMap kmap,
                        const __grid_constant__ CUtensorMap vmap, const tk_cuda_attention_args a,
                        int stages) {
#if TK_PIPELINED_SM90A
  constexpr int BQ = 64 * NC, NT = BK / 8, NV = DVP / 8;
  constexpr int Q_BYTES = 2 * BQ * DP, K_BYTES = 2 * BK * DP, V_BYTES = 2 * BK * DVP;
  constexpr bool BF16 = tk_b16<T>::is_bf16;
  extern __shared__ __align__(128) char smem_raw[];
  char *smem = smem_raw + ((1024 - tk_smem_u32(smem_raw) % 1024) % 1024);
  char *qs = smem, *ks = qs + Q_BYTES, *vs = ks + stages * K_BYTES;
  uint64_t *bars = reinterpret_cast<uint64_t *>(vs + stages * V_BYTES);
  uint64_t *full_k = bars, *full_v = bars + stages, *empty = bars + 2 * stages, *q_bar = bars + 3 * stages;

  const int nqt = (a.Tq + BQ - 1) / BQ;
  const int qt = nqt - 1 - (int)(blockIdx.x % nqt);
  const int bh = (int)(blockIdx.x / nqt), h = bh % a.Hq, b = bh / a.Hq;
  const int tq = a.q_lens ? min(max(a.q_lens[b * a.q_lens_stride], 0), a.Tq) : a.Tq;
  const int tk = a.kv_lens ? min(max(a.kv_lens[b * a.kv_lens_stride], 0), a.Tk) : a.Tk;
  const int q0 = qt * BQ;
  if (q0 >= tq) return;
  const int hkv = h / (a.Hq / a.Hkv), off = tk - tq, wl = a.window_left, wr = a.window_right;
  int lo, hi;
  tk_attn_key_span(a.causal, wl, wr, off, tk, q0, min(q0 + BQ, tq) - 1, &lo, &hi);
  const int kv0 = lo / BK * BK;
  const int ntiles = hi > lo ? (hi - kv0 + BK - 1) / BK : 0;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, wg = warp >> 2;

  if (threadIdx.x == 0) {
    for (int s = 0; s < stages; s++) {
      tk_mbar_init(&full_k[s], 1);
      tk_mbar_init(&full_v[s], 1);
      tk_mbar_init(&empty[s], 4 * NC);
    }
    tk_mbar_init(q_bar, 1);
    tk_mbar_init_fence();
  }
  __syncthreads();

  if (wg == 0) { /* producer */
    if constexpr (NC == 2) tk_setmaxnreg_dec<24>();
    if (threadIdx.x == 0 && ntiles > 0) {
      tk_mbar_arrive_expect_tx(q_bar, Q_BYTES);
      for (int c = 0; c < DP / 64; c++) tk_tma_load_4d(qs + c * (BQ * 128), &qmap, q_bar, 64 * c, q0, h, b);
      for (int it = 0; it < ntiles; it++) {
        const int s = it % stages, j0 = kv0 + it * BK;
        tk_mbar_wait(&empty[s], ((it / stages) & 1) ^ 1);
        tk_mbar_arrive_expect_tx(&full_k[s], K_BYTES);
        for (int c = 0; c < DP / 64; c++)
          tk_tma_load_4d(ks + s * K_BYTES + c * (BK * 128), &kmap, &full_k[s], 64 * c, j0, hkv, b);
        tk_mbar_arrive_expect_tx(&full_v[s], V_BYTES);
        for (int c = 0; c < DVP / 64; c++)
          tk_tma_load_4d(vs + s * V_BYTES + c * (BK * 128), &vmap, &full_v[s], 64 * c, j0, hkv, b);
      }
    }
    return;
  }

  /* consumer warpgroup c: rows q0 + 64 c + 16 w4 + g (+ 8) */
  if constexpr (NC == 2) tk_setmaxnreg_inc<240>();
  const int c = wg - 1, w4 = warp & 3;
  const int row0 = q0 + 64 * c + 16 * w4 + (lane >> 2);
  const int wg_i0 = q0 + 64 * c, wg_i1 = min(wg_i0 + 64, tq) - 1;
  const uint32_t qaddr = tk_smem_u32(qs) + 64 * c * 128;
  const tk_attn_logit logit = tk_attn_logit::make(a.scale, a.softcap);
  float O[NV][4], S[NT][4], m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f}, alpha[2];
  uint32_t P[BK / 16][4];
#pragma unroll
  for (int n = 0; n < NV; n++) O[n][0] = O[n][1] = O[n][2] = O[n][3] = 0.f;

  /* The softmax of tile it over S (masked unless every row of this
   * warpgroup sees every key of the tile). */
  auto softmax = [&](int it) {
    const int j0 = kv0 + it * BK;
    const int cls = wg_i0 <= wg_i1 ? tk_attn_block_class(a.causal, wl, wr, off, tk, wg_i0, wg_i1, j0, j0 + BK) : 0;
    tk_attn_softmax<NT>(
        S, m, l, alpha, logit, cls != 2,
        [&](int half, int key) { return tk_attn_sees(a.causal, wl, wr, row0 + 8 * half + off, tk, j0 + key); },
        lane);
  };
  /* Frees ring slot s: each consumer warp arrives once its wgmmas are done. */
  auto release = [&](int s) {
    if (lane == 0) tk_mbar_arrive(&empty[s]);
  };

  if (ntiles > 0) {
    tk_mbar_wait(q_bar, 0);
    tk_mbar_wait(&full_k[0], 0);
    tk_wgmma_fence();
    tk_pipe_qk<BF16, DP, BK, BQ>(S, qaddr, tk_smem_u32(ks));
    tk_wgmma_commit();
    tk_wgmma_wait<0>();
    tk_wgmma_fence_regs(*reinterpret_cast<float(*)[BK / 2]>(&S[0][0]));
    softmax(0);
    tk_pipe_pack<T, BK>(P, S);
    for (int it = 1; it < ntiles; it++) {
      const int s = it % stages, sp = (it - 1) % stages;
      tk_mbar_wait(&full_k[s], (it / stages) & 1);
      tk_wgmma_fence();
      tk_pipe_qk<BF16, DP, BK, BQ>(S, qaddr, tk_smem_u32(ks + s * K_BYTES));
      tk_wgmma_commit();
      tk_mbar_wait(&full_v[sp], ((it - 1) / stages) & 1);
      tk_wgmma_fence();
      tk_pipe_pv<BF16, DVP, BK>(O, P, tk_smem_u32(vs + sp * V_BYTES));
      tk_wgmma_commit();
      tk_wgmma_wait<1>(); /* S of tile it is ready; P V of tile it - 1 may run on */
      tk_wgmma_fence_regs(*reinterpret_cast<float(*)[BK / 2]>(&S[0][0]));
      softmax(it);
      tk_wgmma_wait<0>();
      tk_wgmma_fence_regs(*reinterpret_cast<float(*)[DVP / 2]>(&O[0][0]));
      tk_wgmma_fence_frags(P);
      release(sp);
      tk_attn_rescale<NV>(O, alpha);
      tk_pipe_pack<T, BK>(P, S);
    }
    const int last = ntiles - 1, sl = last % stages, jl = kv0 + last * BK;
    tk_mbar_wait(&full_v[sl], (last / stages) & 1);
    if (jl + BK > tk && tk < a.Tk) {
      /* Keys tk.. of the last tile lie inside the tensor but past this
       * batch's length: their V rows may hold anything (NaN included), so
       * they are zeroed before P (0 there) multiplies them. */
      const int r0 = tk - jl, r1 = min(BK, a.Tk - jl);
      for (int e = threadIdx.x - 128; e < (r1 - r0) * (DVP / 64) * 8; e += 128 * NC) {
        const int cb = e / ((r1 - r0) * 8), r = r0 + e / 8 % (r1 - r0), q = e % 8;
        *reinterpret_cast<uint4 *>(vs + sl * V_BYTES + cb * (BK * 128) + r * 128 + q * 16) = make_uint4(0, 0, 0, 0);
      }
      tk_fence_proxy_async_smem();
      tk_named_barrier(1, 128 * NC);
    }
    tk_wgmma_fence();
    tk_pipe_pv<BF16, DVP, BK>(O, P, tk_smem_u32(vs + sl * V_BYTES));
    tk_wgmma_commit();
    tk_wgmma_wait<0>();
    tk_wgmma_fence_regs(*reinterpret_cast<float(*)[DVP / 2]>(&O[0][0]));
    release(sl);
  }

  float lse[2];
  tk_attn_finish<NV>(O, m, l, lse);
#pragma unroll
  for (int half = 0; half < 2; half++) {
    const int i = row0 + 8 * half;
    if (i >= tq) continue;
    tk_attn_store_row<T, NV>((T *)a.out + b * a.so[0] + (int64_t)i * a.so[1] + h * a.so[2], O, half,
                             a.Dv, lane);
    if (a.lse && (lane & 3) == 0) a.lse[b * a.slse[0] + h * a.slse[1] + (int64_t)i * a.slse[2]] = lse[half];
  }
#endif
}

/* Byte stride of a dim for a tensor map: the tensor's, or for a dim of
 * extent 1 (never stepped) a valid multiple of 16. */
static inline uint64_t tk_tma_stride(int64_t stride, int extent, uint64_t any) {
  return extent > 1 ? (uint64_t)stride * 2 : any;
}

/* The 4-D map of a [B, T, H, d] tensor at p (strides s) with boxes of 64
 * columns by `rows` rows. */
static inline int tk_pipelined_map(CUtensorMap *map, int is_bf16, const void *p, const int64_t *s,
                                   int B, int T, int H, int d, int rows) {
  const uint64_t any = 16 * (uint64_t)((d + 7) / 8);
  const uint64_t dims[4] = {(uint64_t)d, (uint64_t)T, (uint64_t)H, (uint64_t)B};
  const uint64_t strides[3] = {tk_tma_stride(s[1], T, any), tk_tma_stride(s[2], H, any),
                               tk_tma_stride(s[0], B, any)};
  const uint32_t box[4] = {64, (uint32_t)rows, 1, 1};
  return tk_tma_map_b16(map, is_bf16, p, 4, dims, strides, box);
}

/* Launches the kernel of one compiled shape. With Tk = 0 there is no K or
 * V to map (the driver rejects a zero dim): every CTA then sees no key and
 * loads no K/V tile, so those maps stay blank and the kernel only writes
 * out 0 and lse -inf. */
template <typename T, int DP, int DVP, int BK, int NC>
static cudaError_t tk_pipelined_launch_shape(const tk_cuda_attention_args &a,
                                             const tk_cuda_pipelined_config &c, cudaStream_t stream) {
  constexpr bool BF16 = tk_b16<T>::is_bf16;
  CUtensorMap qmap, kmap{}, vmap{};
  if (tk_pipelined_map(&qmap, BF16, a.q, a.sq, a.B, a.Tq, a.Hq, a.D, 64 * NC) ||
      (a.Tk > 0 && (tk_pipelined_map(&kmap, BF16, a.k, a.sk, a.B, a.Tk, a.Hkv, a.D, BK) ||
                    tk_pipelined_map(&vmap, BF16, a.v, a.sv, a.B, a.Tk, a.Hkv, a.Dv, BK))))
    return cudaErrorInvalidValue;
  auto kernel = tk_pipelined_kernel<T, DP, DVP, BK, NC>;
  const long long smem = tk_pipelined_smem(DP, DVP, BK, NC, c.stages);
  const long long ctas = (long long)((a.Tq + 64 * NC - 1) / (64 * NC)) * a.Hq * a.B;
  cudaError_t e = tk_cuda_prepare_launch((const void *)kernel, smem, ctas);
  if (e != cudaSuccess) return e;
  kernel<<<(unsigned)ctas, (NC + 1) * 128, (size_t)smem, stream>>>(qmap, kmap, vmap, a, c.stages);
  return cudaGetLastError();
}

/* Launches the compiled shape that fits a and c (cudaErrorInvalidValue if
 * none does). */
template <typename T>
static cudaError_t tk_pipelined_launch(const tk_cuda_attention_args &a,
                                       const tk_cuda_pipelined_config &c, cudaStream_t stream) {
  int dp, dvp;
  if (!tk_attn_bucket(a.D, a.Dv, &dp, &dvp)) return cudaErrorInvalidValue;
#define TK_X_(P, V, K, N)                                           \
  if (dp == P && dvp == V && c.block_kv == K && c.consumers == N) \
    return tk_pipelined_launch_shape<T, P, V, K, N>(a, c, stream);
  TK_PIPELINED_SHAPES(TK_X_)
#undef TK_X_
  return cudaErrorInvalidValue;
}

/* tk_pipelined_launch for each element type (attention_pipelined_<dtype>.cu). */
cudaError_t tk_attention_pipelined_bf16(const tk_cuda_attention_args &a,
                                        const tk_cuda_pipelined_config &c, cudaStream_t stream);
cudaError_t tk_attention_pipelined_f16(const tk_cuda_attention_args &a,
                                       const tk_cuda_pipelined_config &c, cudaStream_t stream);

#endif
