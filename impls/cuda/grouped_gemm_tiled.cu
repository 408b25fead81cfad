/* grouped_gemm_tiled.cu: cuda_tiled, the sm_80+ grouped GEMM. Each block
 * computes block_m x block_n output tiles (a grid-stride loop over the work
 * items of grouped_gemm_schedule.cuh), staging slices of both operands
 * through a `stages`-deep ring of padded shared-memory tiles filled with
 * cp.async (16-byte chunks, zero-filled past every edge) or, for operands
 * whose rows are not 16-byte aligned, with plain loads. bf16/f16 multiply on
 * tensor cores (ldmatrix + mma.sync m16n8k16, float accumulators); f32
 * multiplies with FFMA on a 16 x 16 thread grid. Output rows and columns
 * past the tile's group or the matrix are never written. */
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "impls/cuda/grouped_gemm_cuda.h"
#include "impls/cuda/grouped_gemm_schedule.cuh"
#include "impls/cuda/grouped_gemm_store.cuh"
#include "impls/cuda/launch_cache.h"
#include "impls/cuda/ptx_cp_async.cuh"
#include "impls/cuda/ptx_mma.cuh"

namespace {

/* Everything a tiled kernel reads, by value. */
struct TiledArgs {
  tk_gg_common c;
  const char *lhs, *rhs;
  int64_t lhs_s0, rhs_s0, rhs_s1; /* elements */
  int a_vec, b_vec;               /* operand rows 16-byte aligned */
};

/* Fills a ROWS x COLS tile of ES-byte elements at smem (row stride ld
 * elements) from global rows row0.. (stride ld_bytes) and columns col0..,
 * with zeros at rows >= row_lim or columns >= col_lim. vec (base and
 * ld_bytes 16-byte aligned): cp.async of whole 16-byte chunks (a source
 * size of 0 for chunks entirely outside); partial chunks and every chunk
 * of unaligned rows go through plain loads and stores, visible to the
 * other threads after the ring's next __syncthreads. */
template <int ROWS, int COLS, int ES, int THREADS>
__device__ __forceinline__ void load_tile(char *smem, int ld, const char *base, int64_t ld_bytes,
                                          int row0, int row_lim, int col0, int col_lim, bool vec) {
  constexpr int VEC = 16 / ES, PER_ROW = COLS / VEC, CHUNKS = ROWS * PER_ROW;
  static_assert(CHUNKS % THREADS == 0, "tile chunks must divide among the threads");
#pragma unroll
  for (int i = 0; i < CHUNKS / THREADS; i++) {
    int c = (int)threadIdx.x + i * THREADS;
    int r = c / PER_ROW, cc = (c % PER_ROW) * VEC;
    int grow = row0 + r, gcol = col0 + cc;
    int n_ok = grow < row_lim ? min(max(col_lim - gcol, 0), VEC) : 0;
    char *dst = smem + ((size_t)r * ld + cc) * ES;
    const char *src = n_ok > 0 ? base + (int64_t)grow * ld_bytes + (int64_t)gcol * ES : base;
    if (vec && (n_ok == VEC || n_ok == 0)) { /* whole chunks, or zeros */
      tk_cp_async16(dst, src, n_ok * ES);
    } else { /* unaligned rows, and the partial chunk at a column edge */
      union {
        uint4 v;
        uint16_t h[8];
        uint32_t w[4];
      } u;
#pragma unroll
      for (int e = 0; e < VEC; e++) {
        if (ES == 2) u.h[e] = e < n_ok ? ((const uint16_t *)src)[e] : (uint16_t)0;
        else u.w[e] = e < n_ok ? ((const uint32_t *)src)[e] : 0u;
      }
      *(uint4 *)dst = u.v;
    }
  }
}

/* Shared-memory geometry of a policy: A is K-major (rows of K) for NN/NT,
 * M-major (rows of the reduction index) for TN; B is K-major for NT only.
 * Rows are padded by 16 bytes, which keeps ldmatrix conflict-free. */
template <int L, int BM, int BN, int BK, int ES>
struct Geometry {
  static constexpr bool A_K = L != TK_GG_TN, B_K = L == TK_GG_NT;
  static constexpr int PAD = 16 / ES;
  static constexpr int A_ROWS = A_K ? BM : BK, A_LD = (A_K ? BK : BM) + PAD;
  static constexpr int B_ROWS = B_K ? BN : BK, B_LD = (B_K ? BK : BN) + PAD;
  static constexpr int A_STAGE = A_ROWS * A_LD * ES, B_STAGE = B_ROWS * B_LD * ES; /* bytes */
};

/* bf16/f16 on tensor cores: WARPS_M x WARPS_N warps, each owning a
 * (BM / WARPS_M) x (BN / WARPS_N) block of the output tile. */
template <bool BF16, int L_, int BM_, int BN_, int WARPS_M, int WARPS_N>
struct MmaPolicy : Geometry<L_, BM_, BN_, 32, 2> {
  using Geo = Geometry<L_, BM_, BN_, 32, 2>;
  static constexpr int L = L_, BM = BM_, BN = BN_, BK = 32, ES = 2;
  static constexpr int THREADS = WARPS_M * WARPS_N * 32, MIN_BLOCKS = 2;
  static constexpr int WM = BM / WARPS_M, WN = BN / WARPS_N, MI = WM / 16, NI = WN / 8;
  static_assert(WM % 16 == 0 && WN % 16 == 0, "warp tiles hold whole 16 x 16 blocks");

