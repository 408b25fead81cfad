/* op_attention.c: attention and attention backward from Python arguments. */
#include "op.h"

/* The scalar fields attention and its backward share, from args[0..5):
 * scale, causal, window_left, window_right, softcap. */
static int take_mask_scalars(const char *op, PyObject *const *args, float *scale, int *causal,
                             int *window_left, int *window_right, float *softcap) {
  if (tkpy_float_arg(args[0], op, "scale", scale) || tkpy_bool_arg(args[1], op, "causal", causal) ||
      tkpy_int_arg(args[2], op, "window_left", window_left) ||
      tkpy_int_arg(args[3], op, "window_right", window_right) ||
      tkpy_float_arg(args[4], op, "softcap", softcap))
    return -1;
  return 0;
}

/* args: q, k, v, out, lse, q_lens, kv_lens, scale, causal, window_left,
 * window_right, softcap, return_lse. Returns out, or (out, lse). */
static int build_attention(tkpy_call *c, PyObject *const *args) {
  tk_attention_args *a = &c->args.attention;
  tkpy_tensors *ts = &c->ts;
  DLTensor *q, *k, *v, *q_lens, *kv_lens;
  int want_lse;
  if (tkpy_take(ts, args[0], "q", 0, &q) || tkpy_take(ts, args[1], "k", 0, &k) ||
      tkpy_take(ts, args[2], "v", 0, &v) || tkpy_take(ts, args[5], "q_lens", 0, &q_lens) ||
      tkpy_take(ts, args[6], "kv_lens", 0, &kv_lens) ||
      take_mask_scalars(ts->op, args + 7, &a->scale, &a->causal, &a->window_left, &a->window_right,
                        &a->softcap) ||
      tkpy_bool_arg(args[12], ts->op, "return_lse", &want_lse))
    return -1;
  a->q = q;
  a->k = k;
  a->v = v;
  a->q_lens = q_lens;
  a->kv_lens = kv_lens;
  int sized = q && v && q->ndim == 4 && v->ndim == 4;
  int64_t out_shape[4], lse_shape[3];
  if (sized) {
    out_shape[0] = q->shape[0], out_shape[1] = q->shape[1], out_shape[2] = q->shape[2];
    out_shape[3] = v->shape[3];
    lse_shape[0] = q->shape[0], lse_shape[1] = q->shape[2], lse_shape[2] = q->shape[1];
  }
  if (tkpy_call_output(c, args[3], "out", 4, sized ? out_shape : NULL, sized ? q->dtype : tkpy_f32,
                       &a->out))
    return -1;
  want_lse = want_lse || args[4] != Py_None;
  if (want_lse &&
      tkpy_call_output(c, args[4], "lse", 3, sized ? lse_shape : NULL, tkpy_f32, &a->lse))
    return -1;
  c->single = !want_lse;
  return 0;
}

static tk_status run_attention(tk_context *ctx, const void *args, const tk_call_options *opts) {
  return tk_attention(ctx, args, opts);
}

const tkpy_op tkpy_op_attention = {"attention", TK_OP_ATTENTION, 13, build_attention,
                                   run_attention};

/* An output shaped and typed like input `like` (NULL shape when like is
 * absent, so that the library names the missing input). */
static int output_like(tkpy_call *c, PyObject *obj, const char *name, const DLTensor *like,
                       DLTensor **out) {
  int ok = like && like->ndim <= TKPY_MAX_DIMS;
  return tkpy_call_output(c, obj, name, ok ? like->ndim : 0, ok ? like->shape : NULL,
                          ok ? like->dtype : tkpy_f32, out);
}

/* args: q, k, v, out, dout, lse, dq, dk, dv, q_lens, kv_lens, scale,
 * causal, window_left, window_right, softcap. Returns (dq, dk, dv). */
static int build_attention_backward(tkpy_call *c, PyObject *const *args) {
  tk_attention_backward_args *a = &c->args.attention_backward;
  tkpy_tensors *ts = &c->ts;
  DLTensor *q, *k, *v, *out, *dout, *lse, *q_lens, *kv_lens;
  if (tkpy_take(ts, args[0], "q", 0, &q) || tkpy_take(ts, args[1], "k", 0, &k) ||
      tkpy_take(ts, args[2], "v", 0, &v) || tkpy_take(ts, args[3], "out", 0, &out) ||
      tkpy_take(ts, args[4], "dout", 0, &dout) || tkpy_take(ts, args[5], "lse", 0, &lse) ||
      tkpy_take(ts, args[9], "q_lens", 0, &q_lens) ||
      tkpy_take(ts, args[10], "kv_lens", 0, &kv_lens) ||
      take_mask_scalars(ts->op, args + 11, &a->scale, &a->causal, &a->window_left, &a->window_right,
                        &a->softcap))
    return -1;
  a->q = q, a->k = k, a->v = v, a->out = out, a->dout = dout, a->lse = lse;
  a->q_lens = q_lens, a->kv_lens = kv_lens;
  if (output_like(c, args[6], "dq", q, &a->dq) || output_like(c, args[7], "dk", k, &a->dk) ||
      output_like(c, args[8], "dv", v, &a->dv))
    return -1;
  return 0;
}

static tk_status run_attention_backward(tk_context *ctx, const void *args,
                                        const tk_call_options *opts) {
  return tk_attention_backward(ctx, args, opts);
}

const tkpy_op tkpy_op_attention_backward = {"attention_backward", TK_OP_ATTENTION_BACKWARD, 16,
                                            build_attention_backward, run_attention_backward};
