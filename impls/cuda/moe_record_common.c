/* moe_record_common.c: tk_cuda_moe_supports. */
#include "impls/cuda/moe_record_common.h"

#include <stdio.h>

#include "impls/cuda/attention_record_common.h"

/* 1 when the last dim of 2-D t is contiguous or has at most one element. */
static int rows_contiguous(const tk_tensor *t) { return t->shape[1] <= 1 || t->stride[1] == 1; }

int tk_cuda_moe_supports(const tk_problem *p, const tk_device_info *dev, const tk_tensor *t0,
                         const tk_tensor *t1, char *why, size_t why_len) {
  if (!tk_cuda_cc_at_least(dev, p->device_id, 8, 0, why, why_len)) return 0;
  if (!rows_contiguous(t0) || !rows_contiguous(t1)) {
    snprintf(why, why_len, "unsupported: data rows must be contiguous");
    return 0;
  }
  return 1;
}
