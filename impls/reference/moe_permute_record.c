/* moe_permute_record.c: the reference MoE permute record (moe_permute_ref.c). */
#include "impls/reference/record_common.h"
#include "impls/reference/reference.h"

static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  tk_ref_pick(dev, (double)p->u.moe_permute.R * p->u.moe_permute.H, config);
}

static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  (void)ws;
  return tk_ref_moe_permute(&p->u.moe_permute, tk_ref_pool(config, ex));
}

const tk_impl tk_reference_moe_permute_impl = {.name = "reference",
                                               .backend = TK_BACKEND_CPU,
                                               .space = &tk_ref_space,
                                               .supports = tk_ref_supports,
                                               .heuristic = heuristic,
                                               .run = run};
