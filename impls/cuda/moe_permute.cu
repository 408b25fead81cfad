/* moe_permute.cu: MoE permute on the device as a counting sort by expert
 * (moe_cuda.h). Four launches, none waiting on the host:
 *   count  one warp per chunk of `unit` flattened (token, slot) entries:
 *          the chunk's histogram over experts -> counts[chunk][E]
 *   scan   one block: per expert, the exclusive prefix of counts over
 *          chunks (in place) and the total; group_sizes = totals padded to
 *          align; start[e] = exclusive prefix of group_sizes
 *   rank   one warp per chunk again, in entry order: an entry's row is
 *          start[e] + counts[chunk][e] + (earlier entries of e in the
 *          chunk), so rows are stable in t * k + slot within an expert;
 *          writes dest and src[row] = token
 *   gather one warp per row of permuted: the expert holding the row (a
 *          binary search over start), then a copy of its token (16-byte
 *          vectors when rows are aligned) or zeros for padding / unused
 *          rows. */
#include <cub/block/block_scan.cuh>
#include <limits.h>

#include "runtime/tensor.h"
#include "impls/cuda/moe_cuda.h"

namespace {

constexpr int SCAN_THREADS = 512;

/* n rounded up to a multiple of 16. */
size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* The workspace arrays. */
struct Work {
  int32_t *counts; /* [chunks][E] */
  int32_t *start;  /* [E+1] */
  int32_t *total;  /* [E] */
  int32_t *src;    /* [R] */
};

int64_t chunks_of(const tk_cuda_permute *p, int unit) { return (p->T * p->k + unit - 1) / unit; }

Work view(const tk_cuda_permute *p, int unit, void *ws) {
  char *b = (char *)ws;
  Work w;
  w.counts = (int32_t *)b;
  b += round16(sizeof(int32_t) * (size_t)(chunks_of(p, unit) * p->E));
  w.start = (int32_t *)b;
  b += round16(sizeof(int32_t) * (size_t)(p->E + 1));
  w.total = (int32_t *)b;
  b += round16(sizeof(int32_t) * (size_t)p->E);
  w.src = (int32_t *)b;
  return w;
}

/* Where a chunk's entries come from. */
struct Ids {
  const int32_t *ids;
  int64_t s0, s1;
  int64_t n; /* T * k */
  int k, E, unit;
};

/* The expert of flattened entry i (< n), or -1 when outside [0, E). */
__device__ __forceinline__ int expert_of(const Ids &d, int64_t i) {
  int e = d.ids[(i / d.k) * d.s0 + (i % d.k) * d.s1];
  return e >= 0 && e < d.E ? e : -1;
}

/* One warp (blockDim 32) per chunk: counts[chunk][e] = entries of e. */
__global__ void __launch_bounds__(32) count_kernel(const Ids d, int32_t *counts) {
  extern __shared__ int32_t cnt[];
  const int lane = threadIdx.x;
  for (int e = lane; e < d.E; e += 32) cnt[e] = 0;
  __syncwarp();
  const int64_t begin = (int64_t)blockIdx.x * d.unit;
  const int64_t end = min(begin + d.unit, d.n);
  for (int64_t base = begin; base < end; base += 32) {
    int e = base + lane < end ? expert_of(d, base + lane) : -1;
    unsigned peers = __match_any_sync(0xffffffffu, e);
    if (e >= 0 && lane == __ffs(peers) - 1) cnt[e] += __popc(peers);
    __syncwarp();
  }
  int32_t *row = counts + (int64_t)blockIdx.x * d.E;
  for (int e = lane; e < d.E; e += 32) row[e] = cnt[e];
}

/* One block: counts become exclusive prefixes over chunks; totals, padded
 * group sizes and expert starts. */
__global__ void __launch_bounds__(SCAN_THREADS)
    scan_kernel(int32_t *counts, int64_t chunks, int E, int align, int32_t *group_sizes,
                int64_t gs_s0, int32_t *start, int32_t *total) {
  using Scan = cub::BlockScan<long long, SCAN_THREADS>;
  __shared__ typename Scan::TempStorage tmp;
  long long carry = 0;
  for (int base = 0; base < E; base += SCAN_THREADS) {
    int e = base + (int)threadIdx.x;
    long long run = 0;
    if (e < E)
      for (int64_t c = 0; c < chunks; c++) {
        int32_t *cell = counts + c * E + e;
        int32_t n = *cell;
        *cell = (int32_t)run;
        run += n;
      }
    long long padded = e < E ? (run + align - 1) / align * align : 0, excl, sum;
    Scan(tmp).ExclusiveSum(padded, excl, sum);
    if (e < E) {
      start[e] = (int32_t)min(carry + excl, (long long)INT_MAX);
      total[e] = (int32_t)run;
      group_sizes[e * gs_s0] = (int32_t)min(padded, (long long)INT_MAX);
    }
    carry += sum;
    __syncthreads();
  }
  if (threadIdx.x == 0) start[E] = (int32_t)min(carry, (long long)INT_MAX);
}

/* One warp per chunk, entries in order: dest and src of every entry. */
__global__ void __launch_bounds__(32)
    rank_kernel(const Ids d, const int32_t *counts, const int32_t *start, int32_t *dest,
                int64_t dest_s0, int64_t dest_s1, int32_t *src, int64_t R) {
  extern __shared__ int32_t next[];
  const int lane = threadIdx.x;
  const int32_t *row = counts + (int64_t)blockIdx.x * d.E;
  for (int e = lane; e < d.E; e += 32) next[e] = start[e] + row[e];
  __syncwarp();
  const int64_t begin = (int64_t)blockIdx.x * d.unit;
  const int64_t end = min(begin + d.unit, d.n);
  for (int64_t base = begin; base < end; base += 32) {
    int64_t i = base + lane;
    int e = i < end ? expert_of(d, i) : -1;
    unsigned peers = __match_any_sync(0xffffffffu, e);
    int r = e >= 0 ? next[e] + __popc(peers & ((1u << lane) - 1)) : -1;
    __syncwarp();
    if (e >= 0 && lane == __ffs(peers) - 1) next[e] += __popc(peers);
    __syncwarp();
    if (i < end) {
      int64_t t = i / d.k;
      dest[t * dest_s0 + (i % d.k) * dest_s1] = r;
      if (r >= 0 && r < R) src[r] = (int32_t)t;
    }
  }
}

/* Where the gather copies from and to. */
struct Rows {
  const char *tokens;
  char *permuted;
  int64_t tok_s0, perm_s0; /* bytes */
  int64_t row_bytes, R;
  int es, vec, E;
  const int32_t *start, *total, *src;
};

/* The token whose copy belongs in row r, or -1 for a zero row. */
__device__ __forceinline__ int token_of_row(const Rows &a, int64_t r) {
  if (r >= a.start[a.E]) return -1;
  int lo = 0, hi = a.E - 1; /* the last expert starting at or before r */
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (a.start[mid] <= r) lo = mid;
    else hi = mid - 1;
  }
  return r - a.start[lo] < a.total[lo] ? a.src[r] : -1;
}

