/* op_entry.c: building a call from the op table, then calling, planning,
 * asking or timing it. */
#include "op_entry.h"

#include <string.h>
#include <time.h>

#include "context.h"
#include "errors.h"
#include "plan.h"
#include "request.h"

const tkpy_op *const tkpy_ops[] = {&tkpy_op_attention,
                                   &tkpy_op_grouped_gemm,
                                   &tkpy_op_moe_permute,
                                   &tkpy_op_moe_unpermute,
                                   &tkpy_op_paged_attention,
                                   &tkpy_op_attention_backward,
                                   &tkpy_op_moe_unpermute_backward,
                                   NULL};

const tkpy_op *tkpy_op_named(PyObject *name) {
  const char *s = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
  if (!s) {
    PyErr_SetString(PyExc_TypeError, "op name must be a str");
    return NULL;
  }
  for (int i = 0; tkpy_ops[i]; i++)
    if (strcmp(tkpy_ops[i]->name, s) == 0) return tkpy_ops[i];
  tkpy_raise_invalid("no op named \"%s\" in this build of tokamax_c", s);
  return NULL;
}

int tkpy_float_arg(PyObject *obj, const char *op, const char *name, float *out) {
  double v = PyFloat_AsDouble(obj);
  if (v == -1.0 && PyErr_Occurred()) {
    PyErr_Format(PyExc_TypeError, "%s: %s must be a number, not %s", op, name,
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  *out = (float)v;
  return 0;
}

int tkpy_int_arg(PyObject *obj, const char *op, const char *name, int *out) {
  long v = PyLong_AsLong(obj);
  if (v == -1 && PyErr_Occurred()) {
    if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
      PyErr_Clear();
      tkpy_raise_invalid("%s: %s is out of range", op, name);
    } else {
      PyErr_Format(PyExc_TypeError, "%s: %s must be an int, not %s", op, name,
                   Py_TYPE(obj)->tp_name);
    }
    return -1;
  }
  if (v < -2147483647L - 1 || v > 2147483647L) {
    tkpy_raise_invalid("%s: %s is %ld, out of the int range", op, name, v);
    return -1;
  }
  *out = (int)v;
  return 0;
}

int tkpy_bool_arg(PyObject *obj, const char *op, const char *name, int *out) {
  int v = PyObject_IsTrue(obj);
  if (v < 0) {
    PyErr_Format(PyExc_TypeError, "%s: %s must be a truth value", op, name);
    return -1;
  }
  *out = v;
  return 0;
}

void tkpy_call_return(tkpy_call *c, PyObject *obj) {
  c->outs[c->n_outs++] = obj;
}

int tkpy_call_output(tkpy_call *c, PyObject *obj, const char *name, int ndim, const int64_t *shape,
                     DLDataType dtype, DLTensor **out) {
  PyObject *result;
  if (tkpy_output(&c->ts, obj, name, ndim, shape, dtype, out, &result)) return -1;
  tkpy_call_return(c, result);
  return 0;
}

/* Drops everything a call holds (its outputs included). */
static void call_discard(tkpy_call *c) {
  tkpy_tensors_release(&c->ts);
  for (int i = 0; i < c->n_outs; i++) Py_XDECREF(c->outs[i]);
  c->n_outs = 0;
}

/* What the call returns: its single output, or a tuple of them. */
static PyObject *call_result(tkpy_call *c) {
  tkpy_tensors_release(&c->ts);
  if (c->single) return c->outs[0];
  PyObject *t = PyTuple_New(c->n_outs);
  if (!t) {
    call_discard(c);
    return NULL;
  }
  for (int i = 0; i < c->n_outs; i++) PyTuple_SET_ITEM(t, i, c->outs[i]);
  return t;
}

/* tk_call_options from impl and config (str or None; the strings live as
 * long as the argument objects). 0, or -1 with an exception set. */
static int options_of(PyObject *impl, PyObject *config, tk_call_options *o) {
  o->impl = NULL;
  o->config = NULL;
  if (impl != Py_None && !(o->impl = PyUnicode_Check(impl) ? PyUnicode_AsUTF8(impl) : NULL)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "impl must be a str or None");
    return -1;
  }
  if (config != Py_None &&
      !(o->config = PyUnicode_Check(config) ? PyUnicode_AsUTF8(config) : NULL)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "config must be a str or None");
    return -1;
  }
  return 0;
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Builds the call of op from args[0..op->nargs) for tensors on ctx. */
static int build(tkpy_call *c, const tkpy_op *op, tkpy_context *ctx, PyObject *const *args,
                 Py_ssize_t nargs) {
  c->n_outs = 0;
  c->single = 0;
  memset(&c->args, 0, sizeof c->args);
  tkpy_tensors_init(&c->ts, op->name, ctx->cuda_stream);
  if (nargs != op->nargs) {
    PyErr_Format(PyExc_TypeError, "_C.%s takes %zd arguments after the options, got %zd", op->name,
                 op->nargs, nargs);
    return -1;
  }
  if (op->build(c, args) != 0) {
    call_discard(c);
    return -1;
  }
  return 0;
}

