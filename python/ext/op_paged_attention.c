/* op_paged_attention.c: paged attention from Python arguments. */
#include "op.h"

/* args: q, k_cache, v_cache, block_table, kv_lens, cu_q_lens, out, scale,
 * softcap, window_left, k_scale, v_scale (None for 16/32-bit caches).
 * Returns out. */
static int build_paged_attention(tkpy_call *c, PyObject *const *args) {
  tk_paged_attention_args *a = &c->args.paged_attention;
  tkpy_tensors *ts = &c->ts;
  DLTensor *q, *kc, *vc, *table, *kv_lens, *cu_q_lens, *k_scale, *v_scale;
  if (tkpy_take(ts, args[0], "q", 0, &q) || tkpy_take(ts, args[1], "k_cache", 0, &kc) ||
      tkpy_take(ts, args[2], "v_cache", 0, &vc) ||
      tkpy_take(ts, args[3], "block_table", 0, &table) ||
      tkpy_take(ts, args[4], "kv_lens", 0, &kv_lens) ||
      tkpy_take(ts, args[5], "cu_q_lens", 0, &cu_q_lens) ||
      tkpy_take(ts, args[10], "k_scale", 0, &k_scale) ||
      tkpy_take(ts, args[11], "v_scale", 0, &v_scale) ||
      tkpy_float_arg(args[7], ts->op, "scale", &a->scale) ||
      tkpy_float_arg(args[8], ts->op, "softcap", &a->softcap) ||
      tkpy_int_arg(args[9], ts->op, "window_left", &a->window_left))
    return -1;
  a->q = q, a->k_cache = kc, a->v_cache = vc, a->block_table = table;
  a->kv_lens = kv_lens, a->cu_q_lens = cu_q_lens, a->k_scale = k_scale, a->v_scale = v_scale;
  int sized = q && vc && q->ndim == 3 && vc->ndim == 4;
  int64_t shape[3];
  if (sized) shape[0] = q->shape[0], shape[1] = q->shape[1], shape[2] = vc->shape[3];
  if (tkpy_call_output(c, args[6], "out", 3, sized ? shape : NULL, sized ? q->dtype : tkpy_f32,
                       &a->out))
    return -1;
  c->single = 1;
  return 0;
}

static tk_status run_paged_attention(tk_context *ctx, const void *args,
                                     const tk_call_options *opts) {
  return tk_paged_attention(ctx, args, opts);
}

const tkpy_op tkpy_op_paged_attention = {"paged_attention", TK_OP_PAGED_ATTENTION, 12,
                                         build_paged_attention, run_paged_attention};
