/* registry_cpu_moe_unpermute.c: the cpu MoE unpermute record (impls/cpu/). */
#include "registry_cpu_moe_space.h"

static void unpermute_heuristic(const tk_problem *p, const tk_device_info *dev, tk_config *c) {
  const tk_moe_unpermute_problem *m = &p->u.moe_unpermute;
  double es = (double)tk_dtype_size(m->out.dtype), out = (double)m->T * (double)m->H * es;
  tk_cpu_moe_heuristic(dev, out * (double)(m->k + 1), out, m->H * (int64_t)es, c);
}

static size_t unpermute_workspace(const tk_problem *p, const tk_config *c) {
  (void)p;
  (void)c;
  return 0;
}

static tk_status unpermute_run(const tk_problem *p, const tk_config *c, const tk_exec *ex,
                               void *ws) {
  (void)ws;
  tk_moe_cpu_opts o = tk_cpu_moe_options(c);
  return tk_cpu_moe_unpermute(&p->u.moe_unpermute, &o, ex->pool);
}

const tk_impl tk_cpu_moe_unpermute_impl = {"cpu", TK_BACKEND_CPU, &tk_cpu_moe_space,
    tk_cpu_moe_supports, unpermute_heuristic, unpermute_workspace, unpermute_run};
