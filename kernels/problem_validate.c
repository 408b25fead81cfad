/* problem_validate.c: validating any op's args struct, and its data, by op. */
#include "kernels/runtime/problem.h"
#include "kernels/runtime/status.h"

tk_status tk_problem_validate(tk_op op, const void *args, int need_data, tk_problem *out) {
  switch (op) {
    case TK_OP_ATTENTION:
      return tk_attention_validate(args, need_data, out);
    case TK_OP_GROUPED_GEMM:
      return tk_grouped_gemm_validate(args, need_data, out);
    case TK_OP_MOE_PERMUTE:
      return tk_moe_permute_validate(args, need_data, out);
    case TK_OP_MOE_UNPERMUTE:
      return tk_moe_unpermute_validate(args, need_data, out);
    case TK_OP_PAGED_ATTENTION:
      return tk_paged_attention_validate(args, need_data, out);
    case TK_OP_COUNT:
      break;
  }
  return tk_fail(TK_ERR_INVALID_ARGUMENT, "op is %d, not a known tk_op", (int)op);
}

tk_status tk_problem_check_data(const tk_problem *p) {
  switch (p->op) {
    case TK_OP_ATTENTION:
      return tk_attention_check_data(p);
    case TK_OP_GROUPED_GEMM:
      return tk_grouped_gemm_check_data(p);
    case TK_OP_MOE_PERMUTE:
      return tk_moe_permute_check_data(p);
    case TK_OP_MOE_UNPERMUTE:
      return tk_moe_unpermute_check_data(p);
    case TK_OP_PAGED_ATTENTION:
      return tk_paged_attention_check_data(p);
    case TK_OP_COUNT:
      break;
  }
  return tk_fail(TK_ERR_INVALID_ARGUMENT, "op is %d, not a known tk_op", (int)p->op);
}
