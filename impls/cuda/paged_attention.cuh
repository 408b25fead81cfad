/* paged_attention.cuh: the paged attention kernels' shared device code
 * (which work unit a CTA serves) and the tensor-core kernel, templated on
 * the element type and tile shape; paged_attention_<dtype>.cu instantiate
 * it.
 *
 * Work: the q_len * G (query, head) rows of a sequence's KV head (G query
 * heads per KV head, heads fastest) are cut into units of M rows; CTA
 * (unit, kv head, split) serves one unit, so every K/V tile it loads
 * serves all query heads of the group. The unit table comes from the
 * device (tk_paged_units_kernel) when cu_q_lens is given; decode units
 * follow from the sequence index alone. Each CTA visits the piece `split`
 * of the key span its rows see; with several pieces it writes float
 * partials and their log-sum-exps, merged by tk_paged_merge_kernel.
 *
 * The tensor-core kernel: 4 warps, row_warps (MW) of them along the rows
 * (16 each) and 4 / MW along the keys of every tile (BK / (4 / MW) each,
 * merged across warps at the end). K/V rows are gathered with 16-byte
 * cp.async through the sequence's page ids, staged TK_PAGED_PAGE_WINDOW at
 * a time in shared memory, `stages` tiles deep; 8 threads copy a row, and
 * each looks the row's page up once for both K and V (not once per
 * 16-byte chunk). */
#ifndef TK_IMPLS_CUDA_PAGED_ATTENTION_CUH
#define TK_IMPLS_CUDA_PAGED_ATTENTION_CUH

#include <cuda_runtime.h>

#include "impls/cuda/attention_cuda.h"
#include "impls/cuda/attention_mma.cuh"
#include "impls/cuda/launch_cache.h"

/* One CTA's unit: sequence s, its first query row `first` in q, q_len, its
 * kv_len, the unit's first (query, head) row r0 and how many rows it has. */
struct tk_paged_unit {
  int s, first, q_len, kv_len, r0, rows;
};

/* Query rows [*first, *first + return) of sequence s, clamped into q. */
static __device__ __forceinline__ int tk_paged_q_len(const tk_cuda_paged_args &a, int s, int *first) {
  if (!a.cu_q_lens) {
    *first = s;
    return 1;
  }
  const int b = min(max(a.cu_q_lens[s * a.cu_q_lens_stride], 0), a.Tq_total);
  const int e = min(max(a.cu_q_lens[(s + 1) * a.cu_q_lens_stride], b), a.Tq_total);
  *first = b;
  return e - b;
}

/* Finds unit u of units of m rows (cu_units: the device unit table when
 * cu_q_lens is given); 0 when u is past the last unit. */
static __device__ __forceinline__ int tk_paged_resolve(const tk_cuda_paged_args &a,
                                                       const int *cu_units, int u, int m,
                                                       tk_paged_unit &w) {
  const int group = a.Hq / a.Hkv;
  int chunk;
  if (a.cu_q_lens) {
    if (u >= cu_units[a.S]) return 0;
    int lo = 0, hi = a.S; /* cu_units[lo] <= u < cu_units[hi] */
    while (hi - lo > 1) {
      const int mid = (lo + hi) / 2;
      if (cu_units[mid] <= u)
        lo = mid;
      else
        hi = mid;
    }
    w.s = lo;
    chunk = u - cu_units[lo];
  } else {
    const int per = (group + m - 1) / m;
    w.s = u / per;
    chunk = u % per;
    if (w.s >= a.S) return 0;
  }
  w.q_len = tk_paged_q_len(a, w.s, &w.first);
  const long long cap = min((long long)a.max_pages * a.page_size, (long long)TK_ATTN_MAX_INDEX);
  w.kv_len = (int)min(max((long long)a.kv_lens[w.s * a.kv_lens_stride], 0LL), cap);
  w.r0 = chunk * m;
  w.rows = (int)min((long long)m, (long long)w.q_len * group - w.r0);
  return w.rows > 0;
}

/* Paged attention of CTA (unit, KV head, split), as the file comment
 * describes: the output rows when nsplit is 1, else the split's partials. */
