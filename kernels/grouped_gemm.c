/* grouped_gemm.c: the grouped GEMM op: validating tk_grouped_gemm_args
 * into a problem, its key, its work, and its descriptor in the op table. */
#include <string.h>

#include "kernels/op_desc.h"
#include "kernels/validate.h"
#include "runtime/status.h"

/* Group sizes are non-negative and sum (in int64) to at most M. */
static tk_status check_group_sizes(const tk_validator *v, const tk_grouped_gemm_problem *p) {
  int64_t sum = 0;
  for (int64_t g = 0; g < p->G; g++) {
    int32_t n = tk_load_i32(&p->group_sizes, g, 0);
    if (n < 0)
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: group_sizes[%lld] is %d, expected >= 0", v->op,
                     (long long)g, n);
    sum += n;
  }
  if (sum > p->M)
    return tk_fail(TK_ERR_INVALID_ARGUMENT,
                   "%s: group_sizes sum to %lld, more than lhs's M=%lld rows", v->op,
                   (long long)sum, (long long)p->M);
  return TK_OK;
}

static tk_status check_data(const tk_problem *problem) {
  tk_validator v;
  tk_validator_init(&v, "grouped_gemm", 1);
  return check_group_sizes(&v, &problem->u.grouped_gemm);
}

/* rhs and out shapes for the layout; M, K, G already known. */
static tk_status take_rhs_out(tk_validator *v, const tk_grouped_gemm_args *a,
                              tk_grouped_gemm_problem *p) {
  static const char *const rhs_dims[] = {"[G,K,N]", "[G,N,K]", "[M,N]"};
  static const char *const out_dims[] = {"[M,N]", "[M,N]", "[G,K,N]"};
  TK_TRY(tk_take_tensor(v, "rhs", a->rhs, TK_ARG_INPUT, TK_DT_DATA, rhs_dims[p->layout], &p->rhs));
  TK_TRY(tk_take_tensor(v, "out", a->out, TK_ARG_OUTPUT, TK_DT_DATA, out_dims[p->layout], &p->out));
  TK_TRY(tk_expect_dtype(v, "rhs", &p->rhs, p->lhs.dtype, "lhs's dtype"));
  if (p->out.dtype != TK_F32 && p->out.dtype != p->lhs.dtype)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: out has dtype %s, expected float32%s%s", v->op,
                   tk_dtype_name(p->out.dtype), p->lhs.dtype == TK_F32 ? "" : " or lhs's ",
                   p->lhs.dtype == TK_F32 ? "" : tk_dtype_name(p->lhs.dtype));
  switch (p->layout) {
    case TK_GG_NN:
      p->N = p->rhs.shape[2];
      TK_TRY(tk_expect_dim(v, "rhs", &p->rhs, 0, "G", p->G, "group_sizes' G"));
      TK_TRY(tk_expect_dim(v, "rhs", &p->rhs, 1, "K", p->K, "lhs's K"));
      break;
    case TK_GG_NT:
      p->N = p->rhs.shape[1];
      TK_TRY(tk_expect_dim(v, "rhs", &p->rhs, 0, "G", p->G, "group_sizes' G"));
      TK_TRY(tk_expect_dim(v, "rhs", &p->rhs, 2, "K", p->K, "lhs's K"));
      break;
    case TK_GG_TN:
      p->N = p->rhs.shape[1];
      TK_TRY(tk_expect_dim(v, "rhs", &p->rhs, 0, "M", p->M, "lhs's M"));
      TK_TRY(tk_expect_dim(v, "out", &p->out, 0, "G", p->G, "group_sizes' G"));
      TK_TRY(tk_expect_dim(v, "out", &p->out, 1, "K", p->K, "lhs's K"));
      TK_TRY(tk_expect_dim(v, "out", &p->out, 2, "N", p->N, "rhs's N"));
      return TK_OK;
  }
  TK_TRY(tk_expect_dim(v, "out", &p->out, 0, "M", p->M, "lhs's M"));
  return tk_expect_dim(v, "out", &p->out, 1, "N", p->N, "rhs's N");
}

