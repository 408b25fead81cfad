/* attention_backward_bf16.cu: the cuda_tiled backward's tensor-core
 * kernels for bf16 inputs. */
#include "impls/cuda/attention_backward.cuh"

cudaError_t tk_attention_backward_bf16(const tk_cuda_attention_backward_args &a,
                                       const tk_cuda_attn_bwd_config &c, const float *drow,
                                       cudaStream_t stream) {
  return tk_bwd_launch<__nv_bfloat16>(a, c, drow, stream);
}
