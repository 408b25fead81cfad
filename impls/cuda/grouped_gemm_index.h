/* grouped_gemm_index.h: the integer rules of the CUDA grouped GEMM
 * schedule (grouped_gemm_schedule.cuh): how many row tiles any group sizes
 * can need, what each row tile covers, and which output tile and reduction
 * range a work item is. Plain C (also compiled as host and device code by
 * nvcc), so host tests can check it without a GPU.
 *
 * Row tiles (NN/NT): tiles of block_m rows that never cross a group
 * boundary, group by group, then tiles of the rows past the groups (group
 * -1, written as zero). Their count, tile_start[G] + ceil((M - rows used) /
 * block_m), is at most ceil(M / block_m) + G: every ceil(x / b) is below
 * x / b + 1 and there are G + 1 of them summing x to M. */
#ifndef TK_IMPLS_CUDA_GROUPED_GEMM_INDEX_H
#define TK_IMPLS_CUDA_GROUPED_GEMM_INDEX_H

#include <stdint.h>

#include "tokamax.h"

#ifdef __CUDACC__
#define TK_HD static inline __host__ __device__
#else
#define TK_HD static inline
#endif

/* One output tile and the reduction range it sums over. */
typedef struct {
  int g;             /* group; -1 for a tile of rows past the groups */
  int row0, row_end; /* output rows [row0, min(row0 + block_m, row_end)) */
  int n0;            /* first output column */
  int red0, red_end; /* reduction indices [red0, red_end): K for NN/NT, rows of lhs for TN */
} tk_gg_tile;

/* Row tiles of block_m rows any group sizes can need (NN/NT). */
TK_HD int64_t tk_gg_row_tiles_bound(int64_t M, int64_t G, int block_m) {
  return (M + block_m - 1) / block_m + G;
}

/* Row tile m and column tile n of linear index l over an mt x nt grid,
 * visiting bands of `band` row tiles column by column (band <= 1: row by
 * row). A bijection of [0, mt * nt). */
TK_HD void tk_gg_raster(int64_t l, int mt, int nt, int band, int *m, int *n) {
  if (band <= 1) {
    *m = (int)(l / nt);
    *n = (int)(l % nt);
    return;
  }
  int64_t per = (int64_t)band * nt;
  int64_t b = l / per, r = l % per;
  int64_t left = (int64_t)mt - b * band;
  int w = (int)(left < band ? left : band);
  *n = (int)(r / w);
  *m = (int)(b * band + r % w);
}

/* Row tile t (< m_tiles, the row tiles in use) as e[0..3] = {group, first
 * row, end row, 0}, from row_start[G+1] (clamped group starts) and
 * tile_start[G+1] (first row tile of each group). */
TK_HD void tk_gg_row_tile_at(int t, const int32_t *row_start, const int32_t *tile_start, int G,
                             int M, int block_m, int m_tiles, int32_t *e) {
  int group_tiles = tile_start[G];
  e[3] = 0;
  if (t < group_tiles) { /* the last group starting at or before tile t */
    int lo = 0, hi = G - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) / 2;
      if (tile_start[mid] <= t) lo = mid;
      else hi = mid - 1;
    }
    e[0] = lo;
    e[1] = row_start[lo] + (t - tile_start[lo]) * block_m;
    e[2] = row_start[lo + 1];
  } else {
    e[0] = -1;
    e[1] = t < m_tiles ? row_start[G] + (t - group_tiles) * block_m : M;
    e[2] = M;
  }
}

/* Decodes work item `item` of `layout` into *t; 0 when item is past the
 * work (items are dense: every later item is past it too). NN/NT: items
 * are (row tile, column tile) pairs over m_tiles row tiles whose entries
 * tiles[4 m ...] tk_gg_row_tile_at wrote; TN: (group, row tile of K,
 * column tile) triples, reducing over the group's rows of row_start. */
TK_HD int tk_gg_work_at(int layout, int64_t item, int block_m, int block_n, int swizzle, int K,
                        int N, int G, int m_tiles, const int32_t *row_start,
                        const int32_t *tiles, tk_gg_tile *t) {
  int n_tiles = (N + block_n - 1) / block_n;
  int m, n;
  if (layout == TK_GG_TN) {
    int k_tiles = (K + block_m - 1) / block_m;
    int64_t per = (int64_t)k_tiles * n_tiles;
    if (per == 0 || item >= per * G) return 0;
    int g = (int)(item / per);
    tk_gg_raster(item % per, k_tiles, n_tiles, swizzle, &m, &n);
    t->g = g;
    t->row0 = m * block_m;
    t->row_end = K;
    t->red0 = row_start[g];
    t->red_end = row_start[g + 1];
  } else {
    if (item >= (int64_t)m_tiles * n_tiles) return 0;
    tk_gg_raster(item, m_tiles, n_tiles, swizzle, &m, &n);
    const int32_t *e = tiles + 4 * (int64_t)m;
    t->g = e[0];
    t->row0 = e[1];
    t->row_end = e[2];
    t->red0 = 0;
    t->red_end = e[0] >= 0 ? K : 0;
  }
  t->n0 = n * block_n;
  return 1;
}

#endif
