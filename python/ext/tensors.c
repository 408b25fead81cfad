/* tensors.c: NumPy arrays and DLPack tensors as DLTensor arguments. */
#include "tensors.h"

#include <string.h>

#include "dtypes.h"
#include "errors.h"

const DLDataType tkpy_f32 = {kDLFloat, 32, 1};
const DLDataType tkpy_i32 = {kDLInt, 32, 1};

void tkpy_tensors_init(tkpy_tensors *ts, const char *op, void *cuda_stream) {
  ts->op = op;
  ts->cuda_stream = cuda_stream;
  ts->n = 0;
  ts->n_capsules = 0;
  ts->have_device = 0;
}

void tkpy_tensors_release(tkpy_tensors *ts) {
  for (int i = 0; i < ts->n_capsules; i++) Py_DECREF(ts->capsules[i]);
  ts->n_capsules = 0;
}

/* The next free tensor slot, or NULL with an exception. */
static tkpy_tensor *next_slot(tkpy_tensors *ts) {
  if (ts->n >= TKPY_MAX_TENSORS) {
    PyErr_SetString(PyExc_SystemError, "tokamax_c: too many tensors in one call");
    return NULL;
  }
  return &ts->t[ts->n++];
}

static void note_device(tkpy_tensors *ts, DLDevice d) {
  if (ts->have_device) return;
  ts->have_device = 1;
  ts->device = d;
}

/* A NumPy array: data, shape, strides (bytes -> elements) and dtype. */
static int take_array(tkpy_tensors *ts, PyArrayObject *a, const char *name, int is_output,
                      DLTensor **out) {
  int ndim = PyArray_NDIM(a);
  if (ndim > TKPY_MAX_DIMS) {
    tkpy_raise_invalid("%s: %s has rank %d, more than %d", ts->op, name, ndim, TKPY_MAX_DIMS);
    return -1;
  }
  if (is_output && !PyArray_ISWRITEABLE(a)) {
    tkpy_raise_invalid("%s: %s is a read-only NumPy array", ts->op, name);
    return -1;
  }
  DLDataType dt;
  if (tkpy_dtype_of_array(a, ts->op, name, &dt) != 0) return -1;
  tkpy_tensor *t = next_slot(ts);
  if (!t) return -1;
  npy_intp item = PyArray_ITEMSIZE(a);
  const npy_intp *dims = PyArray_DIMS(a), *strides = PyArray_STRIDES(a);
  for (int i = 0; i < ndim; i++) {
    if (strides[i] % item != 0) {
      ts->n--;
      tkpy_raise_invalid(
          "%s: %s has a stride of %lld bytes at dim %d, not a multiple of its "
          "%lld-byte elements",
          ts->op, name, (long long)strides[i], i, (long long)item);
      return -1;
    }
    t->shape[i] = dims[i];
    t->strides[i] = strides[i] / item;
  }
  memset(&t->dl, 0, sizeof t->dl);
  t->dl.data = PyArray_DATA(a);
  t->dl.device = (DLDevice){kDLCPU, 0};
  t->dl.ndim = ndim;
  t->dl.dtype = dt;
  t->dl.shape = t->shape;
  t->dl.strides = t->strides;
  note_device(ts, t->dl.device);
  *out = &t->dl;
  return 0;
}

/* obj.__dlpack__(), passing the context's stream to a CUDA producer. */
static PyObject *export_dlpack(tkpy_tensors *ts, PyObject *obj) {
  if (!ts->cuda_stream) return PyObject_CallMethod(obj, "__dlpack__", NULL);
  PyObject *dev = PyObject_CallMethod(obj, "__dlpack_device__", NULL);
  if (!dev) return NULL;
  long type = PyTuple_Check(dev) && PyTuple_GET_SIZE(dev) == 2
                  ? PyLong_AsLong(PyTuple_GET_ITEM(dev, 0))
                  : -1;
  Py_DECREF(dev);
  if (type == -1 && PyErr_Occurred()) return NULL;
  if (type != kDLCUDA) return PyObject_CallMethod(obj, "__dlpack__", NULL);
  PyObject *kw = Py_BuildValue("{s:K}", "stream", (unsigned long long)(uintptr_t)ts->cuda_stream);
  if (!kw) return NULL;
  PyObject *method = PyObject_GetAttrString(obj, "__dlpack__");
  PyObject *capsule = method ? PyObject_VectorcallDict(method, NULL, 0, kw) : NULL;
  Py_XDECREF(method);
  Py_DECREF(kw);
  return capsule;
}

