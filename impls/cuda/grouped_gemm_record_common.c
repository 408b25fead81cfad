/* grouped_gemm_record_common.c: tk_cuda_gg_from_problem. */
#include "impls/cuda/grouped_gemm_record_common.h"

#include <stdio.h>

/* 1 when the last dim of t is contiguous or has at most one element. */
static int inner_contiguous(const tk_tensor *t) {
  return t->shape[t->ndim - 1] <= 1 || t->stride[t->ndim - 1] == 1;
}

int tk_cuda_gg_from_problem(const tk_problem *p, tk_cuda_gg *g, char *why, size_t why_len) {
  const tk_grouped_gemm_problem *q = &p->u.grouped_gemm;
  const int64_t limit = ((int64_t)1 << 31) - 1024;
  if (!inner_contiguous(&q->lhs) || !inner_contiguous(&q->rhs) || !inner_contiguous(&q->out)) {
    snprintf(why, why_len, "unsupported: lhs, rhs and out need a contiguous last dimension");
    return 0;
  }
  if (q->G > 1 && q->group_sizes.stride[0] != 1) {
    snprintf(why, why_len, "unsupported: group_sizes must be contiguous");
    return 0;
  }
  if (q->M > limit || q->K > limit || q->N > limit || q->G > (1 << 24)) {
    snprintf(why, why_len, "unsupported: M, K, N beyond 2^31 - 1024 or G beyond 2^24");
    return 0;
  }
  g->lhs = q->lhs.data;
  g->rhs = q->rhs.data;
  g->out = q->out.data;
  g->group_sizes = (const int32_t *)q->group_sizes.data;
  g->lhs_s0 = q->lhs.stride[0];
  g->rhs_s0 = q->rhs.stride[0];
  g->rhs_s1 = q->rhs.ndim > 2 ? q->rhs.stride[1] : 0;
  g->out_s0 = q->out.stride[0];
  g->out_s1 = q->out.ndim > 2 ? q->out.stride[1] : 0;
  g->M = q->M;
  g->K = q->K;
  g->N = q->N;
  g->G = q->G;
  g->layout = (int)q->layout;
  g->dtype = (int)q->lhs.dtype;
  g->out_dtype = (int)q->out.dtype;
  g->sm_count = 1;
  return 1;
}
