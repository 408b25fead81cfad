/* errors.c: library statuses as Python exceptions. */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

static PyObject *base_class;     /* tokamax_c.TokamaxError */
static PyObject *status_classes; /* dict: int status -> subclass */

PyObject *tkpy_set_error_classes(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *base, *classes;
  if (!PyArg_ParseTuple(args, "OO!", &base, &PyDict_Type, &classes)) return NULL;
  Py_XSETREF(base_class, Py_NewRef(base));
  Py_XSETREF(status_classes, Py_NewRef(classes));
  Py_RETURN_NONE;
}

PyObject *tkpy_raise_status(tk_status s, const char *message) {
  if (!message) message = tk_last_error();
  PyObject *cls = NULL;
  if (status_classes) {
    PyObject *key = PyLong_FromLong((long)s);
    if (!key) return NULL;
    cls = PyDict_GetItemWithError(status_classes, key); /* borrowed */
    Py_DECREF(key);
    if (!cls && PyErr_Occurred()) return NULL;
  }
  if (!cls) cls = base_class ? base_class : PyExc_RuntimeError;
  PyObject *exc = PyObject_CallFunction(cls, "ss", tk_status_string(s), message);
  if (!exc) return NULL;
  PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
  Py_DECREF(exc);
  return NULL;
}

PyObject *tkpy_raise_invalid(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return tkpy_raise_status(TK_ERR_INVALID_ARGUMENT, msg);
}
