/* registry_cuda_moe_unpermute.c: the cuda_tiled MoE unpermute record
 * (moe_unpermute.cu, a deterministic weighted gather-reduce).
 *
 * Config space: warps per block (2, 4 or 8; one token per warp at a time).
 * Heuristic: 4. */
#include "../registry.h"
#include "moe_cuda.h"
#include "registry_cuda_attention_common.h"
#include "registry_cuda_moe.h"

static const int warps_values[] = {2, 4, 8};
static const tk_param_def params[] = {{"warps", warps_values, 3}};
static const tk_config_space space = {1, params, NULL};

static int unpermute_supports(const tk_problem *p, const tk_device_info *dev, char *why,
                              size_t len) {
  const tk_moe_unpermute_problem *m = &p->u.moe_unpermute;
  return tk_cuda_moe_supports(p, dev, &m->rows, &m->out, why, len);
}

static void unpermute_heuristic(const tk_problem *p, const tk_device_info *dev, tk_config *c) {
  (void)p;
  (void)dev;
  c->n = 1;
  c->v[0] = 4;
}

static size_t unpermute_workspace(const tk_problem *p, const tk_config *c) {
  (void)p;
  (void)c;
  return 0;
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

static tk_status unpermute_run(const tk_problem *p, const tk_config *c, const tk_exec *ex,
                               void *ws) {
  (void)ws;
  const tk_moe_unpermute_problem *m = &p->u.moe_unpermute;
  int w = m->weights.present;
  unpermute_call t = {{m->rows.data, (const int32_t *)m->dest.data,
                       w ? (const float *)m->weights.data : NULL, m->out.data, m->rows.stride[0],
                       m->dest.stride[0], m->dest.stride[1], w ? m->weights.stride[0] : 0,
                       w ? m->weights.stride[1] : 0, m->out.stride[0], m->T, m->H, m->k, m->R,
                       (int)m->rows.dtype},
                      {c->v[0]},
                      ex->cuda_stream};
  return tk_cuda_enqueue_on(p->device_id, unpermute_enqueue, &t, "moe_unpermute (cuda_tiled)");
}

const tk_impl tk_cuda_moe_unpermute_impl = {
    "cuda_tiled",        TK_BACKEND_CUDA, &space, unpermute_supports, unpermute_heuristic,
    unpermute_workspace, unpermute_run};
