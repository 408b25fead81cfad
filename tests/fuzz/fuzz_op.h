/* fuzz_op.h: what the op fuzz driver (fuzz_op.c) asks of each op: a
 * generator of small valid calls and, optionally, a way to make one
 * invalid that only the op knows (a data-dependent rule, a bad scalar).
 * The driver reaches the op's tensors through the op table
 * (kernels/op_desc.h), so a new op needs one entry in fuzz_op_args.c. */
#ifndef TK_TESTS_FUZZ_OP_H
#define TK_TESTS_FUZZ_OP_H

#include "kernels/op_desc.h"
#include "tests/fuzz/fuzz.h"

#define FZ_MAX_TENSORS 12

/* One tensor argument as the generator describes it: logical shape and
 * dtype, and for int32 tensors the elements (row-major). The driver lays
 * it out in memory (contiguous or strided), fills data inputs with random
 * non-zero values and poisons outputs. */
typedef struct {
  int present;      /* 0: an optional argument left out */
  tk_dtype dtype;
  int ndim;
  int64_t shape[TK_MAX_DIMS];
  int32_t *ints;    /* int32 tensors: numel elements, row-major (fz_ints) */
  int64_t numel;
} fz_tensor;

/* A generated call: its tensors, indexed like the op table's tensor list,
 * and the public args struct whose scalar fields the generator sets (the
 * driver sets the tensor pointers). */
typedef struct {
  tk_op op;
  const tk_op_desc *desc;
  fz_tensor t[FZ_MAX_TENSORS];
  _Alignas(16) unsigned char args[256];
} fz_call;

/* The tensor named `name` in the op table's list (the generator's handle);
 * aborts on a name the op does not have. */
fz_tensor *fz_t(fz_call *c, const char *name);

/* Declares t present with dtype and shape (ndim entries of dims; unused
 * trailing ones ignored); int32 tensors get zeroed elements in t->ints. */
void fz_shape(fz_tensor *t, tk_dtype dtype, int ndim, int64_t d0, int64_t d1, int64_t d2,
              int64_t d3);

/* A data dtype (float32, float16, bfloat16) from the input. */
tk_dtype fz_data_dtype(fz_in *in);

/* A scale (0 = default, else a finite value of either sign) and a softcap
 * (0 = off, else finite > 0) from the input. */
float fz_scale(fz_in *in);
float fz_softcap(fz_in *in);

/* What the driver knows of one op. */
typedef struct {
  tk_op op;
  /* Fills c with a valid small call drawn from in: shapes (zero sizes
   * included, and huge ones on dims only empty tensors have), index data
   * within their rules, scalars. */
  void (*make)(fz_in *in, fz_call *c);
  /* Makes the call invalid in one way only the op knows (index data out of
   * its rule, a scalar out of range, a size relation broken); returns 1 if
   * it did, 0 if nothing applies to this call. */
  int (*spoil)(fz_in *in, fz_call *c);
  /* Its optional tensors, comma-separated (a required one set to NULL must
   * be refused). */
  const char *optional;
} fz_op_gen;

/* The entry of op (fuzz_op_args.c), one per tk_op. */
const fz_op_gen *fz_op_gen_of(tk_op op);

#endif
