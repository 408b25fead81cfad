/* grouped_gemm_ref.c: reference grouped GEMM (ragged dot) in float64 for the
 * NN, NT and TN layouts. NN/NT: one task per block of output rows; TN: one
 * task per (group, row k of the output). */
#include <stdlib.h>

#include "runtime/half.h"
#include "runtime/status.h"
#include "impls/reference/reference.h"
#include "impls/reference/ref_internal.h"

enum { ROWS_PER_TASK = 16 };

typedef struct {
  const tk_grouped_gemm_problem *p;
  int64_t *start; /* G + 1 row offsets: group g is rows start[g] .. start[g+1]-1 */
  double *acc;    /* per worker: N accumulators */
} gg_job;

static double load(const tk_tensor *t, int64_t i0, int64_t i1, int64_t i2) {
  return tk_load_f32(tk_at(t, i0, i1, i2, 0), t->dtype);
}

/* The group holding row m (start[G] > m): the last g with start[g] <= m. */
static int64_t group_of(const gg_job *job, int64_t m) {
  int64_t lo = 0, hi = job->p->G - 1;
  while (lo < hi) {
    int64_t mid = (lo + hi + 1) / 2;
    if (job->start[mid] <= m) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/* NN / NT: output rows [task * ROWS_PER_TASK, ...); rows past the groups are zero. */
static void gg_rows_task(void *arg, int64_t task, int worker) {
  const gg_job *job = arg;
  const tk_grouped_gemm_problem *p = job->p;
  double *acc = job->acc + (int64_t)worker * p->N;
  int64_t end = (task + 1) * ROWS_PER_TASK < p->M ? (task + 1) * ROWS_PER_TASK : p->M;
  for (int64_t m = task * ROWS_PER_TASK; m < end; m++) {
    for (int64_t n = 0; n < p->N; n++) acc[n] = 0.0;
    if (m < job->start[p->G]) {
      int64_t g = group_of(job, m);
      for (int64_t k = 0; k < p->K; k++) {
        double a = load(&p->lhs, m, k, 0);
        for (int64_t n = 0; n < p->N; n++)
          acc[n] += a * (p->layout == TK_GG_NN ? load(&p->rhs, g, k, n) : load(&p->rhs, g, n, k));
      }
    }
    for (int64_t n = 0; n < p->N; n++)
      tk_store_f32(tk_at(&p->out, m, n, 0, 0), p->out.dtype, (float)acc[n]);
  }
}

/* TN: out[g, k, :] = sum over rows m of group g of lhs[m, k] * rhs[m, :]
 * (task = g * K + k). */
static void gg_tn_task(void *arg, int64_t task, int worker) {
  const gg_job *job = arg;
  const tk_grouped_gemm_problem *p = job->p;
  double *acc = job->acc + (int64_t)worker * p->N;
  int64_t g = task / p->K, k = task % p->K;
  for (int64_t n = 0; n < p->N; n++) acc[n] = 0.0;
  for (int64_t m = job->start[g]; m < job->start[g + 1]; m++) {
    double a = load(&p->lhs, m, k, 0);
    for (int64_t n = 0; n < p->N; n++) acc[n] += a * load(&p->rhs, m, n, 0);
  }
  for (int64_t n = 0; n < p->N; n++)
    tk_store_f32(tk_at(&p->out, g, k, n, 0), p->out.dtype, (float)acc[n]);
}

tk_status tk_ref_grouped_gemm(const tk_grouped_gemm_problem *p, tk_pool *pool) {
  int64_t nw = tk_ref_workers(pool);
  gg_job job = {p, malloc(sizeof(int64_t) * (size_t)(p->G + 1)),
                malloc(sizeof(double) * (size_t)(nw * p->N + 1))};
  if (!job.start || !job.acc) {
    free(job.start);
    free(job.acc);
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "grouped_gemm (reference): no memory for scratch");
  }
  job.start[0] = 0;
  for (int64_t g = 0; g < p->G; g++) job.start[g + 1] = job.start[g] + tk_load_i32(&p->group_sizes, g, 0);
  if (p->layout == TK_GG_TN)
    tk_ref_run(pool, p->G * p->K, gg_tn_task, &job);
  else
    tk_ref_run(pool, (p->M + ROWS_PER_TASK - 1) / ROWS_PER_TASK, gg_rows_task, &job);
  free(job.start);
  free(job.acc);
  return TK_OK;
}
