/* gemm_view.h: a grouped GEMM's arguments as plain pointers and row
 * strides, for calling a BLAS library once per group. */
#ifndef TK_BENCH_GEMM_VIEW_H
#define TK_BENCH_GEMM_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "tokamax.h"

typedef struct {
  tk_gg_layout layout;
  int64_t M, K, N, G;
  const char *lhs, *rhs; /* data (byte_offset applied) */
  char *out;
  int64_t lda, ldb, ldc; /* row strides of lhs, rhs (per group), out (per group), in elements */
  int64_t rhs_group;     /* nn/nt: elements between rhs[g] and rhs[g+1] */
  int64_t out_group;     /* tn: elements between out[g] and out[g+1] */
  const int32_t *sizes;  /* rows of each group */
  DLDataType in, out_dt; /* lhs/rhs dtype and out dtype */
} tk_gemm_view;

/* Fills *v from host grouped GEMM args; 0 with the reason in why when the
 * tensors are not on the CPU or an innermost stride is not 1. */
int tk_gemm_view_of(const tk_grouped_gemm_args *a, tk_gemm_view *v, char *why, size_t why_len);

/* Writes zeros over out[g], the K x N block of a group without rows
 * (layout tn: its gradient is zero). */
void tk_gemm_zero_group(const tk_gemm_view *v, int64_t g);

/* Writes the byte 0xFF (a NaN in every float dtype) over every logical
 * element of out, so elements a call leaves unwritten show. */
void tk_gemm_poison_out(const tk_gemm_view *v);

/* 1 if t is of float kind code (kDLFloat, kDLBfloat) with bits bits. */
int tk_dtype_is(DLDataType t, uint8_t code, uint8_t bits);

#endif
