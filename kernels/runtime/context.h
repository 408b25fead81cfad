/* context.h: what a tk_context holds. */
#ifndef TK_RUNTIME_CONTEXT_H
#define TK_RUNTIME_CONTEXT_H

#include "device.h"
#include "thread_pool.h"
#include "tokamax.h"

struct tk_context {
  tk_device_info dev;
  tk_pool *pool;
  int num_threads;
  int tune;
  void *cuda_stream;
  char *cache_path;      /* resolved path (owned), or ":memory:" */
};

/* The execution environment an implementation runs with. */
typedef struct {
  tk_pool *pool;
  const tk_device_info *dev;
  void *cuda_stream;
} tk_exec;

#endif