  struct Acc {
    float c[MI][NI][4];
  };

  static __device__ __forceinline__ void zero(Acc &acc) {
#pragma unroll
    for (int i = 0; i < MI; i++)
#pragma unroll
      for (int j = 0; j < NI; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) acc.c[i][j][e] = 0.f;
  }

  /* acc += the BK-deep slice held at sA / sB. */
  static __device__ __forceinline__ void compute(Acc &acc, const char *sA, const char *sB) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int wm0 = (warp / WARPS_N) * WM, wn0 = (warp % WARPS_N) * WN;
    const uint16_t *A = (const uint16_t *)sA, *B = (const uint16_t *)sB;
    const int j8 = lane / 8, r8 = lane % 8;
#pragma unroll
    for (int kk = 0; kk < BK; kk += 16) {
      uint32_t af[MI][4], bf[NI][2];
#pragma unroll
      for (int mi = 0; mi < MI; mi++) {
        const int m = wm0 + mi * 16;
        if (Geo::A_K) /* matrices: (m 0-7, k 0-7), (m 8-15, k 0-7), (m 0-7, k 8-15), (m 8-15, k 8-15) */
          tk_ldmatrix_x4(af[mi], A + (m + lane % 16) * Geo::A_LD + kk + (lane / 16) * 8);
        else /* stored [k][m]: matrix j covers m + (j % 2) * 8, k + (j / 2) * 8 */
          tk_ldmatrix_x4_trans(af[mi], A + (kk + (j8 / 2) * 8 + r8) * Geo::A_LD + m + (j8 % 2) * 8);
      }
#pragma unroll
      for (int nj = 0; nj < NI / 2; nj++) {
        const int n = wn0 + nj * 16;
        uint32_t r[4]; /* (n 0-7, k 0-7), (n 0-7, k 8-15), (n 8-15, k 0-7), (n 8-15, k 8-15) */
        if (Geo::B_K) /* stored [n][k] */
          tk_ldmatrix_x4(r, B + (n + (j8 / 2) * 8 + r8) * Geo::B_LD + kk + (j8 % 2) * 8);
        else /* stored [k][n] */
          tk_ldmatrix_x4_trans(r, B + (kk + (j8 % 2) * 8 + r8) * Geo::B_LD + n + (j8 / 2) * 8);
        bf[2 * nj][0] = r[0];
        bf[2 * nj][1] = r[1];
        bf[2 * nj + 1][0] = r[2];
        bf[2 * nj + 1][1] = r[3];
      }
#pragma unroll
      for (int mi = 0; mi < MI; mi++)
#pragma unroll
        for (int ni = 0; ni < NI; ni++) tk_mma_16816<BF16>(acc.c[mi][ni], af[mi], bf[ni]);
    }
  }

