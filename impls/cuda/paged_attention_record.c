/* paged_attention_record.c: the record of cuda_tiled paged
 * attention: tensor-core kernel over page-gathered K/V tiles, one CTA per
 * (unit of query rows, KV head, split), split-KV merged by log-sum-exp,
 * unit table computed on the device; calls it does not take (float32,
 * other head dims or layouts, 8-bit caches) run on the scalar kernel in
 * one config. docs/cuda-attention.md explains the choices. */
#include "runtime/status.h"
#include "impls/cuda/attention_index.h"
#include "impls/cuda/attention_record_common.h"

static const tk_param_def params[] = {TK_PARAM(tk_cuda_paged_config, row_warps, 1, 4),
                                      TK_PARAM(tk_cuda_paged_config, block_kv, 64, 128),
                                      TK_PARAM(tk_cuda_paged_config, stages, 2, 3),
                                      TK_PARAM(tk_cuda_paged_config, splits, 1, 2, 4, 8, 16, 32)};

/* The one config of calls that take the scalar path. */
static const tk_cuda_paged_config paged_scalar = {1, 64, 2, 1};

/* 1 if the tensor-core kernel is compiled for t on a's head dims and its
 * shared memory fits smem bytes; else 0 with why. */
static int paged_fits(const tk_cuda_paged_args *a, tk_cuda_paged_config t, long long smem,
                      char *why, size_t len) {
  int dp, dvp;
  return tk_cuda_bucket_or_why(a->D, a->Dv, &dp, &dvp, why, len) &&
         tk_cuda_kernel_fits(tk_paged_shape_ok(dp, dvp, t.block_kv, t.row_warps),
                             tk_paged_smem(dp, dvp, t.block_kv, t.row_warps, t.stages), smem, why,
                             len);
}

/* The space's validity rule: compiled shape and shared memory on the
 * problem's device, or the one scalar config. */
static int paged_valid(const tk_problem *p, const void *config, char *why, size_t len);
static const tk_config_space paged_space = TK_CONFIG_SPACE(tk_cuda_paged_config, params, paged_valid);

static int paged_valid(const tk_problem *p, const void *config, char *why, size_t len) {
  tk_cuda_paged_args a;
  if (!tk_cuda_paged_args_of(&p->u.paged_attention, &a, why, len)) return 0;
  if (!tk_cuda_paged_attention_fast(&a))
    return tk_cuda_only_config(&paged_space, config, &paged_scalar, why, len);
  return paged_fits(&a, *(const tk_cuda_paged_config *)config, tk_cuda_smem_limit(p->device_id),
                    why, len);
}

/* Any call within the index limits on compute capability 8.0 or later,
 * 8-bit (fp8/int8) caches included (on the scalar kernel). */
static int paged_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  tk_cuda_paged_args a;
  return tk_cuda_cc_at_least(dev, p->device_id, 8, 0, why, len) &&
         tk_cuda_paged_args_of(&p->u.paged_attention, &a, why, len);
}

/* The paged config for a on device d: rows along the warps when sequences
 * bring many (query, head) rows, keys along them for decode; tiles that fit
 * shared memory; splits until the grid has two CTAs per multiprocessor,
 * keeping at least 512 keys of the table's capacity per split. */
static tk_cuda_paged_config paged_pick(const tk_cuda_paged_args *a, const tk_cuda_device *d) {
  int dp, dvp;
  if (!tk_cuda_paged_attention_fast(a) || !tk_attn_bucket(a->D, a->Dv, &dp, &dvp))
    return paged_scalar;
  const int group = a->Hq / a->Hkv;
  const long long rows = (long long)a->Tq_total * group;
  tk_cuda_paged_config t = {1, 64, 3, 1};
  if (rows >= 32LL * a->S && tk_paged_shape_ok(dp, dvp, 64, 4)) t.row_warps = 4;
  char why[160];
  if (!paged_fits(a, t, d->smem_per_block_optin, why, sizeof why)) t.stages = 2;
  const int m = 16 * t.row_warps;
  const long long units = a->cu_q_lens ? tk_paged_max_units(a->Tq_total, a->S, group, m)
                                       : (long long)a->S * ((group + m - 1) / m);
  const long long ctas = units * a->Hkv, capacity = (long long)a->max_pages * a->page_size;
  while (t.splits < 32 && ctas * t.splits < 2LL * d->sm_count && capacity / (2LL * t.splits) >= 512)
    t.splits *= 2;
  return t;
}

/* paged_pick for the problem's device. */
static void paged_heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  tk_cuda_paged_config *c = config;
  tk_cuda_paged_args a;
  char why[160];
  *c = tk_cuda_paged_args_of(&p->u.paged_attention, &a, why, sizeof why)
           ? paged_pick(&a, &dev->cuda[p->device_id])
           : paged_scalar;
}

/* Device bytes for the unit table and split partials. */
static size_t paged_workspace(const tk_problem *p, const void *config) {
  tk_cuda_paged_args a;
  char why[160];
  if (!tk_cuda_paged_args_of(&p->u.paged_attention, &a, why, sizeof why)) return 0;
  return tk_cuda_paged_attention_workspace(&a, config);
}

/* What one enqueue needs. */
typedef struct {
  tk_cuda_paged_args args;
  tk_cuda_paged_config config;
  void *workspace, *stream;
} paged_call;

/* Enqueues a paged_call; returns the cudaError_t. */
static int enqueue_paged(void *arg) {
  paged_call *d = arg;
  return tk_cuda_paged_attention(&d->args, &d->config, d->workspace, d->stream);
}

/* Enqueues the call on the context's stream of the tensors' device. */
static tk_status paged_run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  paged_call d;
  char why[160];
  if (!tk_cuda_paged_args_of(&p->u.paged_attention, &d.args, why, sizeof why))
    return tk_fail(TK_ERR_UNSUPPORTED, "paged_attention (cuda_tiled): %s", why);
  d.config = *(const tk_cuda_paged_config *)config;
  d.workspace = ws;
  d.stream = ex->cuda_stream;
  return tk_cuda_enqueue_on(p->device_id, enqueue_paged, &d, "paged_attention (cuda_tiled)");
}

const tk_impl tk_cuda_tiled_paged_attention_impl = {.name = "cuda_tiled",
                                                    .backend = TK_BACKEND_CUDA,
                                                    .space = &paged_space,
                                                    .supports = paged_supports,
                                                    .heuristic = paged_heuristic,
                                                    .workspace = paged_workspace,
                                                    .run = paged_run};
