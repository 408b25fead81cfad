/* grouped_gemm_schedule.cuh: the device-side schedule of a grouped GEMM,
 * shared by cuda_tiled and cuda_pipelined. From group_sizes (on the
 * device) two small kernels build, in the workspace:
 *   row_start[G+1]  first row of each group (sizes < 0 count as 0, the
 *                   running sum clamped to M); row_start[G] = rows used
 *   tile_start[G+1] first row tile of each group (tiles of block_m rows
 *                   that never cross a group boundary)
 *   tiles[]         per row tile: {group or -1, first row, end row, 0}; row
 *                   tiles past the groups' cover rows [row_start[G], M)
 *                   with group -1 (they are written as zero)
 *   head[0]         the number of row tiles in use
 * A work item is one (row tile, column tile) pair (NN/NT) or one (group,
 * row tile of K, column tile) triple (TN); tk_gg_work decodes item numbers
 * in a banded ("swizzled") order so that neighbouring blocks share
 * operands in L2. Nothing here synchronises with the host. */
#ifndef TK_IMPLS_CUDA_GROUPED_GEMM_SCHEDULE_CUH
#define TK_IMPLS_CUDA_GROUPED_GEMM_SCHEDULE_CUH

#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

#include "impls/cuda/grouped_gemm_cuda.h"
#include "impls/cuda/grouped_gemm_index.h"

/* The workspace arrays (device pointers). */
typedef struct {
  int32_t *head;       /* [4]: head[0] = row tiles in use (NN/NT) */
  int32_t *row_start;  /* [G+1] */
  int32_t *tile_start; /* [G+1] */
  int32_t *tiles;      /* [4 * tk_gg_row_tiles_bound]: tk_gg_row_tile_at entries */
} tk_gg_schedule;

/* Row tiles of block_m rows any group sizes can need (0 for TN). */
static inline int64_t tk_gg_row_tile_bound(const tk_cuda_gg *p, int block_m) {
  return p->layout == TK_GG_TN ? 0 : tk_gg_row_tiles_bound(p->M, p->G, block_m);
}

/* Work items that any group sizes can need under tiles of block_m x block_n. */
static inline int64_t tk_gg_item_bound(const tk_cuda_gg *p, int block_m, int block_n) {
  int64_t n_tiles = (p->N + block_n - 1) / block_n;
  if (p->layout == TK_GG_TN) return p->G * ((p->K + block_m - 1) / block_m) * n_tiles;
  return tk_gg_row_tile_bound(p, block_m) * n_tiles;
}

/* Workspace bytes of the schedule (a multiple of 16). */
size_t tk_gg_schedule_bytes(const tk_cuda_gg *p, int block_m);

/* Points s into the workspace ws (16-byte aligned). */
void tk_gg_schedule_view(const tk_cuda_gg *p, void *ws, tk_gg_schedule *s);

/* Enqueues the kernels that fill s from p->group_sizes. */
cudaError_t tk_gg_schedule_build(const tk_cuda_gg *p, int block_m, const tk_gg_schedule *s,
                                 cudaStream_t stream);

/* tk_gg_work_at over the schedule s (device memory, built on the stream). */
static __device__ __forceinline__ int tk_gg_work(const tk_gg_schedule &s, int layout, int64_t item,
                                                 int block_m, int block_n, int swizzle, int K,
                                                 int N, int G, tk_gg_tile *t) {
  int m_tiles = layout == TK_GG_TN ? 0 : s.head[0];
  return tk_gg_work_at(layout, item, block_m, block_n, swizzle, K, N, G, m_tiles, s.row_start,
                       s.tiles, t);
}

#endif
