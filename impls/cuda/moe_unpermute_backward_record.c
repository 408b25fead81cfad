/* moe_unpermute_backward_record.c: the cuda_tiled MoE unpermute backward
 * record (moe_unpermute_backward.cu: a stable sort of the slots by row,
 * then deterministic per-row sums and per-slot dots).
 *
 * Config space: warps per block (2, 4 or 8; one row or slot per warp at a
 * time). Heuristic: 4. */
#include <stdint.h>
#include <stdio.h>

#include "impls/cuda/moe_cuda.h"
#include "impls/cuda/moe_record_common.h"
#include "impls/cuda/record_common.h"
#include "runtime/status.h"

static const tk_param_def params[] = {TK_PARAM(tk_cuda_unpermute_cfg, warps, 2, 4, 8)};
static const tk_config_space space = TK_CONFIG_SPACE(tk_cuda_unpermute_cfg, params, NULL);

/* Contiguous rows of dout, d_rows (and rows when given), and slot counts
 * and row ids the sort's 32-bit keys and int indices hold. */
static int supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  const tk_moe_unpermute_backward_problem *m = &p->u.moe_unpermute_backward;
  if (!tk_cuda_moe_supports(p, dev, &m->dout, &m->d_rows, why, len)) return 0;
  if (m->rows.present && !tk_cuda_moe_supports(p, dev, &m->rows, &m->rows, why, len)) return 0;
  if (m->T * m->k > INT32_MAX || m->R >= INT32_MAX) {
    snprintf(why, len, "unsupported: T * k and R must stay below 2^31");
    return 0;
  }
  return 1;
}

static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  (void)p;
  (void)dev;
  ((tk_cuda_unpermute_cfg *)config)->warps = 4;
}

/* The kernels' view of the problem. */
static tk_cuda_unpermute_bwd args_of(const tk_moe_unpermute_backward_problem *m) {
  const int w = m->weights.present, dw = m->d_weights.present;
  return (tk_cuda_unpermute_bwd){
      .dout = m->dout.data,
      .rows = m->rows.present ? m->rows.data : NULL,
      .dest = (const int32_t *)m->dest.data,
      .weights = w ? (const float *)m->weights.data : NULL,
      .d_rows = m->d_rows.data,
      .d_weights = dw ? (float *)m->d_weights.data : NULL,
      .dout_s0 = m->dout.stride[0],
      .rows_s0 = m->rows.present ? m->rows.stride[0] : 0,
      .dest_s0 = m->dest.stride[0],
      .dest_s1 = m->dest.stride[1],
      .w_s0 = w ? m->weights.stride[0] : 0,
      .w_s1 = w ? m->weights.stride[1] : 0,
      .drows_s0 = m->d_rows.stride[0],
      .dw_s0 = dw ? m->d_weights.stride[0] : 0,
      .dw_s1 = dw ? m->d_weights.stride[1] : 0,
      .T = m->T,
      .H = m->H,
      .k = m->k,
      .R = m->R,
      .dtype = (int)m->dout.dtype};
}

/* Device bytes of the sort. */
static size_t workspace(const tk_problem *p, const void *config) {
  (void)config;
  const tk_cuda_unpermute_bwd a = args_of(&p->u.moe_unpermute_backward);
  return tk_cuda_unpermute_bwd_workspace(&a);
}

/* One enqueue of the kernels, for tk_cuda_enqueue_on. */
typedef struct {
  tk_cuda_unpermute_bwd a;
  tk_cuda_unpermute_cfg cfg;
  void *ws, *stream;
} bwd_call;

static int enqueue(void *arg) {
  bwd_call *t = arg;
  return (int)tk_cuda_unpermute_bwd_run(&t->a, &t->cfg, t->ws, t->stream);
}

static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  bwd_call t = {args_of(&p->u.moe_unpermute_backward), *(const tk_cuda_unpermute_cfg *)config, ws,
                ex->cuda_stream};
  return tk_cuda_enqueue_on(p->device_id, enqueue, &t, "moe_unpermute_backward (cuda_tiled)");
}

const tk_impl tk_cuda_moe_unpermute_backward_impl = {.name = "cuda_tiled",
                                                     .backend = TK_BACKEND_CUDA,
                                                     .space = &space,
                                                     .supports = supports,
                                                     .heuristic = heuristic,
                                                     .workspace = workspace,
                                                     .run = run};
