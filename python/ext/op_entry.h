/* op_entry.h: the one function behind every op of the module (op.h). */
#ifndef TKPY_OP_ENTRY_H
#define TKPY_OP_ENTRY_H

#include "op.h"

/* _C.<op>(target, impl, config, *op_args). target is a Context (run the
 * op, return its outputs), a Plan of this op (run the plan), or a Request
 * (answer it, return None). */
PyObject *tkpy_call_op(const tkpy_op *op, PyObject *const *args, Py_ssize_t nargs);

#endif /* TKPY_OP_ENTRY_H */
