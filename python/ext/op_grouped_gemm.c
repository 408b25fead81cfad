/* op_grouped_gemm.c: grouped GEMM (ragged dot) from Python arguments. */
#include "op.h"

/* args: lhs, rhs, group_sizes, out, layout (0 NN, 1 NT, 2 TN), out_f32
 * (allocate out as float32 rather than lhs's dtype). Returns out. */
static int build_grouped_gemm(tkpy_call *c, PyObject *const *args) {
  tk_grouped_gemm_args *a = &c->args.grouped_gemm;
  tkpy_tensors *ts = &c->ts;
  DLTensor *lhs, *rhs, *sizes;
  int layout, out_f32;
  if (tkpy_take(ts, args[0], "lhs", 0, &lhs) || tkpy_take(ts, args[1], "rhs", 0, &rhs) ||
      tkpy_take(ts, args[2], "group_sizes", 0, &sizes) ||
      tkpy_int_arg(args[4], ts->op, "layout", &layout) ||
      tkpy_bool_arg(args[5], ts->op, "out_f32", &out_f32))
    return -1;
  a->lhs = lhs, a->rhs = rhs, a->group_sizes = sizes;
  a->layout = (tk_gg_layout)layout;
  int64_t shape[3];
  int ndim = 0;
  if (lhs && rhs && lhs->ndim == 2) {
    if (layout == TK_GG_NN && rhs->ndim == 3)
      ndim = 2, shape[0] = lhs->shape[0], shape[1] = rhs->shape[2];
    else if (layout == TK_GG_NT && rhs->ndim == 3)
      ndim = 2, shape[0] = lhs->shape[0], shape[1] = rhs->shape[1];
    else if (layout == TK_GG_TN && rhs->ndim == 2 && sizes && sizes->ndim == 1)
      ndim = 3, shape[0] = sizes->shape[0], shape[1] = lhs->shape[1], shape[2] = rhs->shape[1];
  }
  if (tkpy_call_output(c, args[3], "out", ndim, ndim ? shape : NULL,
                       out_f32 || !lhs ? tkpy_f32 : lhs->dtype, &a->out))
    return -1;
  c->single = 1;
  return 0;
}

static tk_status run_grouped_gemm(tk_context *ctx, const void *args, const tk_call_options *opts) {
  return tk_grouped_gemm(ctx, args, opts);
}

const tkpy_op tkpy_op_grouped_gemm = {"grouped_gemm", TK_OP_GROUPED_GEMM, 6, build_grouped_gemm,
                                      run_grouped_gemm};
