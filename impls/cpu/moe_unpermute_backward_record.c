/* moe_unpermute_backward_record.c: the cpu MoE unpermute backward record
 * (moe_unpermute_backward.c), over the MoE config space. */
#include "impls/cpu/moe_record_common.h"

/* Sized like the forward: dout read, d_rows written, rows read for d_weights. */
static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  const tk_moe_unpermute_backward_problem *m = &p->u.moe_unpermute_backward;
  double es = (double)tk_dtype_size(m->dout.dtype), out = (double)m->R * (double)m->H * es;
  double in = (double)m->T * (double)m->H * es * (1.0 + (m->d_weights.present ? (double)m->k : 0));
  tk_cpu_moe_heuristic(dev, in + out, out, m->H * (int64_t)es, config);
}

static size_t workspace(const tk_problem *p, const void *config) {
  (void)config;
  return tk_cpu_moe_unpermute_backward_workspace(&p->u.moe_unpermute_backward);
}

static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  tk_moe_cpu_opts o = tk_cpu_moe_options(config);
  return tk_cpu_moe_unpermute_backward(&p->u.moe_unpermute_backward, &o, ex->pool, ws);
}

const tk_impl tk_cpu_moe_unpermute_backward_impl = {.name = "cpu",
                                                    .backend = TK_BACKEND_CPU,
                                                    .space = &tk_cpu_moe_space,
                                                    .supports = tk_cpu_moe_supports,
                                                    .heuristic = heuristic,
                                                    .workspace = workspace,
                                                    .run = run};
