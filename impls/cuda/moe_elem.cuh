/* moe_elem.cuh: element conversions of the MoE kernels' three data
 * dtypes (float32, f16, bf16 to and from float), and the 16-byte chunks
 * the gather-reduce kernels (unpermute and its backward) add and store. */
#ifndef TK_IMPLS_CUDA_MOE_ELEM_CUH
#define TK_IMPLS_CUDA_MOE_ELEM_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>

template <typename T>
struct tk_moe_elem;
template <>
struct tk_moe_elem<float> {
  static __device__ __forceinline__ float load(float v) { return v; }
  static __device__ __forceinline__ float store(float v) { return v; }
};
template <>
struct tk_moe_elem<__half> {
  static __device__ __forceinline__ float load(__half v) { return __half2float(v); }
  static __device__ __forceinline__ __half store(float v) { return __float2half_rn(v); }
};
template <>
struct tk_moe_elem<__nv_bfloat16> {
  static __device__ __forceinline__ float load(__nv_bfloat16 v) { return __bfloat162float(v); }
  static __device__ __forceinline__ __nv_bfloat16 store(float v) { return __float2bfloat16_rn(v); }
};

/* A 16-byte chunk of V elements of T, loaded or stored at once. */
template <typename T, int V>
union tk_moe_chunk {
  uint4 v;
  T e[V];
};

/* acc[0..V) += w * src[0..V): one 16-byte load when V elements fill 16
 * bytes (src then 16-byte aligned), else V loads. */
template <typename T, int V>
static __device__ __forceinline__ void tk_moe_fma_chunk(const T *src, float w, float *acc) {
  if (V * sizeof(T) == 16) {
    tk_moe_chunk<T, V> u;
    u.v = __ldg((const uint4 *)src);
#pragma unroll
    for (int i = 0; i < V; i++) acc[i] = fmaf(w, tk_moe_elem<T>::load(u.e[i]), acc[i]);
  } else {
#pragma unroll
    for (int i = 0; i < V; i++) acc[i] = fmaf(w, tk_moe_elem<T>::load(src[i]), acc[i]);
  }
}

/* dst[0..V) = acc rounded to T, as one 16-byte store when they fill 16
 * bytes. */
template <typename T, int V>
static __device__ __forceinline__ void tk_moe_store_chunk(T *dst, const float *acc) {
  if (V * sizeof(T) == 16) {
    tk_moe_chunk<T, V> u;
#pragma unroll
    for (int i = 0; i < V; i++) u.e[i] = tk_moe_elem<T>::store(acc[i]);
    *(uint4 *)dst = u.v;
  } else {
#pragma unroll
    for (int i = 0; i < V; i++) dst[i] = tk_moe_elem<T>::store(acc[i]);
  }
}

#endif