  static __device__ __forceinline__ void store(const Acc &acc, const TiledArgs &a,
                                               const tk_gg_tile &t) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int wm0 = (warp / WARPS_N) * WM, wn0 = (warp % WARPS_N) * WN;
#pragma unroll
    for (int mi = 0; mi < MI; mi++)
#pragma unroll
      for (int h = 0; h < 2; h++) {
        int r = t.row0 + wm0 + mi * 16 + lane / 4 + h * 8;
        if (r >= t.row_end) continue;
        char *row = tk_gg_out_row<L>(a.c, t, r);
#pragma unroll
        for (int ni = 0; ni < NI; ni++)
          tk_gg_store2(row, t.n0 + wn0 + ni * 8 + (lane % 4) * 2, a.c.N, acc.c[mi][ni][2 * h],
                       acc.c[mi][ni][2 * h + 1], a.c.out_dtype, a.c.out_vec2);
      }
  }
};

/* f32 with FFMA: 256 threads as 16 x 16, thread (tx, ty) owning rows
 * ty + 16 i and columns tx + 16 j of the output tile. */
template <int L_, int BM_, int BN_>
struct SimtPolicy : Geometry<L_, BM_, BN_, 16, 4> {
  using Geo = Geometry<L_, BM_, BN_, 16, 4>;
  static constexpr int L = L_, BM = BM_, BN = BN_, BK = 16, ES = 4, THREADS = 256, MIN_BLOCKS = 1;
  static constexpr int TM = BM / 16, TN = BN / 16;

  struct Acc {
    float c[TM][TN];
  };

  static __device__ __forceinline__ void zero(Acc &acc) {
#pragma unroll
    for (int i = 0; i < TM; i++)
#pragma unroll
      for (int j = 0; j < TN; j++) acc.c[i][j] = 0.f;
  }

  static __device__ __forceinline__ void compute(Acc &acc, const char *sA, const char *sB) {
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    const float *A = (const float *)sA, *B = (const float *)sB;
#pragma unroll
    for (int k = 0; k < BK; k++) {
      float av[TM], bv[TN];
#pragma unroll
      for (int i = 0; i < TM; i++)
        av[i] = Geo::A_K ? A[(ty + 16 * i) * Geo::A_LD + k] : A[k * Geo::A_LD + ty + 16 * i];
#pragma unroll
      for (int j = 0; j < TN; j++)
        bv[j] = Geo::B_K ? B[(tx + 16 * j) * Geo::B_LD + k] : B[k * Geo::B_LD + tx + 16 * j];
#pragma unroll
      for (int i = 0; i < TM; i++)
#pragma unroll
        for (int j = 0; j < TN; j++) acc.c[i][j] = fmaf(av[i], bv[j], acc.c[i][j]);
    }
  }

  static __device__ __forceinline__ void store(const Acc &acc, const TiledArgs &a,
                                               const tk_gg_tile &t) {
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
#pragma unroll
    for (int i = 0; i < TM; i++) {
      int r = t.row0 + ty + 16 * i;
      if (r >= t.row_end) continue;
      char *row = tk_gg_out_row<L>(a.c, t, r);
#pragma unroll
      for (int j = 0; j < TN; j++) {
        int col = t.n0 + tx + 16 * j;
        if (col < a.c.N) tk_gg_store1(row, col, acc.c[i][j], a.c.out_dtype);
      }
    }
  }
};

