/* attention_tiled.cu: the cuda_tiled entry points: which path takes a
 * call (tensor cores, or the scalar float kernel) and the dispatch on the
 * element type. */
#include "impls/cuda/attention_tiled.cuh"
#include "runtime/tensor.h"

extern "C" int tk_cuda_attention_tiled_fast(const tk_cuda_attention_args *a) {
  int dp, dvp;
  if ((a->dtype != TK_F16 && a->dtype != TK_BF16) || !tk_attn_bucket(a->D, a->Dv, &dp, &dvp))
    return 0;
  const int extent[4] = {a->B, a->Tq, a->Hq, a->D}, kv_extent[4] = {a->B, a->Tk, a->Hkv, a->D};
  const int v_extent[4] = {a->B, a->Tk, a->Hkv, a->Dv}, o_extent[4] = {a->B, a->Tq, a->Hq, a->Dv};
  return tk_rows_aligned16(a->q, a->sq, extent, 4) && tk_rows_aligned16(a->k, a->sk, kv_extent, 4) &&
         tk_rows_aligned16(a->v, a->sv, v_extent, 4) && tk_rows_aligned16(a->out, a->so, o_extent, 4);
}

extern "C" int tk_cuda_attention_tiled(const tk_cuda_attention_args *a, const tk_cuda_tiled_config *c,
                                       void *stream) {
  if (!tk_cuda_attention_tiled_fast(a)) return tk_cuda_attention_scalar(a, stream);
  if (a->B == 0 || a->Hq == 0 || a->Tq == 0) return cudaSuccess;
  cudaStream_t s = (cudaStream_t)stream;
  return a->dtype == TK_BF16 ? tk_attention_tiled_bf16(*a, *c, s) : tk_attention_tiled_f16(*a, *c, s);
}
