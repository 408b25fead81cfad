/* attention_tiled_record.c: the record of cuda_tiled dense attention
 * (FlashAttention-2 style, sm_80 and later): its config space, validity
 * rule, heuristic and run. docs/cuda-attention.md explains the choices. */
#include <stdio.h>

#include "impls/cuda/attention_index.h"
#include "impls/cuda/attention_record_common.h"
#include "runtime/status.h"

static const tk_param_def params[] = {TK_PARAM(tk_cuda_tiled_config, block_q, 64, 128),
                                      TK_PARAM(tk_cuda_tiled_config, warp_mtiles, 1, 2),
                                      TK_PARAM(tk_cuda_tiled_config, block_kv, 32, 64, 128),
                                      TK_PARAM(tk_cuda_tiled_config, stages, 2, 3)};

static int valid(const tk_problem *p, const void *config, char *why, size_t len);
static const tk_config_space space = TK_CONFIG_SPACE(tk_cuda_tiled_config, params, valid);

/* The space's validity rule: compiled shape and shared memory on the
 * problem's device, or the one scalar config. */
static int valid(const tk_problem *p, const void *config, char *why, size_t len) {
  tk_cuda_attention_args a;
  if (!tk_cuda_attention_args_of(&p->u.attention, &a, why, len)) return 0;
  if (!tk_cuda_attention_tiled_fast(&a))
    return tk_cuda_only_config(&space, config, &tk_cuda_tiled_scalar, why, len);
  const tk_cuda_tiled_config *t = config;
  return tk_cuda_tiled_fits(&a, *t, tk_cuda_smem_limit(p->device_id), why, len);
}

/* Any call within the index limits on compute capability 8.0 or later. */
static int supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  tk_cuda_attention_args a;
  return tk_cuda_cc_at_least(dev, p->device_id, 8, 0, why, len) &&
         tk_cuda_attention_args_of(&p->u.attention, &a, why, len);
}

/* tk_cuda_tiled_pick for the problem's device. */
static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  tk_cuda_tiled_config *c = config;
  tk_cuda_attention_args a;
  char why[160];
  *c = tk_cuda_attention_args_of(&p->u.attention, &a, why, sizeof why)
           ? tk_cuda_tiled_pick(&a, dev->cuda[p->device_id].smem_per_block_optin)
           : tk_cuda_tiled_scalar;
}

/* What one enqueue needs. */
typedef struct {
  tk_cuda_attention_args args;
  tk_cuda_tiled_config tiled;
  void *stream;
} tiled_call;

/* Enqueues a tiled_call; returns the cudaError_t. */
static int enqueue(void *arg) {
  tiled_call *d = arg;
  return tk_cuda_attention_tiled(&d->args, &d->tiled, d->stream);
}

/* Enqueues the call on the context's stream of the tensors' device. */
static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  (void)ws;
  tiled_call d;
  char why[160];
  if (!tk_cuda_attention_args_of(&p->u.attention, &d.args, why, sizeof why))
    return tk_fail(TK_ERR_UNSUPPORTED, "attention (cuda_tiled): %s", why);
  d.tiled = *(const tk_cuda_tiled_config *)config;
  d.stream = ex->cuda_stream;
  return tk_cuda_enqueue_on(p->device_id, enqueue, &d, "attention (cuda_tiled)");
}

const tk_impl tk_cuda_tiled_attention_impl = {.name = "cuda_tiled",
                                              .backend = TK_BACKEND_CUDA,
                                              .space = &space,
                                              .supports = supports,
                                              .heuristic = heuristic,
                                              .run = run};
