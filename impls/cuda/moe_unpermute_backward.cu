/* moe_unpermute_backward.cu: MoE unpermute backward on the device
 * (moe_cuda.h): the (dest, slot) pairs sorted by row with CUB's stable
 * radix sort, a warp per d_rows row summing its slots' weight * dout[t]
 * in slot order, a warp per slot for d_weights. */
#include <cub/device/device_radix_sort.cuh>

#include "impls/cuda/moe_cuda.h"
#include "impls/cuda/moe_elem.cuh"
#include "runtime/tensor.h"

namespace {

/* Workspace layout: keys, sorted keys, slots, sorted slots (n each), then
 * the sort's own storage, each piece 256-byte aligned. */
struct Layout {
  size_t keys, keys_sorted, slots, slots_sorted, temp, temp_bytes, total;
};

size_t round256(size_t x) { return (x + 255) & ~(size_t)255; }

/* Bits that hold row ids 0..R (R = dest entries outside [0, R)). */
int key_bits(int64_t R) {
  int b = 1;
  while (b < 32 && (R >> b) != 0) b++;
  return b;
}

/* The layout for n pairs, or total = 0 when the sort cannot be sized. */
Layout layout_of(const tk_cuda_unpermute_bwd *p) {
  Layout l = {};
  const int64_t n = p->T * p->k;
  if (n == 0) return l;
  size_t temp = 0;
  if (cub::DeviceRadixSort::SortPairs(nullptr, temp, (const uint32_t *)nullptr, (uint32_t *)nullptr,
                                      (const int32_t *)nullptr, (int32_t *)nullptr, (int)n, 0,
                                      key_bits(p->R)) != cudaSuccess) {
    cudaGetLastError();
    return l;
  }
  const size_t arr = round256(sizeof(int32_t) * (size_t)n);
  l.keys = 0;
  l.keys_sorted = arr;
  l.slots = 2 * arr;
  l.slots_sorted = 3 * arr;
  l.temp = 4 * arr;
  l.temp_bytes = temp;
  l.total = 4 * arr + round256(temp);
  return l;
}

/* keys[i] = dest of slot i (R when outside [0, R)), slots[i] = i. */
__global__ void pairs_kernel(const tk_cuda_unpermute_bwd p, uint32_t *keys, int32_t *slots) {
  const int64_t n = p.T * p.k;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    const int32_t r = p.dest[i / p.k * p.dest_s0 + i % p.k * p.dest_s1];
    keys[i] = r >= 0 && r < p.R ? (uint32_t)r : (uint32_t)p.R;
    slots[i] = (int32_t)i;
  }
}

/* The first index of sorted keys[0..n) not below r. */
__device__ __forceinline__ int64_t lower_bound(const uint32_t *keys, int64_t n, uint32_t r) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (keys[mid] < r) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* d_rows row r: columns in chunks of V = 16 / sizeof(T) elements when
 * vec, else single elements, summed over the row's slots [lo, hi). */
template <typename T, int V>
__device__ __forceinline__ void grad_row(const tk_cuda_unpermute_bwd &p, const int32_t *slots,
                                         int64_t r, int64_t lo, int64_t hi, int lane) {
  T *to = (T *)p.d_rows + r * p.drows_s0;
  for (int64_t col = (int64_t)lane * V; col < p.H; col += 32 * V) {
    float acc[V];
#pragma unroll
    for (int i = 0; i < V; i++) acc[i] = 0.f;
    for (int64_t j = lo; j < hi; j++) {
      const int64_t slot = slots[j], t = slot / p.k, s = slot % p.k;
      const float w = p.weights ? p.weights[t * p.w_s0 + s * p.w_s1] : 1.f;
      tk_moe_fma_chunk<T, V>((const T *)p.dout + t * p.dout_s0 + col, w, acc);
    }
    tk_moe_store_chunk<T, V>(to + col, acc);
  }
}

/* d_rows, one warp per row at a time. */
template <typename T>
__global__ void rows_kernel(const tk_cuda_unpermute_bwd p, const uint32_t *keys, const int32_t *slots,
                            int vec) {
  const int lane = threadIdx.x % 32, warps = blockDim.x / 32;
  const int64_t n = p.T * p.k;
  for (int64_t r = (int64_t)blockIdx.x * warps + threadIdx.x / 32; r < p.R;
       r += (int64_t)gridDim.x * warps) {
    const int64_t lo = lower_bound(keys, n, (uint32_t)r), hi = lower_bound(keys, n, (uint32_t)r + 1);
    if (vec) grad_row<T, 16 / sizeof(T)>(p, slots, r, lo, hi, lane);
    else grad_row<T, 1>(p, slots, r, lo, hi, lane);
  }
}

