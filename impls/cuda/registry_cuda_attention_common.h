/* registry_cuda_attention_common.h: what the CUDA attention records share:
 * turning a validated problem into the kernels' arguments, and the device
 * facts their validity rules and heuristics read. */
#ifndef TK_IMPLS_CUDA_REGISTRY_CUDA_ATTENTION_COMMON_H
#define TK_IMPLS_CUDA_REGISTRY_CUDA_ATTENTION_COMMON_H

#include <stddef.h>

#include "../registry.h"
#include "attention_cuda.h"

/* The dense call's kernel arguments, or 0 with why when it is past the
 * kernels' index limits. */
int tk_cuda_attention_args_of(const tk_attention_problem *p, tk_cuda_attention_args *a, char *why,
                              size_t len);

/* The paged call's kernel arguments, or 0 with why when it is past the
 * kernels' index limits. */
int tk_cuda_paged_args_of(const tk_paged_attention_problem *p, tk_cuda_paged_args *a, char *why,
                          size_t len);

/* The opt-in shared memory per block of CUDA device `device` (bytes), 0
 * when the runtime cannot say. */
long long tk_cuda_smem_limit(int device);

/* 1 if CUDA device `device` of dev has compute capability at least
 * major.minor; else 0 with why. */
int tk_cuda_cc_at_least(const tk_device_info *dev, int device, int major, int minor, char *why,
                        size_t len);

/* tk_attn_bucket of (d, dv), or 0 with why when they fit no bucket. */
int tk_cuda_bucket_or_why(int d, int dv, int *dp, int *dvp, char *why, size_t len);

/* 1 if a kernel is compiled for the config (compiled != 0) and its need
 * bytes of shared memory fit the device's limit; else 0 with why. */
int tk_cuda_kernel_fits(int compiled, long long need, long long limit, char *why, size_t len);

/* The validity rule for a call on a scalar path, whose space (params[0..n))
 * accepts the one config `only`: 1 if c is it, else 0 with why naming it. */
int tk_cuda_only_config(const tk_param_def *params, int n, const tk_config *c,
                        const tk_config *only, char *why, size_t len);

/* Runs an enqueue returning a cudaError_t on device `device`: switches to
 * it, calls enqueue(arg), switches back; the error becomes a status naming
 * `what` (e.g. "attention (cuda_tiled)"). */
tk_status tk_cuda_enqueue_on(int device, int (*enqueue)(void *arg), void *arg, const char *what);

#endif