template <typename T, int DP, int DVP, int BK, int MW>
__global__ void __launch_bounds__(128)
    tk_paged_kernel(const tk_cuda_paged_args a, int stages, int nsplit, const int *cu_units,
                    float *part_o, float *part_lse) {
  constexpr int KW = 4 / MW, BKW = BK / KW, NT = BKW / 8, NV = DVP / 8, M = 16 * MW;
  constexpr int CHQ = DP / 8, CHV = DVP / 8, PW = TK_PAGED_PAGE_WINDOW;
  constexpr bool QREG = DP <= 128;
  extern __shared__ __align__(128) char smem[];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, mw = warp % MW, kw = warp / MW;
  tk_paged_unit w;
  if (!tk_paged_resolve(a, cu_units, blockIdx.x, M, w)) return;
  const int hkv = blockIdx.y, sp = blockIdx.z, group = a.Hq / a.Hkv, wl = a.window_left;
  const int off = w.kv_len - w.q_len, ps = a.page_size;
  int lo, hi, ka, kb;
  tk_attn_key_span(1, wl, -1, off, w.kv_len, w.r0 / group, (w.r0 + w.rows - 1) / group, &lo, &hi);
  tk_attn_split_range(lo, hi, nsplit, sp, BK, &ka, &kb);
  const int ntiles = kb > ka ? (kb - ka + BK - 1) / BK : 0;

  const int stage_bytes = 2 * BK * (DP + DVP);
  const int ring_bytes = max(stages * stage_bytes, 4 * 32 * 4 * (NV * 4 + 4));
  char *qtile = smem, *ring = smem + 2 * M * DP;
  int *pages = reinterpret_cast<int *>(ring + ring_bytes);
  const int32_t *bt = a.block_table + w.s * a.sbt[0];
  int w0 = 0; /* page index held in pages[0] */
  /* Stages the page ids from page index p0 on. */
  auto stage_pages = [&](int p0) {
    for (int i = tid; i < PW; i += 128) pages[i] = p0 + i < a.max_pages ? bt[(int64_t)(p0 + i) * a.sbt[1]] : -1;
  };
  /* Starts copying the K and V tiles of keys ka + t BK .. + BK - 1 into
   * ring slot s, 8 threads a row (tk_copy_row): each thread finds the page
   * of each row it copies once, for both K and V; keys at or past kb and
   * page ids outside the cache give zero rows. */
  auto load_kv = [&](int t, int s) {
    constexpr int TPR = TK_COPY_ROW_THREADS;
    const int j0 = ka + t * BK, c0 = tid % TPR;
    char *kt = ring + s * stage_bytes, *vt = kt + 2 * BK * DP;
    for (int r = tid / TPR; r < BK; r += 128 / TPR) {
      const int j = j0 + r, id = j < kb ? pages[j / ps - w0] : -1;
      const bool ok = id >= 0 && id < a.P;
      const int64_t in_page = j % ps;
      tk_copy_row<CHQ>(kt, r, ok ? (const char *)((const T *)a.k_cache + id * a.sk[0] + in_page * a.sk[1] + hkv * a.sk[2]) : nullptr,
                       a.D / 8, a.k_cache, c0);
      tk_copy_row<CHV>(vt, r, ok ? (const char *)((const T *)a.v_cache + id * a.sv[0] + in_page * a.sv[1] + hkv * a.sv[2]) : nullptr,
                       a.Dv / 8, a.v_cache, c0);
    }
  };

  /* This warp's rows (CTA rows mw * 16 + 0..15) and this thread's two. */
  const int wrow0 = mw * 16, wrow1 = min(wrow0 + 16, w.rows) - 1;
  const int qi_lo = (w.r0 + wrow0) / group, qi_hi = (w.r0 + max(wrow1, wrow0)) / group;
  int diag[2];
#pragma unroll
  for (int half = 0; half < 2; half++) diag[half] = (w.r0 + wrow0 + (lane >> 2) + 8 * half) / group + off;
  const tk_attn_logit logit = tk_attn_logit::make(a.scale, a.softcap);
  float O[1][NV][4], m[1][2] = {{-INFINITY, -INFINITY}}, l[1][2] = {{0.f, 0.f}};
#pragma unroll
  for (int n = 0; n < NV; n++) O[0][n][0] = O[0][n][1] = O[0][n][2] = O[0][n][3] = 0.f;

  if (ntiles > 0) {
    w0 = ka / ps;
    stage_pages(w0);
    tk_copy_tile<CHQ>(
        qtile, M, a.D / 8,
        [&](int r) -> const void * {
          if (r >= w.rows) return nullptr;
          const int rr = w.r0 + r, qi = rr / group, head = hkv * group + rr % group;
          return (const T *)a.q + (int64_t)(w.first + qi) * a.sq[0] + head * a.sq[1];
        },
        a.q, tid, 128);
    __syncthreads(); /* the page ids are in place */
    load_kv(0, 0);
    tk_cp_async_commit();
    for (int s = 1; s < stages - 1; s++) {
      if (s < ntiles) load_kv(s, s);
      tk_cp_async_commit();
    }
    uint32_t qf[1][QREG ? DP / 16 : 1][4];
    if (QREG) {
      tk_cp_async_wait_n(stages - 2);
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < DP / 16; kk++) tk_load_a<CHQ>(qf[0][kk], qtile, wrow0, kk, lane);
    }
    for (int it = 0; it < ntiles; it++) {
      tk_cp_async_wait_n(stages - 2);
      __syncthreads(); /* tile it landed; slot (it - 1) % stages and the page ids are free */
      const int t = it + stages - 1;
      if (t < ntiles) {
        if ((min(ka + (t + 1) * BK, kb) - 1) / ps >= w0 + PW) {
          w0 = (ka + t * BK) / ps;
          stage_pages(w0);
          __syncthreads();
        }
        load_kv(t, t % stages);
      }
      tk_cp_async_commit();
      if (wrow0 > wrow1) continue;
      const int key0 = kw * BKW, j0 = ka + it * BK + key0;
      const int cls = tk_attn_block_class(1, wl, -1, off, kb, qi_lo, qi_hi, j0, j0 + BKW);
      if (cls == 0) continue;
      const char *kt = ring + (it % stages) * stage_bytes;
      float S[1][NT][4], alpha[2];
      tk_attn_qk<tk_b16<T>::is_bf16, DP, NT, 1, QREG>(S, qf, qtile, wrow0, kt, key0, lane);
      tk_attn_softmax<NT>(
          S[0], m[0], l[0], alpha, logit, cls == 1,
          [&](int half, int key) { return tk_attn_sees(1, wl, -1, diag[half], kb, j0 + key); }, lane);
      tk_attn_rescale<NV>(O[0], alpha);
      tk_attn_pv<T, DVP, NT, 1>(O, S, kt + 2 * BK * DP, key0, lane);
    }
  }

  if (KW > 1) { /* fold the key warps' states into warp kw = 0, in order */
    tk_cp_async_wait<0>();
    __syncthreads();
    float *mg = reinterpret_cast<float *>(ring);
    constexpr int SLOT = 32 * (NV * 4 + 4);
    if (kw > 0) {
      float *my = mg + ((kw - 1) * MW + mw) * SLOT + lane;
#pragma unroll
      for (int n = 0; n < NV; n++)
#pragma unroll
        for (int e = 0; e < 4; e++) my[(n * 4 + e) * 32] = O[0][n][e];
#pragma unroll
      for (int h = 0; h < 2; h++) {
        my[(NV * 4 + h) * 32] = m[0][h];
        my[(NV * 4 + 2 + h) * 32] = l[0][h];
      }
    }
    __syncthreads();
    if (kw > 0) return;
    for (int k = 1; k < KW; k++) {
      const float *other = mg + ((k - 1) * MW + mw) * SLOT + lane;
      float f0[2], fk[2];
#pragma unroll
      for (int h = 0; h < 2; h++) {
        const float mk = other[(NV * 4 + h) * 32], mx = fmaxf(m[0][h], mk);
        const float base = mx == -INFINITY ? 0.f : mx;
        f0[h] = tk_ex2(m[0][h] - base);
        fk[h] = tk_ex2(mk - base);
        l[0][h] = l[0][h] * f0[h] + other[(NV * 4 + 2 + h) * 32] * fk[h];
        m[0][h] = mx;
      }
#pragma unroll
      for (int n = 0; n < NV; n++)
#pragma unroll
        for (int e = 0; e < 4; e++)
          O[0][n][e] = O[0][n][e] * f0[e >> 1] + other[(n * 4 + e) * 32] * fk[e >> 1];
    }
  }

  float lse[2];
  tk_attn_finish<NV>(O[0], m[0], l[0], lse);
