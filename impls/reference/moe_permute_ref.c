/* moe_permute_ref.c: reference MoE permute. Counting and placement are
 * serial (stable in flattened t * k + slot order); the row copies run as
 * tasks over blocks of permuted rows, each row written once. */
#include <stdlib.h>
#include <string.h>

#include "runtime/status.h"
#include "impls/reference/reference.h"
#include "impls/reference/ref_internal.h"

enum { ROWS_PER_TASK = 64 };

typedef struct {
  const tk_moe_permute_problem *p;
  int64_t *src; /* R entries: token copied into each row, -1 for a zero row */
} permute_job;

/* Writes permuted rows [task * ROWS_PER_TASK, ...): a bit-exact copy of the
 * token, or zeros. */
static void permute_task(void *arg, int64_t task, int worker) {
  (void)worker;
  const permute_job *job = arg;
  const tk_moe_permute_problem *p = job->p;
  size_t es = (size_t)tk_dtype_size(p->permuted.dtype);
  int64_t end = (task + 1) * ROWS_PER_TASK < p->R ? (task + 1) * ROWS_PER_TASK : p->R;
  for (int64_t r = task * ROWS_PER_TASK; r < end; r++) {
    int64_t t = job->src[r];
    for (int64_t h = 0; h < p->H; h++) {
      void *to = tk_at(&p->permuted, r, h, 0, 0);
      if (t < 0) memset(to, 0, es);
      else memcpy(to, tk_at(&p->tokens, t, h, 0, 0), es);
    }
  }
}

tk_status tk_ref_moe_permute(const tk_moe_permute_problem *p, tk_pool *pool) {
  /* next[e]: while counting, the copies of expert e; then its next free row. */
  int64_t *next = malloc(sizeof(int64_t) * (size_t)(p->E + 1));
  permute_job job = {p, malloc(sizeof(int64_t) * (size_t)(p->R + 1))};
  if (!next || !job.src) {
    free(next);
    free(job.src);
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "moe_permute (reference): no memory for scratch");
  }
  for (int64_t e = 0; e < p->E; e++) next[e] = 0;
  for (int64_t t = 0; t < p->T; t++)
    for (int64_t s = 0; s < p->k; s++) next[tk_load_i32(&p->expert_ids, t, s)]++;
  int64_t row = 0;
  for (int64_t e = 0; e < p->E; e++) {
    int64_t size = (next[e] + p->align - 1) / p->align * p->align;
    int32_t size32 = (int32_t)size;
    memcpy(tk_at(&p->group_sizes, e, 0, 0, 0), &size32, sizeof size32);
    next[e] = row;
    row += size;
  }
  for (int64_t r = 0; r < p->R; r++) job.src[r] = -1;
  for (int64_t t = 0; t < p->T; t++) {
    for (int64_t s = 0; s < p->k; s++) {
      int64_t r = next[tk_load_i32(&p->expert_ids, t, s)]++;
      int32_t r32 = (int32_t)r;
      memcpy(tk_at(&p->dest, t, s, 0, 0), &r32, sizeof r32);
      job.src[r] = t;
    }
  }
  free(next);
  tk_ref_run(pool, (p->R + ROWS_PER_TASK - 1) / ROWS_PER_TASK, permute_task, &job);
  free(job.src);
  return TK_OK;
}