/* Warps walk the rows of permuted; each row is written once, whole. */
__global__ void gather_kernel(const Rows a) {
  const int lane = threadIdx.x % 32, warps = blockDim.x / 32;
  for (int64_t r = (int64_t)blockIdx.x * warps + threadIdx.x / 32; r < a.R;
       r += (int64_t)gridDim.x * warps) {
    int t = token_of_row(a, r);
    const char *from = t >= 0 ? a.tokens + t * a.tok_s0 : nullptr;
    char *to = a.permuted + r * a.perm_s0;
    if (a.vec) {
      const int64_t nv = a.row_bytes / 16;
      const uint4 *s = (const uint4 *)from;
      uint4 *d = (uint4 *)to, z = make_uint4(0, 0, 0, 0);
      int64_t j = lane;
      for (; j + 96 < nv; j += 128) {
        uint4 v0 = s ? __ldg(s + j) : z, v1 = s ? __ldg(s + j + 32) : z;
        uint4 v2 = s ? __ldg(s + j + 64) : z, v3 = s ? __ldg(s + j + 96) : z;
        d[j] = v0;
        d[j + 32] = v1;
        d[j + 64] = v2;
        d[j + 96] = v3;
      }
      for (; j < nv; j += 32) d[j] = s ? __ldg(s + j) : z;
    } else if (a.es == 2) {
      const uint16_t *s = (const uint16_t *)from;
      for (int64_t j = lane; j < a.row_bytes / 2; j += 32) ((uint16_t *)to)[j] = s ? s[j] : 0;
    } else {
      const uint32_t *s = (const uint32_t *)from;
      for (int64_t j = lane; j < a.row_bytes / 4; j += 32) ((uint32_t *)to)[j] = s ? s[j] : 0;
    }
  }
}

}  // namespace

