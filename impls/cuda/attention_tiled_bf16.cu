/* attention_tiled_bf16.cu: the cuda_tiled kernels for bf16 inputs. */
#include "impls/cuda/attention_tiled.cuh"

cudaError_t tk_attention_tiled_bf16(const tk_cuda_attention_args &a, const tk_cuda_tiled_config &c,
                                    cudaStream_t stream) {
  return tk_tiled_launch<__nv_bfloat16>(a, c, stream);
}
