/* registry_reference.c: the reference implementation's records. Its one
 * parameter, `parallel`, runs independent work over the context's threads
 * (1) or on the calling thread (0); both give identical bits. */
#include <stdio.h>

#include "reference/reference.h"
#include "registry.h"

static const int parallel_values[] = {0, 1};
static const tk_param_def reference_params[] = {{"parallel", parallel_values, 2}};
static const tk_config_space reference_space = {1, reference_params, NULL};

/* The reference runs any valid problem whose data the CPU can read. */
static int ref_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  (void)p;
  (void)dev;
  (void)why;
  (void)len;
  return 1;
}

/* Multiply-adds (or element moves) the problem needs, to decide whether
 * spreading it over threads pays. */
static double ref_work(const tk_problem *p) {
  switch (p->op) {
    case TK_OP_ATTENTION: {
      const tk_attention_problem *a = &p->u.attention;
      return (double)a->B * a->Hq * a->Tq * a->Tk * (a->D + a->Dv);
    }
    case TK_OP_GROUPED_GEMM: {
      const tk_grouped_gemm_problem *g = &p->u.grouped_gemm;
      return (double)g->M * g->K * g->N;
    }
    case TK_OP_MOE_PERMUTE:
      return (double)p->u.moe_permute.R * p->u.moe_permute.H;
    case TK_OP_MOE_UNPERMUTE:
      return (double)p->u.moe_unpermute.T * p->u.moe_unpermute.k * p->u.moe_unpermute.H;
    case TK_OP_PAGED_ATTENTION: {
      const tk_paged_attention_problem *a = &p->u.paged_attention;
      return (double)a->Tq_total * a->Hq * a->max_pages * a->page_size * (a->D + a->Dv);
    }
    default:
      return 0;
  }
}

static void ref_heuristic(const tk_problem *p, const tk_device_info *dev, tk_config *c) {
  c->n = 1;
  c->v[0] = dev->physical_cores > 1 && ref_work(p) >= 1 << 16;
}

static size_t ref_workspace(const tk_problem *p, const tk_config *c) {
  (void)p;
  (void)c;
  return 0;
}

static tk_status ref_run(const tk_problem *p, const tk_config *c, const tk_exec *ex, void *ws) {
  (void)ws;
  tk_pool *pool = c->v[0] ? ex->pool : NULL;
  switch (p->op) {
    case TK_OP_ATTENTION: return tk_ref_attention(&p->u.attention, pool);
    case TK_OP_GROUPED_GEMM: return tk_ref_grouped_gemm(&p->u.grouped_gemm, pool);
    case TK_OP_MOE_PERMUTE: return tk_ref_moe_permute(&p->u.moe_permute, pool);
    case TK_OP_MOE_UNPERMUTE: return tk_ref_moe_unpermute(&p->u.moe_unpermute, pool);
    case TK_OP_PAGED_ATTENTION: return tk_ref_paged_attention(&p->u.paged_attention, pool);
    default: return TK_ERR_INTERNAL;
  }
}

/* One record serves every op: run() switches on the problem's op. */
const tk_impl tk_reference_impl = {"reference", TK_BACKEND_CPU, &reference_space, ref_supports,
                                   ref_heuristic, ref_workspace, ref_run};
