/* attention_pipelined_f16.cu: the cuda_pipelined kernels for f16 inputs. */
#include "impls/cuda/attention_pipelined.cuh"

cudaError_t tk_attention_pipelined_f16(const tk_cuda_attention_args &a,
                                       const tk_cuda_pipelined_config &c, cudaStream_t stream) {
  return tk_pipelined_launch<__half>(a, c, stream);
}