/* The grid-stride loop over work items, with the cp.async ring shared by
 * both policies. Ring slot s holds reduction slice kt for kt % stages == s;
 * slice kt + stages - 1 is requested while slice kt is multiplied. */
template <class P>
__global__ void __launch_bounds__(P::THREADS, P::MIN_BLOCKS) gg_tiled_kernel(const TiledArgs a) {
  extern __shared__ __align__(16) char smem[];
  const tk_gg_common &c = a.c;
  char *sA = smem, *sB = smem + (size_t)c.stages * P::A_STAGE;
  for (int64_t item = blockIdx.x;; item += gridDim.x) {
    tk_gg_tile t;
    if (!tk_gg_work(c.sched, P::L, item, P::BM, P::BN, c.swizzle, c.K, c.N, c.G, &t)) return;
    const char *b_base = P::L == TK_GG_TN ? a.rhs : a.rhs + (int64_t)max(t.g, 0) * a.rhs_s0 * P::ES;
    const int64_t a_ld = a.lhs_s0 * P::ES;
    const int64_t b_ld = (P::L == TK_GG_TN ? a.rhs_s0 : a.rhs_s1) * P::ES;
    const int nk = (t.red_end - t.red0 + P::BK - 1) / P::BK;

    auto load = [&](int slot, int kt) {
      const int r0 = t.red0 + kt * P::BK;
      char *dA = sA + (size_t)slot * P::A_STAGE, *dB = sB + (size_t)slot * P::B_STAGE;
      if (P::A_K)
        load_tile<P::BM, P::BK, P::ES, P::THREADS>(dA, P::A_LD, a.lhs, a_ld, t.row0, t.row_end,
                                                   r0, t.red_end, a.a_vec);
      else
        load_tile<P::BK, P::BM, P::ES, P::THREADS>(dA, P::A_LD, a.lhs, a_ld, r0, t.red_end,
                                                   t.row0, c.K, a.a_vec);
      if (P::B_K)
        load_tile<P::BN, P::BK, P::ES, P::THREADS>(dB, P::B_LD, b_base, b_ld, t.n0, c.N, r0,
                                                   t.red_end, a.b_vec);
      else
        load_tile<P::BK, P::BN, P::ES, P::THREADS>(dB, P::B_LD, b_base, b_ld, r0, t.red_end,
                                                   t.n0, c.N, a.b_vec);
    };

    typename P::Acc acc;
    P::zero(acc);
    for (int s = 0; s < c.stages - 1; s++) {
      if (s < nk) load(s, s);
      tk_cp_async_commit();
    }
    for (int kt = 0; kt < nk; kt++) {
      tk_cp_async_wait_n(c.stages - 2); /* slice kt has landed (this thread's part) */
      __syncthreads();                  /* ... everyone's; slot (kt - 1) % stages is free */
      int next = kt + c.stages - 1;
      if (next < nk) load(next % c.stages, next);
      tk_cp_async_commit();
      int slot = kt % c.stages;
      P::compute(acc, sA + (size_t)slot * P::A_STAGE, sB + (size_t)slot * P::B_STAGE);
    }
    P::store(acc, a, t);
    tk_cp_async_wait<0>();
    __syncthreads(); /* the ring is reused by the next item */
  }
}

/* Bytes of dynamic shared memory policy P uses with `stages` slots. */
template <class P>
size_t smem_bytes(int stages) {
  return (size_t)stages * (P::A_STAGE + P::B_STAGE);
}

template <class P>
cudaError_t launch(const TiledArgs &a, int64_t items, cudaStream_t stream) {
  size_t smem = smem_bytes<P>(a.c.stages);
  int64_t grid = items < (1 << 30) ? items : (1 << 30);
  cudaError_t e = tk_cuda_prepare_launch((const void *)gg_tiled_kernel<P>, (long long)smem, grid);
  if (e != cudaSuccess) return e;
  gg_tiled_kernel<P><<<(unsigned)grid, P::THREADS, smem, stream>>>(a);
  return cudaGetLastError();
}

