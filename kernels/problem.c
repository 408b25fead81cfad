/* problem.c: what every op's problem answers through the op table:
 * validation, data checks, the key, its tensors, its work. */
#include "kernels/op_desc.h"
#include "kernels/validate.h"
#include "runtime/status.h"

tk_status tk_problem_validate(tk_op op, const void *args, int need_data, tk_problem *out) {
  const tk_op_desc *d = tk_op_desc_of(op);
  if (!d) return tk_fail(TK_ERR_INVALID_ARGUMENT, "op is %d, not a known tk_op", (int)op);
  if (!args) return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: args is NULL", d->name);
  return d->validate(args, need_data, out);
}

tk_status tk_problem_check_data(const tk_problem *p) {
  const tk_op_desc *d = tk_op_desc_of(p->op);
  if (!d) return tk_fail(TK_ERR_INVALID_ARGUMENT, "op is %d, not a known tk_op", (int)p->op);
  return d->check_data(p);
}

int tk_problem_key(const tk_problem *p, char *buf, size_t len) {
  tk_text k = tk_text_init(buf, len);
  const tk_op_desc *d = tk_op_desc_of(p->op);
  if (!d) {
    tk_text_printf(&k, "unknown:");
    return (int)k.need;
  }
  tk_text_printf(&k, "%s:", d->name);
  d->key(&k, p);
  int strided = 0;
  tk_text_printf(&k, ",strides=");
  for (int i = 0; i < d->n_tensors; i++) {
    const tk_tensor *t = tk_op_tensor_in((tk_problem *)p, &d->tensors[i]);
    if (!tk_tensor_row_major(t)) tk_text_printf(&k, "%s%s", strided++ ? "+" : "", d->tensors[i].name);
  }
  if (!strided) tk_text_printf(&k, "contig");
  return (int)k.need;
}

/* The present tensors of p that are outputs (want_output) or inputs. */
static int tensors_of(tk_problem *p, int want_output, tk_tensor **v) {
  const tk_op_desc *d = tk_op_desc_of(p->op);
  int n = 0;
  for (int i = 0; d && i < d->n_tensors; i++) {
    tk_tensor *t = tk_op_tensor_in(p, &d->tensors[i]);
    if (d->tensors[i].is_output == want_output && t->present) v[n++] = t;
  }
  return n;
}

int tk_problem_outputs(tk_problem *p, tk_tensor **outs) { return tensors_of(p, 1, outs); }
int tk_problem_inputs(tk_problem *p, tk_tensor **ins) { return tensors_of(p, 0, ins); }

double tk_problem_flops(const tk_problem *p) {
  const tk_op_desc *d = tk_op_desc_of(p->op);
  return d ? d->flops(p) : 0;
}

double tk_problem_bytes(const tk_problem *p) {
  const tk_op_desc *d = tk_op_desc_of(p->op);
  return d ? d->bytes(p) : 0;
}

int tk_problem_memory_bound(const tk_problem *p) {
  const tk_op_desc *d = tk_op_desc_of(p->op);
  return d && d->memory_bound && d->memory_bound(p);
}

int tk_op_always_memory_bound(const tk_problem *p) {
  (void)p;
  return 1;
}
