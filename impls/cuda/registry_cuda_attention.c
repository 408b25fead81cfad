/* registry_cuda_attention.c: the records of the CUDA dense attention
 * implementations: cuda_tiled (FlashAttention-2 style, sm_80 and later)
 * and cuda_pipelined (FlashAttention-3 style, sm_90a), with their config
 * spaces, validity rules, heuristics and runs. docs/cuda-attention.md
 * explains the choices. */
#include <stdio.h>

#include "../../kernels/runtime/status.h"
#include "attention_index.h"
#include "registry_cuda_attention_common.h"

/* ---------------------------------------------------------------- cuda_tiled */

static const int tiled_block_q[] = {64, 128}, tiled_mtiles[] = {1, 2};
static const int tiled_block_kv[] = {32, 64, 128}, tiled_stages[] = {2, 3};
static const tk_param_def tiled_params[] = {{"block_q", tiled_block_q, 2},
                                            {"warp_mtiles", tiled_mtiles, 2},
                                            {"block_kv", tiled_block_kv, 3},
                                            {"stages", tiled_stages, 2}};

/* The one config of calls that take the scalar path (its tiles are fixed). */
static const tk_config tiled_scalar = {4, {64, 1, 64, 2}};

/* The tiled config c holds (params in space order). */
static tk_cuda_tiled_config tiled_config(const tk_config *c) {
  tk_cuda_tiled_config t = {c->v[0], c->v[1], c->v[2], c->v[3]};
  return t;
}

/* 1 if the tensor-core kernel is compiled for t on a's head dims and t's
 * tiles fit smem bytes of shared memory; else 0 with why. */
static int tiled_fits(const tk_cuda_attention_args *a, tk_cuda_tiled_config t, long long smem,
                      char *why, size_t len) {
  int dp, dvp;
  return tk_cuda_bucket_or_why(a->D, a->Dv, &dp, &dvp, why, len) &&
         tk_cuda_kernel_fits(t.block_q % (16 * t.warp_mtiles) == 0 &&
                                 tk_tiled_shape_ok(dp, dvp, t.block_kv, t.warp_mtiles),
                             tk_tiled_smem(dp, dvp, t.block_q, t.block_kv, t.stages), smem, why, len);
}

/* The space's validity rule: compiled shape and shared memory on the
 * problem's device, or the one scalar config. */
static int tiled_valid(const tk_problem *p, const tk_config *c, char *why, size_t len) {
  tk_cuda_attention_args a;
  if (!tk_cuda_attention_args_of(&p->u.attention, &a, why, len)) return 0;
  if (!tk_cuda_attention_tiled_fast(&a))
    return tk_cuda_only_config(tiled_params, 4, c, &tiled_scalar, why, len);
  return tiled_fits(&a, tiled_config(c), tk_cuda_smem_limit(p->device_id), why, len);
}

static const tk_config_space tiled_space = {4, tiled_params, tiled_valid};

/* Any call within the index limits on compute capability 8.0 or later. */
static int tiled_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  tk_cuda_attention_args a;
  return tk_cuda_cc_at_least(dev, p->device_id, 8, 0, why, len) &&
         tk_cuda_attention_args_of(&p->u.attention, &a, why, len);
}

/* The tiled config for a: a table by head-dim bucket, first entry whose
 * tiles fit smem bytes (the last entry fits every sm_80+ device). */
static tk_cuda_tiled_config tiled_pick(const tk_cuda_attention_args *a, long long smem) {
  static const tk_cuda_tiled_config by_bucket[4][3] = {
      {{128, 2, 64, 2}, {128, 1, 64, 2}, {64, 1, 32, 2}}, /* D <= 64 */
      {{128, 1, 64, 2}, {64, 1, 64, 2}, {64, 1, 32, 2}},  /* D <= 128 */
      {{128, 1, 64, 2}, {64, 1, 64, 2}, {64, 1, 32, 2}},  /* D <= 192, Dv <= 128 */
      {{64, 1, 64, 2}, {64, 1, 32, 2}, {64, 1, 32, 2}}};  /* D <= 256 */
  int dp, dvp;
  if (!tk_cuda_attention_tiled_fast(a) || !tk_attn_bucket(a->D, a->Dv, &dp, &dvp))
    return tiled_config(&tiled_scalar);
  const tk_cuda_tiled_config *row = by_bucket[dp / 64 - 1];
  char why[160];
  for (int i = 0; i < 2; i++)
    if (tiled_fits(a, row[i], smem, why, sizeof why)) return row[i];
  return row[2];
}

