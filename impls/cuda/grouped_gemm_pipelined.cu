/* grouped_gemm_pipelined.cu: cuda_pipelined, the Hopper (sm_90a) grouped
 * GEMM for bf16/f16. A persistent grid (one block per multiprocessor) walks
 * the work items of grouped_gemm_schedule.cuh; each block has three
 * warpgroups:
 *   producer (warpgroup 0, one thread): for every 64-deep reduction slice
 *     of every item, waits for a free slot of the `stages`-deep ring,
 *     announces the slot's bytes on its "full" mbarrier and issues TMA
 *     loads (128-byte swizzle) of the A tile (128 rows) and the B tile
 *     (block_n columns);
 *   consumers (warpgroups 1 and 2, rows 0-63 and 64-127 of the tile): wait
 *     for a slot's "full" barrier, issue four wgmma m64nBNk16 on it, wait
 *     until only those are in flight (so the previous slice's are done) and
 *     release the previous slot on its "empty" barrier (one arrival per
 *     consumer warp); after the last slice wait for everything, release the
 *     last slot and write their 64 x block_n float accumulators straight to
 *     global memory.
 * Ragged groups. NN/NT: an A box may run past its group's last row into
 *   the next group's rows (or past M, where TMA fills zeros); those rows
 *   only produce output rows that the epilogue never stores (each output
 *   row depends on its own A row only). TN: the reduction runs over a
 *   group's rows, so rows of a box past the group's end would leak into the
 *   sums; the consumers overwrite those rows of both tiles with zeros in
 *   shared memory (after the full barrier, then a proxy fence and a named
 *   barrier over the 256 consumer threads) before the wgmma reads them.
 *   Rows and columns past K and N are zero-filled by TMA (B is a 3-D map
 *   [G][K][N] or [G][N][K] for NN/NT, so a box never reads another
 *   group's rhs). */
#include <cuda.h>

#include "impls/cuda/grouped_gemm_cuda.h"
#include "impls/cuda/grouped_gemm_schedule.cuh"
#include "impls/cuda/grouped_gemm_store.cuh"
#include "impls/cuda/launch_cache.h"
#include "impls/cuda/ptx_mbarrier.cuh"
#include "impls/cuda/ptx_tma.cuh"
#include "impls/cuda/ptx_wgmma.cuh"
#include "impls/cuda/tma_map.h"

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define TK_PIPELINED_DEVICE 1
#endif

