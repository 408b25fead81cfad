/* grouped_gemm_pipelined_record.c: the cuda_pipelined grouped GEMM record
 * (grouped_gemm_pipelined.cu): compute capability 9.0 and this binary's
 * sm_90a code for it (impls/cuda/sm90a.h), bf16 and f16 operands aligned
 * for the copy engine, every layout.
 *
 * Config space: block_n (128 or 256; block_m is 128, one 64-row half per
 * consumer warpgroup), stages of the TMA ring (3 or 4), swizzle = row tiles
 * per band of the persistent visiting order (1 or 8). Every combination
 * fits in 193 KiB of shared memory. Heuristic: block_n 256 with 3 stages
 * when N >= 256 and that still gives every multiprocessor a tile, else 128
 * with 4 stages; swizzle 8. */
#include <stdio.h>

#include "impls/cuda/grouped_gemm_record_common.h"
#include "impls/cuda/record_common.h"
#include "impls/cuda/sm90a.h"
#include "runtime/status.h"

static const tk_param_def params[] = {TK_PARAM(tk_cuda_gg_pipelined_cfg, block_n, 128, 256),
                                      TK_PARAM(tk_cuda_gg_pipelined_cfg, stages, 3, 4),
                                      TK_PARAM(tk_cuda_gg_pipelined_cfg, swizzle, 1, 8)};
static const tk_config_space space = TK_CONFIG_SPACE(tk_cuda_gg_pipelined_cfg, params, NULL);

static int pipelined_supports(const tk_problem *p, const tk_device_info *dev, char *why,
                              size_t len) {
  const tk_cuda_device *d = &dev->cuda[p->device_id];
  if (!tk_cuda_sm90a_or_why(dev, p->device_id, why, len)) return 0;
  if (p->dtype != TK_BF16 && p->dtype != TK_F16) {
    snprintf(why, len, "unsupported: bf16 and f16 only");
    return 0;
  }
  tk_cuda_gg g;
  if (!tk_cuda_gg_from_problem(p, &g, why, len)) return 0;
  if (!tk_cuda_gg_pipelined_fits(&g)) {
    snprintf(why, len, "unsupported: needs M, K, N, G >= 1, 16-byte aligned lhs/rhs and row "
                       "strides that are multiples of 16 bytes (TMA)");
    return 0;
  }
  tk_cuda_gg_pipelined_cfg big = {256, 4, 1};
  if ((size_t)d->smem_per_block_optin < tk_cuda_gg_pipelined_smem(&big)) {
    snprintf(why, len, "unsupported: needs %zu KiB of shared memory per block, the device has %lld",
             tk_cuda_gg_pipelined_smem(&big) / 1024, (long long)(d->smem_per_block_optin / 1024));
    return 0;
  }
  return 1;
}

static void pipelined_heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  const tk_grouped_gemm_problem *g = &p->u.grouped_gemm;
  tk_cuda_gg_pipelined_cfg *c = config;
  int sms = dev->cuda[p->device_id].sm_count > 0 ? dev->cuda[p->device_id].sm_count : 132;
  int64_t rows = g->layout == TK_GG_TN ? g->G * ((g->K + 127) / 128) : (g->M + 127) / 128;
  double tiles256 = (double)rows * (double)((g->N + 255) / 256);
  c->block_n = g->N >= 256 && tiles256 >= sms ? 256 : 128;
  c->stages = c->block_n == 256 ? 3 : 4;
  c->swizzle = 8;
}

static size_t pipelined_workspace(const tk_problem *p, const void *config) {
  tk_cuda_gg g;
  char why[8];
  if (!tk_cuda_gg_from_problem(p, &g, why, sizeof why)) return 0;
  return tk_cuda_gg_pipelined_workspace(&g, config);
}

/* One enqueue of the kernels, for tk_cuda_enqueue_on. */
typedef struct {
  tk_cuda_gg g;
  tk_cuda_gg_pipelined_cfg cfg;
  void *ws, *stream;
} pipelined_call;

static int pipelined_enqueue(void *arg) {
  pipelined_call *t = arg;
  return (int)tk_cuda_gg_pipelined_run(&t->g, &t->cfg, t->ws, t->stream);
}

static tk_status pipelined_run(const tk_problem *p, const void *config, const tk_exec *ex,
                               void *ws) {
  pipelined_call t = {
      .cfg = *(const tk_cuda_gg_pipelined_cfg *)config, .ws = ws, .stream = ex->cuda_stream};
  char why[256];
  if (!tk_cuda_gg_from_problem(p, &t.g, why, sizeof why))
    return tk_fail(TK_ERR_UNSUPPORTED, "grouped_gemm (cuda_pipelined): %s", why);
  t.g.sm_count = ex->dev->cuda[p->device_id].sm_count;
  return tk_cuda_enqueue_on(p->device_id, pipelined_enqueue, &t, "grouped_gemm (cuda_pipelined)");
}

const tk_impl tk_cuda_pipelined_grouped_gemm_impl = {.name = "cuda_pipelined",
                                                     .backend = TK_BACKEND_CUDA,
                                                     .space = &space,
                                                     .supports = pipelined_supports,
                                                     .heuristic = pipelined_heuristic,
                                                     .workspace = pipelined_workspace,
                                                     .run = pipelined_run};
