/* attention_scalar.cuh: the scalar (CUDA-core, float32) attention body
 * shared by the dense and paged fallback kernels: any element type
 * (float32 too), any strides, head dims up to TK_SCALAR_MAX_DIM. Exact to
 * float32 rounding, so float32 calls meet the float32 tolerance that the
 * tensor-core paths (16-bit operands) cannot.
 *
 * A CTA of 4 warps serves up to 16 query rows that share their keys; the
 * caller describes the rows in shared memory and hands a functor giving
 * each key's K and V row (of q's element type, or of an 8-bit one: fp8
 * e4m3 or int8, with a functor giving each key's scale). Keys come in
 * tiles of `bk` (8, 16 or 32), converted to float (times their scale) in
 * shared memory; lane j scores key j of the tile, and each lane
 * accumulates value columns lane, lane + 32, ... */
#ifndef TK_IMPLS_CUDA_ATTENTION_SCALAR_CUH
#define TK_IMPLS_CUDA_ATTENTION_SCALAR_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "impls/cuda/attention_mma.cuh"

#define TK_SCALAR_ROWS 16
#define TK_SCALAR_THREADS 128
#define TK_SCALAR_MAX_DIM 512

/* The rows of one CTA (shared memory): element d of row r's query is
 * q[r][d * qd], its output out[r][d * od]; lse[r] may be NULL; diag[r] is
 * the row's diagonal (tk_attn_sees). */
template <typename T>
struct tk_scalar_rows {
  const T *q[TK_SCALAR_ROWS];
  T *out[TK_SCALAR_ROWS];
  float *lse[TK_SCALAR_ROWS];
  int diag[TK_SCALAR_ROWS];
  int n;
};

static __device__ __forceinline__ float tk_to_f32(float x) { return x; }
static __device__ __forceinline__ float tk_to_f32(__half x) { return __half2float(x); }
static __device__ __forceinline__ float tk_to_f32(__nv_bfloat16 x) { return __bfloat162float(x); }
/* 8-bit cache elements, before their scale: fp8 e4m3 exactly (S.1111.111
 * is NaN, as ml_dtypes' float8_e4m3fn), int8 as its integer. */
static __device__ __forceinline__ float tk_to_f32(__nv_fp8_e4m3 x) { return static_cast<float>(x); }
static __device__ __forceinline__ float tk_to_f32(int8_t x) { return (float)x; }
static __device__ __forceinline__ void tk_from_f32(float *p, float x) { *p = x; }
static __device__ __forceinline__ void tk_from_f32(__half *p, float x) { *p = __float2half_rn(x); }
static __device__ __forceinline__ void tk_from_f32(__nv_bfloat16 *p, float x) {
  *p = __float2bfloat16_rn(x);
}

/* Largest key tile (32, 16 or 8) whose float buffers fit in smem_optin
 * bytes next to the rows; 0 if none does. */
static inline int tk_scalar_key_tile(int d, int dv, int smem_optin, size_t rows_bytes) {
  for (int bk = 32; bk >= 8; bk /= 2) {
    size_t bytes = rows_bytes + 4u * (TK_SCALAR_ROWS * (size_t)d + bk * (size_t)(d | 1) + bk * (size_t)dv);
    if (bytes <= (size_t)smem_optin) return bk;
  }
  return 0;
}

/* Shared memory of the scalar body after the rows: Q rows, K and V tiles. */
static inline size_t tk_scalar_smem(int d, int dv, int bk, size_t rows_bytes) {
  return rows_bytes + 4u * (TK_SCALAR_ROWS * (size_t)d + bk * (size_t)(d | 1) + bk * (size_t)dv);
}

/* The key scale of unscaled (16/32-bit) K/V rows: 1, which the multiply
 * folds away. */
struct tk_scalar_unscaled {
  __device__ float operator()(int, int) const { return 1.f; }
};

/* Attends rows R to keys [lo, hi) (masks: causal, wl, wr, kend) and writes
 * their outputs and log-sum-exps. key_row(j, 0) / key_row(j, 1) give the
 * first element of key j's K / V row (NULL: a key to treat as absent), a
 * pointer to any element type tk_to_f32 reads; consecutive elements are
 * kd / vd apart. key_scale(j, 0) / key_scale(j, 1), asked only of keys
 * with a row, is the factor of key j's K / V elements (default: none).
 * fsm: the float area after the rows. Every thread of the CTA calls it; R
 * must be visible to all. */
