/* tensor.h: the library's own view of a validated DLTensor. */
#ifndef TK_RUNTIME_TENSOR_H
#define TK_RUNTIME_TENSOR_H

#include <dlpack/dlpack.h>
#include <stdint.h>

#define TK_MAX_DIMS 4

/* TK_FP8_E4M3 (float8 e4m3fn: no infinities, S.1111.111 is NaN) and TK_I8
 * are storage types of the paged KV cache only, read with a scale. */
typedef enum { TK_F32 = 0, TK_F16 = 1, TK_BF16 = 2, TK_I32 = 3, TK_FP8_E4M3 = 4, TK_I8 = 5 } tk_dtype;

/* The last tk_dtype, for loops over all of them. */
#define TK_DTYPE_LAST TK_I8

/* DLPack 1.x's type code kDLFloat8_e4m3fn; the 0.6 header Debian ships
 * lacks the enum, so the library names the value itself. */
#define TK_DL_FLOAT8_E4M3FN 10

/* A tensor after validation: data already includes byte_offset; strides are
 * in elements and always filled (row-major ones when DLPack gave NULL).
 * An absent optional tensor has present == 0 and everything else zero. */
typedef struct {
  void *data;                  /* may be NULL when validated for a plan */
  int present;
  int ndim;
  int64_t shape[TK_MAX_DIMS];
  int64_t stride[TK_MAX_DIMS];
  tk_dtype dtype;
  int device_type;             /* kDLCPU, kDLCUDA, ... */
  int device_id;
} tk_tensor;

/* Bytes of one element of dtype. */
static inline int64_t tk_dtype_size(tk_dtype d) {
  return d == TK_FP8_E4M3 || d == TK_I8 ? 1 : d == TK_F16 || d == TK_BF16 ? 2 : 4;
}

/* "float32", "float16", "bfloat16", "int32", "float8_e4m3fn", "int8". */
const char *tk_dtype_name(tk_dtype d);

/* "f32", "f16", "bf16", "i32", "fp8", "i8": the short names problem keys use. */
const char *tk_dtype_short(tk_dtype d);

/* The DLPack dtype of d (one lane). */
DLDataType tk_dtype_dl(tk_dtype d);

/* Address of the element off elements from t's element 0. NULL when t has
 * no data (a tensor with no elements may have none): no arithmetic on a
 * NULL pointer. */
static inline void *tk_elem_at(const tk_tensor *t, int64_t off) {
  return t->data ? (char *)t->data + off * tk_dtype_size(t->dtype) : NULL;
}

/* Address of element (i0, i1, ...) of a tensor of ndim <= 4; pass 0 for
 * unused trailing indices. NULL when t has no data. */
static inline void *tk_at(const tk_tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  int64_t off = i0 * t->stride[0];
  if (t->ndim > 1) off += i1 * t->stride[1];
  if (t->ndim > 2) off += i2 * t->stride[2];
  if (t->ndim > 3) off += i3 * t->stride[3];
  return tk_elem_at(t, off);
}

/* Elements from the lowest to the highest element t addresses, inclusive
 * (0 if empty), any strides; *first is the lowest one's offset from
 * t->data in elements (<= 0). */
int64_t tk_tensor_span(const tk_tensor *t, int64_t *first);

/* Elements from the first to one past the last element of t (0 if empty);
 * for tensors with strides >= 0 (outputs). */
int64_t tk_tensor_extent(const tk_tensor *t);

/* The int32 element (i0, i1) of an int32 tensor of rank <= 2. */
static inline int32_t tk_load_i32(const tk_tensor *t, int64_t i0, int64_t i1) {
  return *(const int32_t *)tk_at(t, i0, i1, 0, 0);
}

#endif