#pragma unroll
  for (int half = 0; half < 2; half++) {
    const int r = wrow0 + (lane >> 2) + 8 * half;
    if (r >= w.rows) continue;
    const int rr = w.r0 + r, qrow = w.first + rr / group, head = hkv * group + rr % group;
    if (nsplit == 1) {
      tk_attn_store_row<T, NV>((T *)a.out + (int64_t)qrow * a.so[0] + head * a.so[1], O[0], half,
                               a.Dv, lane);
      continue;
    }
    const int64_t slot = ((int64_t)sp * a.Tq_total + qrow) * a.Hq + head;
    float *po = part_o + slot * a.Dv;
#pragma unroll
    for (int n = 0; n < NV; n++) {
      const int col = 8 * n + 2 * (lane & 3);
      if (col < a.Dv) *reinterpret_cast<float2 *>(po + col) = make_float2(O[0][n][2 * half], O[0][n][2 * half + 1]);
    }
    if ((lane & 3) == 0) part_lse[slot] = lse[half];
  }
}

/* Launches the tensor-core kernel of one compiled shape. */
template <typename T, int DP, int DVP, int BK, int MW>
static cudaError_t tk_paged_launch_shape(const tk_cuda_paged_args &a, const tk_cuda_paged_config &c,
                                         long long units, const int *cu_units, float *part_o,
                                         float *part_lse, cudaStream_t stream) {
  auto kernel = tk_paged_kernel<T, DP, DVP, BK, MW>;
  const long long smem = tk_paged_smem(DP, DVP, BK, MW, c.stages);
  cudaError_t e = tk_cuda_prepare_launch((const void *)kernel, smem, units);
  if (e != cudaSuccess) return e;
  const dim3 grid((unsigned)units, (unsigned)a.Hkv, (unsigned)c.splits);
  kernel<<<grid, 128, (size_t)smem, stream>>>(a, c.stages, c.splits, cu_units, part_o, part_lse);
  return cudaGetLastError();
}

