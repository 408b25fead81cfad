/* module.c: tokamax_c._C, the CPython extension over libkernels. One
 * function per op (op.h's table; each also runs plans and answers
 * requests), and introspection; the Python layer (tokamax_c/_ops.py) gives
 * them keyword arguments. */
#define TKPY_NUMPY_IMPORT
#include "context.h"
#include "errors.h"
#include "numpy_api.h"
#include "op_entry.h"
#include "plan.h"
#include "request.h"

#define OP_FUNCTION(name)                                                               \
  static PyObject *py_##name(PyObject *self, PyObject *const *args, Py_ssize_t nargs) { \
    (void)self;                                                                         \
    return tkpy_call_op(&tkpy_op_##name, args, nargs);                                  \
  }
OP_FUNCTION(attention)
OP_FUNCTION(grouped_gemm)
OP_FUNCTION(moe_permute)
OP_FUNCTION(moe_unpermute)
OP_FUNCTION(paged_attention)
OP_FUNCTION(attention_backward)
OP_FUNCTION(moe_unpermute_backward)

/* _C.impl_list(op_name) -> [names], fastest first, "reference" last. */
static PyObject *py_impl_list(PyObject *self, PyObject *name) {
  (void)self;
  const tkpy_op *op = tkpy_op_named(name);
  if (!op) return NULL;
  const char *names[64];
  int count = 0;
  tk_status s = tk_impl_list(op->op, names, 64, &count);
  if (s != TK_OK) return tkpy_raise_status(s, NULL);
  if (count > 64) count = 64;
  PyObject *list = PyList_New(count);
  for (int i = 0; list && i < count; i++) {
    PyObject *n = PyUnicode_FromString(names[i]);
    if (!n) {
      Py_CLEAR(list);
      break;
    }
    PyList_SET_ITEM(list, i, n);
  }
  return list;
}

/* _C.config_space(op_name, impl) -> "name: v1 v2 ...\n..." */
static PyObject *py_config_space(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *name;
  const char *impl;
  if (!PyArg_ParseTuple(args, "Us", &name, &impl)) return NULL;
  const tkpy_op *op = tkpy_op_named(name);
  if (!op) return NULL;
  char buf[8192];
  tk_status s = tk_impl_config_space(op->op, impl, buf, sizeof buf);
  if (s != TK_OK) return tkpy_raise_status(s, NULL);
  return PyUnicode_FromString(buf);
}

/* _C.op_names() -> the ops this build binds, in op-table order. */
static PyObject *py_op_names(PyObject *self, PyObject *unused) {
  (void)self, (void)unused;
  PyObject *list = PyList_New(0);
  for (int i = 0; list && tkpy_ops[i]; i++) {
    PyObject *n = PyUnicode_FromString(tkpy_ops[i]->name);
    if (!n || PyList_Append(list, n) != 0) Py_CLEAR(list);
    Py_XDECREF(n);
  }
  return list;
}

static PyObject *py_version(PyObject *self, PyObject *unused) {
  (void)self, (void)unused;
  return PyUnicode_FromString(tk_version());
}

static PyMethodDef methods[] = {
    {"attention", (PyCFunction)(void (*)(void))py_attention, METH_FASTCALL, NULL},
    {"grouped_gemm", (PyCFunction)(void (*)(void))py_grouped_gemm, METH_FASTCALL, NULL},
    {"moe_permute", (PyCFunction)(void (*)(void))py_moe_permute, METH_FASTCALL, NULL},
    {"moe_unpermute", (PyCFunction)(void (*)(void))py_moe_unpermute, METH_FASTCALL, NULL},
    {"paged_attention", (PyCFunction)(void (*)(void))py_paged_attention, METH_FASTCALL, NULL},
    {"attention_backward", (PyCFunction)(void (*)(void))py_attention_backward, METH_FASTCALL, NULL},
    {"moe_unpermute_backward", (PyCFunction)(void (*)(void))py_moe_unpermute_backward,
     METH_FASTCALL, NULL},
    {"impl_list", py_impl_list, METH_O, NULL},
    {"config_space", py_config_space, METH_VARARGS, NULL},
    {"op_names", py_op_names, METH_NOARGS, NULL},
    {"version", py_version, METH_NOARGS, NULL},
    {"_set_error_classes", tkpy_set_error_classes, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT,
                                    "_C",
                                    "libkernels, bound for tokamax_c (see tokamax_c's functions).",
                                    -1,
                                    methods,
                                    NULL,
                                    NULL,
                                    NULL,
                                    NULL};

PyMODINIT_FUNC PyInit__C(void) {
  import_array();
  if (PyType_Ready(&tkpy_context_type) < 0 || PyType_Ready(&tkpy_plan_type) < 0 ||
      PyType_Ready(&tkpy_request_type) < 0)
    return NULL;
  PyObject *m = PyModule_Create(&module);
  if (!m) return NULL;
  if (PyModule_AddObjectRef(m, "Context", (PyObject *)&tkpy_context_type) < 0 ||
      PyModule_AddObjectRef(m, "Plan", (PyObject *)&tkpy_plan_type) < 0 ||
      PyModule_AddObjectRef(m, "Request", (PyObject *)&tkpy_request_type) < 0 ||
      PyModule_AddIntConstant(m, "REQUEST_PLAN", TKPY_REQUEST_PLAN) < 0 ||
      PyModule_AddIntConstant(m, "REQUEST_SUPPORTS", TKPY_REQUEST_SUPPORTS) < 0 ||
      PyModule_AddIntConstant(m, "REQUEST_TIME", TKPY_REQUEST_TIME) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
