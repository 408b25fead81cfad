/* moe_unpermute_backward_ref.c: reference MoE unpermute backward in
 * float64. d_rows row r sums weight * dout[t] over the slots (t, s) with
 * dest[t, s] = r, in slot order (found through an inverse map of dest);
 * d_weights[t, s] = dout[t] . rows[dest[t, s]]. */
#include <stdlib.h>

#include "impls/reference/ref_internal.h"
#include "impls/reference/reference.h"
#include "runtime/half.h"
#include "runtime/status.h"

enum { ROWS_PER_TASK = 16 };

typedef struct {
  const tk_moe_unpermute_backward_problem *p;
  int64_t *first;   /* [R + 1]: slots of row r are slots[first[r] .. first[r+1]) */
  int64_t *slots;   /* [T*k]: t * k + s, by row, in slot order */
  double *acc;      /* per worker: H accumulators */
} bwd_job;

/* The weight of slot (t, s). */
static double weight(const tk_moe_unpermute_backward_problem *p, int64_t t, int64_t s) {
  return p->weights.present ? tk_load_f32(tk_at(&p->weights, t, s, 0, 0), TK_F32) : 1.0;
}

/* d_rows rows [task * ROWS_PER_TASK, ...). */
static void rows_task(void *arg, int64_t task, int worker) {
  const bwd_job *job = arg;
  const tk_moe_unpermute_backward_problem *p = job->p;
  double *acc = job->acc + (int64_t)worker * p->H;
  int64_t end = (task + 1) * ROWS_PER_TASK < p->R ? (task + 1) * ROWS_PER_TASK : p->R;
  for (int64_t r = task * ROWS_PER_TASK; r < end; r++) {
    for (int64_t h = 0; h < p->H; h++) acc[h] = 0.0;
    for (int64_t i = job->first[r]; i < job->first[r + 1]; i++) {
      int64_t t = job->slots[i] / p->k, s = job->slots[i] % p->k;
      double w = weight(p, t, s);
      for (int64_t h = 0; h < p->H; h++)
        acc[h] += w * tk_load_f32(tk_at(&p->dout, t, h, 0, 0), p->dout.dtype);
    }
    for (int64_t h = 0; h < p->H; h++)
      tk_store_f32(tk_at(&p->d_rows, r, h, 0, 0), p->d_rows.dtype, (float)acc[h]);
  }
}

/* d_weights of token `task`. */
static void weights_task(void *arg, int64_t t, int worker) {
  (void)worker;
  const tk_moe_unpermute_backward_problem *p = ((const bwd_job *)arg)->p;
  for (int64_t s = 0; s < p->k; s++) {
    int64_t r = tk_load_i32(&p->dest, t, s);
    double dot = 0.0;
    for (int64_t h = 0; h < p->H; h++)
      dot += (double)tk_load_f32(tk_at(&p->dout, t, h, 0, 0), p->dout.dtype) *
             tk_load_f32(tk_at(&p->rows, r, h, 0, 0), p->rows.dtype);
    tk_store_f32(tk_at(&p->d_weights, t, s, 0, 0), TK_F32, (float)dot);
  }
}

/* The inverse map of dest: a counting sort of the slots by row, with
 * next (R entries) as the rows' cursors. */
static void invert(bwd_job *job, int64_t *next) {
  const tk_moe_unpermute_backward_problem *p = job->p;
  for (int64_t r = 0; r <= p->R; r++) job->first[r] = 0;
  for (int64_t t = 0; t < p->T; t++)
    for (int64_t s = 0; s < p->k; s++) job->first[tk_load_i32(&p->dest, t, s) + 1]++;
  for (int64_t r = 0; r < p->R; r++) job->first[r + 1] += job->first[r];
  for (int64_t r = 0; r < p->R; r++) next[r] = job->first[r];
  for (int64_t t = 0; t < p->T; t++)
    for (int64_t s = 0; s < p->k; s++) job->slots[next[tk_load_i32(&p->dest, t, s)]++] = t * p->k + s;
}

tk_status tk_ref_moe_unpermute_backward(const tk_moe_unpermute_backward_problem *p, tk_pool *pool) {
  bwd_job job = {p, malloc(sizeof(int64_t) * (size_t)(p->R + 1)),
                 malloc(sizeof(int64_t) * (size_t)(p->T * p->k + 1)),
                 malloc(sizeof(double) * (size_t)(tk_ref_workers(pool) * p->H + 1))};
  int64_t *next = malloc(sizeof(int64_t) * (size_t)(p->R + 1));
  tk_status st = TK_OK;
  if (!job.first || !job.slots || !job.acc || !next) {
    st = tk_fail(TK_ERR_OUT_OF_MEMORY, "moe_unpermute_backward (reference): no memory for scratch");
  } else {
    invert(&job, next);
    tk_ref_run(pool, (p->R + ROWS_PER_TASK - 1) / ROWS_PER_TASK, rows_task, &job);
    if (p->d_weights.present) tk_ref_run(pool, p->T, weights_task, &job);
  }
  free(job.first);
  free(job.slots);
  free(job.acc);
  free(next);
  return st;
}
