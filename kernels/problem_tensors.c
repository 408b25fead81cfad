/* problem_tensors.c: which tensors of a problem an op reads and writes. */
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

/* Appends t to v[*n] when present. */
static void add(tk_tensor **v, int *n, tk_tensor *t) {
  if (t->present) v[(*n)++] = t;
}

int tk_problem_inputs(tk_problem *p, tk_tensor **in) {
  int n = 0;
  switch (p->op) {
    case TK_OP_ATTENTION: {
      tk_attention_problem *a = &p->u.attention;
      add(in, &n, &a->q), add(in, &n, &a->k), add(in, &n, &a->v);
      add(in, &n, &a->q_lens), add(in, &n, &a->kv_lens);
      break;
    }
    case TK_OP_GROUPED_GEMM: {
      tk_grouped_gemm_problem *g = &p->u.grouped_gemm;
      add(in, &n, &g->lhs), add(in, &n, &g->rhs), add(in, &n, &g->group_sizes);
      break;
    }
    case TK_OP_MOE_PERMUTE:
      add(in, &n, &p->u.moe_permute.tokens), add(in, &n, &p->u.moe_permute.expert_ids);
      break;
    case TK_OP_MOE_UNPERMUTE: {
      tk_moe_unpermute_problem *u = &p->u.moe_unpermute;
      add(in, &n, &u->rows), add(in, &n, &u->dest), add(in, &n, &u->weights);
      break;
    }
    case TK_OP_PAGED_ATTENTION: {
      tk_paged_attention_problem *a = &p->u.paged_attention;
      add(in, &n, &a->q), add(in, &n, &a->k_cache), add(in, &n, &a->v_cache);
      add(in, &n, &a->block_table), add(in, &n, &a->kv_lens), add(in, &n, &a->cu_q_lens);
      break;
    }
    default: break;
  }
  return n;
}

int64_t tk_tensor_span(const tk_tensor *t, int64_t *first) {
  int64_t lo = 0, hi = 0;
  *first = 0;
  for (int d = 0; d < t->ndim; d++) {
    if (t->shape[d] == 0) return 0;
    const int64_t reach = (t->shape[d] - 1) * t->stride[d];
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  *first = lo;
  return hi - lo + 1;
}

int64_t tk_tensor_extent(const tk_tensor *t) {
  int64_t first;
  return tk_tensor_span(t, &first);
}
