/* attention_pipelined.cu: the cuda_pipelined entry points: whether a
 * call's layout suits its tensor maps, and the dispatch on the element
 * type. Whether the device and the binary can run it: impls/cuda/sm90a.h. */
#include "impls/cuda/attention_pipelined.cuh"
#include "runtime/tensor.h"

extern "C" int tk_cuda_attention_pipelined_fits(const tk_cuda_attention_args *a) {
  int dp, dvp;
  if ((a->dtype != TK_F16 && a->dtype != TK_BF16) || !tk_attn_bucket(a->D, a->Dv, &dp, &dvp))
    return 0;
  const int qe[4] = {a->B, a->Tq, a->Hq, a->D}, ke[4] = {a->B, a->Tk, a->Hkv, a->D};
  const int ve[4] = {a->B, a->Tk, a->Hkv, a->Dv}, oe[4] = {a->B, a->Tq, a->Hq, a->Dv};
  return tk_rows_aligned16(a->q, a->sq, qe, 4) && tk_rows_aligned16(a->k, a->sk, ke, 4) &&
         tk_rows_aligned16(a->v, a->sv, ve, 4) && tk_rows_aligned16(a->out, a->so, oe, 4);
}

extern "C" int tk_cuda_attention_pipelined(const tk_cuda_attention_args *a,
                                           const tk_cuda_pipelined_config *c, void *stream) {
  if (a->B == 0 || a->Hq == 0 || a->Tq == 0) return cudaSuccess;
  if (!tk_cuda_attention_pipelined_fits(a)) return cudaErrorInvalidValue;
  cudaStream_t s = (cudaStream_t)stream;
  return a->dtype == TK_BF16 ? tk_attention_pipelined_bf16(*a, *c, s)
                             : tk_attention_pipelined_f16(*a, *c, s);
}
