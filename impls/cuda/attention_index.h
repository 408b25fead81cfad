/* attention_index.h: the integer rules the CUDA attention kernels and their
 * registry records share: which keys a block of query rows sees, how a key
 * span is cut into split-KV pieces, how paged query rows group into work
 * units, which head-dim buckets and tile shapes are compiled, and how much
 * shared memory each kernel needs. Plain C (also compiled as host and
 * device code by nvcc), so the host tests can check it without a GPU.
 *
 * Masks (DESIGN.md): query row i of a batch with valid lengths tq, tk has
 * diagonal diag = i + off with off = tk - tq, and sees key j when j < kend
 * (kend = tk, or the end of a split), and, when causal, j <= diag, and,
 * with wl >= 0, j >= diag - wl, and, with wr >= 0, j <= diag + wr. The
 * callers keep |i|, |off|, |j| below 2^30 and clamp wl, wr to 2^30 (see
 * TK_ATTN_MAX_INDEX), so none of this overflows an int. */
#ifndef TK_IMPLS_CUDA_ATTENTION_INDEX_H
#define TK_IMPLS_CUDA_ATTENTION_INDEX_H

#include <stdint.h>

#ifdef __CUDACC__
#define TK_HD static inline __host__ __device__
#else
#define TK_HD static inline
#endif

/* Bound on sequence lengths (Tq + Tk), rows and windows the kernels take. */
#define TK_ATTN_MAX_INDEX (1 << 30)

/* 1 if the row with diagonal diag sees key j (j >= 0) under the masks. */
TK_HD int tk_attn_sees(int causal, int wl, int wr, int diag, int kend, int j) {
  return j < kend && (!causal || j <= diag) && (wl < 0 || j >= diag - wl) &&
         (wr < 0 || j <= diag + wr);
}

/* Keys [*lo, *hi) holding every key that some row of [i0, i1] sees
 * (*lo >= *hi: none). Rows' visible intervals move right with i, so their
 * union lies between the first row's start and the last row's end. */
TK_HD void tk_attn_key_span(int causal, int wl, int wr, int off, int kend, int i0, int i1,
                            int *lo, int *hi) {
  long long a = 0, b = kend;
  if (wl >= 0 && (long long)i0 + off - wl > a) a = (long long)i0 + off - wl;
  if (causal && (long long)i1 + off + 1 < b) b = (long long)i1 + off + 1;
  if (wr >= 0 && (long long)i1 + off + wr + 1 < b) b = (long long)i1 + off + wr + 1;
  if (b < a) b = a;
  *lo = (int)a;
  *hi = (int)b;
}

/* How rows [i0, i1] see keys [j0, j1) (j0 < j1): 0 = no pair is seen
 * (the block can be skipped), 2 = every pair is seen (no mask needed),
 * 1 = otherwise (mask element by element). */
TK_HD int tk_attn_block_class(int causal, int wl, int wr, int off, int kend, int i0, int i1,
                              int j0, int j1) {
  int lo, hi;
  tk_attn_key_span(causal, wl, wr, off, kend, i0, i1, &lo, &hi);
  if (lo >= hi || j1 <= lo || j0 >= hi) return 0;
  long long first = (long long)i0 + off, last = (long long)i1 + off;
  if (j1 <= kend && (!causal || j1 - 1 <= first) && (wl < 0 || j0 >= last - wl) &&
      (wr < 0 || j1 - 1 <= first + wr))
    return 2;
  return 1;
}

/* Piece sp of nsplit of the key span [lo, hi): pieces are whole multiples of
 * block keys long, the last ones possibly empty (*a >= *b). */
TK_HD void tk_attn_split_range(int lo, int hi, int nsplit, int sp, int block, int *a, int *b) {
  long long len = hi > lo ? hi - lo : 0;
  long long per = (len + nsplit - 1) / nsplit;
  per = (per + block - 1) / block * block;
  long long s = lo + per * sp, e = s + per;
  if (s > hi) s = hi;
  if (e > hi) e = hi;
  *a = (int)s;
  *b = (int)e;
}

/* Work units of one paged sequence: its q_len * G (query, head) rows in
 * pieces of m rows. */
TK_HD int tk_paged_units(int q_len, int group, int m) {
  long long rows = q_len > 0 ? (long long)q_len * group : 0;
  return (int)((rows + m - 1) / m);
}

/* An upper bound of the units of all S sequences together, whatever the
 * split of tq_total queries among them. */
TK_HD long long tk_paged_max_units(long long tq_total, long long s, int group, int m) {
  return (tq_total * group + s * (m - 1)) / m;
}

/* 1 if a tensor of 16-bit elements at p with n dims (extent[i], stride[i]
 * elements) has 16-byte aligned rows: p aligned to 16 bytes, the innermost
 * stride 1 and every other stride of a dim longer than 1 a multiple of 8. */
TK_HD int tk_rows_aligned16(const void *p, const int64_t *stride, const int *extent, int n) {
  if ((uintptr_t)p % 16 != 0 || (extent[n - 1] > 1 && stride[n - 1] != 1)) return 0;
  for (int i = 0; i < n - 1; i++)
    if (extent[i] > 1 && stride[i] % 8 != 0) return 0;
  return 1;
}

/* Head-dim buckets of the tensor-core kernels: the padded sizes *dp, *dvp
 * (multiples of 64) that D and Dv (multiples of 8) run at; 0 when no bucket
 * holds them. Buckets: (64,64), (128,128), (192,128) for D in (128,192]
 * with Dv <= 128, (256,256). */
