/* registry_cuda_moe_permute.c: the cuda_tiled MoE permute record
 * (moe_permute.cu, a counting sort by expert on the device).
 *
 * Config space: unit = (token, slot) entries each warp counts and ranks
 * (256 or 1024: more chunks in flight vs. a shorter scan over chunks),
 * warps per block of the row gather (4 or 8). Heuristic: unit 1024 from
 * 64K entries up, else 256; 8 warps. */
#include <stdio.h>

#include "../registry.h"
#include "moe_cuda.h"
#include "registry_cuda_attention_common.h"
#include "registry_cuda_moe.h"

static const int unit_values[] = {256, 1024};
static const int warps_values[] = {4, 8};
enum { P_UNIT, P_WARPS, N_PARAMS };
static const tk_param_def params[N_PARAMS] = {{"unit", unit_values, 2},
                                              {"warps", warps_values, 2}};
static const tk_config_space space = {N_PARAMS, params, NULL};

static tk_cuda_permute args_of(const tk_moe_permute_problem *m) {
  tk_cuda_permute a = {m->tokens.data,
                       (const int32_t *)m->expert_ids.data,
                       m->permuted.data,
                       (int32_t *)m->group_sizes.data,
                       (int32_t *)m->dest.data,
                       m->tokens.stride[0],
                       m->expert_ids.stride[0],
                       m->expert_ids.stride[1],
                       m->permuted.stride[0],
                       m->group_sizes.stride[0],
                       m->dest.stride[0],
                       m->dest.stride[1],
                       m->T,
                       m->H,
                       m->k,
                       m->E,
                       m->R,
                       m->align,
                       (int)m->tokens.dtype};
  return a;
}

static tk_cuda_permute_cfg cfg_of(const tk_config *c) {
  tk_cuda_permute_cfg k = {c->v[P_UNIT], c->v[P_WARPS]};
  return k;
}

static int permute_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  const tk_moe_permute_problem *m = &p->u.moe_permute;
  if (!tk_cuda_moe_supports(p, dev, &m->tokens, &m->permuted, why, len)) return 0;
  if (m->E > TK_CUDA_PERMUTE_MAX_EXPERTS) {
    snprintf(why, len, "unsupported: at most %d experts", TK_CUDA_PERMUTE_MAX_EXPERTS);
    return 0;
  }
  return 1;
}

static void permute_heuristic(const tk_problem *p, const tk_device_info *dev, tk_config *c) {
  (void)dev;
  c->n = N_PARAMS;
  c->v[P_UNIT] = p->u.moe_permute.T * p->u.moe_permute.k >= 65536 ? 1024 : 256;
  c->v[P_WARPS] = 8;
}

static size_t permute_workspace(const tk_problem *p, const tk_config *c) {
  tk_cuda_permute a = args_of(&p->u.moe_permute);
  tk_cuda_permute_cfg k = cfg_of(c);
  return tk_cuda_permute_workspace(&a, &k);
}

/* One enqueue of the kernels, for tk_cuda_enqueue_on. */
typedef struct {
  tk_cuda_permute a;
  tk_cuda_permute_cfg cfg;
  void *ws, *stream;
} permute_call;

static int permute_enqueue(void *arg) {
  permute_call *t = arg;
  return (int)tk_cuda_permute_run(&t->a, &t->cfg, t->ws, t->stream);
}

static tk_status permute_run(const tk_problem *p, const tk_config *c, const tk_exec *ex,
                             void *ws) {
  permute_call t = {args_of(&p->u.moe_permute), cfg_of(c), ws, ex->cuda_stream};
  return tk_cuda_enqueue_on(p->device_id, permute_enqueue, &t, "moe_permute (cuda_tiled)");
}

const tk_impl tk_cuda_moe_permute_impl = {"cuda_tiled",      TK_BACKEND_CUDA,   &space,
                                          permute_supports,  permute_heuristic, permute_workspace,
                                          permute_run};
