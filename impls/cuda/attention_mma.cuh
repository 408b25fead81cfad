/* attention_mma.cuh: the warp-level pieces of the mma.sync attention
 * kernels (cuda_tiled dense attention and paged attention): 16-byte tile
 * copies into swizzled shared memory, S = Q K^T and O += P V over
 * m16n8k16 tiles, and the online softmax of a warp's query rows. Device
 * code only (sm_80 and later).
 *
 * Shared tiles: rows of CH 16-byte chunks (CH a multiple of 8, i.e. 64
 * 16-bit elements), chunk c of row r stored at chunk c ^ (r % 8) of the row,
 * so that the 8 row addresses of every ldmatrix fall in distinct banks.
 *
 * A warp works on MT m-tiles of 16 query rows. Its thread (g = lane / 4,
 * t = lane % 4) holds, per m-tile, rows g and g + 8 ("halves" 0 and 1):
 * S[mt][n][e] is key 8 n + 2 t + (e & 1) of row g + 8 (e / 2), and
 * O[mt][n][e] likewise for value column 8 n + 2 t + (e & 1). Row maxima m
 * (log2 domain) agree across the 4 threads of a row; row sums l are this
 * thread's partial sums until tk_attn_finish adds them up. */
#ifndef TK_IMPLS_CUDA_ATTENTION_MMA_CUH
#define TK_IMPLS_CUDA_ATTENTION_MMA_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#include "impls/cuda/attention_index.h"
#include "impls/cuda/ptx_cp_async.cuh"
#include "impls/cuda/ptx_mma.cuh"

#define TK_LOG2E 1.4426950408889634f
#define TK_LN2 0.6931471805599453f

/* What the kernels need of a 16-bit element type. */
template <typename T>
struct tk_b16;
template <>
struct tk_b16<__nv_bfloat16> {
  static constexpr bool is_bf16 = true;
  /* Two floats rounded to nearest and packed, lo in the low half. */
  static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
  }
};
template <>
struct tk_b16<__half> {
  static constexpr bool is_bf16 = false;
  static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
    __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
  }
};

/* 2^x (x = -inf gives 0), to about 2 ulp. */
static __device__ __forceinline__ float tk_ex2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

/* Byte offset of chunk ch of row r in a swizzled tile of CH chunks a row. */
template <int CH>
static __device__ __forceinline__ uint32_t tk_swz(int r, int ch) {
  return (uint32_t)(r * CH + (ch ^ (r & 7))) * 16u;
}

/* Threads that copy one row of a tile together: 8 x 16 bytes, one
 * 128-byte line of the row at a time. */
#define TK_COPY_ROW_THREADS 8

/* Starts copying this thread's chunks c0 + 8 i (c0 < 8) of row r of a
 * swizzled tile of CH chunks from src (NULL: zero-fill the row); chunks at
 * or past valid_chunks are zero-filled. `any` is a valid global address
 * used when nothing is read. */
template <int CH>
static __device__ __forceinline__ void tk_copy_row(char *tile, int r, const char *src,
                                                   int valid_chunks, const void *any, int c0) {
  static_assert(CH % TK_COPY_ROW_THREADS == 0, "tile rows are whole 128-byte lines");
#pragma unroll
  for (int i = 0; i < CH / TK_COPY_ROW_THREADS; i++) {
    const int ch = c0 + TK_COPY_ROW_THREADS * i;
    const bool ok = src != nullptr && ch < valid_chunks;
    tk_cp_async16(tile + tk_swz<CH>(r, ch), ok ? src + ch * 16 : (const char *)any, ok ? 16 : 0);
  }
}

/* Starts copying `rows` rows of a swizzled tile of CH chunks: row_src(r) is
 * the global address of row r's first element, or NULL for a row to fill
 * with zeros; chunks at or past valid_chunks are zero-filled too. Every
 * thread of the block (tid of nthreads) takes its share; `any` is a valid
 * global address used when nothing is read. row_src is called once per
 * chunk: keep it cheap (the paged gather, whose rows go through a page
 * table, copies row by row with tk_copy_row instead). */
template <int CH, typename RowSrc>
static __device__ __forceinline__ void tk_copy_tile(char *tile, int rows, int valid_chunks,
                                                    RowSrc row_src, const void *any, int tid,
                                                    int nthreads) {
  for (int c = tid; c < rows * CH; c += nthreads) {
    int r = c / CH, ch = c % CH;
    const char *src = (const char *)row_src(r);
    bool ok = src != nullptr && ch < valid_chunks;
    tk_cp_async16(tile + tk_swz<CH>(r, ch), ok ? src + ch * 16 : (const char *)any, ok ? 16 : 0);
  }
}

