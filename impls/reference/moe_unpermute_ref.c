/* moe_unpermute_ref.c: reference MoE unpermute (weighted sum of each token's
 * expert rows, float64, in slot order), one task per block of tokens. */
#include <stdlib.h>

#include "runtime/half.h"
#include "runtime/status.h"
#include "impls/reference/reference.h"
#include "impls/reference/ref_internal.h"

enum { TOKENS_PER_TASK = 16 };

typedef struct {
  const tk_moe_unpermute_problem *p;
  double *acc; /* per worker: H accumulators */
} unpermute_job;

/* Writes out rows [task * TOKENS_PER_TASK, ...). */
static void unpermute_task(void *arg, int64_t task, int worker) {
  const unpermute_job *job = arg;
  const tk_moe_unpermute_problem *p = job->p;
  double *acc = job->acc + (int64_t)worker * p->H;
  int64_t end = (task + 1) * TOKENS_PER_TASK < p->T ? (task + 1) * TOKENS_PER_TASK : p->T;
  for (int64_t t = task * TOKENS_PER_TASK; t < end; t++) {
    for (int64_t h = 0; h < p->H; h++) acc[h] = 0.0;
    for (int64_t s = 0; s < p->k; s++) {
      double w = p->weights.present ? tk_load_f32(tk_at(&p->weights, t, s, 0, 0), p->weights.dtype) : 1.0;
      int64_t r = tk_load_i32(&p->dest, t, s);
      for (int64_t h = 0; h < p->H; h++)
        acc[h] += w * tk_load_f32(tk_at(&p->rows, r, h, 0, 0), p->rows.dtype);
    }
    for (int64_t h = 0; h < p->H; h++)
      tk_store_f32(tk_at(&p->out, t, h, 0, 0), p->out.dtype, (float)acc[h]);
  }
}

tk_status tk_ref_moe_unpermute(const tk_moe_unpermute_problem *p, tk_pool *pool) {
  unpermute_job job = {p, malloc(sizeof(double) * (size_t)(tk_ref_workers(pool) * p->H + 1))};
  if (!job.acc) return tk_fail(TK_ERR_OUT_OF_MEMORY, "moe_unpermute (reference): no memory for scratch");
  tk_ref_run(pool, (p->T + TOKENS_PER_TASK - 1) / TOKENS_PER_TASK, unpermute_task, &job);
  free(job.acc);
  return TK_OK;
}
