/* context.h: what a tk_context holds. */
#ifndef TK_RUNTIME_CONTEXT_H
#define TK_RUNTIME_CONTEXT_H

#include "runtime/device.h"
#include "runtime/thread_pool.h"
#include "tokamax.h"

#include <pthread.h>

struct tk_tuned_map;

struct tk_context {
  tk_device_info dev;
  tk_pool *pool;
  int num_threads;
  int tune;
  void *cuda_stream;
  char *cache_path;      /* resolved path (owned), or ":memory:" */
  struct tk_tuned_map *tuned; /* best choices of this machine's devices (autotune/tuned_map.h) */
  pthread_mutex_t tune_lock;  /* one TK_TUNE_ON_MISS sweep at a time */
};

/* The execution environment an implementation runs with. */
typedef struct {
  tk_pool *pool;
  const tk_device_info *dev;
  void *cuda_stream;
} tk_exec;

#endif
