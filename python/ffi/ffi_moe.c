/* ffi_moe.c: the XLA FFI handlers of MoE permute, unpermute and unpermute
 * backward. */
#include "ffi_call.h"

static tk_status run_permute(tk_context *ctx, const void *args, const tk_call_options *opts) {
  return tk_moe_permute(ctx, args, opts);
}

/* Arguments tokens, expert_ids; results permuted, group_sizes, dest;
 * attributes num_experts, align, impl, config. */
static XLA_FFI_Error *moe_permute(XLA_FFI_CallFrame *frame, int cuda) {
  static const tkffi_slot slots[] = {{"tokens", 0, NULL, 2},
                                     {"expert_ids", 0, NULL, 2},
                                     {"permuted", 1, NULL, 2},
                                     {"group_sizes", 1, NULL, 1},
                                     {"dest", 1, NULL, 2}};
  enum { N = sizeof slots / sizeof slots[0] };
  tkffi_call c;
  tkffi_tensor store[N];
  DLTensor *t[N];
  int run;
  TKFFI_TRY(tkffi_begin(&c, frame, "moe_permute", cuda, slots, N, store, t, &run));
  if (!run) return NULL;
  tk_moe_permute_args a = {
      .tokens = t[0], .expert_ids = t[1], .permuted = t[2], .group_sizes = t[3], .dest = t[4]};
  TKFFI_TRY(tkffi_attr_int(&c, "num_experts", &a.num_experts));
  TKFFI_TRY(tkffi_attr_int(&c, "align", &a.align));
  return tkffi_run(&c, &a, run_permute);
}

TKFFI_HANDLERS(moe_permute, moe_permute)

static tk_status run_unpermute(tk_context *ctx, const void *args, const tk_call_options *opts) {
  return tk_moe_unpermute(ctx, args, opts);
}

/* Arguments rows, dest[, weights]; result out; attributes has_weights,
 * impl, config. */
static XLA_FFI_Error *moe_unpermute(XLA_FFI_CallFrame *frame, int cuda) {
  static const tkffi_slot slots[] = {{"rows", 0, NULL, 2},
                                     {"dest", 0, NULL, 2},
                                     {"weights", 0, "has_weights", 2},
                                     {"out", 1, NULL, 2}};
  enum { N = sizeof slots / sizeof slots[0] };
  tkffi_call c;
  tkffi_tensor store[N];
  DLTensor *t[N];
  int run;
  TKFFI_TRY(tkffi_begin(&c, frame, "moe_unpermute", cuda, slots, N, store, t, &run));
  if (!run) return NULL;
  tk_moe_unpermute_args a = {.rows = t[0], .dest = t[1], .weights = t[2], .out = t[3]};
  return tkffi_run(&c, &a, run_unpermute);
}

TKFFI_HANDLERS(moe_unpermute, moe_unpermute)

static tk_status run_unpermute_backward(tk_context *ctx, const void *args,
                                        const tk_call_options *opts) {
  return tk_moe_unpermute_backward(ctx, args, opts);
}

/* Arguments dout, rows, dest[, weights]; results d_rows[, d_weights] (with
 * weights); attributes has_weights, impl, config. */
static XLA_FFI_Error *moe_unpermute_backward(XLA_FFI_CallFrame *frame, int cuda) {
  static const tkffi_slot slots[] = {{"dout", 0, NULL, 2},   {"rows", 0, NULL, 2},
                                     {"dest", 0, NULL, 2},   {"weights", 0, "has_weights", 2},
                                     {"d_rows", 1, NULL, 2}, {"d_weights", 1, "has_weights", 2}};
  enum { N = sizeof slots / sizeof slots[0] };
  tkffi_call c;
  tkffi_tensor store[N];
  DLTensor *t[N];
  int run;
  TKFFI_TRY(tkffi_begin(&c, frame, "moe_unpermute_backward", cuda, slots, N, store, t, &run));
  if (!run) return NULL;
  tk_moe_unpermute_backward_args a = {
      .dout = t[0], .rows = t[1], .dest = t[2], .weights = t[3], .d_rows = t[4], .d_weights = t[5]};
  return tkffi_run(&c, &a, run_unpermute_backward);
}

TKFFI_HANDLERS(moe_unpermute_backward, moe_unpermute_backward)
