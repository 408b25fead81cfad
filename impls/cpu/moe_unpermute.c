/* moe_unpermute.c: cpu MoE unpermute: tasks over blocks of whole tokens,
 * each output row written by one task from its token's k rows, so the
 * result does not depend on the threads or the block size. */
#include "impls/cpu/moe_cpu.h"

typedef struct {
  const tk_moe_unpermute_problem *p;
  const tk_moe_cpu_opts *o;
  int64_t per_task; /* tokens */
  int vector;       /* unit column strides and k <= TK_MOE_MAX_SLOTS */
} unpermute_job;

/* Writes out rows [task * per_task, ...). */
static void reduce_task(void *arg, int64_t task, int worker) {
  (void)worker;
  const unpermute_job *job = arg;
  const tk_moe_unpermute_problem *p = job->p;
  int64_t t0 = task * job->per_task;
  int64_t t1 = t0 + job->per_task < p->T ? t0 + job->per_task : p->T;
  if (!job->vector)
    tk_moe_reduce_tokens_strided_avx2(p, t0, t1);
  else if (job->o->isa == TK_MOE_ISA_AVX512)
    tk_moe_reduce_tokens_avx512(p, t0, t1, job->o->stream);
  else
    tk_moe_reduce_tokens_avx2(p, t0, t1, job->o->stream);
}

tk_status tk_cpu_moe_unpermute(const tk_moe_unpermute_problem *p, const tk_moe_cpu_opts *o,
                               tk_pool *pool) {
  unpermute_job job = {
      p, o, tk_moe_tokens_per_task(p->T, o->tasks),
      p->k <= TK_MOE_MAX_SLOTS && (p->H <= 1 || (p->rows.stride[1] == 1 && p->out.stride[1] == 1))};
  tk_pool_run(pool, (p->T + job.per_task - 1) / job.per_task, reduce_task, &job);
  return TK_OK;
}