template <class P>
struct Tag {
  using type = P;
};

/* f(Tag<P>{}) for the policy P of block_m x block_n (64 or 128 each) for
 * dtype under layout L; `none` for other sizes. */
template <class R, int L, class F>
R with_tile(int dtype, int bm, int bn, R none, F f) {
#define TK_TILED_CASE(BM, BN, WM, WN)                                       \
  if (bm == BM && bn == BN) {                                               \
    if (dtype == TK_BF16) return f(Tag<MmaPolicy<true, L, BM, BN, WM, WN>>{});  \
    if (dtype == TK_F16) return f(Tag<MmaPolicy<false, L, BM, BN, WM, WN>>{}); \
    return f(Tag<SimtPolicy<L, BM, BN>>{});                                 \
  }
  TK_TILED_CASE(128, 128, 2, 4)
  TK_TILED_CASE(128, 64, 2, 2)
  TK_TILED_CASE(64, 128, 2, 2)
  TK_TILED_CASE(64, 64, 2, 2)
#undef TK_TILED_CASE
  return none;
}

/* with_tile for p's dtype and layout. */
template <class R, class F>
R with_policy(const tk_cuda_gg *p, int bm, int bn, R none, F f) {
  switch (p->layout) {
    case TK_GG_NN: return with_tile<R, TK_GG_NN>(p->dtype, bm, bn, none, f);
    case TK_GG_NT: return with_tile<R, TK_GG_NT>(p->dtype, bm, bn, none, f);
    default: return with_tile<R, TK_GG_TN>(p->dtype, bm, bn, none, f);
  }
}

/* 1 when base is 16-byte aligned and both strides (bytes) are multiples of 16. */
int rows16(const void *base, int64_t s0_bytes, int64_t s1_bytes) {
  return (uintptr_t)base % 16 == 0 && s0_bytes % 16 == 0 && s1_bytes % 16 == 0;
}

}  // namespace

size_t tk_cuda_gg_tiled_smem(const tk_cuda_gg *p, const tk_cuda_gg_tiled_cfg *c) {
  return with_policy<size_t>(p, c->block_m, c->block_n, 0, [&](auto tag) {
    return smem_bytes<typename decltype(tag)::type>(c->stages);
  });
}

size_t tk_cuda_gg_tiled_workspace(const tk_cuda_gg *p, const tk_cuda_gg_tiled_cfg *c) {
  return tk_gg_schedule_bytes(p, c->block_m);
}

cudaError_t tk_cuda_gg_tiled_run(const tk_cuda_gg *p, const tk_cuda_gg_tiled_cfg *c, void *ws,
                                 void *stream) {
  cudaStream_t st = (cudaStream_t)stream;
  int es = (int)tk_dtype_size((tk_dtype)p->dtype), tn = p->layout == TK_GG_TN;
  TiledArgs a;
  tk_gg_common_init(&a.c, p, c->stages, c->swizzle, ws);
  a.lhs = (const char *)p->lhs;
  a.rhs = (const char *)p->rhs;
  a.lhs_s0 = p->lhs_s0;
  a.rhs_s0 = p->rhs_s0;
  a.rhs_s1 = p->rhs_s1;
  a.a_vec = rows16(p->lhs, p->lhs_s0 * es, 0);
  a.b_vec = rows16(p->rhs, p->rhs_s0 * es, tn ? 0 : p->rhs_s1 * es);
  cudaError_t e = tk_gg_schedule_build(p, c->block_m, &a.c.sched, st);
  if (e != cudaSuccess) return e;
  int64_t items = tk_gg_item_bound(p, c->block_m, c->block_n);
  if (items == 0) return cudaSuccess;
  return with_policy<cudaError_t>(p, c->block_m, c->block_n, cudaErrorInvalidValue, [&](auto tag) {
    return launch<typename decltype(tag)::type>(a, items, st);
  });
}
