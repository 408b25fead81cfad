/* dtypes.c: the dtype mapping of tensors.c. */
#include "dtypes.h"

#include "errors.h"

/* The NumPy dtype of ml_dtypes' type `name` (bfloat16, float8_e4m3fn),
 * imported on first use into *slot (borrowed; kept for the life of the
 * process). NULL with an exception when ml_dtypes is missing. */
static PyArray_Descr *ml_descr(PyArray_Descr **slot, const char *name) {
  if (*slot) return *slot;
  PyObject *mod = PyImport_ImportModule("ml_dtypes");
  if (!mod) return NULL;
  PyObject *type = PyObject_GetAttrString(mod, name);
  Py_DECREF(mod);
  if (!type) return NULL;
  PyArray_Descr *d = NULL;
  int ok = PyArray_DescrConverter(type, &d);
  Py_DECREF(type);
  if (!ok) return NULL;
  *slot = d;
  return d;
}

static PyArray_Descr *bfloat16_descr(void) {
  static PyArray_Descr *descr;
  return ml_descr(&descr, "bfloat16");
}

static PyArray_Descr *float8_e4m3fn_descr(void) {
  static PyArray_Descr *descr;
  return ml_descr(&descr, "float8_e4m3fn");
}

int tkpy_dtype_of_array(PyArrayObject *a, const char *op, const char *name, DLDataType *out) {
  PyArray_Descr *d = PyArray_DESCR(a);
  int bits = (int)PyArray_ITEMSIZE(a) * 8;
  if (PyArray_ISBYTESWAPPED(a)) {
    tkpy_raise_invalid("%s: %s has non-native byte order", op, name);
    return -1;
  }
  out->lanes = 1;
  out->bits = (uint8_t)bits;
  switch (d->kind) {
    case 'f':
      out->code = kDLFloat;
      return 0;
    case 'i':
      out->code = kDLInt;
      return 0;
    case 'u':
      out->code = kDLUInt;
      return 0;
    default:
      break;
  }
  if (bits == 16) {
    PyArray_Descr *bf16 = bfloat16_descr();
    if (!bf16) PyErr_Clear(); /* without ml_dtypes no array can be bfloat16 */
    if (bf16 && d->typeobj == bf16->typeobj) {
      out->code = kDLBfloat;
      return 0;
    }
  }
  if (bits == 8) {
    PyArray_Descr *fp8 = float8_e4m3fn_descr();
    if (!fp8) PyErr_Clear();
    if (fp8 && d->typeobj == fp8->typeobj) {
      out->code = 10; /* kDLFloat8_e4m3fn of DLPack 1.x */
      return 0;
    }
  }
  PyObject *text = PyObject_Str((PyObject *)d);
  tkpy_raise_invalid(
      "%s: %s has NumPy dtype %s; the library takes float32, float16 or bfloat16 "
      "(ml_dtypes) data, int32 indices, and int8 or float8_e4m3fn (ml_dtypes) paged KV caches",
      op, name, text ? PyUnicode_AsUTF8(text) : "?");
  Py_XDECREF(text);
  return -1;
}

PyArray_Descr *tkpy_descr_of(DLDataType dt, const char *op, const char *name) {
  if (dt.lanes == 1 && dt.code == kDLBfloat && dt.bits == 16) {
    PyArray_Descr *bf16 = bfloat16_descr();
    if (!bf16) return NULL;
    Py_INCREF(bf16);
    return bf16;
  }
  int type = -1;
  if (dt.lanes == 1 && dt.code == kDLFloat)
    type = dt.bits == 16   ? NPY_FLOAT16
           : dt.bits == 32 ? NPY_FLOAT32
           : dt.bits == 64 ? NPY_FLOAT64
                           : -1;
  else if (dt.lanes == 1 && dt.code == kDLInt)
    type = dt.bits == 8    ? NPY_INT8
           : dt.bits == 16 ? NPY_INT16
           : dt.bits == 32 ? NPY_INT32
           : dt.bits == 64 ? NPY_INT64
                           : -1;
  else if (dt.lanes == 1 && dt.code == kDLUInt)
    type = dt.bits == 8    ? NPY_UINT8
           : dt.bits == 16 ? NPY_UINT16
           : dt.bits == 32 ? NPY_UINT32
           : dt.bits == 64 ? NPY_UINT64
                           : -1;
  if (type < 0) {
    tkpy_raise_invalid(
        "%s: cannot allocate %s: DLPack dtype code %d, %d bits, %d lanes has no "
        "NumPy dtype; pass it with out=",
        op, name, dt.code, dt.bits, dt.lanes);
    return NULL;
  }
  return PyArray_DescrFromType(type);
}
