/* attention_pipelined_record.c: the record of cuda_pipelined dense
 * attention (FlashAttention-3 style, sm_90a): its config space, validity
 * rule, heuristic and run. docs/cuda-attention.md explains the choices. */
#include <stdio.h>

#include "impls/cuda/attention_index.h"
#include "impls/cuda/attention_record_common.h"
#include "impls/cuda/sm90a.h"
#include "runtime/status.h"

static const tk_param_def params[] = {TK_PARAM(tk_cuda_pipelined_config, consumers, 1, 2),
                                      TK_PARAM(tk_cuda_pipelined_config, block_kv, 64, 128),
                                      TK_PARAM(tk_cuda_pipelined_config, stages, 2, 3)};

/* 1 if the pipelined kernel is compiled for t on a's head dims and t's
 * ring fits smem bytes; else 0 with why. */
static int fits(const tk_cuda_attention_args *a, tk_cuda_pipelined_config t, long long smem,
                char *why, size_t len) {
  int dp, dvp;
  return tk_cuda_bucket_or_why(a->D, a->Dv, &dp, &dvp, why, len) &&
         tk_cuda_kernel_fits(tk_pipelined_shape_ok(dp, dvp, t.block_kv, t.consumers),
                             tk_pipelined_smem(dp, dvp, t.block_kv, t.consumers, t.stages), smem,
                             why, len);
}

/* The space's validity rule: a layout the tensor maps take, a compiled
 * shape, and a ring that fits the problem's device. */
static int valid(const tk_problem *p, const void *config, char *why, size_t len) {
  tk_cuda_attention_args a;
  if (!tk_cuda_attention_args_of(&p->u.attention, &a, why, len)) return 0;
  if (!tk_cuda_attention_pipelined_fits(&a)) {
    snprintf(why, len, "layout or dtype unsuited to the tensor maps");
    return 0;
  }
  return fits(&a, *(const tk_cuda_pipelined_config *)config, tk_cuda_smem_limit(p->device_id), why,
              len);
}

static const tk_config_space space = TK_CONFIG_SPACE(tk_cuda_pipelined_config, params, valid);

/* Compute capability 9.0 with the sm_90a code in this binary, and a
 * layout the tensor maps take. */
static int supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  tk_cuda_attention_args a;
  if (!tk_cuda_sm90a_or_why(dev, p->device_id, why, len) ||
      !tk_cuda_attention_args_of(&p->u.attention, &a, why, len))
    return 0;
  if (!tk_cuda_attention_pipelined_fits(&a)) {
    snprintf(why, len, "needs bf16/f16, D and Dv multiples of 8 up to 256, 16-byte aligned rows");
    return 0;
  }
  return 1;
}

/* A config by head-dim bucket, with 2 stages when 3 do not fit. */
static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  static const tk_cuda_pipelined_config by_bucket[4] = {
      {2, 128, 3}, /* D <= 64 */
      {2, 128, 2}, /* D <= 128 */
      {2, 64, 3},  /* D <= 192, Dv <= 128 */
      {2, 64, 2}}; /* D <= 256 */
  const tk_attention_problem *a = &p->u.attention;
  tk_cuda_pipelined_config *c = config;
  int dp = 128, dvp = 128;
  tk_attn_bucket((int)a->D, (int)a->Dv, &dp, &dvp);
  *c = by_bucket[dp / 64 - 1];
  tk_cuda_attention_args args;
  char why[160];
  if (tk_cuda_attention_args_of(a, &args, why, sizeof why) &&
      !fits(&args, *c, dev->cuda[p->device_id].smem_per_block_optin, why, sizeof why))
    c->stages = 2;
}

/* What one enqueue needs. */
typedef struct {
  tk_cuda_attention_args args;
  tk_cuda_tiled_config tiled;
  tk_cuda_pipelined_config pipelined;
  void *stream;
} pipelined_call;

/* Enqueues the pipelined kernel of a call, or the tiled one when the data
 * pointers turn out misaligned for the tensor maps. */
static int enqueue(void *arg) {
  pipelined_call *d = arg;
  if (!tk_cuda_attention_pipelined_fits(&d->args)) /* data pointers misaligned at run time */
    return tk_cuda_attention_tiled(&d->args, &d->tiled, d->stream);
  return tk_cuda_attention_pipelined(&d->args, &d->pipelined, d->stream);
}

/* Enqueues the call on the context's stream of the tensors' device. */
static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  (void)ws;
  pipelined_call d;
  char why[160];
  if (!tk_cuda_attention_args_of(&p->u.attention, &d.args, why, sizeof why))
    return tk_fail(TK_ERR_UNSUPPORTED, "attention (cuda_pipelined): %s", why);
  d.pipelined = *(const tk_cuda_pipelined_config *)config;
  d.tiled = tk_cuda_tiled_pick(&d.args, ex->dev->cuda[p->device_id].smem_per_block_optin);
  d.stream = ex->cuda_stream;
  return tk_cuda_enqueue_on(p->device_id, enqueue, &d, "attention (cuda_pipelined)");
}

const tk_impl tk_cuda_pipelined_attention_impl = {.name = "cuda_pipelined",
                                                  .backend = TK_BACKEND_CUDA,
                                                  .space = &space,
                                                  .supports = supports,
                                                  .heuristic = heuristic,
                                                  .run = run};