size_t tk_cuda_permute_workspace(const tk_cuda_permute *p, const tk_cuda_permute_cfg *c) {
  return round16(sizeof(int32_t) * (size_t)(chunks_of(p, c->unit) * p->E)) +
         round16(sizeof(int32_t) * (size_t)(p->E + 1)) + round16(sizeof(int32_t) * (size_t)p->E) +
         round16(sizeof(int32_t) * (size_t)p->R);
}

cudaError_t tk_cuda_permute_run(const tk_cuda_permute *p, const tk_cuda_permute_cfg *c, void *ws,
                                void *stream) {
  cudaStream_t st = (cudaStream_t)stream;
  Work w = view(p, c->unit, ws);
  Ids d = {p->expert_ids, p->ids_s0, p->ids_s1, p->T * p->k, (int)p->k, (int)p->E, c->unit};
  int64_t chunks = chunks_of(p, c->unit);
  size_t smem = sizeof(int32_t) * (size_t)p->E; /* <= 48 KiB: E <= TK_CUDA_PERMUTE_MAX_EXPERTS */
  cudaError_t e;
  if (chunks > 0) {
    count_kernel<<<(unsigned)chunks, 32, smem, st>>>(d, w.counts);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
  }
  scan_kernel<<<1, SCAN_THREADS, 0, st>>>(w.counts, chunks, (int)p->E, (int)p->align,
                                          p->group_sizes, p->gs_s0, w.start, w.total);
  if ((e = cudaGetLastError()) != cudaSuccess) return e;
  if (chunks > 0) {
    rank_kernel<<<(unsigned)chunks, 32, smem, st>>>(d, w.counts, w.start, p->dest, p->dest_s0,
                                                    p->dest_s1, w.src, p->R);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
  }
  if (p->R == 0) return cudaSuccess;
  int es = (int)tk_dtype_size((tk_dtype)p->dtype);
  Rows a;
  a.tokens = (const char *)p->tokens;
  a.permuted = (char *)p->permuted;
  a.tok_s0 = p->tok_s0 * es;
  a.perm_s0 = p->perm_s0 * es;
  a.row_bytes = p->H * es;
  a.R = p->R;
  a.es = es;
  a.vec = (uintptr_t)p->tokens % 16 == 0 && (uintptr_t)p->permuted % 16 == 0 && a.tok_s0 % 16 == 0 &&
          a.perm_s0 % 16 == 0 && a.row_bytes % 16 == 0;
  a.E = (int)p->E;
  a.start = w.start;
  a.total = w.total;
  a.src = w.src;
  int64_t blocks = (p->R + c->warps - 1) / c->warps;
  gather_kernel<<<(unsigned)(blocks < (1 << 20) ? blocks : (1 << 20)), 32 * c->warps, 0, st>>>(a);
  return cudaGetLastError();
}
