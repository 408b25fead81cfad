/* ffi_attention.c: the XLA FFI handlers of attention and its backward.
 * Attributes: scale, softcap (float); causal, window_left, window_right,
 * has_q_lens, has_kv_lens, return_lse (int); impl, config (string, "" =
 * automatic). Under jax.vmap the leading batch axes fold into B. */
#include "ffi_call.h"

/* The mask and scale fields shared by the forward and backward args. */
static XLA_FFI_Error *mask_attrs(const tkffi_call *c, float *scale, int *causal, int *wl, int *wr,
                                 float *softcap) {
  TKFFI_TRY(tkffi_attr_float(c, "scale", scale));
  TKFFI_TRY(tkffi_attr_int(c, "causal", causal));
  TKFFI_TRY(tkffi_attr_int(c, "window_left", wl));
  TKFFI_TRY(tkffi_attr_int(c, "window_right", wr));
  return tkffi_attr_float(c, "softcap", softcap);
}

static tk_status run_attention(tk_context *ctx, const void *args, const tk_call_options *opts) {
  return tk_attention(ctx, args, opts);
}

/* Arguments q, k, v[, q_lens][, kv_lens]; results out[, lse]. */
static XLA_FFI_Error *attention(XLA_FFI_CallFrame *frame, int cuda) {
  static const tkffi_slot slots[] = {
      {"q", 0, NULL, 4},
      {"k", 0, NULL, 4},
      {"v", 0, NULL, 4},
      {"q_lens", 0, "has_q_lens", 1},
      {"kv_lens", 0, "has_kv_lens", 1},
      {"out", 1, NULL, 4},
      {"lse", 1, "return_lse", 3},
  };
  enum { N = sizeof slots / sizeof slots[0] };
  tkffi_call c;
  tkffi_tensor store[N];
  DLTensor *t[N];
  int run;
  TKFFI_TRY(tkffi_begin(&c, frame, "attention", cuda, slots, N, store, t, &run));
  if (!run) return NULL;
  tkffi_fold_batch(slots, N, t);
  tk_attention_args a = {
      .q = t[0], .k = t[1], .v = t[2], .q_lens = t[3], .kv_lens = t[4], .out = t[5], .lse = t[6]};
  TKFFI_TRY(mask_attrs(&c, &a.scale, &a.causal, &a.window_left, &a.window_right, &a.softcap));
  return tkffi_run(&c, &a, run_attention);
}

TKFFI_HANDLERS(attention, attention)

static tk_status run_attention_backward(tk_context *ctx, const void *args,
                                        const tk_call_options *opts) {
  return tk_attention_backward(ctx, args, opts);
}

/* Arguments q, k, v, out, dout, lse[, q_lens][, kv_lens]; results dq, dk, dv. */
static XLA_FFI_Error *attention_backward(XLA_FFI_CallFrame *frame, int cuda) {
  static const tkffi_slot slots[] = {
      {"q", 0, NULL, 4},
      {"k", 0, NULL, 4},
      {"v", 0, NULL, 4},
      {"out", 0, NULL, 4},
      {"dout", 0, NULL, 4},
      {"lse", 0, NULL, 3},
      {"q_lens", 0, "has_q_lens", 1},
      {"kv_lens", 0, "has_kv_lens", 1},
      {"dq", 1, NULL, 4},
      {"dk", 1, NULL, 4},
      {"dv", 1, NULL, 4},
  };
  enum { N = sizeof slots / sizeof slots[0] };
  tkffi_call c;
  tkffi_tensor store[N];
  DLTensor *t[N];
  int run;
  TKFFI_TRY(tkffi_begin(&c, frame, "attention_backward", cuda, slots, N, store, t, &run));
  if (!run) return NULL;
  tkffi_fold_batch(slots, N, t);
  tk_attention_backward_args a = {.q = t[0],
                                  .k = t[1],
                                  .v = t[2],
                                  .out = t[3],
                                  .dout = t[4],
                                  .lse = t[5],
                                  .q_lens = t[6],
                                  .kv_lens = t[7],
                                  .dq = t[8],
                                  .dk = t[9],
                                  .dv = t[10]};
  TKFFI_TRY(mask_attrs(&c, &a.scale, &a.causal, &a.window_left, &a.window_right, &a.softcap));
  return tkffi_run(&c, &a, run_attention_backward);
}

TKFFI_HANDLERS(attention_backward, attention_backward)
