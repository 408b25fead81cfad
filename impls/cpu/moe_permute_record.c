/* moe_permute_record.c: the cpu MoE permute record (moe_permute.c). */
#include "impls/cpu/moe_record_common.h"

static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  const tk_moe_permute_problem *m = &p->u.moe_permute;
  tk_cpu_moe_config *c = config;
  double es = (double)tk_dtype_size(m->tokens.dtype), out = (double)m->R * (double)m->H * es;
  tk_cpu_moe_heuristic(dev, out + (double)m->T * (double)m->H * es, out, m->H * (int64_t)es, c);
  /* the copies are memory-bound, and the 32-byte loop measured 2-6% faster
   * than the 64-byte one on Zen 5 (docs/cpu-moe.md) */
  c->isa = TK_MOE_ISA_AVX2;
}

static size_t workspace(const tk_problem *p, const void *config) {
  return tk_cpu_moe_permute_workspace(&p->u.moe_permute, tk_cpu_moe_options(config).tasks);
}

static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  tk_moe_cpu_opts o = tk_cpu_moe_options(config);
  return tk_cpu_moe_permute(&p->u.moe_permute, &o, ex->pool, ws);
}

const tk_impl tk_cpu_moe_permute_impl = {.name = "cpu",
                                         .backend = TK_BACKEND_CPU,
                                         .space = &tk_cpu_moe_space,
                                         .supports = tk_cpu_moe_supports,
                                         .heuristic = heuristic,
                                         .workspace = workspace,
                                         .run = run};