/* Answers request r about the built call c. Returns None, or NULL with an
 * exception. */
static PyObject *answer(tkpy_request *r, const tkpy_op *op, tkpy_call *c,
                        const tk_call_options *o) {
  tk_context *ctx = ((tkpy_context *)r->context)->ctx;
  PyObject *result = NULL;
  tk_status s = TK_OK;
  if (r->kind == TKPY_REQUEST_PLAN) {
    tk_plan *plan = NULL;
    s = tk_plan_create(ctx, op->op, &c->args, o, &plan);
    if (s == TK_OK && !(result = tkpy_plan_wrap(plan, op, r->context))) return NULL;
  } else if (r->kind == TKPY_REQUEST_SUPPORTS) {
    char why[1024] = "";
    s = tk_impl_supports(ctx, op->op, PyUnicode_AsUTF8(r->impl), &c->args, why, sizeof why);
    if (s == TK_OK) {
      Py_INCREF(Py_None);
      result = Py_None;
    } else if (s == TK_ERR_UNSUPPORTED) {
      s = TK_OK;
      if (!(result = PyUnicode_FromString(why))) return NULL;
    }
  } else {
    double t0, t1;
    Py_BEGIN_ALLOW_THREADS t0 = now_seconds();
    for (long i = 0; i < r->iters && s == TK_OK; i++) s = op->run(ctx, &c->args, o);
    t1 = now_seconds();
    Py_END_ALLOW_THREADS if (s == TK_OK && !(result = PyFloat_FromDouble(
                                                 (t1 - t0) / (double)r->iters))) return NULL;
  }
  if (s != TK_OK) return tkpy_raise_status(s, NULL);
  Py_SETREF(r->result, result);
  Py_RETURN_NONE;
}

PyObject *tkpy_call_op(const tkpy_op *op, PyObject *const *args, Py_ssize_t nargs) {
  if (nargs < 3) {
    PyErr_Format(PyExc_TypeError, "_C.%s(target, impl, config, ...)", op->name);
    return NULL;
  }
  PyObject *target = args[0];
  tkpy_plan *plan = NULL;
  tkpy_request *request = NULL;
  tkpy_context *ctx;
  if (PyObject_TypeCheck(target, &tkpy_context_type)) {
    ctx = (tkpy_context *)target;
  } else if (PyObject_TypeCheck(target, &tkpy_plan_type)) {
    plan = (tkpy_plan *)target;
    if (plan->op != op)
      return tkpy_raise_invalid("%s: the plan is for %s", op->name, plan->op->name);
    ctx = (tkpy_context *)plan->context;
  } else if (PyObject_TypeCheck(target, &tkpy_request_type)) {
    request = (tkpy_request *)target;
    ctx = (tkpy_context *)request->context;
  } else {
    PyErr_Format(PyExc_TypeError, "%s: context must be a tokamax_c.Context or Plan, not %s",
                 op->name, Py_TYPE(target)->tp_name);
    return NULL;
  }
  tk_call_options o;
  if (options_of(args[1], args[2], &o) != 0) return NULL;
  tkpy_call c;
  if (build(&c, op, ctx, args + 3, nargs - 3) != 0) return NULL;
  if (request) {
    PyObject *r = answer(request, op, &c, &o);
    call_discard(&c);
    return r;
  }
  tk_status s;
  Py_BEGIN_ALLOW_THREADS s =
      plan ? tk_plan_run(plan->plan, &c.args) : op->run(ctx->ctx, &c.args, &o);
  Py_END_ALLOW_THREADS if (s != TK_OK) {
    call_discard(&c);
    return tkpy_raise_status(s, NULL);
  }
  return call_result(&c);
}