namespace {

constexpr int BM = 128, BK = 64, THREADS = 384;

#ifdef TK_PIPELINED_DEVICE

constexpr int BOX = 64 * 64 * 2; /* bytes of one 64 x 64 box of 16-bit elements */
constexpr int PRODUCER_REGS = 40, CONSUMER_REGS = 232, CONSUMER_WARPS = 8;

/* The producer thread: TMA loads of every slice of every item of this block. */
template <int L, int BN>
__device__ __forceinline__ void produce(const CUtensorMap *tm_a, const CUtensorMap *tm_b,
                                        const tk_gg_common &a, char *ring, uint64_t *full,
                                        uint64_t *empty) {
  constexpr int STAGE = BM * BK * 2 + BN * BK * 2;
  int s = 0;
  uint32_t phase = 0;
  for (int64_t item = blockIdx.x;; item += gridDim.x) {
    tk_gg_tile t;
    if (!tk_gg_work(a.sched, L, item, BM, BN, a.swizzle, a.K, a.N, a.G, &t)) return;
    const int nk = (t.red_end - t.red0 + BK - 1) / BK;
    for (int kb = 0; kb < nk; kb++) {
      tk_mbar_wait(&empty[s], phase ^ 1);
      char *sa = ring + (size_t)s * STAGE, *sb = sa + BM * BK * 2;
      tk_mbar_arrive_expect_tx(&full[s], STAGE);
      const int r = t.red0 + kb * BK;
      if constexpr (L == TK_GG_TN) { /* lhs [M][K] and rhs [M][N]: boxes of 64 rows x 64 columns */
        tk_tma_load_2d(sa, tm_a, &full[s], t.row0, r);
        tk_tma_load_2d(sa + BOX, tm_a, &full[s], t.row0 + 64, r);
#pragma unroll
        for (int j = 0; j < BN / 64; j++) tk_tma_load_2d(sb + j * BOX, tm_b, &full[s], t.n0 + 64 * j, r);
      } else {
        tk_tma_load_2d(sa, tm_a, &full[s], r, t.row0); /* lhs: 128 rows x 64 of K */
        if constexpr (L == TK_GG_NN) /* rhs [G][K][N]: 64 K-rows x 64 columns per box */
#pragma unroll
          for (int j = 0; j < BN / 64; j++)
            tk_tma_load_3d(sb + j * BOX, tm_b, &full[s], t.n0 + 64 * j, r, t.g);
        else /* rhs [G][N][K]: BN rows x 64 of K */
          tk_tma_load_3d(sb, tm_b, &full[s], r, t.n0, t.g);
      }
      if (++s == a.stages) {
        s = 0;
        phase ^= 1;
      }
    }
  }
}

/* Zeroes rows [valid, 64) of the slot's boxes (2 of A, BN / 64 of B; each
 * 64 rows of 128 bytes, consecutive from sa): TN rows past the group. The
 * 256 consumer threads share the work; the swizzle only permutes 16-byte
 * chunks within a row, so a whole row is its own 128 bytes. */
template <int BN>
__device__ __forceinline__ void zero_rows_past(char *sa, int valid, int ct) {
  const int per_box = (64 - valid) * 8, chunks = (2 + BN / 64) * per_box;
  for (int i = ct; i < chunks; i += 256) {
    int box = i / per_box, rem = i % per_box;
    *(uint4 *)(sa + box * BOX + (valid + rem / 8) * 128 + (rem % 8) * 16) = make_uint4(0, 0, 0, 0);
  }
  tk_fence_proxy_async_smem();
  tk_named_barrier(1, 256);
}

/* A consumer warpgroup (c = 0 or 1: rows 64 c .. 64 c + 63 of each tile). */
template <bool BF16, int L, int BN>
__device__ __forceinline__ void consume(const tk_gg_common &a, char *ring, uint64_t *full,
                                        uint64_t *empty, int c) {
  constexpr int STAGE = BM * BK * 2 + BN * BK * 2, NREG = BN / 2;
  constexpr int TA = L == TK_GG_TN ? 1 : 0;        /* A M-major for TN */
  constexpr int TB = L == TK_GG_NT ? 0 : 1;        /* B N-major for NN, TN */
  const int ct = (int)threadIdx.x - 128, warp = ct / 32 % 4, lane = ct % 32;
  int s = 0, prev = 0;
  uint32_t phase = 0;
  for (int64_t item = blockIdx.x;; item += gridDim.x) {
    tk_gg_tile t;
    if (!tk_gg_work(a.sched, L, item, BM, BN, a.swizzle, a.K, a.N, a.G, &t)) return;
    const int nk = (t.red_end - t.red0 + BK - 1) / BK;
    float acc[NREG];
#pragma unroll
    for (int i = 0; i < NREG; i++) acc[i] = 0.f;
    for (int kb = 0; kb < nk; kb++) {
      tk_mbar_wait(&full[s], phase);
      char *sa = ring + (size_t)s * STAGE, *sb = sa + BM * BK * 2;
      if constexpr (L == TK_GG_TN) {
        int valid = t.red_end - (t.red0 + kb * BK);
        if (valid < BK) zero_rows_past<BN>(sa, valid, ct);
      }
      const uint32_t a0 = tk_smem_u32(sa), b0 = tk_smem_u32(sb);
      tk_wgmma_fence();
#pragma unroll
      for (int kk = 0; kk < BK / 16; kk++) {
        /* K-major: 64 rows of this warpgroup start 64 * 128 bytes in, k16
         * steps are 32 bytes; M/N-major: box c (resp. box 0 of B), k16
         * steps are 16 rows of 128 bytes. */
        uint64_t da = TA ? tk_wgmma_desc_sw128(a0 + c * BOX + kk * 2048, BOX, 1024)
                         : tk_wgmma_desc_sw128(a0 + c * 64 * 128 + kk * 32, 16, 1024);
        uint64_t db = TB ? tk_wgmma_desc_sw128(b0 + kk * 2048, BOX, 1024)
                         : tk_wgmma_desc_sw128(b0 + kk * 32, 16, 1024);
        if constexpr (BN == 256)
          tk_wgmma_m64n256k16<BF16, TA, TB>(acc, da, db, 1);
        else
          tk_wgmma_m64n128k16<BF16, TA, TB>(acc, da, db, 1);
      }
      tk_wgmma_commit();
      /* keep this slice's wgmmas in flight; the previous slice's are done,
       * so its slot goes back to the producer */
      tk_wgmma_wait<1>();
      if (kb > 0 && lane == 0) tk_mbar_arrive(&empty[prev]);
      prev = s;
      if (++s == a.stages) {
        s = 0;
        phase ^= 1;
      }
    }
    tk_wgmma_wait<0>();
    tk_wgmma_fence_regs(acc);
    if (nk > 0 && lane == 0) tk_mbar_arrive(&empty[prev]);
    /* d[i]: row 16 warp + lane / 4 + 8 ((i / 2) % 2), column 8 (i / 4) + 2 (lane % 4) + i % 2 */
#pragma unroll
    for (int i = 0; i < NREG; i += 2) {
      int r = t.row0 + c * 64 + 16 * warp + lane / 4 + 8 * ((i / 2) % 2);
      if (r >= t.row_end) continue;
      tk_gg_store2(tk_gg_out_row<L>(a, t, r), t.n0 + 8 * (i / 4) + 2 * (lane % 4), a.N, acc[i],
                   acc[i + 1], a.out_dtype, a.out_vec2);
    }
  }
}

#endif

template <bool BF16, int L, int BN>
__global__ void __launch_bounds__(THREADS, 1)
    gg_pipelined_kernel(const __grid_constant__ CUtensorMap tm_a,
                        const __grid_constant__ CUtensorMap tm_b, const tk_gg_common a) {
#ifdef TK_PIPELINED_DEVICE
  constexpr int STAGE = BM * BK * 2 + BN * BK * 2;
  extern __shared__ char smem_raw[];
  /* 128-byte swizzled tiles need 1024-byte alignment */
  char *ring = smem_raw + ((1024 - tk_smem_u32(smem_raw) % 1024) % 1024);
  uint64_t *full = (uint64_t *)(ring + (size_t)a.stages * STAGE), *empty = full + a.stages;
  if (threadIdx.x == 0) {
    for (int s = 0; s < a.stages; s++) {
      tk_mbar_init(&full[s], 1);
      tk_mbar_init(&empty[s], CONSUMER_WARPS);
    }
    tk_mbar_init_fence();
    tk_tma_prefetch_map(&tm_a);
    tk_tma_prefetch_map(&tm_b);
  }
  __syncthreads();
  if (threadIdx.x < 128) {
    tk_setmaxnreg_dec<PRODUCER_REGS>();
    if (threadIdx.x == 0) produce<L, BN>(&tm_a, &tm_b, a, ring, full, empty);
  } else {
    tk_setmaxnreg_inc<CONSUMER_REGS>();
    consume<BF16, L, BN>(a, ring, full, empty, (int)threadIdx.x / 128 - 1);
  }
#endif
}

/* 1 when base is 16-byte aligned (or NULL) and every stride (bytes) is a
 * positive multiple of 16. */
int tma_ok(const void *base, int64_t s0, int64_t s1) {
  return (uintptr_t)base % 16 == 0 && s0 > 0 && s0 % 16 == 0 && s1 > 0 && s1 % 16 == 0;
}

/* Encodes the maps of lhs (A) and rhs (B) for p's layout; 0 on success. */
int encode_maps(const tk_cuda_gg *p, int bn, CUtensorMap *ma, CUtensorMap *mb) {
  int bf16 = p->dtype == TK_BF16;
  uint64_t M = (uint64_t)p->M, K = (uint64_t)p->K, N = (uint64_t)p->N, G = (uint64_t)p->G;
  uint64_t a_dims[2] = {K, M}, a_strides[1] = {(uint64_t)p->lhs_s0 * 2};
  uint32_t a_box[2] = {64, p->layout == TK_GG_TN ? 64u : (uint32_t)BM};
  if (tk_tma_map_b16(ma, bf16, p->lhs, 2, a_dims, a_strides, a_box)) return -1;
  if (p->layout == TK_GG_TN) {
    uint64_t dims[2] = {N, M}, strides[1] = {(uint64_t)p->rhs_s0 * 2};
    uint32_t box[2] = {64, 64};
    return tk_tma_map_b16(mb, bf16, p->rhs, 2, dims, strides, box);
  }
  uint64_t strides[2] = {(uint64_t)p->rhs_s1 * 2, (uint64_t)p->rhs_s0 * 2};
  if (p->layout == TK_GG_NN) {
    uint64_t dims[3] = {N, K, G};
    uint32_t box[3] = {64, 64, 1};
    return tk_tma_map_b16(mb, bf16, p->rhs, 3, dims, strides, box);
  }
  uint64_t dims[3] = {K, N, G};
  uint32_t box[3] = {64, (uint32_t)bn, 1};
  return tk_tma_map_b16(mb, bf16, p->rhs, 3, dims, strides, box);
}

template <bool BF16, int L, int BN>
cudaError_t launch(const CUtensorMap &ma, const CUtensorMap &mb, const tk_gg_common &a, int grid,
                   size_t smem, cudaStream_t st) {
  cudaError_t e = tk_cuda_prepare_launch((const void *)gg_pipelined_kernel<BF16, L, BN>,
                                         (long long)smem, grid);
  if (e != cudaSuccess) return e;
  gg_pipelined_kernel<BF16, L, BN><<<grid, THREADS, smem, st>>>(ma, mb, a);
  return cudaGetLastError();
}

template <bool BF16, int L>
cudaError_t launch_bn(int bn, const CUtensorMap &ma, const CUtensorMap &mb, const tk_gg_common &a,
                      int grid, size_t smem, cudaStream_t st) {
  return bn == 256 ? launch<BF16, L, 256>(ma, mb, a, grid, smem, st)
                   : launch<BF16, L, 128>(ma, mb, a, grid, smem, st);
}

template <bool BF16>
cudaError_t launch_layout(int layout, int bn, const CUtensorMap &ma, const CUtensorMap &mb,
                          const tk_gg_common &a, int grid, size_t smem, cudaStream_t st) {
  switch (layout) {
    case TK_GG_NN: return launch_bn<BF16, TK_GG_NN>(bn, ma, mb, a, grid, smem, st);
    case TK_GG_NT: return launch_bn<BF16, TK_GG_NT>(bn, ma, mb, a, grid, smem, st);
    default: return launch_bn<BF16, TK_GG_TN>(bn, ma, mb, a, grid, smem, st);
  }
}

}  // namespace

