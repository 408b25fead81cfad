/* ffi_grouped_gemm.c: the XLA FFI handler of grouped GEMM. Arguments lhs,
 * rhs, group_sizes; result out; attributes layout (0 NN, 1 NT, 2 TN),
 * impl, config. */
#include "ffi_call.h"

static tk_status run_grouped_gemm(tk_context *ctx, const void *args, const tk_call_options *opts) {
  return tk_grouped_gemm(ctx, args, opts);
}

static XLA_FFI_Error *grouped_gemm(XLA_FFI_CallFrame *frame, int cuda) {
  static const tkffi_slot slots[] = {
      {"lhs", 0, NULL, 2}, {"rhs", 0, NULL, 3}, {"group_sizes", 0, NULL, 1}, {"out", 1, NULL, 2}};
  enum { N = sizeof slots / sizeof slots[0] };
  tkffi_call c;
  tkffi_tensor store[N];
  DLTensor *t[N];
  int run, layout;
  TKFFI_TRY(tkffi_begin(&c, frame, "grouped_gemm", cuda, slots, N, store, t, &run));
  if (!run) return NULL;
  TKFFI_TRY(tkffi_attr_int(&c, "layout", &layout));
  tk_grouped_gemm_args a = {
      .lhs = t[0], .rhs = t[1], .group_sizes = t[2], .out = t[3], .layout = (tk_gg_layout)layout};
  return tkffi_run(&c, &a, run_grouped_gemm);
}

TKFFI_HANDLERS(grouped_gemm, grouped_gemm)
