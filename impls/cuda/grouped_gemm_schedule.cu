/* grouped_gemm_schedule.cu: the kernels that turn device-side group sizes
 * into the grouped GEMM schedule (grouped_gemm_schedule.cuh). */
#include <cub/block/block_scan.cuh>

#include "impls/cuda/grouped_gemm_schedule.cuh"

namespace {

constexpr int SCAN_THREADS = 512;

/* n rounded up to a multiple of 16. */
size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* One block: prefix sums of the clamped group sizes (rows) and of their row
 * tiles, chunk by chunk with the running totals carried over. */
__global__ void __launch_bounds__(SCAN_THREADS)
    gg_scan_kernel(const int32_t *sizes, int G, int M, int block_m, int32_t *head,
                   int32_t *row_start, int32_t *tile_start) {
  using Scan = cub::BlockScan<long long, SCAN_THREADS>;
  __shared__ typename Scan::TempStorage tmp;
  __shared__ long long carry_rows, carry_tiles;
  if (threadIdx.x == 0) carry_rows = carry_tiles = 0;
  __syncthreads();
  for (int base = 0; base < G; base += SCAN_THREADS) {
    int g = base + (int)threadIdx.x;
    long long size = g < G ? max(sizes[g], 0) : 0;
    long long rows_incl, tiles_incl;
    Scan(tmp).InclusiveSum(size, rows_incl);
    __syncthreads();
    long long cr = carry_rows, ct = carry_tiles;
    long long start = min(cr + rows_incl - size, (long long)M);
    long long end = min(cr + rows_incl, (long long)M);
    long long tiles = (end - start + block_m - 1) / block_m;
    Scan(tmp).InclusiveSum(tiles, tiles_incl);
    if (g < G) {
      row_start[g] = (int32_t)start;
      tile_start[g] = (int32_t)(ct + tiles_incl - tiles);
    }
    __syncthreads();
    if (threadIdx.x == SCAN_THREADS - 1) {
      carry_rows = cr + rows_incl;
      carry_tiles = ct + tiles_incl;
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    long long used = min(carry_rows, (long long)M);
    row_start[G] = (int32_t)used;
    tile_start[G] = (int32_t)carry_tiles;
    head[0] = (int32_t)(carry_tiles + (M - used + block_m - 1) / block_m);
    head[1] = head[2] = head[3] = 0;
  }
}

/* One thread per row tile t < bound: its tk_gg_row_tile_at entry. */
__global__ void gg_tiles_kernel(const int32_t *head, const int32_t *row_start,
                                const int32_t *tile_start, int G, int M, int block_m, int bound,
                                int32_t *tiles) {
  int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t < bound) tk_gg_row_tile_at(t, row_start, tile_start, G, M, block_m, head[0], tiles + 4 * t);
}

}  // namespace

size_t tk_gg_schedule_bytes(const tk_cuda_gg *p, int block_m) {
  size_t starts = round16(sizeof(int32_t) * (size_t)(p->G + 1));
  return 16 + 2 * starts + 4 * sizeof(int32_t) * (size_t)tk_gg_row_tile_bound(p, block_m);
}

void tk_gg_schedule_view(const tk_cuda_gg *p, void *ws, tk_gg_schedule *s) {
  char *b = (char *)ws;
  size_t starts = round16(sizeof(int32_t) * (size_t)(p->G + 1));
  s->head = (int32_t *)b;
  s->row_start = (int32_t *)(b + 16);
  s->tile_start = (int32_t *)(b + 16 + starts);
  s->tiles = (int32_t *)(b + 16 + 2 * starts);
}

cudaError_t tk_gg_schedule_build(const tk_cuda_gg *p, int block_m, const tk_gg_schedule *s,
                                 cudaStream_t stream) {
  gg_scan_kernel<<<1, SCAN_THREADS, 0, stream>>>(p->group_sizes, (int)p->G, (int)p->M, block_m,
                                                 s->head, s->row_start, s->tile_start);
  cudaError_t e = cudaGetLastError();
  int64_t bound = tk_gg_row_tile_bound(p, block_m);
  if (e != cudaSuccess || bound == 0) return e;
  int threads = 256;
  gg_tiles_kernel<<<(unsigned)((bound + threads - 1) / threads), threads, 0, stream>>>(
      s->head, s->row_start, s->tile_start, (int)p->G, (int)p->M, block_m, (int)bound, s->tiles);
  return cudaGetLastError();
}
