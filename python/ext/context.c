/* context.c: the Context type: creation with tk_context_options, describe,
 * thread count, and the address tokamax_c.jax hands to the FFI handlers. */
#include "context.h"

#include <stdlib.h>
#include <structmember.h>

#include "errors.h"

static PyObject *context_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  static char *names[] = {"num_threads", "cache_path", "tune_on_miss", "cuda_stream", NULL};
  int threads = 0, tune = 0;
  PyObject *cache_path = Py_None;
  unsigned long long stream = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|iOpK:Context", names, &threads, &cache_path,
                                   &tune, &stream))
    return NULL;
  if (cache_path != Py_None && !PyUnicode_Check(cache_path)) {
    PyObject *fs = PyOS_FSPath(cache_path);
    if (!fs) return NULL;
    cache_path = PyUnicode_Check(fs) ? fs : NULL;
    if (!cache_path) {
      Py_DECREF(fs);
      PyErr_SetString(PyExc_TypeError, "Context: cache_path must be a str or a path");
      return NULL;
    }
  } else {
    Py_INCREF(cache_path);
  }
  tk_context_options o = {0};
  o.cache_path = cache_path == Py_None ? NULL : PyUnicode_AsUTF8(cache_path);
  o.num_threads = threads;
  o.tune = tune ? TK_TUNE_ON_MISS : TK_TUNE_OFF;
  o.cuda_stream = (void *)(uintptr_t)stream;
  if (cache_path != Py_None && !o.cache_path) {
    Py_DECREF(cache_path);
    return NULL;
  }
  tk_context *ctx = NULL;
  tk_status s;
  Py_BEGIN_ALLOW_THREADS s = tk_context_create(&o, &ctx);
  Py_END_ALLOW_THREADS if (s != TK_OK) {
    Py_DECREF(cache_path);
    return tkpy_raise_status(s, NULL);
  }
  tkpy_context *self = (tkpy_context *)type->tp_alloc(type, 0);
  if (!self) {
    tk_context_destroy(ctx);
    Py_DECREF(cache_path);
    return NULL;
  }
  self->ctx = ctx;
  self->cuda_stream = o.cuda_stream;
  self->cache_path = cache_path;
  self->requested_threads = threads;
  self->tune_on_miss = (char)(tune != 0);
  return (PyObject *)self;
}

static void context_dealloc(tkpy_context *self) {
  tk_context_destroy(self->ctx);
  Py_XDECREF(self->cache_path);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *context_describe(tkpy_context *self, PyObject *unused) {
  (void)unused;
  size_t len = 4096;
  for (int attempt = 0; attempt < 8; attempt++, len *= 4) {
    char *buf = malloc(len);
    if (!buf) return PyErr_NoMemory();
    tk_status s = tk_context_describe(self->ctx, buf, len);
    if (s == TK_OK) {
      PyObject *text = PyUnicode_FromString(buf);
      free(buf);
      return text;
    }
    free(buf);
    if (s != TK_ERR_INVALID_ARGUMENT) return tkpy_raise_status(s, NULL);
  }
  return tkpy_raise_status(TK_ERR_INTERNAL, "Context.describe: the description does not fit");
}

static PyObject *context_num_threads(tkpy_context *self, void *unused) {
  (void)unused;
  return PyLong_FromLong(tk_context_num_threads(self->ctx));
}

static PyObject *context_address(tkpy_context *self, void *unused) {
  (void)unused;
  return PyLong_FromVoidPtr(self->ctx);
}

static PyObject *context_cuda_stream(tkpy_context *self, void *unused) {
  (void)unused;
  return PyLong_FromVoidPtr(self->cuda_stream);
}

static PyMethodDef context_methods[] = {
    {"describe", (PyCFunction)context_describe, METH_NOARGS,
     "The detected device as JSON text (what `tokamax-tune device --json` prints)."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef context_getset[] = {
    {"num_threads", (getter)context_num_threads, NULL, "Threads the context computes with.", NULL},
    {"address", (getter)context_address, NULL, "The tk_context pointer, as an int.", NULL},
    {"cuda_stream", (getter)context_cuda_stream, NULL,
     "The cudaStream_t for CUDA calls (0: default).", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMemberDef context_members[] = {
    {"cache_path", T_OBJECT, offsetof(tkpy_context, cache_path), READONLY,
     "The tuning cache path as given (None: the default)."},
    {"tune_on_miss", T_BOOL, offsetof(tkpy_context, tune_on_miss), READONLY,
     "Whether a shape the cache lacks is swept and stored."},
    {"requested_threads", T_INT, offsetof(tkpy_context, requested_threads), READONLY,
     "num_threads as given (0: one per physical core)."},
    {NULL, 0, 0, 0, NULL}};

PyTypeObject tkpy_context_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tokamax_c._C.Context",
    .tp_basicsize = sizeof(tkpy_context),
    .tp_dealloc = (destructor)context_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A libkernels context (tk_context): detected device, thread pool, tuning cache.",
    .tp_methods = context_methods,
    .tp_members = context_members,
    .tp_getset = context_getset,
    .tp_new = context_new,
};
