/* registry_cuda_moe.h: what the CUDA MoE permute and unpermute records
 * share. */
#ifndef TK_IMPLS_CUDA_REGISTRY_CUDA_MOE_H
#define TK_IMPLS_CUDA_REGISTRY_CUDA_MOE_H

#include <stddef.h>

#include "../registry.h"

/* 1 when p's device has compute capability 8.0 or later and the data
 * tensors t0, t1 ([rows, H]) have contiguous rows; else 0 with the reason
 * in why. */
int tk_cuda_moe_supports(const tk_problem *p, const tk_device_info *dev, const tk_tensor *t0,
                         const tk_tensor *t1, char *why, size_t why_len);

#endif