/* d_weights, one warp per slot at a time: dout[t] . rows[dest] (0 when
 * dest is outside [0, R)). */
template <typename T>
__global__ void weights_kernel(const tk_cuda_unpermute_bwd p) {
  const int lane = threadIdx.x % 32, warps = blockDim.x / 32;
  for (int64_t i = (int64_t)blockIdx.x * warps + threadIdx.x / 32; i < p.T * p.k;
       i += (int64_t)gridDim.x * warps) {
    const int64_t t = i / p.k, s = i % p.k;
    const int32_t r = p.dest[t * p.dest_s0 + s * p.dest_s1];
    float dot = 0.f;
    if (r >= 0 && r < p.R) {
      const T *g = (const T *)p.dout + t * p.dout_s0, *x = (const T *)p.rows + r * p.rows_s0;
      for (int64_t h = lane; h < p.H; h += 32)
        dot = fmaf(tk_moe_elem<T>::load(g[h]), tk_moe_elem<T>::load(x[h]), dot);
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
    if (lane == 0) p.d_weights[t * p.dw_s0 + s * p.dw_s1] = dot;
  }
}

/* Blocks of `warps` warps for n warp-sized items, capped (kernels stride). */
unsigned grid_of(int64_t n, int warps) {
  const int64_t blocks = (n + warps - 1) / warps;
  return (unsigned)(blocks < 1 ? 1 : blocks < (1 << 20) ? blocks : (1 << 20));
}

template <typename T>
cudaError_t launch(const tk_cuda_unpermute_bwd &p, const tk_cuda_unpermute_cfg &c, char *ws,
                   cudaStream_t st) {
  const Layout l = layout_of(&p);
  const int64_t n = p.T * p.k;
  if (n > 0 && l.total == 0) return cudaErrorInvalidValue;
  uint32_t *keys = (uint32_t *)(ws + l.keys), *keys_sorted = (uint32_t *)(ws + l.keys_sorted);
  int32_t *slots = (int32_t *)(ws + l.slots), *slots_sorted = (int32_t *)(ws + l.slots_sorted);
  cudaError_t e;
  if (n > 0) {
    pairs_kernel<<<grid_of(n, 8), 256, 0, st>>>(p, keys, slots);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
    size_t temp = l.temp_bytes;
    e = cub::DeviceRadixSort::SortPairs(ws + l.temp, temp, keys, keys_sorted, slots, slots_sorted,
                                        (int)n, 0, key_bits(p.R), st);
    if (e != cudaSuccess) return e;
  }
  const int es = (int)sizeof(T);
  const int vec = (uintptr_t)p.dout % 16 == 0 && (uintptr_t)p.d_rows % 16 == 0 &&
                  (p.dout_s0 * es) % 16 == 0 && (p.drows_s0 * es) % 16 == 0 && (p.H * es) % 16 == 0;
  rows_kernel<T><<<grid_of(p.R, c.warps), 32 * c.warps, 0, st>>>(p, keys_sorted, slots_sorted, vec);
  if ((e = cudaGetLastError()) != cudaSuccess) return e;
  if (p.d_weights && n > 0) {
    weights_kernel<T><<<grid_of(n, c.warps), 32 * c.warps, 0, st>>>(p);
    e = cudaGetLastError();
  }
  return e;
}

}  // namespace

size_t tk_cuda_unpermute_bwd_workspace(const tk_cuda_unpermute_bwd *p) { return layout_of(p).total; }

cudaError_t tk_cuda_unpermute_bwd_run(const tk_cuda_unpermute_bwd *p, const tk_cuda_unpermute_cfg *c,
                                      void *ws, void *stream) {
  if (p->R == 0 && (p->T * p->k == 0 || !p->d_weights)) return cudaSuccess;
  cudaStream_t st = (cudaStream_t)stream;
  if (p->dtype == TK_F32) return launch<float>(*p, *c, (char *)ws, st);
  if (p->dtype == TK_F16) return launch<__half>(*p, *c, (char *)ws, st);
  return launch<__nv_bfloat16>(*p, *c, (char *)ws, st);
}
