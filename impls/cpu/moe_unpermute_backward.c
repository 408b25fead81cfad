/* moe_unpermute_backward.c: the cpu MoE unpermute backward's driver: the
 * row count of every slot's row; with an injective dest, tasks of whole
 * tokens scatter dout and then tasks of rows zero the rows no slot points
 * to; otherwise an inverse map of dest (a counting sort of the slots by
 * row), tasks of rows gathering their slots, and tasks of tokens for
 * d_weights. Strided tensors take the gather path one element at a time. */
#include <math.h>
#include <string.h>

#include "impls/cpu/moe_cpu.h"
#include "runtime/half.h"

typedef struct {
  const tk_moe_unpermute_backward_problem *p;
  const tk_moe_cpu_opts *o;
  int vector;               /* unit column strides and k <= TK_MOE_MAX_SLOTS */
  int32_t *count;           /* [R] slots per row */
  int64_t *first, *slots;   /* inverse map: [R + 1], [T * k] */
  int64_t tokens_per_task, rows_per_task;
} bwd_job;

/* Workspace layout: count [R] int32, then (8-aligned) first [R + 1] and
 * slots [T * k] int64. */
static size_t count_bytes(int64_t R) { return ((size_t)R * 4 + 7) & ~(size_t)7; }

size_t tk_cpu_moe_unpermute_backward_workspace(const tk_moe_unpermute_backward_problem *p) {
  return count_bytes(p->R) + 8 * (size_t)(p->R + 1 + p->T * p->k);
}

/* The weight of slot (t, s). */
static float weight(const tk_moe_unpermute_backward_problem *p, int64_t t, int64_t s) {
  return p->weights.present ? *(const float *)tk_at(&p->weights, t, s, 0, 0) : 1.0f;
}

static void scatter_task(void *arg, int64_t task, int worker) {
  (void)worker;
  const bwd_job *j = arg;
  int64_t t0 = task * j->tokens_per_task, t1 = t0 + j->tokens_per_task;
  if (t1 > j->p->T) t1 = j->p->T;
  if (j->o->isa == TK_MOE_ISA_AVX512) tk_moe_scatter_tokens_avx512(j->p, t0, t1, j->o->stream);
  else tk_moe_scatter_tokens_avx2(j->p, t0, t1, j->o->stream);
}

/* Zeroes the rows of [task's range) that no slot points to. */
static void zero_task(void *arg, int64_t task, int worker) {
  (void)worker;
  const bwd_job *j = arg;
  const tk_moe_unpermute_backward_problem *p = j->p;
  const size_t bytes = (size_t)(p->H * tk_dtype_size(p->d_rows.dtype));
  int64_t r0 = task * j->rows_per_task, r1 = r0 + j->rows_per_task;
  if (r1 > p->R) r1 = p->R;
  for (int64_t r = r0; r < r1; r++) {
    if (j->count[r]) continue;
    if (j->o->isa == TK_MOE_ISA_AVX512) tk_moe_zero_bytes_avx512(tk_at(&p->d_rows, r, 0, 0, 0), bytes, 0);
    else tk_moe_zero_bytes_avx2(tk_at(&p->d_rows, r, 0, 0, 0), bytes, 0);
  }
}

/* Rows of [task's range) gathered one element at a time (any strides). */
static void gather_rows_strided(const bwd_job *j, int64_t r0, int64_t r1) {
  const tk_moe_unpermute_backward_problem *p = j->p;
  for (int64_t r = r0; r < r1; r++)
    for (int64_t h = 0; h < p->H; h++) {
      float acc = 0.0f;
      for (int64_t i = j->first[r]; i < j->first[r + 1]; i++) {
        const int64_t t = j->slots[i] / p->k, s = j->slots[i] % p->k;
        acc = fmaf(weight(p, t, s), tk_load_f32(tk_at(&p->dout, t, h, 0, 0), p->dout.dtype), acc);
      }
      tk_store_f32(tk_at(&p->d_rows, r, h, 0, 0), p->d_rows.dtype, acc);
    }
}

static void gather_task(void *arg, int64_t task, int worker) {
  (void)worker;
  const bwd_job *j = arg;
  int64_t r0 = task * j->rows_per_task, r1 = r0 + j->rows_per_task;
  if (r1 > j->p->R) r1 = j->p->R;
  if (!j->vector) gather_rows_strided(j, r0, r1);
  else if (j->o->isa == TK_MOE_ISA_AVX512) tk_moe_gather_rows_avx512(j->p, j->first, j->slots, r0, r1);
  else tk_moe_gather_rows_avx2(j->p, j->first, j->slots, r0, r1);
}

