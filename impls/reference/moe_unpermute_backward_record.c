/* moe_unpermute_backward_record.c: the reference MoE unpermute backward
 * record (moe_unpermute_backward_ref.c). */
#include "impls/reference/record_common.h"
#include "impls/reference/reference.h"

static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  const tk_moe_unpermute_backward_problem *u = &p->u.moe_unpermute_backward;
  tk_ref_pick(dev, (double)u->T * u->k * u->H, config);
}

static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  (void)ws;
  return tk_ref_moe_unpermute_backward(&p->u.moe_unpermute_backward, tk_ref_pool(config, ex));
}

const tk_impl tk_reference_moe_unpermute_backward_impl = {.name = "reference",
                                                          .backend = TK_BACKEND_CPU,
                                                          .space = &tk_ref_space,
                                                          .supports = tk_ref_supports,
                                                          .heuristic = heuristic,
                                                          .run = run};
