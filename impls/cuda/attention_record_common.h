/* attention_record_common.h: what the CUDA attention records share:
 * turning a validated problem into the kernels' arguments, the head-dim
 * buckets, and the tiled kernel's fitting rule and pick (cuda_pipelined
 * falls back to it when buffers turn out misaligned). */
#ifndef TK_IMPLS_CUDA_ATTENTION_RECORD_COMMON_H
#define TK_IMPLS_CUDA_ATTENTION_RECORD_COMMON_H

#include <stddef.h>

#include "impls/cuda/attention_backward_cuda.h"
#include "impls/cuda/attention_cuda.h"
#include "impls/cuda/record_common.h"

/* The dense call's kernel arguments, or 0 with why when it is past the
 * kernels' index limits. */
int tk_cuda_attention_args_of(const tk_attention_problem *p, tk_cuda_attention_args *a, char *why,
                              size_t len);

/* The backward call's kernel arguments (the forward's, then dout and the
 * gradients), or 0 with why when it is past the kernels' index limits. */
int tk_cuda_attention_backward_args_of(const tk_attention_backward_problem *p,
                                       tk_cuda_attention_backward_args *a, char *why, size_t len);

/* The paged call's kernel arguments, or 0 with why when it is past the
 * kernels' index limits. */
int tk_cuda_paged_args_of(const tk_paged_attention_problem *p, tk_cuda_paged_args *a, char *why,
                          size_t len);

/* tk_attn_bucket of (d, dv), or 0 with why when they fit no bucket. */
int tk_cuda_bucket_or_why(int d, int dv, int *dp, int *dvp, char *why, size_t len);

/* The one config of calls that take the tiled kernel's scalar path. */
extern const tk_cuda_tiled_config tk_cuda_tiled_scalar;

/* 1 if the tiled tensor-core kernel is compiled for t on a's head dims and
 * t's tiles fit smem bytes of shared memory; else 0 with why. */
int tk_cuda_tiled_fits(const tk_cuda_attention_args *a, tk_cuda_tiled_config t, long long smem,
                       char *why, size_t len);

/* The tiled config for a: a table by head-dim bucket, first entry whose
 * tiles fit smem bytes (the last entry fits every sm_80+ device). */
tk_cuda_tiled_config tk_cuda_tiled_pick(const tk_cuda_attention_args *a, long long smem);

#endif
