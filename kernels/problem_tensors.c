/* problem_outputs.c: which tensors of a problem an op writes. */
#include "kernels/runtime/problem.h"

int tk_problem_outputs(tk_problem *p, tk_tensor **o) {
  int n = 0;
  switch (p->op) {
    case TK_OP_ATTENTION:
      o[n++] = &p->u.attention.out;
      if (p->u.attention.lse.present) o[n++] = &p->u.attention.lse;
      break;
    case TK_OP_GROUPED_GEMM: o[n++] = &p->u.grouped_gemm.out; break;
    case TK_OP_MOE_PERMUTE:
      o[n++] = &p->u.moe_permute.permuted;
      o[n++] = &p->u.moe_permute.group_sizes;
      o[n++] = &p->u.moe_permute.dest;
      break;
    case TK_OP_MOE_UNPERMUTE: o[n++] = &p->u.moe_unpermute.out; break;
    case TK_OP_PAGED_ATTENTION: o[n++] = &p->u.paged_attention.out; break;
    default: break;
  }
  return n;
}

int64_t tk_tensor_extent(const tk_tensor *t) {
  int64_t e = 1;
  for (int d = 0; d < t->ndim; d++) {
    if (t->shape[d] == 0) return 0;
    e += (t->shape[d] - 1) * t->stride[d];
  }
  return e;
}
