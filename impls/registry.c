/* registry.c: the ordered implementation list of each op (fastest-first,
 * reference last), and whether an implementation can run a problem here.
 * Adding an implementation = defining its record in its backend folder
 * and listing it here. */
#include "impls/registry.h"

#include <stdio.h>
#include <string.h>

/* Records of impls/reference/ and impls/cpu/ (<op>_record.c). */
extern const tk_impl tk_reference_attention_impl, tk_reference_grouped_gemm_impl,
    tk_reference_moe_permute_impl, tk_reference_moe_unpermute_impl,
    tk_reference_paged_attention_impl, tk_reference_attention_backward_impl,
    tk_reference_moe_unpermute_backward_impl;
extern const tk_impl tk_cpu_attention_impl, tk_cpu_grouped_gemm_impl, tk_cpu_moe_permute_impl,
    tk_cpu_moe_unpermute_impl, tk_cpu_paged_attention_impl, tk_cpu_attention_backward_impl,
    tk_cpu_moe_unpermute_backward_impl;

/* Records of impls/cuda/ and impls/cublas/, in CUDA builds; CUDA(...)
 * lists them first. */
#if TK_HAVE_CUDA
extern const tk_impl tk_cuda_pipelined_attention_impl, tk_cuda_tiled_attention_impl,
    tk_cuda_pipelined_grouped_gemm_impl, tk_cuda_tiled_grouped_gemm_impl,
    tk_cublas_grouped_gemm_impl, tk_cuda_moe_permute_impl, tk_cuda_moe_unpermute_impl,
    tk_cuda_tiled_paged_attention_impl, tk_cuda_tiled_attention_backward_impl,
    tk_cuda_moe_unpermute_backward_impl;
#define CUDA(...) __VA_ARGS__,
#else
#define CUDA(...)
#endif

static const tk_impl *const attention[] = {
    CUDA(&tk_cuda_pipelined_attention_impl, &tk_cuda_tiled_attention_impl) &tk_cpu_attention_impl,
    &tk_reference_attention_impl};
static const tk_impl *const grouped_gemm[] = {
    CUDA(&tk_cuda_pipelined_grouped_gemm_impl, &tk_cuda_tiled_grouped_gemm_impl,
         &tk_cublas_grouped_gemm_impl) &tk_cpu_grouped_gemm_impl,
    &tk_reference_grouped_gemm_impl};
static const tk_impl *const moe_permute[] = {
    CUDA(&tk_cuda_moe_permute_impl) &tk_cpu_moe_permute_impl, &tk_reference_moe_permute_impl};
static const tk_impl *const moe_unpermute[] = {
    CUDA(&tk_cuda_moe_unpermute_impl) &tk_cpu_moe_unpermute_impl, &tk_reference_moe_unpermute_impl};
static const tk_impl *const paged_attention[] = {
    CUDA(&tk_cuda_tiled_paged_attention_impl) &tk_cpu_paged_attention_impl,
    &tk_reference_paged_attention_impl};

static const tk_impl *const attention_backward[] = {
    CUDA(&tk_cuda_tiled_attention_backward_impl) &tk_cpu_attention_backward_impl,
    &tk_reference_attention_backward_impl};
static const tk_impl *const moe_unpermute_backward[] = {
    CUDA(&tk_cuda_moe_unpermute_backward_impl) &tk_cpu_moe_unpermute_backward_impl,
    &tk_reference_moe_unpermute_backward_impl};

#define LIST(a) {a, (int)(sizeof a / sizeof a[0])}
static const struct {
  const tk_impl *const *impls;
  int count;
} lists[] = {
    [TK_OP_ATTENTION] = LIST(attention),
    [TK_OP_GROUPED_GEMM] = LIST(grouped_gemm),
    [TK_OP_MOE_PERMUTE] = LIST(moe_permute),
    [TK_OP_MOE_UNPERMUTE] = LIST(moe_unpermute),
    [TK_OP_PAGED_ATTENTION] = LIST(paged_attention),
    [TK_OP_ATTENTION_BACKWARD] = LIST(attention_backward),
    [TK_OP_MOE_UNPERMUTE_BACKWARD] = LIST(moe_unpermute_backward),
};

/* An op appended to tk_op without a list here fails to compile. */
_Static_assert(sizeof lists / sizeof lists[0] == TK_OP_COUNT,
               "impls/registry.c: every tk_op needs its implementation list");

const tk_impl *const *tk_registry(tk_op op, int *count) {
  if ((unsigned)op >= TK_OP_COUNT) {
    *count = 0;
    return NULL;
  }
  *count = lists[op].count;
  return lists[op].impls;
}

const tk_impl *tk_registry_find(tk_op op, const char *name) {
  int n;
  const tk_impl *const *list = tk_registry(op, &n);
  for (int i = 0; i < n; i++)
    if (strcmp(list[i]->name, name) == 0) return list[i];
  return NULL;
}

int tk_impl_can_run(const tk_context *ctx, const tk_impl *impl, const tk_problem *p, char *why,
                    size_t why_len) {
  if (impl->backend == TK_BACKEND_CPU && p->device_type != kDLCPU) {
    snprintf(why, why_len, "runs on CPU tensors only");
    return 0;
  }
  if (impl->backend == TK_BACKEND_CUDA) {
    if (p->device_type != kDLCUDA) {
      snprintf(why, why_len, "runs on CUDA tensors only");
      return 0;
    }
    if (ctx->dev.cuda_device_count == 0) {
      snprintf(why, why_len, "unsupported: no CUDA device (%s)", ctx->dev.cuda_status);
      return 0;
    }
    if (p->device_id < 0 || p->device_id >= ctx->dev.cuda_device_count) {
      snprintf(why, why_len, "no CUDA device %d (%d present)", p->device_id,
               ctx->dev.cuda_device_count);
      return 0;
    }
  }
  return impl->supports(p, &ctx->dev, why, why_len);
}