TK_HD int tk_attn_bucket(int d, int dv, int *dp, int *dvp) {
  if (d < 8 || dv < 8 || d % 8 || dv % 8 || d > 256 || dv > 256) return 0;
  int m = d > dv ? d : dv;
  if (m <= 64) {
    *dp = *dvp = 64;
  } else if (m <= 128) {
    *dp = *dvp = 128;
  } else if (d <= 192 && dv <= 128) {
    *dp = 192;
    *dvp = 128;
  } else {
    *dp = *dvp = 256;
  }
  return 1;
}

/* Defines TK_HD int fn(dp, dvp, bk, x): 1 if X(dp, dvp, bk, x) is an entry
 * of the shape list LIST (one of the TK_*_SHAPES below). */
#define TK_SHAPE_MATCH_(a, b, c, e) \
  if (dp == a && dvp == b && bk == c && x == e) return 1;
#define TK_SHAPE_LOOKUP(fn, LIST)                   \
  TK_HD int fn(int dp, int dvp, int bk, int x) { \
    LIST(TK_SHAPE_MATCH_)                           \
    return 0;                                       \
  }

/* The (DP, DVP, block_kv, m-tiles per warp) shapes the cuda_tiled kernel is
 * compiled for: X(dp, dvp, bk, mt). A warp holds 16 * mt query rows; the
 * list keeps each shape's accumulators within the register file. */
#define TK_TILED_SHAPES(X)                                                                  \
  X(64, 64, 32, 1) X(64, 64, 64, 1) X(64, 64, 128, 1) X(64, 64, 32, 2) X(64, 64, 64, 2)      \
  X(128, 128, 32, 1) X(128, 128, 64, 1) X(128, 128, 128, 1)            \
  X(192, 128, 32, 1) X(192, 128, 64, 1) X(192, 128, 128, 1) X(192, 128, 32, 2)              \
  X(256, 256, 32, 1) X(256, 256, 64, 1)

/* 1 if the cuda_tiled kernel is compiled for this shape. */
TK_SHAPE_LOOKUP(tk_tiled_shape_ok, TK_TILED_SHAPES)

/* Shared memory of the cuda_tiled kernel: the Q tile and `stages` K/V tiles
 * of 16-bit elements. */
TK_HD long long tk_tiled_smem(int dp, int dvp, int block_q, int block_kv, int stages) {
  return 2LL * block_q * dp + 2LL * stages * block_kv * (dp + dvp);
}

/* The (DP, DVP, block_kv, row warps) shapes the paged kernel is compiled
 * for: X(dp, dvp, bk, mw). Its CTA has 4 warps: mw of them along the rows
 * (16 each), 4 / mw along the keys of each tile. */
#define TK_PAGED_SHAPES(X)                                                                   \
  X(64, 64, 64, 1) X(64, 64, 128, 1) X(64, 64, 64, 4) X(64, 64, 128, 4)                      \
  X(128, 128, 64, 1) X(128, 128, 128, 1) X(128, 128, 64, 4) X(128, 128, 128, 4)              \
  X(192, 128, 64, 1) X(192, 128, 128, 1) X(192, 128, 64, 4)                                  \
  X(256, 256, 64, 1) X(256, 256, 128, 1)

/* 1 if the paged kernel is compiled for this shape. */
TK_SHAPE_LOOKUP(tk_paged_shape_ok, TK_PAGED_SHAPES)

/* Page ids the paged kernel keeps in shared memory at a time. */
#define TK_PAGED_PAGE_WINDOW 512

/* Shared memory of the paged kernel: Q rows, `stages` K/V tiles, the page
 * window, or the cross-warp merge area if larger than the tiles. */
TK_HD long long tk_paged_smem(int dp, int dvp, int block_kv, int row_warps, int stages) {
  long long q = 2LL * 16 * row_warps * dp, ring = 2LL * stages * block_kv * (dp + dvp);
  long long merge = 4LL * 32 * 4 * (dvp / 8 * 4 + 4); /* 4 warps' fragments, m and l */
  return q + (ring > merge ? ring : merge) + 4LL * TK_PAGED_PAGE_WINDOW;
}

/* The (DP, DVP, block_kv, consumer warpgroups) shapes the cuda_pipelined
 * kernel is compiled for: X(dp, dvp, bk, nc). Each consumer warpgroup holds
 * 64 query rows. */
#define TK_PIPELINED_SHAPES(X)                                                               \
  X(64, 64, 64, 1) X(64, 64, 128, 1) X(64, 64, 64, 2) X(64, 64, 128, 2)                      \
  X(128, 128, 64, 1) X(128, 128, 128, 1) X(128, 128, 64, 2) X(128, 128, 128, 2)              \
  X(192, 128, 64, 1) X(192, 128, 128, 1) X(192, 128, 64, 2) X(192, 128, 128, 2)              \
  X(256, 256, 64, 1) X(256, 256, 64, 2)

/* 1 if the cuda_pipelined kernel is compiled for this shape. */
TK_SHAPE_LOOKUP(tk_pipelined_shape_ok, TK_PIPELINED_SHAPES)

/* Shared memory of the cuda_pipelined kernel: the Q tile of 64 * nc rows,
 * `stages` K/V tiles, their barriers, and 1 KB to align the tiles to the
 * 1024-byte swizzle period. */
TK_HD long long tk_pipelined_smem(int dp, int dvp, int block_kv, int nc, int stages) {
  return 2LL * 64 * nc * dp + 2LL * stages * block_kv * (dp + dvp) + 8LL * (3 * stages + 1) + 1024;
}

#endif