/* Launches the compiled shape that fits a and c (cudaErrorInvalidValue if
 * none does). */
template <typename T>
static cudaError_t tk_paged_launch(const tk_cuda_paged_args &a, const tk_cuda_paged_config &c,
                                   long long units, const int *cu_units, float *part_o,
                                   float *part_lse, cudaStream_t stream) {
  int dp, dvp;
  if (!tk_attn_bucket(a.D, a.Dv, &dp, &dvp)) return cudaErrorInvalidValue;
#define TK_X_(P, V, K, W)                                          \
  if (dp == P && dvp == V && c.block_kv == K && c.row_warps == W) \
    return tk_paged_launch_shape<T, P, V, K, W>(a, c, units, cu_units, part_o, part_lse, stream);
  TK_PAGED_SHAPES(TK_X_)
#undef TK_X_
  return cudaErrorInvalidValue;
}

/* tk_paged_launch for each element type (paged_attention_<dtype>.cu). */
cudaError_t tk_paged_attention_bf16(const tk_cuda_paged_args &a, const tk_cuda_paged_config &c,
                                    long long units, const int *cu_units, float *part_o,
                                    float *part_lse, cudaStream_t stream);
cudaError_t tk_paged_attention_f16(const tk_cuda_paged_args &a, const tk_cuda_paged_config &c,
                                   long long units, const int *cu_units, float *part_o,
                                   float *part_lse, cudaStream_t stream);

/* The scalar paged kernel (paged_attention_scalar.cu): units of
 * TK_SCALAR_ROWS rows, one split, any q element type, caches of q's or an
 * 8-bit one (fp8 e4m3, int8) with their scales. */
cudaError_t tk_paged_attention_scalar(const tk_cuda_paged_args &a, long long units,
                                      const int *cu_units, cudaStream_t stream);

#endif
