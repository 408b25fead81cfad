/* registry_cpu_moe_permute.c: the cpu MoE permute record (impls/cpu/). */
#include "registry_cpu_moe_space.h"

static void permute_heuristic(const tk_problem *p, const tk_device_info *dev, tk_config *c) {
  const tk_moe_permute_problem *m = &p->u.moe_permute;
  double es = (double)tk_dtype_size(m->tokens.dtype), out = (double)m->R * (double)m->H * es;
  tk_cpu_moe_heuristic(dev, out + (double)m->T * (double)m->H * es, out, m->H * (int64_t)es, c);
  /* the copies are memory-bound, and the 32-byte loop measured 2-6% faster
   * than the 64-byte one on Zen 5 (docs/cpu-moe.md) */
  c->v[0] = TK_MOE_ISA_AVX2;
}

static size_t permute_workspace(const tk_problem *p, const tk_config *c) {
  return tk_cpu_moe_permute_workspace(&p->u.moe_permute, tk_cpu_moe_options(c).tasks);
}

static tk_status permute_run(const tk_problem *p, const tk_config *c, const tk_exec *ex, void *ws) {
  tk_moe_cpu_opts o = tk_cpu_moe_options(c);
  return tk_cpu_moe_permute(&p->u.moe_permute, &o, ex->pool, ws);
}

const tk_impl tk_cpu_moe_permute_impl = {"cpu", TK_BACKEND_CPU, &tk_cpu_moe_space,
    tk_cpu_moe_supports, permute_heuristic, permute_workspace, permute_run};
