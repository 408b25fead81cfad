/* grouped_gemm_cublas.h: the cuBLAS baseline of grouped GEMM (impl
 * "cublas"). It copies group_sizes to the host and waits for them (so it is
 * not CUDA-graph safe: under stream capture it reports TK_ERR_UNSUPPORTED),
 * then either calls cublasGemmEx once per non-empty group (mode LOOP) or
 * cublasGemmGroupedBatchedEx once for all of them (mode GROUPED, which also
 * waits for the stream at the end, to free its host-side arrays). Rows past
 * the groups (NN/NT) and the outputs of empty groups (TN) are zeroed with
 * cudaMemset2DAsync. Group sizes are clamped as the CUDA kernels clamp them
 * (grouped_gemm_cuda.h). */
#ifndef TK_IMPLS_CUBLAS_GROUPED_GEMM_CUBLAS_H
#define TK_IMPLS_CUBLAS_GROUPED_GEMM_CUBLAS_H

#include <stddef.h>

#include "impls/cuda/grouped_gemm_cuda.h"
#include "tokamax.h"

enum { TK_CUBLAS_LOOP = 0, TK_CUBLAS_GROUPED = 1 };

/* 1 when cuBLAS can take p's leading dimensions (each at least the
 * contiguous extent it spans); else 0 with the reason in why. */
int tk_cublas_gg_fits(const tk_cuda_gg *p, char *why, size_t why_len);

/* Device workspace bytes of mode (GROUPED: the three pointer arrays). */
size_t tk_cublas_gg_workspace(const tk_cuda_gg *p, int mode);

/* Runs p on stream (a cudaStream_t) of the current device with this
 * thread's cuBLAS handle for that device (created on first use and kept for
 * the thread's life). Sets tk_last_error() on failure. */
tk_status tk_cublas_gg_run(const tk_cuda_gg *p, int mode, void *ws, void *stream);

#endif
