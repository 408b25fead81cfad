/* paged_attention_scalar.cu: the scalar paged attention kernel (float32
 * inputs, head dims outside the tensor-core buckets, unaligned layouts,
 * 8-bit caches): one CTA per unit of TK_SCALAR_ROWS (query, head) rows and
 * KV head, one split, page ids read as keys are gathered. */
#include <type_traits>

#include "impls/cuda/attention_scalar.cuh"
#include "runtime/tensor.h"
#include "impls/cuda/paged_attention.cuh"

/* Paged attention of CTA (unit of 16 rows, KV head) in float32: q and out
 * of element type T, caches of KV (T, or 8-bit: each element times its
 * token's scale). */
template <typename T, typename KV>
__global__ void __launch_bounds__(TK_SCALAR_THREADS, 1)
    tk_paged_scalar_kernel(const tk_cuda_paged_args a, const int *cu_units, int bk) {
  extern __shared__ __align__(128) char smem[];
  tk_scalar_rows<T> &R = *reinterpret_cast<tk_scalar_rows<T> *>(smem);
  tk_paged_unit w;
  if (!tk_paged_resolve(a, cu_units, blockIdx.x, TK_SCALAR_ROWS, w)) return;
  const int hkv = blockIdx.y, group = a.Hq / a.Hkv, off = w.kv_len - w.q_len, ps = a.page_size;
  if (threadIdx.x < TK_SCALAR_ROWS) {
    const int r = threadIdx.x, rr = w.r0 + r, qi = rr / group, head = hkv * group + rr % group;
    R.q[r] = (const T *)a.q + (int64_t)(w.first + qi) * a.sq[0] + head * a.sq[1];
    R.out[r] = (T *)a.out + (int64_t)(w.first + qi) * a.so[0] + head * a.so[1];
    R.lse[r] = nullptr;
    R.diag[r] = qi + off;
    if (r == 0) R.n = w.rows;
  }
  __syncthreads();
  int lo, hi;
  tk_attn_key_span(1, a.window_left, -1, off, w.kv_len, w.r0 / group,
                   (w.r0 + w.rows - 1) / group, &lo, &hi);
  const int32_t *bt = a.block_table + w.s * a.sbt[0];
  /* The page id of key j (unchecked). */
  auto page = [&](int j) { return bt[(int64_t)(j / ps) * a.sbt[1]]; };
  tk_scalar_attend<T>(
      R, a.D, a.Dv, a.sq[2], a.sk[3], a.sv[3], a.so[2], lo, hi, 1, a.window_left, -1, w.kv_len,
      tk_attn_logit::make(a.scale, a.softcap),
      [&](int j, int which) -> const KV * {
        const int id = page(j);
        if (id < 0 || id >= a.P) return nullptr;
        const int64_t *st = which ? a.sv : a.sk;
        return (const KV *)(which ? a.v_cache : a.k_cache) + id * st[0] + (int64_t)(j % ps) * st[1] +
               hkv * st[2];
      },
      bk, reinterpret_cast<float *>(smem + sizeof(tk_scalar_rows<T>)),
      [&](int j, int which) -> float {
        if (sizeof(KV) != 1) return 1.f; /* 16/32-bit caches have no scales */
        const int64_t *st = which ? a.svs : a.sks;
        return (which ? a.v_scale : a.k_scale)[page(j) * st[0] + (int64_t)(j % ps) * st[1] +
                                               hkv * st[2]];
      });
}

/* Launches the scalar kernel for q's element type T and cache element
 * type KV. */
template <typename T, typename KV>
static cudaError_t tk_paged_scalar_launch(const tk_cuda_paged_args &a, long long units,
                                          const int *cu_units, cudaStream_t stream) {
  auto kernel = tk_paged_scalar_kernel<T, KV>;
  const int bk = tk_scalar_key_tile(a.D, a.Dv, tk_cuda_smem_optin(), sizeof(tk_scalar_rows<T>));
  if (!bk || a.D > TK_SCALAR_MAX_DIM || a.Dv > TK_SCALAR_MAX_DIM) return cudaErrorInvalidValue;
  const long long smem = (long long)tk_scalar_smem(a.D, a.Dv, bk, sizeof(tk_scalar_rows<T>));
  cudaError_t e = tk_cuda_prepare_launch((const void *)kernel, smem, units);
  if (e != cudaSuccess) return e;
  kernel<<<dim3((unsigned)units, (unsigned)a.Hkv), TK_SCALAR_THREADS, (size_t)smem, stream>>>(a, cu_units, bk);
  return cudaGetLastError();
}

/* The cache element type: KV, or T when KV is void (caches of q's dtype). */
template <typename T, typename KV>
using tk_paged_kv_elem = typename std::conditional<std::is_void<KV>::value, T, KV>::type;

/* tk_paged_scalar_launch for a's q dtype, with caches of element type KV
 * (void: q's). */
template <typename KV>
static cudaError_t tk_paged_scalar_for_q(const tk_cuda_paged_args &a, long long units,
                                         const int *cu_units, cudaStream_t stream) {
  switch (a.dtype) {
    case TK_F32:
      return tk_paged_scalar_launch<float, tk_paged_kv_elem<float, KV>>(a, units, cu_units, stream);
    case TK_F16:
      return tk_paged_scalar_launch<__half, tk_paged_kv_elem<__half, KV>>(a, units, cu_units, stream);
    case TK_BF16:
      return tk_paged_scalar_launch<__nv_bfloat16, tk_paged_kv_elem<__nv_bfloat16, KV>>(
          a, units, cu_units, stream);
    default: return cudaErrorInvalidValue;
  }
}

cudaError_t tk_paged_attention_scalar(const tk_cuda_paged_args &a, long long units,
                                      const int *cu_units, cudaStream_t stream) {
  switch (a.kv_dtype) {
    case TK_FP8_E4M3: return tk_paged_scalar_for_q<__nv_fp8_e4m3>(a, units, cu_units, stream);
    case TK_I8: return tk_paged_scalar_for_q<int8_t>(a, units, cu_units, stream);
    default:
      return a.kv_dtype == a.dtype ? tk_paged_scalar_for_q<void>(a, units, cu_units, stream)
                                   : cudaErrorInvalidValue;
  }
}
