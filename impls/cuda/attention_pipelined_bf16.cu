/* attention_pipelined_bf16.cu: the cuda_pipelined kernels for bf16 inputs. */
#include "impls/cuda/attention_pipelined.cuh"

cudaError_t tk_attention_pipelined_bf16(const tk_cuda_attention_args &a,
                                        const tk_cuda_pipelined_config &c, cudaStream_t stream) {
  return tk_pipelined_launch<__nv_bfloat16>(a, c, stream);
}