/* Writes t into c in space order. */
static void tiled_set(tk_config *c, tk_cuda_tiled_config t) {
  c->n = 4;
  c->v[0] = t.block_q;
  c->v[1] = t.warp_mtiles;
  c->v[2] = t.block_kv;
  c->v[3] = t.stages;
}

/* tiled_pick for the problem's device. */
static void tiled_heuristic(const tk_problem *p, const tk_device_info *dev, tk_config *c) {
  tk_cuda_attention_args a;
  char why[160];
  if (!tk_cuda_attention_args_of(&p->u.attention, &a, why, sizeof why)) {
    *c = tiled_scalar;
    return;
  }
  tiled_set(c, tiled_pick(&a, dev->cuda[p->device_id].smem_per_block_optin));
}

/* Dense attention needs no workspace. */
static size_t no_workspace(const tk_problem *p, const tk_config *c) {
  (void)p;
  (void)c;
  return 0;
}

/* What one enqueue of a dense kernel needs. */
typedef struct {
  tk_cuda_attention_args args;
  tk_cuda_tiled_config tiled;
  tk_cuda_pipelined_config pipelined;
  void *stream;
} dense_call;

/* Enqueues the tiled kernel of a dense_call; returns the cudaError_t. */
static int enqueue_tiled(void *arg) {
  dense_call *d = arg;
  return tk_cuda_attention_tiled(&d->args, &d->tiled, d->stream);
}

/* Enqueues the call on the context's stream of the tensors' device. */
static tk_status tiled_run(const tk_problem *p, const tk_config *c, const tk_exec *ex, void *ws) {
  (void)ws;
  dense_call d;
  char why[160];
  if (!tk_cuda_attention_args_of(&p->u.attention, &d.args, why, sizeof why))
    return tk_fail(TK_ERR_UNSUPPORTED, "attention (cuda_tiled): %s", why);
  d.tiled = tiled_config(c);
  d.stream = ex->cuda_stream;
  return tk_cuda_enqueue_on(p->device_id, enqueue_tiled, &d, "attention (cuda_tiled)");
}

const tk_impl tk_cuda_tiled_attention_impl = {"cuda_tiled", TK_BACKEND_CUDA, &tiled_space,
                                              tiled_supports, tiled_heuristic, no_workspace,
                                              tiled_run};

/* ---------------------------------------------------------------- cuda_pipelined */

static const int pipe_consumers[] = {1, 2}, pipe_block_kv[] = {64, 128}, pipe_stages[] = {2, 3};
static const tk_param_def pipe_params[] = {{"consumers", pipe_consumers, 2},
                                           {"block_kv", pipe_block_kv, 2},
                                           {"stages", pipe_stages, 2}};

/* The pipelined config c holds (params in space order). */
static tk_cuda_pipelined_config pipe_config(const tk_config *c) {
  tk_cuda_pipelined_config t = {c->v[0], c->v[1], c->v[2]};
  return t;
}

/* 1 if the pipelined kernel is compiled for t on a's head dims and t's
 * ring fits smem bytes; else 0 with why. */
static int pipe_fits(const tk_cuda_attention_args *a, tk_cuda_pipelined_config t, long long smem,
                     char *why, size_t len) {
  int dp, dvp;
  return tk_cuda_bucket_or_why(a->D, a->Dv, &dp, &dvp, why, len) &&
         tk_cuda_kernel_fits(tk_pipelined_shape_ok(dp, dvp, t.block_kv, t.consumers),
                             tk_pipelined_smem(dp, dvp, t.block_kv, t.consumers, t.stages), smem,
                             why, len);
}

/* The space's validity rule: a layout the tensor maps take, a compiled
 * shape, and a ring that fits the problem's device. */
