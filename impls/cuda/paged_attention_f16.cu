/* paged_attention_f16.cu: the tensor-core paged attention kernels for f16 inputs. */
#include "impls/cuda/paged_attention.cuh"

cudaError_t tk_paged_attention_f16(const tk_cuda_paged_args &a, const tk_cuda_paged_config &c,
                                  long long units, const int *cu_units, float *part_o,
                                  float *part_lse, cudaStream_t stream) {
  return tk_paged_launch<__half>(a, c, units, cu_units, part_o, part_lse, stream);
}
