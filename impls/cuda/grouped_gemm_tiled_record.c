/* grouped_gemm_tiled_record.c: the cuda_tiled grouped GEMM record
 * (grouped_gemm_tiled.cu): sm_80 and later, every layout and dtype.
 *
 * Config space: block_m x block_n output tiles (64 or 128 each), stages of
 * the cp.async ring (3 or 4), swizzle = row tiles per band of the visiting
 * order (1: row by row; 8: bands of 8 row tiles walked column by column,
 * for L2 reuse of B). Every combination is valid (at most 82 KiB of shared
 * memory). Heuristic: 128-row tiles unless groups average 64 rows or fewer,
 * 128 columns unless N <= 64, shrunk while the GPU would get fewer than two
 * tiles per multiprocessor; 4 stages; swizzle 8. */
#include <stdio.h>

#include "impls/cuda/grouped_gemm_record_common.h"
#include "impls/cuda/record_common.h"
#include "runtime/status.h"

static const tk_param_def params[] = {TK_PARAM(tk_cuda_gg_tiled_cfg, block_m, 64, 128),
                                      TK_PARAM(tk_cuda_gg_tiled_cfg, block_n, 64, 128),
                                      TK_PARAM(tk_cuda_gg_tiled_cfg, stages, 3, 4),
                                      TK_PARAM(tk_cuda_gg_tiled_cfg, swizzle, 1, 8)};
static const tk_config_space space = TK_CONFIG_SPACE(tk_cuda_gg_tiled_cfg, params, NULL);

/* The largest shared memory any config needs, for any problem. */
#define TILED_MAX_SMEM (82 * 1024)

static int tiled_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  if (!tk_cuda_cc_at_least(dev, p->device_id, 8, 0, why, len)) return 0;
  if (dev->cuda[p->device_id].smem_per_block_optin < TILED_MAX_SMEM) {
    snprintf(why, len, "unsupported: needs %d KiB of shared memory per block, the device has %lld",
             TILED_MAX_SMEM / 1024, (long long)(dev->cuda[p->device_id].smem_per_block_optin / 1024));
    return 0;
  }
  tk_cuda_gg g;
  return tk_cuda_gg_from_problem(p, &g, why, len);
}

/* Tiles of bm x bn over the problem's outputs when groups are balanced. */
static double tiles_of(const tk_grouped_gemm_problem *g, int bm, int bn) {
  int64_t rows = g->layout == TK_GG_TN ? g->G * ((g->K + bm - 1) / bm)
                                       : (g->M + bm - 1) / bm + g->G / 2;
  return (double)rows * (double)((g->N + bn - 1) / bn);
}

static void tiled_heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  const tk_grouped_gemm_problem *g = &p->u.grouped_gemm;
  tk_cuda_gg_tiled_cfg *c = config;
  int sms = dev->cuda[p->device_id].sm_count > 0 ? dev->cuda[p->device_id].sm_count : 108;
  int64_t rows_per_group = g->layout == TK_GG_TN ? g->K : (g->G > 0 ? g->M / g->G : g->M);
  c->block_m = rows_per_group <= 64 ? 64 : 128;
  c->block_n = g->N <= 64 ? 64 : 128;
  if (c->block_m == 128 && c->block_n == 128 && tiles_of(g, 128, 128) < 2.0 * sms) c->block_n = 64;
  if (c->block_m == 128 && tiles_of(g, 128, c->block_n) < 2.0 * sms) c->block_m = 64;
  c->stages = 4;
  c->swizzle = 8;
}

static size_t tiled_workspace(const tk_problem *p, const void *config) {
  tk_cuda_gg g;
  char why[8];
  if (!tk_cuda_gg_from_problem(p, &g, why, sizeof why)) return 0;
  return tk_cuda_gg_tiled_workspace(&g, config);
}

/* One enqueue of the kernels, for tk_cuda_enqueue_on. */
typedef struct {
  tk_cuda_gg g;
  tk_cuda_gg_tiled_cfg cfg;
  void *ws, *stream;
} tiled_call;

static int tiled_enqueue(void *arg) {
  tiled_call *t = arg;
  return (int)tk_cuda_gg_tiled_run(&t->g, &t->cfg, t->ws, t->stream);
}

static tk_status tiled_run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  tiled_call t = {.cfg = *(const tk_cuda_gg_tiled_cfg *)config, .ws = ws, .stream = ex->cuda_stream};
  char why[256];
  if (!tk_cuda_gg_from_problem(p, &t.g, why, sizeof why))
    return tk_fail(TK_ERR_UNSUPPORTED, "grouped_gemm (cuda_tiled): %s", why);
  return tk_cuda_enqueue_on(p->device_id, tiled_enqueue, &t, "grouped_gemm (cuda_tiled)");
}

const tk_impl tk_cuda_tiled_grouped_gemm_impl = {.name = "cuda_tiled",
                                                 .backend = TK_BACKEND_CUDA,
                                                 .space = &space,
                                                 .supports = tiled_supports,
                                                 .heuristic = tiled_heuristic,
                                                 .workspace = tiled_workspace,
                                                 .run = tiled_run};
