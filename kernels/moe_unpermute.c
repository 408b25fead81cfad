/* moe_unpermute.c: validating tk_moe_unpermute_args into a problem, and
 * the tk_moe_unpermute entry point. */
#include <string.h>

#include "autotune/choose.h"
#include "kernels/runtime/problem.h"
#include "kernels/runtime/status.h"
#include "kernels/validate.h"

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

tk_status tk_moe_unpermute_check_data(const tk_problem *problem) {
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

tk_status tk_moe_unpermute_validate(const tk_moe_unpermute_args *a, int need_data,
                                    tk_problem *out) {
  tk_validator v;
  tk_validator_init(&v, "moe_unpermute", need_data);
  memset(out, 0, sizeof *out);
  if (!a) return tk_fail(TK_ERR_INVALID_ARGUMENT, "moe_unpermute: args is NULL");
  tk_moe_unpermute_problem *p = &out->u.moe_unpermute;
  TK_TRY(take_args(&v, a, p));
  if (tk_validator_host_data(&v)) TK_TRY(tk_moe_unpermute_check_data(out));
  tk_validator_finish(&v, TK_OP_MOE_UNPERMUTE, p->rows.dtype, out);
  return TK_OK;
}

tk_status tk_moe_unpermute(tk_context *ctx, const tk_moe_unpermute_args *args,
                           const tk_call_options *opts) {
  tk_clear_error();
  tk_problem problem;
  TK_TRY(tk_moe_unpermute_validate(args, 1, &problem));
  return tk_dispatch(ctx, &problem, opts);
}
