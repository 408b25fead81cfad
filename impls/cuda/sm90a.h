/* sm90a.h: whether this binary can run its sm_90a kernels (wgmma, TMA,
 * setmaxnreg: cuda_pipelined attention and grouped GEMM) on a device. One
 * probe kernel (sm90a_probe.cu) answers for all of them: its sm_90a build
 * declares TK_SM90A_PROBE_SMEM bytes of static shared memory and every
 * other build (sm_80, compute_90 PTX JIT-compiled, sm_90 without the "a"
 * features) none, so the runtime's attributes of the code it loads for the
 * device tell the two apart without a launch. The answer is asked once per
 * device. Plain C; impls/cuda only. */
#ifndef TK_IMPLS_CUDA_SM90A_H
#define TK_IMPLS_CUDA_SM90A_H

#include <stddef.h>

#include "kernels/impl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Static shared memory of the probe kernel's sm_90a build (bytes, under
 * 1024: cuobjdump shows 1024 more, the block's system reservation). */
#define TK_SM90A_PROBE_SMEM 272

/* The probe kernel (sm90a_probe.cu). */
const void *tk_cuda_sm90a_probe_kernel(void);

/* 1 if CUDA device `device` has compute capability 9.0 and the code this
 * binary holds for it is the sm_90a build. */
int tk_cuda_sm90a_available(int device);

/* tk_cuda_sm90a_available for device `device` of dev, or 0 with why:
 * "unsupported: needs compute capability 9.0 ..." or "unsupported: built
 * without sm_90a ...". */
int tk_cuda_sm90a_or_why(const tk_device_info *dev, int device, char *why, size_t len);

#ifdef __cplusplus
}
#endif

#endif
