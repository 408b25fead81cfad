/* op_desc.h: the op table: one descriptor per op saying everything the
 * floors above need to know about it without a switch on the op: its name,
 * its public args struct, how to validate it, its tensors, its problem key,
 * which key fields are sizes (for the nearest-shape rule), and its work for
 * rates. Indexed by tk_op; kernels/op_table.c holds the table and checks at
 * compile time that it has one entry per op. docs/adding-an-op.md lists
 * what a new op adds. */
#ifndef TK_KERNELS_OP_DESC_H
#define TK_KERNELS_OP_DESC_H

#include <stddef.h>

#include "kernels/problem.h"
#include "runtime/json.h"

/* The most size fields a key has (tk_op_desc.size_fields). */
#define TK_KEY_MAX_SIZES 6

/* One tensor argument of an op. */
typedef struct {
  const char *name;      /* as in the public args struct and in messages */
  size_t problem_offset; /* of its tk_tensor in tk_problem */
  size_t args_offset;    /* of its DLTensor pointer in the public args struct */
  int is_output;
} tk_op_tensor;

typedef struct {
  tk_op op;
  const char *name;      /* "attention", ...: tk_op_name */
  size_t args_size;      /* sizeof the public args struct */
  size_t problem_size;   /* sizeof the op's member of tk_problem.u */
  /* Validates the public args struct into *out (see tk_problem_validate). */
  tk_status (*validate)(const void *args, int need_data, tk_problem *out);
  /* The data-dependent rules on host data (see tk_problem_check_data). */
  tk_status (*check_data)(const tk_problem *p);
  /* Appends the op's fields of the problem key after "<name>:" and before
   * ",strides=..." (which the generic key writes from `tensors`). */
  void (*key)(tk_text *k, const tk_problem *p);
  /* Every tensor argument, in args-struct order (the key's stride list,
   * tk_problem_inputs and tk_problem_outputs keep this order). */
  const tk_op_tensor *tensors;
  int n_tensors;
  /* Key fields that are sizes: two keys equal but for these are the same
   * family, compared by the nearest-shape rule (autotune/key_distance.h). */
  const char *size_fields[TK_KEY_MAX_SIZES + 1]; /* NULL-terminated */
  /* Useful floating-point operations (2 per multiply-add; the masks and,
   * on host data, the lengths counted) and bytes moved at least once. */
  double (*flops)(const tk_problem *p);
  double (*bytes)(const tk_problem *p);
  /* 1 when bandwidth, not arithmetic, bounds the problem (rates are judged
   * by bytes/s against the copy ceiling); NULL: never. */
  int (*memory_bound)(const tk_problem *p);
} tk_op_desc;

/* Writes the op names, "attention, grouped_gemm, ...", for messages. */
void tk_op_names_text(char *buf, size_t len);

/* A memory_bound for ops whose every problem is bandwidth-bound: 1. */
int tk_op_always_memory_bound(const tk_problem *p);

/* The descriptor of op, or NULL when op is not a tk_op. */
const tk_op_desc *tk_op_desc_of(tk_op op);

/* Helpers for the per-op files: a tk_op_tensor of field f of the op's
 * problem struct (member u.<op> of tk_problem) and args struct. */
#define TK_OP_TENSOR(op, args_type, f, out) \
  {#f, offsetof(tk_problem, u.op.f), offsetof(args_type, f), out}

/* The tensor of t in p. */
static inline tk_tensor *tk_op_tensor_in(tk_problem *p, const tk_op_tensor *t) {
  return (tk_tensor *)((char *)p + t->problem_offset);
}

#endif
