/* gpu_timing.h: what rows running on a CUDA device need besides the case's
 * device copy (regress/ tk_case_device): whether a device is usable, and
 * CUDA-event timing of a plan, optionally from a cold L2. Built only with
 * CUDA. */
#ifndef TK_BENCH_GPU_TIMING_H
#define TK_BENCH_GPU_TIMING_H

#include <stddef.h>

#include "tokamax.h"

/* 1 if a CUDA device is usable; else 0 with the reason in why. */
int tk_gpu_available(char *why, size_t why_len);

/* Times one tk_plan_run(plan, args) on device 0 with CUDA events on the
 * default stream (the context's); flush_l2 != 0 first overwrites twice the
 * L2, outside the time, so the call finds nothing of its inputs there.
 * *secs set when the call succeeds. */
tk_status tk_gpu_time_plan(tk_plan *plan, const void *args, int flush_l2, double *secs);

#endif
