/* context.h: tokamax_c._C.Context, a tk_context owned by a Python object. */
#ifndef TKPY_CONTEXT_H
#define TKPY_CONTEXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "tokamax.h"

typedef struct {
  PyObject_HEAD tk_context *ctx;
  void *cuda_stream;
  PyObject *cache_path; /* str or None, as given */
  int requested_threads;
  char tune_on_miss;
} tkpy_context;

extern PyTypeObject tkpy_context_type;

#endif /* TKPY_CONTEXT_H */
