/* gemm_view.c: reading a grouped GEMM's DLTensors into a tk_gemm_view. */
#include "bench/gemm_view.h"

#include <stdio.h>
#include <string.h>

/* Stride of dim d of t in elements (row-major when strides is NULL). */
static int64_t stride_of(const DLTensor *t, int d) {
  if (t->strides) return t->strides[d];
  int64_t s = 1;
  for (int i = t->ndim - 1; i > d; i--) s *= t->shape[i];
  return s;
}

int tk_dtype_is(DLDataType t, uint8_t code, uint8_t bits) {
  return t.code == code && t.bits == bits && t.lanes == 1;
}

int tk_gemm_view_of(const tk_grouped_gemm_args *a, tk_gemm_view *v, char *why, size_t why_len) {
  const DLTensor *ts[] = {a->lhs, a->rhs, a->out, a->group_sizes};
  for (int i = 0; i < 4; i++) {
    if (ts[i]->device.device_type != kDLCPU) {
      snprintf(why, why_len, "baseline runs on CPU tensors only");
      return 0;
    }
    if (stride_of(ts[i], ts[i]->ndim - 1) != 1) {
      snprintf(why, why_len, "baseline needs unit innermost strides");
      return 0;
    }
  }
  v->layout = a->layout;
  v->M = a->lhs->shape[0];
  v->K = a->lhs->shape[1];
  v->G = a->group_sizes->shape[0];
  v->N = a->layout == TK_GG_NN ? a->rhs->shape[2] : a->rhs->shape[1]; /* nt [G,N,K], tn [M,N] */
  v->lhs = (const char *)a->lhs->data + a->lhs->byte_offset;
  v->rhs = (const char *)a->rhs->data + a->rhs->byte_offset;
  v->out = (char *)a->out->data + a->out->byte_offset;
  v->sizes = (const int32_t *)((const char *)a->group_sizes->data + a->group_sizes->byte_offset);
  v->lda = stride_of(a->lhs, 0);
  int rank3_rhs = a->layout != TK_GG_TN;
  v->ldb = stride_of(a->rhs, rank3_rhs ? 1 : 0);
  v->rhs_group = rank3_rhs ? stride_of(a->rhs, 0) : 0;
  v->ldc = stride_of(a->out, rank3_rhs ? 0 : 1);
  v->out_group = rank3_rhs ? 0 : stride_of(a->out, 0);
  v->in = a->lhs->dtype;
  v->out_dt = a->out->dtype;
  return 1;
}

/* Writes byte over the N elements of each of `rows` rows of out, starting
 * `first` elements in. */
static void fill_rows(const tk_gemm_view *v, int64_t first, int64_t rows, int byte) {
  size_t es = (size_t)(v->out_dt.bits / 8);
  for (int64_t r = 0; r < rows; r++)
    memset(v->out + (size_t)(first + r * v->ldc) * es, byte, es * (size_t)v->N);
}

void tk_gemm_zero_group(const tk_gemm_view *v, int64_t g) { fill_rows(v, g * v->out_group, v->K, 0); }

void tk_gemm_poison_out(const tk_gemm_view *v) {
  if (v->layout != TK_GG_TN) fill_rows(v, 0, v->M, 0xFF);
  else
    for (int64_t g = 0; g < v->G; g++) fill_rows(v, g * v->out_group, v->K, 0xFF);
}