/* The A fragment of rows row0..row0+15, k-chunks 2 kk, 2 kk + 1 of a
 * swizzled tile of CH chunks (mma A layout). */
template <int CH>
static __device__ __forceinline__ void tk_load_a(uint32_t a[4], const char *tile, int row0, int kk,
                                                 int lane) {
  tk_ldmatrix_x4(a, tile + tk_swz<CH>(row0 + (lane & 15), 2 * kk + (lane >> 4)));
}

/* S[mt] = Q K^T for MT m-tiles of query rows (from registers qf when QREG,
 * else from the Q tile at rows qrow0 + 16 mt) against keys key0 ..
 * key0 + 8 NT - 1 of the K tile, over DP columns. */
template <bool BF16, int DP, int NT, int MT, bool QREG>
static __device__ __forceinline__ void tk_attn_qk(float (&S)[MT][NT][4],
                                                  const uint32_t (&qf)[MT][QREG ? DP / 16 : 1][4],
                                                  const char *qtile, int qrow0, const char *ktile,
                                                  int key0, int lane) {
  constexpr int CH = DP / 8;
#pragma unroll
  for (int mt = 0; mt < MT; mt++)
#pragma unroll
    for (int n = 0; n < NT; n++) S[mt][n][0] = S[mt][n][1] = S[mt][n][2] = S[mt][n][3] = 0.f;
#pragma unroll
  for (int kk = 0; kk < DP / 16; kk++) {
    uint32_t a[MT][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
      if constexpr (QREG) {
#pragma unroll
        for (int i = 0; i < 4; i++) a[mt][i] = qf[mt][kk][i];
      } else {
        tk_load_a<CH>(a[mt], qtile, qrow0 + 16 * mt, kk, lane);
      }
    }
#pragma unroll
    for (int np = 0; np < NT / 2; np++) {
      uint32_t b[4];
      tk_ldmatrix_x4(b, ktile + tk_swz<CH>(key0 + 16 * np + (lane & 7) + ((lane >> 4) << 3),
                                           2 * kk + ((lane >> 3) & 1)));
      const uint32_t b0[2] = {b[0], b[1]}, b1[2] = {b[2], b[3]};
#pragma unroll
      for (int mt = 0; mt < MT; mt++) {
        tk_mma_16816<BF16>(S[mt][2 * np], a[mt], b0);
        tk_mma_16816<BF16>(S[mt][2 * np + 1], a[mt], b1);
      }
    }
  }
}

/* O[mt] += P V: P is the probabilities in S (rounded to the element type)
 * for keys key0 .. key0 + 8 NT - 1 of the V tile, over DVP columns. */
template <typename T, int DVP, int NT, int MT>
static __device__ __forceinline__ void tk_attn_pv(float (&O)[MT][DVP / 8][4],
                                                  const float (&S)[MT][NT][4], const char *vtile,
                                                  int key0, int lane) {
  constexpr int CH = DVP / 8;
#pragma unroll
  for (int kk = 0; kk < NT / 2; kk++) {
    uint32_t a[MT][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
      a[mt][0] = tk_b16<T>::pack(S[mt][2 * kk][0], S[mt][2 * kk][1]);
      a[mt][1] = tk_b16<T>::pack(S[mt][2 * kk][2], S[mt][2 * kk][3]);
      a[mt][2] = tk_b16<T>::pack(S[mt][2 * kk + 1][0], S[mt][2 * kk + 1][1]);
      a[mt][3] = tk_b16<T>::pack(S[mt][2 * kk + 1][2], S[mt][2 * kk + 1][3]);
    }
#pragma unroll
    for (int np = 0; np < CH / 2; np++) {
      uint32_t b[4];
      tk_ldmatrix_x4_trans(b, vtile + tk_swz<CH>(key0 + 16 * kk + (lane & 7) + ((lane >> 3) & 1) * 8,
                                                 2 * np + (lane >> 4)));
      const uint32_t b0[2] = {b[0], b[1]}, b1[2] = {b[2], b[3]};
#pragma unroll
      for (int mt = 0; mt < MT; mt++) {
        tk_mma_16816<tk_b16<T>::is_bf16>(O[mt][2 * np], a[mt], b0);
        tk_mma_16816<tk_b16<T>::is_bf16>(O[mt][2 * np + 1], a[mt], b1);
      }
    }
  }
}

/* Logit transform of a call: x = scale * s, or softcap * tanh(scale * s /
 * softcap) when softcap > 0; kept in the log2 domain (times log2 e). */
