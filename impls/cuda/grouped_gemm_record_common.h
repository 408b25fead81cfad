/* grouped_gemm_record_common.h: what the grouped GEMM records of the CUDA
 * backend (cuda_tiled, cuda_pipelined, cublas) share: the problem as the
 * kernels take it. */
#ifndef TK_IMPLS_CUDA_GROUPED_GEMM_RECORD_COMMON_H
#define TK_IMPLS_CUDA_GROUPED_GEMM_RECORD_COMMON_H

#include <stddef.h>

#include "kernels/impl.h"
#include "impls/cuda/grouped_gemm_cuda.h"

/* Fills *g from the grouped GEMM problem p (CUDA tensors; sm_count 1, for
 * the caller to set). Returns 1, or 0 with the reason in why when the CUDA
 * code cannot take p: an innermost dimension that is not contiguous,
 * non-contiguous group_sizes, or sizes outside int32 range. */
int tk_cuda_gg_from_problem(const tk_problem *p, tk_cuda_gg *g, char *why, size_t why_len);

#endif
