/* request.c: the Request type (request.h). */
#include "request.h"

#include <structmember.h>

#include "context.h"

static PyObject *request_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  static char *names[] = {"kind", "context", "impl", "iters", NULL};
  int kind;
  PyObject *context, *impl = Py_None;
  long iters = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "iO!|Ol:Request", names, &kind, &tkpy_context_type,
                                   &context, &impl, &iters))
    return NULL;
  if (kind < TKPY_REQUEST_PLAN || kind > TKPY_REQUEST_TIME) {
    PyErr_Format(PyExc_ValueError, "Request: kind %d is not a request", kind);
    return NULL;
  }
  if (kind == TKPY_REQUEST_SUPPORTS && !PyUnicode_Check(impl)) {
    PyErr_SetString(PyExc_TypeError, "Request: a supports request needs impl (str)");
    return NULL;
  }
  if (iters < 1) {
    PyErr_Format(PyExc_ValueError, "Request: iters is %ld, expected >= 1", iters);
    return NULL;
  }
  tkpy_request *self = (tkpy_request *)type->tp_alloc(type, 0);
  if (!self) return NULL;
  self->kind = kind;
  Py_INCREF(context);
  self->context = context;
  Py_INCREF(impl);
  self->impl = impl;
  self->iters = iters;
  Py_INCREF(Py_None);
  self->result = Py_None;
  return (PyObject *)self;
}

static void request_dealloc(tkpy_request *self) {
  Py_XDECREF(self->context);
  Py_XDECREF(self->impl);
  Py_XDECREF(self->result);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMemberDef request_members[] = {
    {"result", T_OBJECT, offsetof(tkpy_request, result), READONLY, "The answer (None before)."},
    {"context", T_OBJECT, offsetof(tkpy_request, context), READONLY, "The Context asked in."},
    {NULL, 0, 0, 0, NULL}};

PyTypeObject tkpy_request_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tokamax_c._C.Request",
    .tp_basicsize = sizeof(tkpy_request),
    .tp_dealloc = (destructor)request_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Request(kind, context, impl=None, iters=1): ask about a call instead of running it.",
    .tp_members = request_members,
    .tp_new = request_new,
};
