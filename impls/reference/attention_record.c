/* attention_record.c: the reference attention record (attention_ref.c). */
#include "impls/reference/record_common.h"
#include "impls/reference/reference.h"

static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  const tk_attention_problem *a = &p->u.attention;
  tk_ref_pick(dev, (double)a->B * a->Hq * a->Tq * a->Tk * (a->D + a->Dv), config);
}

static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  (void)ws;
  return tk_ref_attention(&p->u.attention, tk_ref_pool(config, ex));
}

const tk_impl tk_reference_attention_impl = {.name = "reference",
                                             .backend = TK_BACKEND_CPU,
                                             .space = &tk_ref_space,
                                             .supports = tk_ref_supports,
                                             .heuristic = heuristic,
                                             .run = run};
