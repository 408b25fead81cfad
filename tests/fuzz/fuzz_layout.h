/* fuzz_layout.h: how the op fuzz driver lays a generated tensor out in
 * memory (fuzz_layout.c): the DLTensor it passes, the exact-size buffer
 * under it (so ASan sees any access outside), and which bytes of that
 * buffer are elements. */
#ifndef TK_TESTS_FUZZ_LAYOUT_H
#define TK_TESTS_FUZZ_LAYOUT_H

#include "tests/fuzz/fuzz_op.h"

/* Buffers larger than this are not made: such a layout can only belong to
 * a call that must fail, which gets a minimal buffer instead. */
#define FZ_MAX_BYTES ((int64_t)16 << 20)

typedef struct {
  DLTensor dl;
  int64_t shape[TK_MAX_DIMS + 1], strides[TK_MAX_DIMS + 1];
  int strided;          /* dl.strides = strides (else NULL: row-major) */
  int via_offset;       /* data = the buffer, byte_offset = the offset of element 0 */
  int null_data;        /* data NULL */
  int misalign;         /* one byte past where element 0 belongs */
  int pass_null;        /* the argument itself is NULL */
  int wild;             /* shape or strides not materialisable: minimal buffer */
  unsigned char *buf;   /* exactly the addressed span */
  size_t bytes;
  size_t start;         /* where element 0 lies in buf */
  unsigned char *before; /* buf before the call */
  unsigned char *elem;   /* per byte of buf: 1 inside a logical element */
} fz_arg;

/* Starts a's DLTensor from t's logical shape and dtype: host memory, NULL
 * strides (row-major) until the driver sets strided and strides. */
void fz_arg_init(fz_arg *a, const fz_tensor *t);

/* Lays a out in a fresh buffer: elements of data inputs get the values
 * fz_value(seed, index, element), int32 inputs t's ints (when a's shape is
 * still t's), outputs the poison byte 0xA5, gaps bytes of the seed's
 * stream. Keeps a copy of the buffer for the checks after the call. */
void fz_arg_make(fz_arg *a, const fz_tensor *t, int is_output, int index, uint64_t seed);

/* 1 when every logical element of a and b (same shape and dtype) has
 * the same bytes; else 0 with the first differing one's row-major index
 * in *at. */
int fz_arg_same_elements(const fz_arg *a, const fz_arg *b, int64_t *at);

/* Frees a's buffers. */
void fz_arg_free(fz_arg *a);

/* Elements of a's DLTensor as passed (0 if any size is 0 or negative). */
int64_t fz_arg_numel(const fz_arg *a);

/* The value element e of tensor index gets under seed: non-zero, in
 * [-1, -1/16] or [1/16, 1]. */
float fz_value(uint64_t seed, int index, int64_t e);

#endif