/* Whether obj is a JAX array (its type's module is jax... or jaxlib...). */
static int is_jax_array(PyObject *obj) {
  PyObject *mod = PyObject_GetAttrString((PyObject *)Py_TYPE(obj), "__module__");
  const char *m = mod && PyUnicode_Check(mod) ? PyUnicode_AsUTF8(mod) : NULL;
  int jax = m && strncmp(m, "jax", 3) == 0;
  Py_XDECREF(mod);
  PyErr_Clear();
  return jax;
}

/* Any object with __dlpack__: its DLTensor, valid while the capsule lives.
 * The capsule is not consumed (not renamed), so releasing it runs the
 * producer's deleter. */
static int take_dlpack(tkpy_tensors *ts, PyObject *obj, const char *name, int is_output,
                       DLTensor **out) {
  if (is_output && is_jax_array(obj)) {
    tkpy_raise_invalid(
        "%s: %s is a JAX array, which is immutable; use tokamax_c.jax inside "
        "jax.jit, or pass a NumPy array",
        ts->op, name);
    return -1;
  }
  if (ts->n_capsules >= TKPY_MAX_TENSORS || ts->n >= TKPY_MAX_TENSORS) {
    PyErr_SetString(PyExc_SystemError, "tokamax_c: too many tensors in one call");
    return -1;
  }
  PyObject *capsule = export_dlpack(ts, obj);
  if (!capsule) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *text = value ? PyObject_Str(value) : NULL;
    tkpy_raise_invalid("%s: %s could not be exported through __dlpack__: %s", ts->op, name,
                       text ? PyUnicode_AsUTF8(text) : "?");
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return -1;
  }
  DLManagedTensor *m = PyCapsule_GetPointer(capsule, "dltensor");
  if (!m) {
    Py_DECREF(capsule);
    PyErr_Clear();
    tkpy_raise_invalid("%s: %s's __dlpack__ did not return an unused \"dltensor\" capsule", ts->op,
                       name);
    return -1;
  }
  ts->capsules[ts->n_capsules++] = capsule;
  tkpy_tensor *t = &ts->t[ts->n++];
  t->dl = m->dl_tensor;
  note_device(ts, t->dl.device);
  *out = &t->dl;
  return 0;
}

int tkpy_take(tkpy_tensors *ts, PyObject *obj, const char *name, int is_output, DLTensor **out) {
  *out = NULL;
  if (obj == Py_None) return 0;
  if (PyArray_Check(obj)) return take_array(ts, (PyArrayObject *)obj, name, is_output, out);
  if (PyObject_HasAttrString(obj, "__dlpack__")) return take_dlpack(ts, obj, name, is_output, out);
  tkpy_raise_invalid("%s: %s is a %s, which is neither a NumPy array nor has __dlpack__", ts->op,
                     name, Py_TYPE(obj)->tp_name);
  return -1;
}

PyObject *tkpy_alloc(tkpy_tensors *ts, const char *name, int ndim, const int64_t *shape,
                     DLDataType dtype, DLTensor **out) {
  if (ts->have_device && ts->device.device_type != kDLCPU &&
      ts->device.device_type != kDLCUDAHost) {
    tkpy_raise_invalid(
        "%s: the inputs are on device type %d; pass %s= (outputs are allocated as "
        "NumPy arrays, on the CPU)",
        ts->op, (int)ts->device.device_type, name);
    return NULL;
  }
  npy_intp dims[TKPY_MAX_DIMS];
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0) {
      tkpy_raise_invalid("%s: cannot allocate %s with negative size %lld at dim %d", ts->op, name,
                         (long long)shape[i], i);
      return NULL;
    }
    dims[i] = (npy_intp)shape[i];
  }
  PyArray_Descr *descr = tkpy_descr_of(dtype, ts->op, name);
  if (!descr) return NULL;
  PyObject *a = PyArray_Empty(ndim, dims, descr, 0); /* steals descr */
  if (!a) return NULL;
  if (take_array(ts, (PyArrayObject *)a, name, 1, out) != 0) {
    Py_DECREF(a);
    return NULL;
  }
  return a;
}

int tkpy_output(tkpy_tensors *ts, PyObject *obj, const char *name, int ndim, const int64_t *shape,
                DLDataType dtype, DLTensor **out, PyObject **result) {
  *out = NULL;
  *result = NULL;
  if (obj != Py_None) {
    if (tkpy_take(ts, obj, name, 1, out) != 0) return -1;
    Py_INCREF(obj);
    *result = obj;
    return 0;
  }
  if (!shape) {
    Py_INCREF(Py_None);
    *result = Py_None;
    return 0;
  }
  *result = tkpy_alloc(ts, name, ndim, shape, dtype, out);
  return *result ? 0 : -1;
}
