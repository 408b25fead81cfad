/* moe_elem.cuh: element conversions of the MoE kernels' three data
 * dtypes (float32, f16, bf16 to and from float), and how many elements a
 * 16-byte chunk holds. */
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

#endif
