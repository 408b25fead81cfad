/* cuda_timer.h: timing work queued on a CUDA stream with events, optionally
 * evicting the device's L2 before each timed run so small inputs are not
 * flattered by a warm cache. Plain C (cudaStream_t passed as void *);
 * defined only in CUDA builds (runtime/cuda/cuda_timer.c). */
#ifndef TK_IMPLS_CUDA_CUDA_TIMER_H
#define TK_IMPLS_CUDA_CUDA_TIMER_H

#include "tokamax.h"

typedef struct tk_cuda_timer tk_cuda_timer;

/* A timer for work on `device`. flush_l2 != 0 also allocates a scratch
 * buffer of twice the device's L2 that each start overwrites first. */
tk_status tk_cuda_timer_create(int device, int flush_l2, tk_cuda_timer **out);
void tk_cuda_timer_destroy(tk_cuda_timer *t);

/* Queues the L2 eviction (if asked for) and then the start event on
 * `stream` (NULL: the legacy default stream). */
tk_status tk_cuda_timer_start(tk_cuda_timer *t, void *stream);

/* Queues the stop event on `stream`, waits for it, and stores the device
 * time between start and stop in *ns. A kernel fault queued in between is
 * TK_ERR_DEVICE with CUDA's message. */
tk_status tk_cuda_timer_stop(tk_cuda_timer *t, void *stream, double *ns);

#endif
