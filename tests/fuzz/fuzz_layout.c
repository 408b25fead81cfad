/* fuzz_layout.c: laying a generated tensor out in an exact-size buffer
 * for the op fuzz driver. */
#include "tests/fuzz/fuzz_layout.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/checked.h"
#include "runtime/half.h"

void fz_arg_init(fz_arg *a, const fz_tensor *t) {
  memset(a, 0, sizeof *a);
  a->dl.ndim = t->ndim;
  a->dl.dtype = tk_dtype_dl(t->dtype);
  a->dl.device.device_type = kDLCPU;
  int64_t run = 1;
  for (int i = t->ndim - 1; i >= 0; i--) { /* row-major, as NULL strides are */
    a->shape[i] = t->shape[i];
    a->strides[i] = run;
    run *= t->shape[i] > 1 ? t->shape[i] : 1;
  }
  a->dl.shape = a->shape;
}

int64_t fz_arg_numel(const fz_arg *a) {
  int64_t n = 1;
  for (int i = 0; i < a->dl.ndim; i++) {
    if (a->shape[i] <= 0) return 0;
    if (!tk_mul_fits(n, a->shape[i], &n)) return INT64_MAX;
  }
  return n;
}

float fz_value(uint64_t seed, int index, int64_t e) {
  uint64_t s = seed ^ ((uint64_t)index << 56) ^ (uint64_t)e * 0x9E3779B97F4A7C15ull;
  uint64_t r = fz_mix(&s);
  float m = 0.0625f + 0.9375f * (float)(r >> 40) / (float)(1u << 24);
  return (r & 1) ? -m : m;
}

/* The bytes of one element of a's DLPack dtype (1 for odd ones). */
static int64_t elem_bytes(const fz_arg *a) {
  int64_t b = (int64_t)a->dl.dtype.bits * a->dl.dtype.lanes / 8;
  return b > 0 ? b : 1;
}

/* The lowest and highest element offsets a addresses; 0 when they (or
 * their span in bytes) do not fit FZ_MAX_BYTES. */
static int span_of(const fz_arg *a, int64_t *lo, int64_t *hi) {
  *lo = *hi = 0;
  if (fz_arg_numel(a) == 0) return 1;
  for (int i = 0; i < a->dl.ndim; i++) {
    int64_t reach;
    if (!tk_mul_fits(a->shape[i] - 1, a->strides[i], &reach) ||
        !tk_add_fits(reach < 0 ? *lo : *hi, reach, reach < 0 ? lo : hi))
      return 0;
  }
  int64_t span;
  return tk_sub_fits(*hi, *lo, &span) && tk_mul_fits(span + 1, elem_bytes(a), &span) &&
         span <= FZ_MAX_BYTES;
}

/* Calls fn(a, t, flat, offset) for every logical element (row-major flat
 * index, element offset from element 0). */
static void each_element(fz_arg *a, void (*fn)(fz_arg *, void *, int64_t, int64_t), void *user) {
  int64_t n = fz_arg_numel(a), idx[TK_MAX_DIMS + 1] = {0};
  int nd = a->dl.ndim;
  for (int64_t flat = 0; flat < n; flat++) {
    int64_t off = 0;
    for (int d = 0; d < nd; d++) off += idx[d] * a->strides[d];
    fn(a, user, flat, off);
    for (int d = nd - 1; d >= 0 && ++idx[d] == a->shape[d]; d--) idx[d] = 0;
  }
}

typedef struct {
  const fz_tensor *t;
  int is_output, index, same_shape;
  uint64_t seed;
  int64_t lo;
} fill_ctx;

static void fill_one(fz_arg *a, void *user, int64_t flat, int64_t off) {
  fill_ctx *f = user;
  int64_t es = elem_bytes(a);
  size_t at = (size_t)((off - f->lo) * es);
  memset(a->elem + at, 1, (size_t)es);
  if (f->is_output) return;
  if (f->t->dtype == TK_I32) {
    if (f->same_shape && es == 4) memcpy(a->buf + at, &f->t->ints[flat], 4);
  } else if (es == tk_dtype_size(f->t->dtype)) {
    tk_store_f32(a->buf + at, f->t->dtype, fz_value(f->seed, f->index, flat));
  }
}

void fz_arg_make(fz_arg *a, const fz_tensor *t, int is_output, int index, uint64_t seed) {
  int64_t lo = 0, hi = 0, es = elem_bytes(a), run = 1;
  for (int i = a->dl.ndim - 1; !a->strided && i >= 0; i--) { /* what NULL strides mean */
    a->strides[i] = run;
    if (a->shape[i] > 1 && !tk_mul_fits(run, a->shape[i], &run)) run = INT64_MAX;
  }
  a->wild = !span_of(a, &lo, &hi);
  int64_t n = fz_arg_numel(a);
  a->bytes = a->wild || n == 0 ? (a->wild ? 64 : 0) : (size_t)((hi - lo + 1) * es);
  size_t alloc = a->bytes + (a->misalign ? 1 : 0);
  a->buf = malloc(alloc ? alloc : 1);
  a->elem = calloc(alloc ? alloc : 1, 1);
  if (!a->buf || !a->elem) tk_fuzz_fail("out of memory for a %zu-byte tensor", alloc);
  uint64_t s = seed ^ 0x5bd1e995u ^ (uint64_t)index;
  for (size_t i = 0; i < alloc; i++) a->buf[i] = is_output ? 0xA5 : (unsigned char)fz_mix(&s);
  if (!a->wild) {
    int same = a->dl.ndim == t->ndim;
    for (int i = 0; same && i < t->ndim; i++) same = a->shape[i] == t->shape[i];
    fill_ctx f = {t, is_output, index, same, seed, lo};
    each_element(a, fill_one, &f);
  }
  size_t start = a->wild ? 0 : (size_t)(-lo * es);
  a->start = start;
  a->dl.strides = a->strided ? a->strides : NULL;
  if (a->via_offset) {
    a->dl.data = a->buf;
    a->dl.byte_offset = start + (a->misalign ? 1 : 0);
  } else {
    a->dl.data = a->buf + start + (a->misalign ? 1 : 0);
  }
  if (a->null_data) a->dl.data = NULL, a->dl.byte_offset = 0;
  a->before = malloc(alloc ? alloc : 1);
  if (!a->before) tk_fuzz_fail("out of memory");
  memcpy(a->before, a->buf, alloc);
  a->bytes = alloc;
}

int fz_arg_same_elements(const fz_arg *a, const fz_arg *b, int64_t *at) {
  int64_t n = fz_arg_numel(a), idx[TK_MAX_DIMS + 1] = {0}, es = elem_bytes(a);
  int nd = a->dl.ndim;
  for (int64_t flat = 0; flat < n; flat++) {
    int64_t oa = 0, ob = 0;
    for (int d = 0; d < nd; d++) oa += idx[d] * a->strides[d], ob += idx[d] * b->strides[d];
    if (memcmp(a->buf + a->start + oa * es, b->buf + b->start + ob * es, (size_t)es) != 0) {
      *at = flat;
      return 0;
    }
    for (int d = nd - 1; d >= 0 && ++idx[d] == a->shape[d]; d--) idx[d] = 0;
  }
  return 1;
}

void fz_arg_free(fz_arg *a) {
  free(a->buf);
  free(a->elem);
  free(a->before);
  a->buf = a->elem = a->before = NULL;
}
