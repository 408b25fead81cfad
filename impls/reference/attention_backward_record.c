/* attention_backward_record.c: the reference attention backward record
 * (attention_backward_ref.c). */
#include "impls/reference/record_common.h"
#include "impls/reference/reference.h"

static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  const tk_attention_problem *a = &p->u.attention_backward.fwd;
  tk_ref_pick(dev, 2.5 * (double)a->B * a->Hq * a->Tq * a->Tk * (a->D + a->Dv), config);
}

static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  (void)ws;
  return tk_ref_attention_backward(&p->u.attention_backward, tk_ref_pool(config, ex));
}

const tk_impl tk_reference_attention_backward_impl = {.name = "reference",
                                                      .backend = TK_BACKEND_CPU,
                                                      .space = &tk_ref_space,
                                                      .supports = tk_ref_supports,
                                                      .heuristic = heuristic,
                                                      .run = run};
