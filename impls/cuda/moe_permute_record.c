/* moe_permute_record.c: the cuda_tiled MoE permute record
 * (moe_permute.cu, a counting sort by expert on the device).
 *
 * Config space: unit = (token, slot) entries each warp counts and ranks
 * (256 or 1024: more chunks in flight vs. a shorter scan over chunks),
 * warps per block of the row gather (4 or 8). Heuristic: unit 1024 from
 * 64K entries up, else 256; 8 warps. */
#include <stdio.h>

#include "impls/cuda/moe_cuda.h"
#include "impls/cuda/moe_record_common.h"
#include "impls/cuda/record_common.h"

static const tk_param_def params[] = {TK_PARAM(tk_cuda_permute_cfg, unit, 256, 1024),
                                      TK_PARAM(tk_cuda_permute_cfg, warps, 4, 8)};
static const tk_config_space space = TK_CONFIG_SPACE(tk_cuda_permute_cfg, params, NULL);

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

static int permute_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  const tk_moe_permute_problem *m = &p->u.moe_permute;
  if (!tk_cuda_moe_supports(p, dev, &m->tokens, &m->permuted, why, len)) return 0;
  if (m->E > TK_CUDA_PERMUTE_MAX_EXPERTS) {
    snprintf(why, len, "unsupported: at most %d experts", TK_CUDA_PERMUTE_MAX_EXPERTS);
    return 0;
  }
  return 1;
}

static void permute_heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  (void)dev;
  tk_cuda_permute_cfg *c = config;
  c->unit = p->u.moe_permute.T * p->u.moe_permute.k >= 65536 ? 1024 : 256;
  c->warps = 8;
}

static size_t permute_workspace(const tk_problem *p, const void *config) {
  tk_cuda_permute a = args_of(&p->u.moe_permute);
  return tk_cuda_permute_workspace(&a, config);
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

static tk_status permute_run(const tk_problem *p, const void *config, const tk_exec *ex,
                             void *ws) {
  permute_call t = {args_of(&p->u.moe_permute), *(const tk_cuda_permute_cfg *)config, ws,
                    ex->cuda_stream};
  return tk_cuda_enqueue_on(p->device_id, permute_enqueue, &t, "moe_permute (cuda_tiled)");
}

const tk_impl tk_cuda_moe_permute_impl = {.name = "cuda_tiled",
                                          .backend = TK_BACKEND_CUDA,
                                          .space = &space,
                                          .supports = permute_supports,
                                          .heuristic = permute_heuristic,
                                          .workspace = permute_workspace,
                                          .run = permute_run};
