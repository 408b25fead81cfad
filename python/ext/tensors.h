/* tensors.h: the tensor arguments of one call, as DLTensors that view the
 * caller's memory (no copy): NumPy arrays directly (bfloat16 through
 * ml_dtypes), anything else through its __dlpack__; outputs the caller did
 * not pass are allocated as NumPy arrays. */
#ifndef TKPY_TENSORS_H
#define TKPY_TENSORS_H

#include "numpy_api.h"
#include "tokamax.h"

#define TKPY_MAX_DIMS 8
#define TKPY_MAX_TENSORS 10

typedef struct {
  DLTensor dl;
  int64_t shape[TKPY_MAX_DIMS];   /* used for NumPy arrays; DLPack tensors */
  int64_t strides[TKPY_MAX_DIMS]; /* keep their producer's arrays */
} tkpy_tensor;

/* Every tensor of one call, and what must live until it returns. */
typedef struct {
  const char *op;    /* for messages: "attention" */
  void *cuda_stream; /* the context's stream, handed to CUDA producers */
  tkpy_tensor t[TKPY_MAX_TENSORS];
  int n;
  PyObject *capsules[TKPY_MAX_TENSORS]; /* DLPack capsules, released after the call */
  int n_capsules;
  int have_device;
  DLDevice device; /* of the first tensor */
} tkpy_tensors;

/* An empty set for op (no tensors yet). */
void tkpy_tensors_init(tkpy_tensors *ts, const char *op, void *cuda_stream);

/* Views obj as argument `name`: *out = NULL for None, else a DLTensor over
 * obj's memory. Outputs must be writable (a read-only NumPy array or a JAX
 * array is refused). Returns 0, or -1 with an exception set. */
int tkpy_take(tkpy_tensors *ts, PyObject *obj, const char *name, int is_output, DLTensor **out);

/* A new C-contiguous NumPy array for output `name` of the given shape and
 * dtype, viewed as *out; the call's tensors must be on the CPU. Returns the
 * new reference, or NULL with an exception set. */
PyObject *tkpy_alloc(tkpy_tensors *ts, const char *name, int ndim, const int64_t *shape,
                     DLDataType dtype, DLTensor **out);

/* Takes argument `name` when given (obj not None), else allocates it when
 * shape is not NULL (shape NULL: the inputs are too malformed to size it;
 * *out stays NULL and the library names what is wrong). *result is a new
 * reference to what the call returns for it: obj, the new array, or None.
 * Returns 0, or -1 with an exception set. */
int tkpy_output(tkpy_tensors *ts, PyObject *obj, const char *name, int ndim, const int64_t *shape,
                DLDataType dtype, DLTensor **out, PyObject **result);

/* Releases the DLPack capsules (their producers' deleters run). */
void tkpy_tensors_release(tkpy_tensors *ts);

/* The DLPack dtypes the ops use. */
extern const DLDataType tkpy_f32, tkpy_i32;

#endif /* TKPY_TENSORS_H */
