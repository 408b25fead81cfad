/* moe_unpermute_record.c: the cuda_tiled MoE unpermute record
 * (moe_unpermute.cu, a deterministic weighted gather-reduce).
 *
 * Config space: warps per block (2, 4 or 8; one token per warp at a time).
 * Heuristic: 4. */
#include "impls/cuda/moe_cuda.h"
#include "impls/cuda/moe_record_common.h"
#include "impls/cuda/record_common.h"

static const tk_param_def params[] = {TK_PARAM(tk_cuda_unpermute_cfg, warps, 2, 4, 8)};
static const tk_config_space space = TK_CONFIG_SPACE(tk_cuda_unpermute_cfg, params, NULL);

static int unpermute_supports(const tk_problem *p, const tk_device_info *dev, char *why,
                              size_t len) {
  const tk_moe_unpermute_problem *m = &p->u.moe_unpermute;
  return tk_cuda_moe_supports(p, dev, &m->rows, &m->out, why, len);
}

static void unpermute_heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  (void)p;
  (void)dev;
  ((tk_cuda_unpermute_cfg *)config)->warps = 4;
}

/* One enqueue of the kernel, for tk_cuda_enqueue_on. */
typedef struct {
  tk_cuda_unpermute a;
  tk_cuda_unpermute_cfg cfg;
  void *stream;
} unpermute_call;

static int unpermute_enqueue(void *arg) {
  unpermute_call *t = arg;
  return (int)tk_cuda_unpermute_run(&t->a, &t->cfg, t->stream);
}

static tk_status unpermute_run(const tk_problem *p, const void *config, const tk_exec *ex,
                               void *ws) {
  (void)ws;
  const tk_moe_unpermute_problem *m = &p->u.moe_unpermute;
  int w = m->weights.present;
  unpermute_call t = {{m->rows.data, (const int32_t *)m->dest.data,
                       w ? (const float *)m->weights.data : NULL, m->out.data, m->rows.stride[0],
                       m->dest.stride[0], m->dest.stride[1], w ? m->weights.stride[0] : 0,
                       w ? m->weights.stride[1] : 0, m->out.stride[0], m->T, m->H, m->k, m->R,
                       (int)m->rows.dtype},
                      *(const tk_cuda_unpermute_cfg *)config,
                      ex->cuda_stream};
  return tk_cuda_enqueue_on(p->device_id, unpermute_enqueue, &t, "moe_unpermute (cuda_tiled)");
}

const tk_impl tk_cuda_moe_unpermute_impl = {.name = "cuda_tiled",
                                            .backend = TK_BACKEND_CUDA,
                                            .space = &space,
                                            .supports = unpermute_supports,
                                            .heuristic = unpermute_heuristic,
                                            .run = unpermute_run};