template <typename T, typename KeyRow, typename KeyScale = tk_scalar_unscaled>
static __device__ void tk_scalar_attend(const tk_scalar_rows<T> &R, int D, int Dv, int64_t qd,
                                        int64_t kd, int64_t vd, int64_t od, int lo, int hi,
                                        int causal, int wl, int wr, int kend,
                                        const tk_attn_logit &logit, KeyRow key_row, int bk,
                                        float *fsm, KeyScale key_scale = KeyScale()) {
  constexpr int NV = TK_SCALAR_MAX_DIM / 32, RW = TK_SCALAR_ROWS / (TK_SCALAR_THREADS / 32);
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, kp = D | 1;
  float *qs = fsm, *ks = qs + TK_SCALAR_ROWS * D, *vs = ks + bk * kp;
  for (int e = tid; e < TK_SCALAR_ROWS * D; e += TK_SCALAR_THREADS) {
    const int r = e / D, d = e % D;
    qs[e] = r < R.n ? tk_to_f32(R.q[r][d * qd]) : 0.f;
  }
  float o[RW][NV], m[RW], l[RW];
#pragma unroll
  for (int rr = 0; rr < RW; rr++) {
    m[rr] = -INFINITY;
    l[rr] = 0.f;
#pragma unroll
    for (int i = 0; i < NV; i++) o[rr][i] = 0.f;
  }
  for (int j0 = lo; j0 < hi; j0 += bk) {
    __syncthreads(); /* the previous tile is consumed (and the Q rows are in place) */
    for (int e = tid; e < bk * D; e += TK_SCALAR_THREADS) {
      const int jj = e / D, d = e % D;
      const auto *kr = j0 + jj < hi ? key_row(j0 + jj, 0) : nullptr;
      ks[jj * kp + d] = kr ? tk_to_f32(kr[d * kd]) * key_scale(j0 + jj, 0) : 0.f;
    }
    for (int e = tid; e < bk * Dv; e += TK_SCALAR_THREADS) {
      const int jj = e / Dv, d = e % Dv;
      const auto *vr = j0 + jj < hi ? key_row(j0 + jj, 1) : nullptr;
      vs[e] = vr ? tk_to_f32(vr[d * vd]) * key_scale(j0 + jj, 1) : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int rr = 0; rr < RW; rr++) {
      const int r = warp * RW + rr;
      if (r >= R.n) break;
      const int j = j0 + lane;
      float x = -INFINITY;
      if (lane < bk && j < hi && tk_attn_sees(causal, wl, wr, R.diag[r], kend, j)) {
        float s = 0.f;
        for (int d = 0; d < D; d++) s = fmaf(qs[r * D + d], ks[lane * kp + d], s);
        x = logit(s);
      }
      float mx = x;
#pragma unroll
      for (int w = 16; w > 0; w /= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, w));
      mx = fmaxf(mx, m[rr]);
      const float base = mx == -INFINITY ? 0.f : mx;
      const float alpha = tk_ex2(m[rr] - base), p = tk_ex2(x - base);
      float sum = p;
#pragma unroll
      for (int w = 16; w > 0; w /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, w);
      l[rr] = l[rr] * alpha + sum;
      m[rr] = mx;
#pragma unroll
      for (int i = 0; i < NV; i++) o[rr][i] *= alpha;
      for (int jj = 0; jj < bk; jj++) {
        const float pj = __shfl_sync(0xffffffffu, p, jj);
#pragma unroll
        for (int i = 0; i < NV; i++)
          if (lane + 32 * i < Dv) o[rr][i] = fmaf(pj, vs[jj * Dv + lane + 32 * i], o[rr][i]);
      }
    }
  }
#pragma unroll
  for (int rr = 0; rr < RW; rr++) {
    const int r = warp * RW + rr;
    if (r >= R.n) break;
    const float inv = l[rr] > 0.f ? 1.f / l[rr] : 0.f;
#pragma unroll
    for (int i = 0; i < NV; i++)
      if (lane + 32 * i < Dv) tk_from_f32(R.out[r] + (lane + 32 * i) * od, o[rr][i] * inv);
    if (R.lse[r] && lane == 0)
      *R.lse[r] = l[rr] > 0.f ? (m[rr] + log2f(l[rr])) * TK_LN2 : -INFINITY;
  }
}

#endif
