/* record_common.h: what every CUDA record (impls/cuda/<op>_record.c,
 * impls/cublas/) shares: device facts their support rules and heuristics
 * read, the one-config rule of scalar paths, and running an enqueue on a
 * tensor's device. */
#ifndef TK_IMPLS_CUDA_RECORD_COMMON_H
#define TK_IMPLS_CUDA_RECORD_COMMON_H

#include <stddef.h>

#include "kernels/impl.h"

/* The opt-in shared memory per block of CUDA device `device` (bytes), 0
 * when the runtime cannot say (asked once per device). */
long long tk_cuda_smem_limit(int device);

/* 1 if CUDA device `device` of dev has compute capability at least
 * major.minor; else 0 with why. */
int tk_cuda_cc_at_least(const tk_device_info *dev, int device, int major, int minor, char *why,
                        size_t len);

/* 1 if a kernel is compiled for the config (compiled != 0) and its need
 * bytes of shared memory fit the device's limit; else 0 with why. */
int tk_cuda_kernel_fits(int compiled, long long need, long long limit, char *why, size_t len);

/* The validity rule for a call on a scalar path, whose space s accepts the
 * one config `only`: 1 if config is it, else 0 with why naming it. */
int tk_cuda_only_config(const tk_config_space *s, const void *config, const void *only, char *why,
                        size_t len);

/* Runs an enqueue returning a cudaError_t on device `device`: switches to
 * it, makes it the launch device of impls/cuda/launch_cache.h (so the
 * launches ask the runtime nothing), calls enqueue(arg), switches back;
 * the error becomes a status naming `what` (e.g. "attention (cuda_tiled)"). */
tk_status tk_cuda_enqueue_on(int device, int (*enqueue)(void *arg), void *arg, const char *what);

#endif
