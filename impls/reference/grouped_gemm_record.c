/* grouped_gemm_record.c: the reference grouped GEMM record (grouped_gemm_ref.c). */
#include "impls/reference/record_common.h"
#include "impls/reference/reference.h"

static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  const tk_grouped_gemm_problem *g = &p->u.grouped_gemm;
  tk_ref_pick(dev, (double)g->M * g->K * g->N, config);
}

static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  (void)ws;
  return tk_ref_grouped_gemm(&p->u.grouped_gemm, tk_ref_pool(config, ex));
}

const tk_impl tk_reference_grouped_gemm_impl = {.name = "reference",
                                                .backend = TK_BACKEND_CPU,
                                                .space = &tk_ref_space,
                                                .supports = tk_ref_supports,
                                                .heuristic = heuristic,
                                                .run = run};
