/* baseline_openblas.c: the float32 grouped GEMM baseline: OpenBLAS
 * cblas_sgemm called once per group (the three layouts map to transposes).
 * Built only against OpenBLAS when CMake found it (TK_HAVE_OPENBLAS);
 * otherwise the row declines with that reason. */
#include <stdio.h>
#include <stdlib.h>

#include "autotune/measure.h"
#include "bench/gemm_view.h"
#include "bench/tokamax_bench.h"

#if TK_HAVE_OPENBLAS
#include <cblas.h>

int tk_openblas_row_setup(tk_row *r, char *why, size_t why_len) {
  const tk_grouped_gemm_args *a = r->args;
  tk_gemm_view *v = malloc(sizeof *v);
  if (!v) {
    snprintf(why, why_len, "out of memory");
    return 1;
  }
  if (!tk_gemm_view_of(a, v, why, why_len)) {
    free(v);
    return 1;
  }
  if (!tk_dtype_is(v->in, kDLFloat, 32) || !tk_dtype_is(v->out_dt, kDLFloat, 32)) {
    snprintf(why, why_len, "cblas_sgemm is float32 in and out");
    free(v);
    return 1;
  }
  r->state = v;
  snprintf(r->ran, sizeof r->ran, "%s", openblas_get_corename());
  return 0;
}

double tk_openblas_row_run(tk_row *r, char *why, size_t why_len) {
  (void)why;
  (void)why_len;
  const tk_gemm_view *v = r->state;
  const float *lhs = (const float *)v->lhs, *rhs = (const float *)v->rhs;
  float *out = (float *)v->out;
  double t = 1e-9 * tk_now_ns();
  int64_t row = 0;
  for (int64_t g = 0; g < v->G; g++) {
    int m = v->sizes[g], K = (int)v->K, N = (int)v->N;
    switch (v->layout) {
      case TK_GG_NN:
      case TK_GG_NT:
        if (m > 0)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, v->layout == TK_GG_NN ? CblasNoTrans : CblasTrans,
                      m, N, K, 1.0f, lhs + row * v->lda, (int)v->lda, rhs + g * v->rhs_group,
                      (int)v->ldb, 0.0f, out + row * v->ldc, (int)v->ldc);
        break;
      case TK_GG_TN:
        if (m > 0)
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, m, 1.0f, lhs + row * v->lda,
                      (int)v->lda, rhs + row * v->ldb, (int)v->ldb, 0.0f, out + g * v->out_group,
                      (int)v->ldc);
        else
          tk_gemm_zero_group(v, g);
        break;
    }
    row += m;
  }
  return 1e-9 * tk_now_ns() - t;
}

void tk_openblas_row_teardown(tk_row *r) {
  free(r->state);
  r->state = NULL;
}

void tk_openblas_describe(char *buf, size_t len) {
  snprintf(buf, len, "OpenBLAS: %s; core %s, %d threads", openblas_get_config(),
           openblas_get_corename(), openblas_get_num_threads());
}

#else

int tk_openblas_row_setup(tk_row *r, char *why, size_t why_len) {
  (void)r;
  snprintf(why, why_len, "OpenBLAS was not found when tokamax-bench was built");
  return 1;
}

double tk_openblas_row_run(tk_row *r, char *why, size_t why_len) {
  (void)r;
  snprintf(why, why_len, "OpenBLAS was not found when tokamax-bench was built");
  return -1;
}

void tk_openblas_row_teardown(tk_row *r) { (void)r; }

void tk_openblas_describe(char *buf, size_t len) {
  snprintf(buf, len, "OpenBLAS: not found at build time (install libopenblas-dev)");
}

#endif
