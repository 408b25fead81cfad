/* moe_unpermute.c: the MoE unpermute op: validating tk_moe_unpermute_args
 * into a problem, its key, its work, and its descriptor in the op table. */
#include <string.h>

#include "kernels/op_desc.h"
#include "kernels/validate.h"
#include "runtime/status.h"

/* Every dest entry addresses a row of rows: [0,R). */
static tk_status check_dest(const tk_validator *v, const tk_moe_unpermute_problem *p) {
  for (int64_t t = 0; t < p->T; t++)
    for (int64_t j = 0; j < p->k; j++) {
      int32_t r = tk_load_i32(&p->dest, t, j);
      if (r < 0 || r >= p->R)
        return tk_fail(TK_ERR_INVALID_ARGUMENT,
                       "%s: dest[%lld,%lld] is %d, outside [0,R=%lld) (rows of rows)", v->op,
                       (long long)t, (long long)j, r, (long long)p->R);
    }
  return TK_OK;
}

static tk_status check_data(const tk_problem *problem) {
  tk_validator v;
  tk_validator_init(&v, "moe_unpermute", 1);
  return check_dest(&v, &problem->u.moe_unpermute);
}

/* Tensors and the relations between them. */
static tk_status take_args(tk_validator *v, const tk_moe_unpermute_args *a,
                           tk_moe_unpermute_problem *p) {
  TK_TRY(tk_take_tensor(v, "rows", a->rows, TK_ARG_INPUT, TK_DT_DATA, "[R,H]", &p->rows));
  TK_TRY(tk_take_tensor(v, "dest", a->dest, TK_ARG_INPUT, TK_DT_I32, "[T,k]", &p->dest));
  TK_TRY(
      tk_take_tensor(v, "weights", a->weights, TK_ARG_OPTIONAL, TK_DT_F32, "[T,k]", &p->weights));
  TK_TRY(tk_take_tensor(v, "out", a->out, TK_ARG_OUTPUT, TK_DT_DATA, "[T,H]", &p->out));
  p->R = p->rows.shape[0];
  p->H = p->rows.shape[1];
  p->T = p->dest.shape[0];
  p->k = p->dest.shape[1];
  if (p->weights.present) {
    TK_TRY(tk_expect_dim(v, "weights", &p->weights, 0, "T", p->T, "dest's T"));
    TK_TRY(tk_expect_dim(v, "weights", &p->weights, 1, "k", p->k, "dest's k"));
  }
  TK_TRY(tk_expect_dtype(v, "out", &p->out, p->rows.dtype, "rows' dtype"));
  TK_TRY(tk_expect_dim(v, "out", &p->out, 0, "T", p->T, "dest's T"));
  return tk_expect_dim(v, "out", &p->out, 1, "H", p->H, "rows' H");
}

static tk_status validate(const void *args, int need_data, tk_problem *out) {
  const tk_moe_unpermute_args *a = args;
  tk_validator v;
  tk_validator_init(&v, "moe_unpermute", need_data);
  tk_problem_clear(out, sizeof(tk_moe_unpermute_problem));
  if (!a) return tk_fail(TK_ERR_INVALID_ARGUMENT, "moe_unpermute: args is NULL");
  tk_moe_unpermute_problem *p = &out->u.moe_unpermute;
  TK_TRY(take_args(&v, a, p));
  if (tk_validator_host_data(&v)) TK_TRY(check_data(out));
  tk_validator_finish(&v, TK_OP_MOE_UNPERMUTE, p->rows.dtype, out);
  return TK_OK;
}

static void key(tk_text *k, const tk_problem *problem) {
  const tk_moe_unpermute_problem *p = &problem->u.moe_unpermute;
  tk_text_printf(k, "dtype=%s,T=%lld,H=%lld,k=%lld,R=%lld,weights=%d", tk_dtype_short(p->rows.dtype),
                 (long long)p->T, (long long)p->H, (long long)p->k, (long long)p->R,
                 p->weights.present);
}

/* A multiply-add per slot and element. */
static double flops(const tk_problem *problem) {
  const tk_moe_unpermute_problem *p = &problem->u.moe_unpermute;
  return 2.0 * (double)(p->T * p->k) * (double)p->H;
}

/* T*k rows read, T written, dest (and weights) read. */
static double bytes(const tk_problem *problem) {
  const tk_moe_unpermute_problem *p = &problem->u.moe_unpermute;
  double tk = (double)(p->T * p->k);
  return (double)tk_dtype_size(p->rows.dtype) * (tk + (double)p->T) * (double)p->H +
         tk * (p->weights.present ? 8.0 : 4.0);
}

#define T(f, out) TK_OP_TENSOR(moe_unpermute, tk_moe_unpermute_args, f, out)
static const tk_op_tensor tensors[] = {T(rows, 0), T(dest, 0), T(weights, 0), T(out, 1)};
#undef T

const tk_op_desc tk_moe_unpermute_desc = {
    .op = TK_OP_MOE_UNPERMUTE,
    .name = "moe_unpermute",
    .args_size = sizeof(tk_moe_unpermute_args),
    .problem_size = sizeof(tk_moe_unpermute_problem),
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
