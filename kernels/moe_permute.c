/* moe_permute.c: the MoE permute op: validating tk_moe_permute_args into a
 * problem, its key, its work, its descriptor in the op table, and
 * tk_moe_permute_max_rows. */
#include <stdlib.h>
#include <string.h>

#include "kernels/op_desc.h"
#include "kernels/validate.h"
#include "runtime/checked.h"
#include "runtime/status.h"

/* The largest align accepted: far above any GEMM tile, small enough that
 * E * (align - 1) cannot overflow. */
#define TK_MOE_MAX_ALIGN 65536

int64_t tk_moe_permute_max_rows(int64_t T, int64_t k, int64_t E, int64_t align) {
  int64_t rows, pad;
  if (T < 0 || k < 0 || E < 0 || align < 1) return -1;
  if (!tk_mul_fits(T, k, &rows) || !tk_mul_fits(E, align - 1, &pad) || !tk_add_fits(rows, pad, &rows))
    return -1;
  return rows;
}

/* Expert ids lie in [0,E), and the expert blocks (each count rounded up to
 * align) fit in the R rows of permuted. */
static tk_status check_expert_ids(const tk_validator *v, const tk_moe_permute_problem *p) {
  int64_t *count = calloc((size_t)p->E, sizeof *count);
  if (!count) return tk_fail(TK_ERR_OUT_OF_MEMORY, "%s: no memory to count rows per expert", v->op);
  tk_status s = TK_OK;
  for (int64_t t = 0; t < p->T && s == TK_OK; t++)
    for (int64_t j = 0; j < p->k; j++) {
      int32_t e = tk_load_i32(&p->expert_ids, t, j);
      if (e < 0 || e >= p->E) {
        s = tk_fail(TK_ERR_INVALID_ARGUMENT,
                    "%s: expert_ids[%lld,%lld] is %d, outside [0,num_experts=%lld)", v->op,
                    (long long)t, (long long)j, e, (long long)p->E);
        break;
      }
      count[e]++;
    }
  int64_t needed = 0;
  for (int64_t e = 0; e < p->E && s == TK_OK; e++)
    needed += (count[e] + p->align - 1) / p->align * p->align;
  free(count);
  if (s == TK_OK && needed > p->R)
    s = tk_fail(TK_ERR_INVALID_ARGUMENT,
                "%s: permuted has R=%lld rows, fewer than the %lld the expert blocks need "
                "(align=%lld)",
                v->op, (long long)p->R, (long long)needed, (long long)p->align);
  return s;
}

static tk_status check_data(const tk_problem *problem) {
  tk_validator v;
  tk_validator_init(&v, "moe_permute", 1);
  return check_expert_ids(&v, &problem->u.moe_permute);
}

