/* moe_record_common.h: what the CUDA MoE permute and unpermute records
 * share. */
#ifndef TK_IMPLS_CUDA_MOE_RECORD_COMMON_H
#define TK_IMPLS_CUDA_MOE_RECORD_COMMON_H

#include <stddef.h>

#include "kernels/impl.h"

/* 1 when p's device has compute capability 8.0 or later and the data
 * tensors t0, t1 ([rows, H]) have contiguous rows; else 0 with the reason
 * in why. */
int tk_cuda_moe_supports(const tk_problem *p, const tk_device_info *dev, const tk_tensor *t0,
                         const tk_tensor *t1, char *why, size_t why_len);

#endif
