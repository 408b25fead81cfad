/* plan.c: the Plan type: what tk_plan_create chose, and why. Running a
 * plan goes through the op's own function (op_entry.c). */
#include "plan.h"

PyObject *tkpy_plan_wrap(tk_plan *plan, const tkpy_op *op, PyObject *context) {
  tkpy_plan *self = PyObject_New(tkpy_plan, &tkpy_plan_type);
  if (!self) {
    tk_plan_destroy(plan);
    return NULL;
  }
  self->plan = plan;
  self->op = op;
  Py_INCREF(context);
  self->context = context;
  return (PyObject *)self;
}

static void plan_dealloc(tkpy_plan *self) {
  tk_plan_destroy(self->plan);
  Py_XDECREF(self->context);
  PyObject_Free(self);
}

static PyObject *plan_op(tkpy_plan *self, void *unused) {
  (void)unused;
  return PyUnicode_FromString(self->op->name);
}

static PyObject *plan_impl(tkpy_plan *self, void *unused) {
  (void)unused;
  return PyUnicode_FromString(tk_plan_impl(self->plan));
}

static PyObject *plan_config(tkpy_plan *self, void *unused) {
  (void)unused;
  return PyUnicode_FromString(tk_plan_config(self->plan));
}

static PyObject *plan_source(tkpy_plan *self, void *unused) {
  (void)unused;
  return PyUnicode_FromString(tk_choice_source_name(tk_plan_source(self->plan)));
}

static PyObject *plan_key(tkpy_plan *self, void *unused) {
  (void)unused;
  return PyUnicode_FromString(tk_plan_problem_key(self->plan));
}

static PyObject *plan_context(tkpy_plan *self, void *unused) {
  (void)unused;
  Py_INCREF(self->context);
  return self->context;
}

static PyGetSetDef plan_getset[] = {
    {"op", (getter)plan_op, NULL, "The op's name.", NULL},
    {"impl", (getter)plan_impl, NULL, "The chosen implementation.", NULL},
    {"config", (getter)plan_config, NULL, "The chosen configuration, \"name=value,...\".", NULL},
    {"source", (getter)plan_source, NULL,
     "Why: \"forced\", \"cache\", \"nearest\" or \"heuristic\".", NULL},
    {"problem_key", (getter)plan_key, NULL, "The canonical problem key of the tuning cache.", NULL},
    {"context", (getter)plan_context, NULL, "The Context the plan runs in.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject tkpy_plan_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tokamax_c._C.Plan",
    .tp_basicsize = sizeof(tkpy_plan),
    .tp_dealloc = (destructor)plan_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A resolved implementation and configuration for one problem (tk_plan).",
    .tp_getset = plan_getset,
};
