/* moe_unpermute_backward.c: the MoE unpermute backward op: validating
 * tk_moe_unpermute_backward_args into a problem, its key, its work, and its
 * descriptor in the op table. */
#include <string.h>

#include "kernels/op_desc.h"
#include "kernels/validate.h"
#include "runtime/status.h"

/* Every dest entry addresses a row of d_rows: [0,R). */
static tk_status check_data(const tk_problem *problem) {
  const tk_moe_unpermute_backward_problem *p = &problem->u.moe_unpermute_backward;
  for (int64_t t = 0; t < p->T; t++)
    for (int64_t j = 0; j < p->k; j++) {
      int32_t r = tk_load_i32(&p->dest, t, j);
      if (r < 0 || r >= p->R)
        return tk_fail(TK_ERR_INVALID_ARGUMENT,
                       "moe_unpermute_backward: dest[%lld,%lld] is %d, outside [0,R=%lld) (rows "
                       "of d_rows)",
                       (long long)t, (long long)j, r, (long long)p->R);
    }
  return TK_OK;
}

/* Tensors and the relations between them. */
static tk_status take_args(tk_validator *v, const tk_moe_unpermute_backward_args *a,
                           tk_moe_unpermute_backward_problem *p) {
  TK_TRY(tk_take_tensor(v, "dout", a->dout, TK_ARG_INPUT, TK_DT_DATA, "[T,H]", &p->dout));
  TK_TRY(tk_take_tensor(v, "rows", a->rows, TK_ARG_OPTIONAL, TK_DT_DATA, "[R,H]", &p->rows));
  TK_TRY(tk_take_tensor(v, "dest", a->dest, TK_ARG_INPUT, TK_DT_I32, "[T,k]", &p->dest));
  TK_TRY(
      tk_take_tensor(v, "weights", a->weights, TK_ARG_OPTIONAL, TK_DT_F32, "[T,k]", &p->weights));
  TK_TRY(tk_take_tensor(v, "d_rows", a->d_rows, TK_ARG_OUTPUT, TK_DT_DATA, "[R,H]", &p->d_rows));
  TK_TRY(tk_take_tensor(v, "d_weights", a->d_weights, TK_ARG_OUTPUT | TK_ARG_OPTIONAL, TK_DT_F32,
                        "[T,k]", &p->d_weights));
  p->T = p->dout.shape[0];
  p->H = p->dout.shape[1];
  p->k = p->dest.shape[1];
  p->R = p->d_rows.shape[0];
  TK_TRY(tk_expect_dim(v, "dest", &p->dest, 0, "T", p->T, "dout's T"));
  if (p->weights.present) {
    TK_TRY(tk_expect_dim(v, "weights", &p->weights, 0, "T", p->T, "dout's T"));
    TK_TRY(tk_expect_dim(v, "weights", &p->weights, 1, "k", p->k, "dest's k"));
  }
  TK_TRY(tk_expect_dtype(v, "d_rows", &p->d_rows, p->dout.dtype, "dout's dtype"));
  TK_TRY(tk_expect_dim(v, "d_rows", &p->d_rows, 1, "H", p->H, "dout's H"));
  if (p->rows.present) {
    TK_TRY(tk_expect_dtype(v, "rows", &p->rows, p->dout.dtype, "dout's dtype"));
    TK_TRY(tk_expect_dim(v, "rows", &p->rows, 0, "R", p->R, "d_rows' R"));
    TK_TRY(tk_expect_dim(v, "rows", &p->rows, 1, "H", p->H, "dout's H"));
  }
  if (p->d_weights.present) {
    if (!p->rows.present)
      return tk_fail(TK_ERR_INVALID_ARGUMENT,
                     "%s: rows is NULL, but d_weights (dot of dout and rows) is asked for", v->op);
    TK_TRY(tk_expect_dim(v, "d_weights", &p->d_weights, 0, "T", p->T, "dout's T"));
    TK_TRY(tk_expect_dim(v, "d_weights", &p->d_weights, 1, "k", p->k, "dest's k"));
  }
  return tk_expect_int32_addressable(v, "d_rows' row count R", p->R, "dest");
}

static tk_status validate(const void *args, int need_data, tk_problem *out) {
  const tk_moe_unpermute_backward_args *a = args;
  tk_validator v;
  tk_validator_init(&v, "moe_unpermute_backward", need_data);
  tk_problem_clear(out, sizeof(tk_moe_unpermute_backward_problem));
  if (!a) return tk_fail(TK_ERR_INVALID_ARGUMENT, "moe_unpermute_backward: args is NULL");
  tk_moe_unpermute_backward_problem *p = &out->u.moe_unpermute_backward;
  TK_TRY(take_args(&v, a, p));
  if (tk_validator_host_data(&v)) TK_TRY(check_data(out));
  tk_validator_finish(&v, TK_OP_MOE_UNPERMUTE_BACKWARD, p->dout.dtype, out);
  return TK_OK;
}

static void key(tk_text *k, const tk_problem *problem) {
  const tk_moe_unpermute_backward_problem *p = &problem->u.moe_unpermute_backward;
  tk_text_printf(k, "dtype=%s,T=%lld,H=%lld,k=%lld,R=%lld,weights=%d,d_weights=%d",
                 tk_dtype_short(p->dout.dtype), (long long)p->T, (long long)p->H, (long long)p->k,
                 (long long)p->R, p->weights.present, p->d_weights.present);
}

/* A multiply per slot and element for d_rows (with weights), a
 * multiply-add per slot and element for d_weights. */
static double flops(const tk_problem *problem) {
  const tk_moe_unpermute_backward_problem *p = &problem->u.moe_unpermute_backward;
  double slots = (double)(p->T * p->k) * (double)p->H;
  return slots * (p->weights.present + 2.0 * p->d_weights.present);
}

/* dout read once, d_rows written once, with d_weights the T*k rows read;
 * dest, weights and d_weights. */
static double bytes(const tk_problem *problem) {
  const tk_moe_unpermute_backward_problem *p = &problem->u.moe_unpermute_backward;
  double es = (double)tk_dtype_size(p->dout.dtype), tk = (double)(p->T * p->k);
  return es * ((double)p->T + (double)p->R + (p->d_weights.present ? tk : 0)) * (double)p->H +
         tk * (4.0 + 4.0 * p->weights.present + 4.0 * p->d_weights.present);
}

#define T(f, out) TK_OP_TENSOR(moe_unpermute_backward, tk_moe_unpermute_backward_args, f, out)
static const tk_op_tensor tensors[] = {T(dout, 0),   T(rows, 0),   T(dest, 0),
                                       T(weights, 0), T(d_rows, 1), T(d_weights, 1)};
#undef T

const tk_op_desc tk_moe_unpermute_backward_desc = {
    .op = TK_OP_MOE_UNPERMUTE_BACKWARD,
    .name = "moe_unpermute_backward",
    .args_size = sizeof(tk_moe_unpermute_backward_args),
    .problem_size = sizeof(tk_moe_unpermute_backward_problem),
    .validate = validate,
    .check_data = check_data,
    .key = key,
    .tensors = tensors,
    .n_tensors = (int)(sizeof tensors / sizeof tensors[0]),
    .size_fields = {"T", "R", NULL},
    .flops = flops,
    .bytes = bytes,
    .memory_bound = tk_op_always_memory_bound,
};
