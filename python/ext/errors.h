/* errors.h: raising the package's exceptions (tokamax_c.TokamaxError and
 * its subclasses, defined in Python and registered at import). */
#ifndef TKPY_ERRORS_H
#define TKPY_ERRORS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "tokamax.h"

/* Raises the exception of status s carrying its name and message (the
 * library's tk_last_error() when message is NULL). Returns NULL. */
PyObject *tkpy_raise_status(tk_status s, const char *message);

/* Raises an invalid-argument error with a printf-style message, like the
 * library's own ("attention: q is ..."). Returns NULL. */
PyObject *tkpy_raise_invalid(const char *fmt, ...);

/* _C._set_error_classes(base, {status: class}): the classes to raise. */
PyObject *tkpy_set_error_classes(PyObject *self, PyObject *args);

#endif /* TKPY_ERRORS_H */