/* Scalars, tensors and the relations between them. */
static tk_status take_args(tk_validator *v, const tk_moe_permute_args *a,
                           tk_moe_permute_problem *p) {
  TK_TRY(tk_expect_at_least(v, "num_experts", a->num_experts, 1));
  TK_TRY(tk_expect_at_least(v, "align", a->align, 1));
  if (a->align > TK_MOE_MAX_ALIGN)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: align is %d, expected at most %d", v->op, a->align,
                   TK_MOE_MAX_ALIGN);
  p->E = a->num_experts;
  p->align = a->align;
  TK_TRY(tk_take_tensor(v, "tokens", a->tokens, TK_ARG_INPUT, TK_DT_DATA, "[T,H]", &p->tokens));
  TK_TRY(tk_take_tensor(v, "expert_ids", a->expert_ids, TK_ARG_INPUT, TK_DT_I32, "[T,k]",
                        &p->expert_ids));
  TK_TRY(
      tk_take_tensor(v, "permuted", a->permuted, TK_ARG_OUTPUT, TK_DT_DATA, "[R,H]", &p->permuted));
  TK_TRY(tk_take_tensor(v, "group_sizes", a->group_sizes, TK_ARG_OUTPUT, TK_DT_I32, "[E]",
                        &p->group_sizes));
  TK_TRY(tk_take_tensor(v, "dest", a->dest, TK_ARG_OUTPUT, TK_DT_I32, "[T,k]", &p->dest));
  p->T = p->tokens.shape[0];
  p->H = p->tokens.shape[1];
  p->k = p->expert_ids.shape[1];
  p->R = p->permuted.shape[0];
  TK_TRY(tk_expect_dim(v, "expert_ids", &p->expert_ids, 0, "T", p->T, "tokens' T"));
  TK_TRY(tk_expect_dtype(v, "permuted", &p->permuted, p->tokens.dtype, "tokens' dtype"));
  TK_TRY(tk_expect_dim(v, "permuted", &p->permuted, 1, "H", p->H, "tokens' H"));
  TK_TRY(tk_expect_dim(v, "group_sizes", &p->group_sizes, 0, "E", p->E, "num_experts"));
  TK_TRY(tk_expect_dim(v, "dest", &p->dest, 0, "T", p->T, "tokens' T"));
  TK_TRY(tk_expect_dim(v, "dest", &p->dest, 1, "k", p->k, "expert_ids' k"));
  if (p->R < p->T * p->k)
    return tk_fail(
        TK_ERR_INVALID_ARGUMENT,
        "%s: permuted has R=%lld rows, fewer than T*k=%lld (tokens' T times expert_ids' k)", v->op,
        (long long)p->R, (long long)(p->T * p->k));
  return tk_expect_int32_addressable(v, "permuted's row count R", p->R, "dest");
}

static tk_status validate(const void *args, int need_data, tk_problem *out) {
  const tk_moe_permute_args *a = args;
  tk_validator v;
  tk_validator_init(&v, "moe_permute", need_data);
  tk_problem_clear(out, sizeof(tk_moe_permute_problem));
  if (!a) return tk_fail(TK_ERR_INVALID_ARGUMENT, "moe_permute: args is NULL");
  tk_moe_permute_problem *p = &out->u.moe_permute;
  TK_TRY(take_args(&v, a, p));
  if (tk_validator_host_data(&v)) TK_TRY(check_data(out));
  tk_validator_finish(&v, TK_OP_MOE_PERMUTE, p->tokens.dtype, out);
  return TK_OK;
}

static void key(tk_text *k, const tk_problem *problem) {
  const tk_moe_permute_problem *p = &problem->u.moe_permute;
  tk_text_printf(k, "dtype=%s,T=%lld,H=%lld,k=%lld,E=%lld,align=%lld,R=%lld",
                 tk_dtype_short(p->tokens.dtype), (long long)p->T, (long long)p->H, (long long)p->k,
                 (long long)p->E, (long long)p->align, (long long)p->R);
}

/* No arithmetic: rows are copied. */
static double flops(const tk_problem *problem) {
  (void)problem;
  return 0;
}

/* tokens read, permuted written, expert_ids read and dest written, group_sizes. */
static double bytes(const tk_problem *problem) {
  const tk_moe_permute_problem *p = &problem->u.moe_permute;
  return (double)tk_dtype_size(p->tokens.dtype) * (double)(p->T + p->R) * (double)p->H +
         8.0 * (double)(p->T * p->k) + 4.0 * (double)p->E;
}

#define T(f, out) TK_OP_TENSOR(moe_permute, tk_moe_permute_args, f, out)
static const tk_op_tensor tensors[] = {T(tokens, 0), T(expert_ids, 0), T(permuted, 1),
                                       T(group_sizes, 1), T(dest, 1)};
#undef T

const tk_op_desc tk_moe_permute_desc = {
    .op = TK_OP_MOE_PERMUTE,
    .name = "moe_permute",
    .args_size = sizeof(tk_moe_permute_args),
    .problem_size = sizeof(tk_moe_permute_problem),
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