int tk_cuda_gg_pipelined_fits(const tk_cuda_gg *p) {
  if (p->dtype != TK_BF16 && p->dtype != TK_F16) return 0;
  if (p->M < 1 || p->K < 1 || p->N < 1 || p->G < 1) return 0;
  if (!tma_ok(p->lhs, p->lhs_s0 * 2, 16) || p->lhs_s0 < p->K) return 0;
  if (p->layout == TK_GG_TN) return tma_ok(p->rhs, p->rhs_s0 * 2, 16) && p->rhs_s0 >= p->N;
  int64_t inner = p->layout == TK_GG_NN ? p->N : p->K, rows = p->layout == TK_GG_NN ? p->K : p->N;
  return tma_ok(p->rhs, p->rhs_s1 * 2, p->rhs_s0 * 2) && p->rhs_s1 >= inner &&
         p->rhs_s0 >= rows * p->rhs_s1;
}

size_t tk_cuda_gg_pipelined_smem(const tk_cuda_gg_pipelined_cfg *c) {
  size_t stage = (size_t)BM * BK * 2 + (size_t)c->block_n * BK * 2;
  return 1024 + (size_t)c->stages * (stage + 16);
}

size_t tk_cuda_gg_pipelined_workspace(const tk_cuda_gg *p, const tk_cuda_gg_pipelined_cfg *c) {
  (void)c;
  return tk_gg_schedule_bytes(p, BM);
}

cudaError_t tk_cuda_gg_pipelined_run(const tk_cuda_gg *p, const tk_cuda_gg_pipelined_cfg *c,
                                     void *ws, void *stream) {
  cudaStream_t st = (cudaStream_t)stream;
  CUtensorMap ma, mb;
  if (!tk_cuda_gg_pipelined_fits(p) || encode_maps(p, c->block_n, &ma, &mb))
    return cudaErrorInvalidValue;
  tk_gg_common a;
  tk_gg_common_init(&a, p, c->stages, c->swizzle, ws);
  cudaError_t e = tk_gg_schedule_build(p, BM, &a.sched, st);
  if (e != cudaSuccess) return e;
  int64_t items = tk_gg_item_bound(p, BM, c->block_n);
  int grid = (int)(items < p->sm_count ? items : p->sm_count);
  if (grid < 1) return cudaSuccess;
  size_t smem = tk_cuda_gg_pipelined_smem(c);
  return p->dtype == TK_BF16 ? launch_layout<true>(p->layout, c->block_n, ma, mb, a, grid, smem, st)
                             : launch_layout<false>(p->layout, c->block_n, ma, mb, a, grid, smem, st);
}
