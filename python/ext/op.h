/* op.h: one table entry per op of the extension: how its Python arguments
 * become the library's args struct (taking and allocating tensors), how it
 * runs, and what it returns. op_entry.c drives every entry the same way:
 * call it, plan it, run a plan, ask an implementation, time it. */
#ifndef TKPY_OP_H
#define TKPY_OP_H

#include "tensors.h"

/* One call being built. */
typedef struct {
  tkpy_tensors ts;
  union {
    tk_attention_args attention;
    tk_attention_backward_args attention_backward;
    tk_grouped_gemm_args grouped_gemm;
    tk_moe_permute_args moe_permute;
    tk_moe_unpermute_args moe_unpermute;
    tk_moe_unpermute_backward_args moe_unpermute_backward;
    tk_paged_attention_args paged_attention;
  } args;
  PyObject *outs[4]; /* new references: what the call returns, in order */
  int n_outs;
  int single; /* return outs[0] alone rather than a tuple */
} tkpy_call;

typedef struct {
  const char *name; /* the op's name, as tk_op_name gives it */
  tk_op op;
  Py_ssize_t nargs; /* Python arguments after (target, impl, config) */
  /* Fills c->args from args[0..nargs): takes the tensors, allocates the
   * outputs not given. 0, or -1 with an exception set. */
  int (*build)(tkpy_call *c, PyObject *const *args);
  tk_status (*run)(tk_context *ctx, const void *args, const tk_call_options *opts);
} tkpy_op;

/* The entries (NULL-terminated) and lookup by name (NULL with an exception). */
extern const tkpy_op *const tkpy_ops[];
const tkpy_op *tkpy_op_named(PyObject *name);

/* Shared by the builders: a float, an int or a truth value of argument
 * `name`. 0, or -1 with an exception set. */
int tkpy_float_arg(PyObject *obj, const char *op, const char *name, float *out);
int tkpy_int_arg(PyObject *obj, const char *op, const char *name, int *out);
int tkpy_bool_arg(PyObject *obj, const char *op, const char *name, int *out);

/* Records an output (a new reference, may be None) as returned item. */
void tkpy_call_return(tkpy_call *c, PyObject *obj);

/* tkpy_output (tensors.h) for output `name` of the call, recording what it
 * returns for it. 0, or -1 with an exception set. */
int tkpy_call_output(tkpy_call *c, PyObject *obj, const char *name, int ndim, const int64_t *shape,
                     DLDataType dtype, DLTensor **out);

/* The op entries, defined beside their builders. */
extern const tkpy_op tkpy_op_attention, tkpy_op_grouped_gemm, tkpy_op_moe_permute,
    tkpy_op_moe_unpermute, tkpy_op_paged_attention, tkpy_op_attention_backward,
    tkpy_op_moe_unpermute_backward;

#endif /* TKPY_OP_H */
