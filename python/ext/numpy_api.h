/* numpy_api.h: NumPy's C API for the extension's files. module.c defines
 * TKPY_NUMPY_IMPORT before including it and calls import_array(); the
 * others share its API table. */
#ifndef TKPY_NUMPY_API_H
#define TKPY_NUMPY_API_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL tkpy_numpy_api
#ifndef TKPY_NUMPY_IMPORT
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#endif /* TKPY_NUMPY_API_H */
