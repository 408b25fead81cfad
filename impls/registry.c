/* registry.c: the ordered implementation list of each op (fastest-first,
 * reference last). Adding an implementation = adding its record here. */
#include "registry.h"

#include <string.h>

/* Records defined in impls/registry_<impl>.c. */
extern const tk_impl tk_reference_impl;
extern const tk_impl tk_cpu_moe_permute_impl;
extern const tk_impl tk_cpu_moe_unpermute_impl;

/* CUDA grouped GEMM and MoE records (impls/cuda/registry_cuda_gemm*.c,
 * registry_cuda_moe*.c, impls/cublas/registry_cublas.c). */
#if TK_HAVE_CUDA
extern const tk_impl tk_cuda_pipelined_grouped_gemm_impl, tk_cuda_tiled_grouped_gemm_impl,
    tk_cublas_grouped_gemm_impl, tk_cuda_moe_permute_impl, tk_cuda_moe_unpermute_impl;
#define TK_CUDA_GROUPED_GEMM \
  &tk_cuda_pipelined_grouped_gemm_impl, &tk_cuda_tiled_grouped_gemm_impl, &tk_cublas_grouped_gemm_impl,
#define TK_CUDA_MOE_PERMUTE &tk_cuda_moe_permute_impl,
#define TK_CUDA_MOE_UNPERMUTE &tk_cuda_moe_unpermute_impl,
#else
#define TK_CUDA_GROUPED_GEMM
#define TK_CUDA_MOE_PERMUTE
#define TK_CUDA_MOE_UNPERMUTE
#endif

/* CUDA attention records (impls/cuda/registry_cuda_attention*.c). */
#if TK_HAVE_CUDA
extern const tk_impl tk_cuda_pipelined_attention_impl, tk_cuda_tiled_attention_impl,
    tk_cuda_tiled_paged_attention_impl;
#define TK_CUDA_ATTENTION &tk_cuda_pipelined_attention_impl, &tk_cuda_tiled_attention_impl,
#define TK_CUDA_PAGED_ATTENTION &tk_cuda_tiled_paged_attention_impl,
#else
#define TK_CUDA_ATTENTION
#define TK_CUDA_PAGED_ATTENTION
#endif

extern const tk_impl tk_cpu_attention_impl;
static const tk_impl *const attention_impls[] = {TK_CUDA_ATTENTION &tk_cpu_attention_impl,
                                                 &tk_reference_impl};
extern const tk_impl tk_cpu_grouped_gemm_impl;
static const tk_impl *const grouped_gemm_impls[] = {TK_CUDA_GROUPED_GEMM &tk_cpu_grouped_gemm_impl,
                                                    &tk_reference_impl};
static const tk_impl *const moe_permute_impls[] = {TK_CUDA_MOE_PERMUTE &tk_cpu_moe_permute_impl,
                                                   &tk_reference_impl};
static const tk_impl *const moe_unpermute_impls[] = {TK_CUDA_MOE_UNPERMUTE
                                                         &tk_cpu_moe_unpermute_impl,
                                                     &tk_reference_impl};
extern const tk_impl tk_cpu_paged_attention_impl;
static const tk_impl *const paged_attention_impls[] = {TK_CUDA_PAGED_ATTENTION
                                                           &tk_cpu_paged_attention_impl,
                                                       &tk_reference_impl};

#define LIST(a) {a, (int)(sizeof a / sizeof a[0])}
static const struct {
  const tk_impl *const *impls;
  int count;
} lists[TK_OP_COUNT] = {
    [TK_OP_ATTENTION] = LIST(attention_impls),
    [TK_OP_GROUPED_GEMM] = LIST(grouped_gemm_impls),
    [TK_OP_MOE_PERMUTE] = LIST(moe_permute_impls),
    [TK_OP_MOE_UNPERMUTE] = LIST(moe_unpermute_impls),
    [TK_OP_PAGED_ATTENTION] = LIST(paged_attention_impls),
};

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

int tk_config_get(const tk_config_space *s, const tk_config *c, const char *name, int fallback) {
  for (int i = 0; i < s->n_params && i < c->n; i++)
    if (strcmp(s->params[i].name, name) == 0) return c->v[i];
  return fallback;
}
