/* test_cuda_gemm_index: the integer rules of the CUDA grouped GEMM schedule
 * (impls/cuda/grouped_gemm_index.h), on the host, on any machine: the
 * banded visiting order is a bijection; for random group sizes (negative
 * ones and sums past M included, clamped as the device scan clamps them)
 * the row tiles in use never exceed the bound the launch grids are sized
 * by, and the work items cover every output element exactly once, with
 * tiles inside their group's rows and the right reduction range. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "impls/cuda/grouped_gemm_index.h"
#include "regress/case_internal.h"
#include "tests/tk_test.h"

static uint64_t rng_state = 7;

/* A uniform integer in [lo, hi] (the case builder's generator). */
static int rnd(int lo, int hi) { return lo + (int)tk_case_randint(&rng_state, hi - lo + 1); }

static void check_raster(void) {
  long bad = 0;
  static int seen[64 * 32];
  for (int mt = 1; mt <= 64; mt++)
    for (int nt = 1; nt <= 32; nt++)
      for (int band = 1; band <= 9; band += 4) {
        memset(seen, 0, sizeof(int) * (size_t)(mt * nt));
        for (int64_t l = 0; l < (int64_t)mt * nt; l++) {
          int m, n;
          tk_gg_raster(l, mt, nt, band, &m, &n);
          if (m < 0 || m >= mt || n < 0 || n >= nt) bad++;
          else seen[m * nt + n]++;
        }
        for (int i = 0; i < mt * nt; i++) bad += seen[i] != 1;
      }
  CHECK(bad == 0, "banded order: %ld cells visited other than once", bad);
}

/* The device scan's results for sizes: clamped group starts and first row
 * tiles; returns the row tiles in use. */
static int schedule(const int32_t *sizes, int G, int M, int bm, int32_t *row_start,
                    int32_t *tile_start) {
  int64_t raw = 0;
  int tiles = 0;
  for (int g = 0; g < G; g++) {
    int64_t start = raw < M ? raw : M;
    raw += sizes[g] > 0 ? sizes[g] : 0;
    int64_t end = raw < M ? raw : M;
    row_start[g] = (int32_t)start;
    tile_start[g] = tiles;
    tiles += (int)((end - start + bm - 1) / bm);
  }
  row_start[G] = (int32_t)(raw < M ? raw : M);
  tile_start[G] = tiles;
  return tiles + (M - row_start[G] + bm - 1) / bm;
}

/* Draws group sizes: zeros, negatives, large ones, sums below and past M. */
static void draw_sizes(int32_t *sizes, int G, int M) {
  int style = rnd(0, 3);
  for (int g = 0; g < G; g++) {
    int r = rnd(0, 9);
    sizes[g] = r == 0 ? 0 : r == 1 ? -rnd(1, 50) : rnd(1, style == 3 ? M + 1 : 2 * M / G + 2);
  }
}

/* One random NN/NT problem: coverage of out [M, N] by the work items. */
static long check_rows_case(int M, int N, int G, int bm, int bn, int swizzle, int K) {
  int32_t *sizes = malloc(sizeof(int32_t) * (size_t)G);
  int32_t *row_start = malloc(sizeof(int32_t) * (size_t)(G + 1));
  int32_t *tile_start = malloc(sizeof(int32_t) * (size_t)(G + 1));
  int64_t bound = tk_gg_row_tiles_bound(M, G, bm);
  int32_t *tiles = malloc(sizeof(int32_t) * 4 * (size_t)bound);
  unsigned char *cover = calloc((size_t)M * (size_t)N, 1);
  long bad = 0;
  draw_sizes(sizes, G, M);
  int m_tiles = schedule(sizes, G, M, bm, row_start, tile_start);
  if (m_tiles > bound) bad++;
  for (int t = 0; t < bound; t++)
    tk_gg_row_tile_at(t, row_start, tile_start, G, M, bm, m_tiles, tiles + 4 * t);
  int64_t items = 0;
  tk_gg_tile t;
  while (tk_gg_work_at(TK_GG_NN, items, bm, bn, swizzle, K, N, G, m_tiles, row_start, tiles, &t)) {
    int lo = t.g >= 0 ? row_start[t.g] : row_start[G], hi = t.g >= 0 ? row_start[t.g + 1] : M;
    if (t.row0 < lo || t.row0 >= hi || t.row_end != hi || t.n0 % bn || t.red0 != 0 ||
        t.red_end != (t.g >= 0 ? K : 0))
      bad++;
    for (int r = t.row0; r < t.row0 + bm && r < t.row_end; r++)
      for (int c = t.n0; c < t.n0 + bn && c < N; c++) cover[(int64_t)r * N + c]++;
    items++;
  }
  if (items != (int64_t)m_tiles * ((N + bn - 1) / bn)) bad++;
  for (int64_t i = 0; i < (int64_t)M * N; i++) bad += cover[i] != 1;
  free(sizes);
  free(row_start);
  free(tile_start);
  free(tiles);
  free(cover);
  return bad;
}

/* One random TN problem: coverage of out [G, K, N], reduction = group rows. */
static long check_tn_case(int M, int K, int N, int G, int bm, int bn, int swizzle) {
  int32_t *sizes = malloc(sizeof(int32_t) * (size_t)G);
  int32_t *row_start = malloc(sizeof(int32_t) * (size_t)(G + 1));
  int32_t *tile_start = malloc(sizeof(int32_t) * (size_t)(G + 1));
  unsigned char *cover = calloc((size_t)G * K * N, 1);
  long bad = 0;
  draw_sizes(sizes, G, M);
  schedule(sizes, G, M, bm, row_start, tile_start);
  int64_t items = 0;
  tk_gg_tile t;
  while (tk_gg_work_at(TK_GG_TN, items, bm, bn, swizzle, K, N, G, 0, row_start, NULL, &t)) {
    if (t.g < 0 || t.g >= G || t.row0 % bm || t.row_end != K || t.red0 != row_start[t.g] ||
        t.red_end != row_start[t.g + 1])
      bad++;
    else
      for (int r = t.row0; r < t.row0 + bm && r < K; r++)
        for (int c = t.n0; c < t.n0 + bn && c < N; c++) cover[((int64_t)t.g * K + r) * N + c]++;
    items++;
  }
  if (items != (int64_t)G * ((K + bm - 1) / bm) * ((N + bn - 1) / bn)) bad++;
  for (int64_t i = 0; i < (int64_t)G * K * N; i++) bad += cover[i] != 1;
  free(sizes);
  free(row_start);
  free(tile_start);
  free(cover);
  return bad;
}

int main(void) {
  check_raster();
  long bad_rows = 0, bad_tn = 0;
  for (int trial = 0; trial < 400; trial++) {
    int bm = rnd(0, 1) ? 64 : 128, bn = rnd(0, 2) ? 128 : rnd(0, 1) ? 64 : 256;
    int swizzle = rnd(0, 1) ? 1 : 8, G = rnd(1, 40), M = rnd(1, 1500), N = rnd(1, 300);
    bad_rows += check_rows_case(M, N, G, bm, bn, swizzle, rnd(0, 200));
    bad_tn += check_tn_case(rnd(0, 900), rnd(1, 300), rnd(1, 200), rnd(1, 12), bm, bn, swizzle);
  }
  CHECK(bad_rows == 0, "NN/NT schedule: %ld failed checks", bad_rows);
  CHECK(bad_tn == 0, "TN schedule: %ld failed checks", bad_tn);
  TK_TEST_END();
}
