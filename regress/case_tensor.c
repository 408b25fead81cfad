/* case_tensor.c: a case's tensors: layout (strides, padding), buffers with
 * guards, random non-zero inputs, the poison pattern. */
#include <stdlib.h>
#include <string.h>

#include "runtime/checked.h"
#include "runtime/half.h"
#include "regress/case_internal.h"

void tk_case_shuffle(uint64_t *state, int64_t *v, int64_t n) {
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = tk_case_randint(state, i + 1);
    int64_t x = v[i];
    v[i] = v[j];
    v[j] = x;
  }
}

void tk_case_poison_element(tk_dtype d, void *out) {
  if (tk_dtype_size(d) == 2) {
    uint16_t h = d == TK_F16 ? 0x7EA5u : 0x7FA5u; /* quiet NaNs of f16 and bf16 */
    memcpy(out, &h, 2);
  } else {
    uint32_t u = 0x7FC5A5A5u; /* a quiet f32 NaN; as int32 no valid index */
    memcpy(out, &u, 4);
  }
}

/* Fills every physical element of data input t (gaps too) with random
 * values of magnitude in [1/16, 1], random sign, rounded to its dtype. */
static void fill_random(tk_case *c, tk_case_tensor *t) {
  int64_t es = tk_dtype_size(t->dtype);
  for (int64_t i = 0; i < t->span; i++) {
    double m = 0.0625 + 0.9375 * tk_case_rand01(&c->rng);
    float x = (float)((tk_case_rand(&c->rng) & 1) ? -m : m);
    tk_store_f32(t->buf + i * es, t->dtype, x);
  }
}

void tk_case_want_all(tk_case_tensor *t) {
  int nd = t->dl.ndim;
  int64_t idx[TK_MAX_DIMS] = {0};
  for (int d = 0; d < nd; d++)
    if (t->shape[d] == 0) return;
  for (;;) {
    t->want[tk_case_offset(t, idx)] = 1;
    int d = nd - 1;
    while (d >= 0 && ++idx[d] == t->shape[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

tk_case_tensor *tk_case_add(tk_case *c, const char *name, tk_dtype dtype, int is_output,
                            int ndim, const int64_t *shape, const int *perm, int64_t pad) {
  if (c->n_tensors == TK_CASE_MAX_TENSORS) return NULL;
  tk_case_tensor *t = &c->t[c->n_tensors++];
  memset(t, 0, sizeof *t);
  t->name = name;
  t->dtype = dtype;
  t->is_output = is_output;
  t->scale = 1.0;
  t->tol_dtype = dtype;
  int empty = 0;
  for (int d = 0; d < ndim; d++) {
    t->shape[d] = shape[d];
    empty |= shape[d] == 0;
  }
  int64_t run = 1;
  int fits = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    int d = perm ? perm[i] : i;
    t->strides[d] = run;
    fits = fits && tk_mul_fits(run, shape[d] + (i == ndim - 1 ? pad : 0), &run);
  }
  t->span = 1;
  for (int d = 0; d < ndim; d++)
    fits = fits && tk_mul_add_fits(shape[d] - 1, t->strides[d], t->span, &t->span);
  if (empty) t->span = 0;
  size_t total = 0;
  if (!fits || !tk_array_bytes_fit(t->span, (size_t)tk_dtype_size(dtype), &t->data_bytes) ||
      !tk_size_add_fits(t->data_bytes, is_output ? TK_CASE_GUARD : 0, &total))
    return NULL;
  t->buf = calloc(total ? total : 1, 1);
  if (!t->buf) return NULL;
  t->dl.data = t->buf;
  t->dl.device.device_type = kDLCPU;
  t->dl.device.device_id = 0;
  t->dl.ndim = ndim;
  t->dl.dtype = tk_dtype_dl(dtype);
  t->dl.shape = t->shape;
  t->dl.strides = (perm || pad) ? t->strides : NULL;
  t->dl.byte_offset = 0;
  if (is_output) {
    t->want = calloc(t->span ? (size_t)t->span : 1, 1);
    t->expected = malloc(total ? total : 1);
    t->snapshot = malloc(total ? total : 1);
    if (!t->want || !t->expected || !t->snapshot) return NULL;
    tk_case_want_all(t);
  } else if (dtype != TK_I32) {
    fill_random(c, t);
  }
  return t;
}