static tk_status validate(const void *args, int need_data, tk_problem *out) {
  const tk_grouped_gemm_args *a = args;
  tk_validator v;
  tk_validator_init(&v, "grouped_gemm", need_data);
  tk_problem_clear(out, sizeof(tk_grouped_gemm_problem));
  if (!a) return tk_fail(TK_ERR_INVALID_ARGUMENT, "grouped_gemm: args is NULL");
  tk_grouped_gemm_problem *p = &out->u.grouped_gemm;
  if ((int)a->layout < TK_GG_NN || (int)a->layout > TK_GG_TN)
    return tk_fail(TK_ERR_INVALID_ARGUMENT,
                   "grouped_gemm: layout is %d, expected TK_GG_NN, TK_GG_NT or TK_GG_TN",
                   (int)a->layout);
  p->layout = a->layout;
  TK_TRY(tk_take_tensor(&v, "lhs", a->lhs, TK_ARG_INPUT, TK_DT_DATA, "[M,K]", &p->lhs));
  TK_TRY(tk_take_tensor(&v, "group_sizes", a->group_sizes, TK_ARG_INPUT, TK_DT_I32, "[G]",
                        &p->group_sizes));
  p->M = p->lhs.shape[0];
  p->K = p->lhs.shape[1];
  p->G = p->group_sizes.shape[0];
  TK_TRY(take_rhs_out(&v, a, p));
  if (tk_validator_host_data(&v)) TK_TRY(check_data(out));
  tk_validator_finish(&v, TK_OP_GROUPED_GEMM, p->lhs.dtype, out);
  return TK_OK;
}

static void key(tk_text *k, const tk_problem *problem) {
  static const char *const layout[] = {"nn", "nt", "tn"};
  const tk_grouped_gemm_problem *p = &problem->u.grouped_gemm;
  tk_text_printf(k, "dtype=%s,out=%s,layout=%s,M=%lld,K=%lld,N=%lld,G=%lld",
                 tk_dtype_short(p->lhs.dtype), tk_dtype_short(p->out.dtype), layout[p->layout],
                 (long long)p->M, (long long)p->K, (long long)p->N, (long long)p->G);
}

/* Rows the groups cover: the sum of group_sizes on host data, else M. */
static double covered_rows(const tk_problem *problem) {
  const tk_grouped_gemm_problem *p = &problem->u.grouped_gemm;
  if (!p->group_sizes.data || problem->device_type != kDLCPU) return (double)p->M;
  double rows = 0;
  for (int64_t g = 0; g < p->G; g++) rows += tk_load_i32(&p->group_sizes, g, 0);
  return rows;
}

/* 2 * covered rows * K * N, in every layout. */
static double flops(const tk_problem *problem) {
  const tk_grouped_gemm_problem *p = &problem->u.grouped_gemm;
  return 2.0 * covered_rows(problem) * (double)p->K * (double)p->N;
}

/* lhs, rhs, out and group_sizes once each. */
static double bytes(const tk_problem *problem) {
  const tk_grouped_gemm_problem *p = &problem->u.grouped_gemm;
  const int tn = p->layout == TK_GG_TN;
  double rhs = tn ? (double)p->M * (double)p->N : (double)p->G * (double)p->K * (double)p->N;
  double out = tn ? (double)p->G * (double)p->K * (double)p->N : (double)p->M * (double)p->N;
  return (double)tk_dtype_size(p->lhs.dtype) * ((double)p->M * (double)p->K + rhs) +
         (double)tk_dtype_size(p->out.dtype) * out + 4.0 * (double)p->G;
}

#define T(f, out) TK_OP_TENSOR(grouped_gemm, tk_grouped_gemm_args, f, out)
static const tk_op_tensor tensors[] = {T(lhs, 0), T(rhs, 0), T(group_sizes, 0), T(out, 1)};
#undef T

const tk_op_desc tk_grouped_gemm_desc = {
    .op = TK_OP_GROUPED_GEMM,
    .name = "grouped_gemm",
    .args_size = sizeof(tk_grouped_gemm_args),
    .problem_size = sizeof(tk_grouped_gemm_problem),
    .validate = validate,
    .check_data = check_data,
    .key = key,
    .tensors = tensors,
    .n_tensors = (int)(sizeof tensors / sizeof tensors[0]),
    .size_fields = {"M", "K", "N", "G", NULL},
    .flops = flops,
    .bytes = bytes,
};
