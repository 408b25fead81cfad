/* gpu_timing.h: what rows running on a CUDA device need besides the case's
 * device copy (regress/ tk_case_device): whether a device is usable,
 * CUDA-event timing of a plan, and an L2 flush. Built only with CUDA. */
#ifndef TK_BENCH_GPU_TIMING_H
#define TK_BENCH_GPU_TIMING_H

#include <stddef.h>

#include "tokamax.h"

/* 1 if a CUDA device is usable; else 0 with the reason in why. */
int tk_gpu_available(char *why, size_t why_len);

/* Times one tk_plan_run(plan, args) with CUDA events on the default stream
 * (the context's): *secs set when the call succeeds. */
tk_status tk_gpu_time_plan(tk_plan *plan, const void *args, double *secs);

/* Overwrites a device buffer twice the L2 so the next call finds nothing
 * of its inputs there. */
void tk_gpu_flush_l2(void);

#endif
