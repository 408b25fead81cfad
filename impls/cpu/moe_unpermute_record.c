/* moe_unpermute_record.c: the cpu MoE unpermute record (moe_unpermute.c). */
#include "impls/cpu/moe_record_common.h"

static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  const tk_moe_unpermute_problem *m = &p->u.moe_unpermute;
  double es = (double)tk_dtype_size(m->out.dtype), out = (double)m->T * (double)m->H * es;
  tk_cpu_moe_heuristic(dev, out * (double)(m->k + 1), out, m->H * (int64_t)es, config);
}

static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  (void)ws;
  tk_moe_cpu_opts o = tk_cpu_moe_options(config);
  return tk_cpu_moe_unpermute(&p->u.moe_unpermute, &o, ex->pool);
}

const tk_impl tk_cpu_moe_unpermute_impl = {.name = "cpu",
                                           .backend = TK_BACKEND_CPU,
                                           .space = &tk_cpu_moe_space,
                                           .supports = tk_cpu_moe_supports,
                                           .heuristic = heuristic,
                                           .run = run};
