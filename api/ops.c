/* ops.c: the public entry point of each op (include/tokamax.h). */
#include "api/call.h"

tk_status tk_attention(tk_context *ctx, const tk_attention_args *args,
                       const tk_call_options *opts) {
  return tk_api_call(TK_OP_ATTENTION, ctx, args, opts);
}

tk_status tk_grouped_gemm(tk_context *ctx, const tk_grouped_gemm_args *args,
                          const tk_call_options *opts) {
  return tk_api_call(TK_OP_GROUPED_GEMM, ctx, args, opts);
}

tk_status tk_moe_permute(tk_context *ctx, const tk_moe_permute_args *args,
                         const tk_call_options *opts) {
  return tk_api_call(TK_OP_MOE_PERMUTE, ctx, args, opts);
}

tk_status tk_moe_unpermute(tk_context *ctx, const tk_moe_unpermute_args *args,
                           const tk_call_options *opts) {
  return tk_api_call(TK_OP_MOE_UNPERMUTE, ctx, args, opts);
}

tk_status tk_paged_attention(tk_context *ctx, const tk_paged_attention_args *args,
                             const tk_call_options *opts) {
  return tk_api_call(TK_OP_PAGED_ATTENTION, ctx, args, opts);
}

tk_status tk_attention_backward(tk_context *ctx, const tk_attention_backward_args *args,
                                const tk_call_options *opts) {
  return tk_api_call(TK_OP_ATTENTION_BACKWARD, ctx, args, opts);
}

tk_status tk_moe_unpermute_backward(tk_context *ctx, const tk_moe_unpermute_backward_args *args,
                                    const tk_call_options *opts) {
  return tk_api_call(TK_OP_MOE_UNPERMUTE_BACKWARD, ctx, args, opts);
}
