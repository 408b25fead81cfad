/* plan.h: tokamax_c._C.Plan, a tk_plan owned by a Python object (which
 * keeps its Context alive). */
#ifndef TKPY_PLAN_H
#define TKPY_PLAN_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "op.h"

typedef struct {
  PyObject_HEAD tk_plan *plan;
  const tkpy_op *op;
  PyObject *context; /* the tokamax_c._C.Context the plan runs in */
} tkpy_plan;

extern PyTypeObject tkpy_plan_type;

/* A new Plan object owning plan (destroyed if this fails), for op in context. */
PyObject *tkpy_plan_wrap(tk_plan *plan, const tkpy_op *op, PyObject *context);

#endif /* TKPY_PLAN_H */