struct tk_attn_logit {
  float scale_log2;  /* scale * log2 e */
  float cap_in;      /* scale / softcap */
  float cap_log2;    /* softcap * log2 e; 0 = no softcap */
  static __device__ __forceinline__ tk_attn_logit make(float scale, float softcap) {
    tk_attn_logit t;
    t.scale_log2 = scale * TK_LOG2E;
    t.cap_in = softcap > 0.f ? scale / softcap : 0.f;
    t.cap_log2 = softcap > 0.f ? softcap * TK_LOG2E : 0.f;
    return t;
  }
  __device__ __forceinline__ float operator()(float s) const {
    return cap_log2 != 0.f ? cap_log2 * tanhf(s * cap_in) : s * scale_log2;
  }
};

/* Turns the raw scores of one m-tile into probabilities in place and
 * updates the row state: x = logit(s), masked to -inf where masked and
 * !sees(half, key) (key = 8 n + 2 t + e % 2 within the block), m = max,
 * p = 2^(x - m), l = l alpha + sum p. alpha[h] (the factor the row's O must
 * be scaled by) is set for both halves. */
template <int NT, typename Sees>
static __device__ __forceinline__ void tk_attn_softmax(float (&S)[NT][4], float (&m)[2],
                                                       float (&l)[2], float (&alpha)[2],
                                                       const tk_attn_logit &logit, bool masked,
                                                       Sees sees, int lane) {
  const int t = lane & 3;
  float mx[2] = {m[0], m[1]};
#pragma unroll
  for (int n = 0; n < NT; n++)
#pragma unroll
    for (int e = 0; e < 4; e++) {
      float x = logit(S[n][e]);
      if (masked && !sees(e >> 1, 8 * n + 2 * t + (e & 1))) x = -INFINITY;
      S[n][e] = x;
      mx[e >> 1] = fmaxf(mx[e >> 1], x);
    }
#pragma unroll
  for (int h = 0; h < 2; h++) {
    mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 1));
    mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 2));
  }
  float base[2];
#pragma unroll
  for (int h = 0; h < 2; h++) {
    base[h] = mx[h] == -INFINITY ? 0.f : mx[h];
    alpha[h] = tk_ex2(m[h] - base[h]);
    m[h] = mx[h];
    l[h] *= alpha[h];
  }
#pragma unroll
  for (int n = 0; n < NT; n++)
#pragma unroll
    for (int e = 0; e < 4; e++) {
      float p = tk_ex2(S[n][e] - base[e >> 1]);
      S[n][e] = p;
      l[e >> 1] += p;
    }
}

/* Scales the rows of one m-tile's O by alpha (per half). */
template <int NV>
static __device__ __forceinline__ void tk_attn_rescale(float (&O)[NV][4], const float (&alpha)[2]) {
#pragma unroll
  for (int n = 0; n < NV; n++) {
    O[n][0] *= alpha[0];
    O[n][1] *= alpha[0];
    O[n][2] *= alpha[1];
    O[n][3] *= alpha[1];
  }
}

/* Ends one m-tile: adds the row sums over the row's 4 threads, scales O to
 * the softmax average (0 for a row that saw no key) and returns in lse[h]
 * the natural log-sum-exp of each half (-inf for a row that saw no key). */
template <int NV>
static __device__ __forceinline__ void tk_attn_finish(float (&O)[NV][4], const float (&m)[2],
                                                      const float (&l)[2], float (&lse)[2]) {
  float inv[2];
#pragma unroll
  for (int h = 0; h < 2; h++) {
    float s = l[h];
    s += __shfl_xor_sync(0xffffffffu, s, 1);
    s += __shfl_xor_sync(0xffffffffu, s, 2);
    inv[h] = s > 0.f ? 1.f / s : 0.f;
    lse[h] = s > 0.f ? (m[h] + log2f(s)) * TK_LN2 : -INFINITY;
  }
#pragma unroll
  for (int n = 0; n < NV; n++) {
    O[n][0] *= inv[0];
    O[n][1] *= inv[0];
    O[n][2] *= inv[1];
    O[n][3] *= inv[1];
  }
}

/* Stores value columns 2 t, 2 t + 1 of each n-tile of one half-row of O to
 * dst (the row's element 0; columns at or past dv are skipped). */
template <typename T, int NV>
static __device__ __forceinline__ void tk_attn_store_row(T *dst, const float (&O)[NV][4], int half,
                                                         int dv, int lane) {
  const int t = lane & 3;
#pragma unroll
  for (int n = 0; n < NV; n++) {
    int col = 8 * n + 2 * t;
    if (col < dv)
      *reinterpret_cast<uint32_t *>(dst + col) =
          tk_b16<T>::pack(O[n][2 * half], O[n][2 * half + 1]);
  }
}

#endif