static int pipe_valid(const tk_problem *p, const tk_config *c, char *why, size_t len) {
  tk_cuda_attention_args a;
  if (!tk_cuda_attention_args_of(&p->u.attention, &a, why, len)) return 0;
  if (!tk_cuda_attention_pipelined_fits(&a)) {
    snprintf(why, len, "layout or dtype unsuited to the tensor maps");
    return 0;
  }
  return pipe_fits(&a, pipe_config(c), tk_cuda_smem_limit(p->device_id), why, len);
}

static const tk_config_space pipe_space = {3, pipe_params, pipe_valid};

/* Whether each device holds the pipelined code: -1 not asked yet. */
static int pipe_device_ok[TK_MAX_CUDA_DEVICES] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                  -1, -1, -1, -1, -1, -1, -1, -1};

/* Compute capability 9.0 with the sm_90a code in this binary, and a
 * layout the tensor maps take. */
static int pipe_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  tk_cuda_attention_args a;
  if (!tk_cuda_cc_at_least(dev, p->device_id, 9, 0, why, len) ||
      !tk_cuda_attention_args_of(&p->u.attention, &a, why, len))
    return 0;
  int *ok = &pipe_device_ok[p->device_id];
  if (*ok < 0) *ok = tk_cuda_attention_pipelined_available(p->device_id);
  if (!*ok) {
    snprintf(why, len, "needs sm_90a code (compute capability 9.0, built for 90a); device %d is %s",
             p->device_id, dev->cuda[p->device_id].name);
    return 0;
  }
  if (!tk_cuda_attention_pipelined_fits(&a)) {
    snprintf(why, len, "needs bf16/f16, D and Dv multiples of 8 up to 256, 16-byte aligned rows");
    return 0;
  }
  return 1;
}

/* A config by head-dim bucket, with 2 stages when 3 do not fit. */
static void pipe_heuristic(const tk_problem *p, const tk_device_info *dev, tk_config *c) {
  static const tk_cuda_pipelined_config by_bucket[4] = {
      {2, 128, 3}, /* D <= 64 */
      {2, 128, 2}, /* D <= 128 */
      {2, 64, 3},  /* D <= 192, Dv <= 128 */
      {2, 64, 2}}; /* D <= 256 */
  const tk_attention_problem *a = &p->u.attention;
  int dp = 128, dvp = 128;
  tk_attn_bucket((int)a->D, (int)a->Dv, &dp, &dvp);
  tk_cuda_pipelined_config t = by_bucket[dp / 64 - 1];
  tk_cuda_attention_args args;
  char why[160];
  if (tk_cuda_attention_args_of(a, &args, why, sizeof why) &&
      !pipe_fits(&args, t, dev->cuda[p->device_id].smem_per_block_optin, why, sizeof why))
    t.stages = 2;
  c->n = 3;
  c->v[0] = t.consumers;
  c->v[1] = t.block_kv;
  c->v[2] = t.stages;
}

/* Enqueues the pipelined kernel of a dense_call, or the tiled one when the
 * data pointers turn out misaligned for the tensor maps. */
static int enqueue_pipelined(void *arg) {
  dense_call *d = arg;
  if (!tk_cuda_attention_pipelined_fits(&d->args)) /* data pointers misaligned at run time */
    return tk_cuda_attention_tiled(&d->args, &d->tiled, d->stream);
  return tk_cuda_attention_pipelined(&d->args, &d->pipelined, d->stream);
}

/* Enqueues the call on the context's stream of the tensors' device. */
static tk_status pipe_run(const tk_problem *p, const tk_config *c, const tk_exec *ex, void *ws) {
  (void)ws;
  dense_call d;
  char why[160];
  if (!tk_cuda_attention_args_of(&p->u.attention, &d.args, why, sizeof why))
    return tk_fail(TK_ERR_UNSUPPORTED, "attention (cuda_pipelined): %s", why);
  d.pipelined = pipe_config(c);
  d.tiled = tiled_pick(&d.args, ex->dev->cuda[p->device_id].smem_per_block_optin);
  d.stream = ex->cuda_stream;
  return tk_cuda_enqueue_on(p->device_id, enqueue_pipelined, &d, "attention (cuda_pipelined)");
}

const tk_impl tk_cuda_pipelined_attention_impl = {"cuda_pipelined", TK_BACKEND_CUDA, &pipe_space,
                                                  pipe_supports, pipe_heuristic, no_workspace,
                                                  pipe_run};
