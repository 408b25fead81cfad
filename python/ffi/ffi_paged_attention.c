/* ffi_paged_attention.c: the XLA FFI handler of paged attention.
 * Arguments q, k_cache, v_cache, block_table, kv_lens[, cu_q_lens]
 * [, k_scale, v_scale]; result out; attributes scale, softcap (float),
 * window_left, has_cu_q_lens, has_kv_scale (int), impl, config. */
#include "ffi_call.h"

static tk_status run_paged(tk_context *ctx, const void *args, const tk_call_options *opts) {
  return tk_paged_attention(ctx, args, opts);
}

static XLA_FFI_Error *paged_attention(XLA_FFI_CallFrame *frame, int cuda) {
  static const tkffi_slot slots[] = {{"q", 0, NULL, 3},
                                     {"k_cache", 0, NULL, 4},
                                     {"v_cache", 0, NULL, 4},
                                     {"block_table", 0, NULL, 2},
                                     {"kv_lens", 0, NULL, 1},
                                     {"cu_q_lens", 0, "has_cu_q_lens", 1},
                                     {"k_scale", 0, "has_kv_scale", 3},
                                     {"v_scale", 0, "has_kv_scale", 3},
                                     {"out", 1, NULL, 3}};
  enum { N = sizeof slots / sizeof slots[0] };
  tkffi_call c;
  tkffi_tensor store[N];
  DLTensor *t[N];
  int run;
  TKFFI_TRY(tkffi_begin(&c, frame, "paged_attention", cuda, slots, N, store, t, &run));
  if (!run) return NULL;
  tk_paged_attention_args a = {.q = t[0],
                               .k_cache = t[1],
                               .v_cache = t[2],
                               .block_table = t[3],
                               .kv_lens = t[4],
                               .cu_q_lens = t[5],
                               .k_scale = t[6],
                               .v_scale = t[7],
                               .out = t[8]};
  TKFFI_TRY(tkffi_attr_float(&c, "scale", &a.scale));
  TKFFI_TRY(tkffi_attr_float(&c, "softcap", &a.softcap));
  TKFFI_TRY(tkffi_attr_int(&c, "window_left", &a.window_left));
  return tkffi_run(&c, &a, run_paged);
}

TKFFI_HANDLERS(paged_attention, paged_attention)
