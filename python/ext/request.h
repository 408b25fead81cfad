/* request.h: tokamax_c._C.Request, a call target that asks about a call
 * instead of running it: plan it, ask whether an implementation runs it,
 * or time the library's entry point on it. The op function given a
 * Request as its target builds the call as usual, answers into
 * request.result and returns None. */
#ifndef TKPY_REQUEST_H
#define TKPY_REQUEST_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

enum {
  TKPY_REQUEST_PLAN = 0,     /* result: a Plan (tk_plan_create) */
  TKPY_REQUEST_SUPPORTS = 1, /* result: None when impl runs it here, else why not (str) */
  TKPY_REQUEST_TIME = 2      /* result: seconds per call over iters calls, timed in C */
};

typedef struct {
  PyObject_HEAD int kind;
  PyObject *context; /* the tokamax_c._C.Context */
  PyObject *impl;    /* str: the implementation asked about (SUPPORTS) */
  long iters;        /* TIME */
  PyObject *result;
} tkpy_request;

extern PyTypeObject tkpy_request_type;

#endif /* TKPY_REQUEST_H */
