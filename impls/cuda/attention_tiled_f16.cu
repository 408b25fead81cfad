/* attention_tiled_f16.cu: the cuda_tiled kernels for f16 inputs. */
#include "impls/cuda/attention_tiled.cuh"

cudaError_t tk_attention_tiled_f16(const tk_cuda_attention_args &a, const tk_cuda_tiled_config &c,
                                   cudaStream_t stream) {
  return tk_tiled_launch<__half>(a, c, stream);
}