/* d_weights of tokens [t0, t1) one element at a time (any strides). */
static void dot_tokens_strided(const tk_moe_unpermute_backward_problem *p, int64_t t0, int64_t t1) {
  for (int64_t t = t0; t < t1; t++)
    for (int64_t s = 0; s < p->k; s++) {
      const int32_t r = tk_load_i32(&p->dest, t, s);
      float acc = 0.0f;
      for (int64_t h = 0; h < p->H; h++)
        acc = fmaf(tk_load_f32(tk_at(&p->dout, t, h, 0, 0), p->dout.dtype),
                   tk_load_f32(tk_at(&p->rows, r, h, 0, 0), p->rows.dtype), acc);
      *(float *)tk_at(&p->d_weights, t, s, 0, 0) = acc;
    }
}

static void dot_task(void *arg, int64_t task, int worker) {
  (void)worker;
  const bwd_job *j = arg;
  int64_t t0 = task * j->tokens_per_task, t1 = t0 + j->tokens_per_task;
  if (t1 > j->p->T) t1 = j->p->T;
  if (!j->vector) dot_tokens_strided(j->p, t0, t1);
  else if (j->o->isa == TK_MOE_ISA_AVX512) tk_moe_dot_tokens_avx512(j->p, t0, t1);
  else tk_moe_dot_tokens_avx2(j->p, t0, t1);
}

/* Counts the slots of each row; 1 when no row has two. */
static int count_rows(bwd_job *j) {
  const tk_moe_unpermute_backward_problem *p = j->p;
  int injective = 1;
  memset(j->count, 0, sizeof(int32_t) * (size_t)p->R);
  for (int64_t t = 0; t < p->T; t++)
    for (int64_t s = 0; s < p->k; s++) injective &= ++j->count[tk_load_i32(&p->dest, t, s)] == 1;
  return injective;
}

/* The inverse map from the counts: the slots of each row in slot order. */
static void invert(bwd_job *j) {
  const tk_moe_unpermute_backward_problem *p = j->p;
  j->first[0] = 0;
  for (int64_t r = 0; r < p->R; r++) j->first[r + 1] = j->first[r] + j->count[r];
  for (int64_t r = 0; r < p->R; r++) j->count[r] = 0; /* now: slots placed */
  for (int64_t t = 0; t < p->T; t++)
    for (int64_t s = 0; s < p->k; s++) {
      const int32_t r = tk_load_i32(&p->dest, t, s);
      j->slots[j->first[r] + j->count[r]++] = t * p->k + s;
    }
}

/* Runs fn over the pool for n tasks. */
static void run(tk_pool *pool, int64_t n, tk_task_fn fn, bwd_job *j) {
  if (n > 0) tk_pool_run(pool, n, fn, j);
}

tk_status tk_cpu_moe_unpermute_backward(const tk_moe_unpermute_backward_problem *p,
                                        const tk_moe_cpu_opts *o, tk_pool *pool, void *ws) {
  const int unit = p->H <= 1 || (p->dout.stride[1] == 1 && p->d_rows.stride[1] == 1 &&
                                 (!p->rows.present || p->rows.stride[1] == 1));
  bwd_job j = {.p = p,
               .o = o,
               .vector = unit && p->k <= TK_MOE_MAX_SLOTS,
               .count = ws,
               .first = (int64_t *)((char *)ws + count_bytes(p->R)),
               .tokens_per_task = tk_moe_tokens_per_task(p->T, o->tasks),
               .rows_per_task = tk_moe_tokens_per_task(p->R, o->tasks)};
  j.slots = j.first + p->R + 1;
  const int64_t token_tasks = (p->T + j.tokens_per_task - 1) / j.tokens_per_task;
  const int64_t row_tasks = (p->R + j.rows_per_task - 1) / j.rows_per_task;
  if (count_rows(&j) && j.vector) {
    run(pool, token_tasks, scatter_task, &j);
    run(pool, row_tasks, zero_task, &j);
    return TK_OK;
  }
  invert(&j);
  run(pool, row_tasks, gather_task, &j);
  if (p->d_weights.present) run(pool, token_tasks, dot_task, &j);
  return TK_OK;
}
