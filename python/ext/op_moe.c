/* op_moe.c: MoE permute, unpermute and unpermute backward from Python
 * arguments. */
#include "op.h"

/* args: tokens, expert_ids, num_experts, align, num_rows (< 0: the most
 * permute can need), permuted, group_sizes, dest. Returns (permuted,
 * group_sizes, dest). */
static int build_moe_permute(tkpy_call *c, PyObject *const *args) {
  tk_moe_permute_args *a = &c->args.moe_permute;
  tkpy_tensors *ts = &c->ts;
  DLTensor *tokens, *ids;
  int rows;
  if (tkpy_take(ts, args[0], "tokens", 0, &tokens) ||
      tkpy_take(ts, args[1], "expert_ids", 0, &ids) ||
      tkpy_int_arg(args[2], ts->op, "num_experts", &a->num_experts) ||
      tkpy_int_arg(args[3], ts->op, "align", &a->align) ||
      tkpy_int_arg(args[4], ts->op, "num_rows", &rows))
    return -1;
  a->tokens = tokens, a->expert_ids = ids;
  int sized = tokens && ids && tokens->ndim == 2 && ids->ndim == 2 && a->num_experts >= 0;
  int64_t R = -1, permuted_shape[2], sizes_shape[1], dest_shape[2];
  if (sized) {
    R = rows >= 0 ? rows
                  : tk_moe_permute_max_rows(ids->shape[0], ids->shape[1], a->num_experts, a->align);
    permuted_shape[0] = R, permuted_shape[1] = tokens->shape[1];
    sizes_shape[0] = a->num_experts;
    dest_shape[0] = ids->shape[0], dest_shape[1] = ids->shape[1];
  }
  sized = sized && R >= 0;
  if (tkpy_call_output(c, args[5], "permuted", 2, sized ? permuted_shape : NULL,
                       sized ? tokens->dtype : tkpy_f32, &a->permuted) ||
      tkpy_call_output(c, args[6], "group_sizes", 1, sized ? sizes_shape : NULL, tkpy_i32,
                       &a->group_sizes) ||
      tkpy_call_output(c, args[7], "dest", 2, sized ? dest_shape : NULL, tkpy_i32, &a->dest))
    return -1;
  return 0;
}

static tk_status run_moe_permute(tk_context *ctx, const void *args, const tk_call_options *opts) {
  return tk_moe_permute(ctx, args, opts);
}

const tkpy_op tkpy_op_moe_permute = {"moe_permute", TK_OP_MOE_PERMUTE, 8, build_moe_permute,
                                     run_moe_permute};

/* args: rows, dest, weights, out. Returns out. */
static int build_moe_unpermute(tkpy_call *c, PyObject *const *args) {
  tk_moe_unpermute_args *a = &c->args.moe_unpermute;
  tkpy_tensors *ts = &c->ts;
  DLTensor *rows, *dest, *weights;
  if (tkpy_take(ts, args[0], "rows", 0, &rows) || tkpy_take(ts, args[1], "dest", 0, &dest) ||
      tkpy_take(ts, args[2], "weights", 0, &weights))
    return -1;
  a->rows = rows, a->dest = dest, a->weights = weights;
  int sized = rows && dest && rows->ndim == 2 && dest->ndim == 2;
  int64_t shape[2];
  if (sized) shape[0] = dest->shape[0], shape[1] = rows->shape[1];
  if (tkpy_call_output(c, args[3], "out", 2, sized ? shape : NULL, sized ? rows->dtype : tkpy_f32,
                       &a->out))
    return -1;
  c->single = 1;
  return 0;
}

static tk_status run_moe_unpermute(tk_context *ctx, const void *args, const tk_call_options *opts) {
  return tk_moe_unpermute(ctx, args, opts);
}

const tkpy_op tkpy_op_moe_unpermute = {"moe_unpermute", TK_OP_MOE_UNPERMUTE, 4, build_moe_unpermute,
                                       run_moe_unpermute};

/* args: dout, rows, dest, weights, d_rows, d_weights. d_weights is
 * computed when weights or d_weights is given. Returns (d_rows, d_weights
 * or None). */
static int build_moe_unpermute_backward(tkpy_call *c, PyObject *const *args) {
  tk_moe_unpermute_backward_args *a = &c->args.moe_unpermute_backward;
  tkpy_tensors *ts = &c->ts;
  DLTensor *dout, *rows, *dest, *weights;
  if (tkpy_take(ts, args[0], "dout", 0, &dout) || tkpy_take(ts, args[1], "rows", 0, &rows) ||
      tkpy_take(ts, args[2], "dest", 0, &dest) || tkpy_take(ts, args[3], "weights", 0, &weights))
    return -1;
  a->dout = dout, a->rows = rows, a->dest = dest, a->weights = weights;
  int rows_ok = rows && rows->ndim == 2, dest_ok = dest && dest->ndim == 2;
  if (tkpy_call_output(c, args[4], "d_rows", 2, rows_ok ? rows->shape : NULL,
                       rows_ok ? rows->dtype : tkpy_f32, &a->d_rows))
    return -1;
  if (weights || args[5] != Py_None) {
    if (tkpy_call_output(c, args[5], "d_weights", 2, dest_ok ? dest->shape : NULL, tkpy_f32,
                         &a->d_weights))
      return -1;
  } else {
    Py_INCREF(Py_None);
    tkpy_call_return(c, Py_None);
  }
  return 0;
}

static tk_status run_moe_unpermute_backward(tk_context *ctx, const void *args,
                                            const tk_call_options *opts) {
  return tk_moe_unpermute_backward(ctx, args, opts);
}

const tkpy_op tkpy_op_moe_unpermute_backward = {
    "moe_unpermute_backward", TK_OP_MOE_UNPERMUTE_BACKWARD, 6, build_moe_unpermute_backward,
    run_moe_unpermute_backward};
