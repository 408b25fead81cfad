/* attention_backward_record.c: the record of cuda_tiled attention
 * backward (FlashAttention-2 style, sm_80 and later): a dK/dV kernel over
 * 64-key CTAs and a dQ kernel over 64-row CTAs, no atomics; the scalar
 * float kernels for calls the tensor cores do not take.
 * docs/cuda-attention.md explains the choices. */
#include <stdio.h>

#include "impls/cuda/attention_backward_cuda.h"
#include "impls/cuda/attention_index.h"
#include "impls/cuda/attention_record_common.h"
#include "runtime/status.h"

static const tk_param_def params[] = {TK_PARAM(tk_cuda_attn_bwd_config, block_q, 16, 32)};

/* The one config of calls that take the scalar kernels. */
static const tk_cuda_attn_bwd_config bwd_scalar = {16};

static int valid(const tk_problem *p, const void *config, char *why, size_t len);
static const tk_config_space space = TK_CONFIG_SPACE(tk_cuda_attn_bwd_config, params, valid);

/* Shared memory of the larger of the two kernels for block_q on a's head
 * dims (tensor-core path), as attention_backward.cuh lays it out. */
static long long bwd_smem(const tk_cuda_attention_backward_args *a, int block_q) {
  const int pad = a->f.D > 64 || a->f.Dv > 64 ? 128 : 64;
  const long long dkv = 2LL * 64 * (2 * pad) + 2LL * block_q * (2 * pad) + 8LL * block_q;
  const long long dq = 4LL * 64 * (2 * pad) + 8LL * 64;
  return dkv > dq ? dkv : dq;
}

/* The space's validity rule: 32-row tiles only for head dims up to 64
 * (the 128-column kernel is compiled for 16), shared memory on the
 * problem's device, or the one scalar config. */
static int valid(const tk_problem *p, const void *config, char *why, size_t len) {
  tk_cuda_attention_backward_args a;
  if (!tk_cuda_attention_backward_args_of(&p->u.attention_backward, &a, why, len)) return 0;
  if (!tk_cuda_attention_backward_fast(&a))
    return tk_cuda_only_config(&space, config, &bwd_scalar, why, len);
  const tk_cuda_attn_bwd_config *c = config;
  const int narrow = a.f.D <= 64 && a.f.Dv <= 64;
  return tk_cuda_kernel_fits(c->block_q == 16 || narrow, bwd_smem(&a, c->block_q),
                             tk_cuda_smem_limit(p->device_id), why, len);
}

/* Any call within the index limits on compute capability 8.0 or later. */
static int supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  tk_cuda_attention_backward_args a;
  return tk_cuda_cc_at_least(dev, p->device_id, 8, 0, why, len) &&
         tk_cuda_attention_backward_args_of(&p->u.attention_backward, &a, why, len);
}

/* The larger compiled tile: 32 rows for head dims up to 64, else 16. */
static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  (void)dev;
  tk_cuda_attn_bwd_config *c = config;
  tk_cuda_attention_backward_args a;
  char why[160];
  *c = bwd_scalar;
  if (tk_cuda_attention_backward_args_of(&p->u.attention_backward, &a, why, sizeof why) &&
      tk_cuda_attention_backward_fast(&a) && a.f.D <= 64 && a.f.Dv <= 64)
    c->block_q = 32;
}

/* Device bytes for Drow. */
static size_t workspace(const tk_problem *p, const void *config) {
  (void)config;
  tk_cuda_attention_backward_args a;
  char why[160];
  if (!tk_cuda_attention_backward_args_of(&p->u.attention_backward, &a, why, sizeof why)) return 0;
  return tk_cuda_attention_backward_workspace(&a);
}

/* What one enqueue needs. */
typedef struct {
  tk_cuda_attention_backward_args args;
  tk_cuda_attn_bwd_config config;
  void *workspace, *stream;
} bwd_call;

/* Enqueues a bwd_call; returns the cudaError_t. */
static int enqueue(void *arg) {
  bwd_call *d = arg;
  return tk_cuda_attention_backward(&d->args, &d->config, d->workspace, d->stream);
}

/* Enqueues the call on the context's stream of the tensors' device. */
static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  bwd_call d;
  char why[160];
  if (!tk_cuda_attention_backward_args_of(&p->u.attention_backward, &d.args, why, sizeof why))
    return tk_fail(TK_ERR_UNSUPPORTED, "attention_backward (cuda_tiled): %s", why);
  d.config = *(const tk_cuda_attn_bwd_config *)config;
  d.workspace = ws;
  d.stream = ex->cuda_stream;
  return tk_cuda_enqueue_on(p->device_id, enqueue, &d, "attention_backward (cuda_tiled)");
}

const tk_impl tk_cuda_tiled_attention_backward_impl = {.name = "cuda_tiled",
                                                       .backend = TK_BACKEND_CUDA,
                                                       .space = &space,
                                                       .supports = supports,
                                                       .heuristic = heuristic,
                                                       .workspace = workspace,
                                                       .run = run};
