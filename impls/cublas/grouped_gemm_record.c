/* grouped_gemm_record.c: the cublas grouped GEMM record, the baseline the CUDA
 * kernels are measured against (grouped_gemm_cublas.h). Not graph-safe: it
 * reads the group sizes on the host.
 *
 * Config space: mode 0 = a loop of cublasGemmEx (one per non-empty group),
 * 1 = one cublasGemmGroupedBatchedEx. Mode 1 is valid only when out has the
 * input dtype (cuBLAS's documented type table for the grouped call pairs
 * 16-bit inputs with 16-bit outputs only). Heuristic: mode 1 when valid and
 * there are several groups, else mode 0. */
#include <stdio.h>

#include "impls/cublas/grouped_gemm_cublas.h"
#include "impls/cuda/grouped_gemm_record_common.h"
#include "impls/cuda/record_common.h"
#include "runtime/cuda/cuda_memory.h"
#include "runtime/status.h"

typedef struct {
  int mode;
} cublas_config;

static const tk_param_def params[] = {TK_PARAM(cublas_config, mode, TK_CUBLAS_LOOP, TK_CUBLAS_GROUPED)};

static int cublas_valid(const tk_problem *p, const void *config, char *why, size_t len) {
  const cublas_config *c = config;
  if (c->mode == TK_CUBLAS_GROUPED && p->u.grouped_gemm.out.dtype != p->dtype) {
    snprintf(why, len, "mode=1 (cublasGemmGroupedBatchedEx) needs out in the input dtype");
    return 0;
  }
  return 1;
}

static const tk_config_space space = TK_CONFIG_SPACE(cublas_config, params, cublas_valid);

static int cublas_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  if (!tk_cuda_cc_at_least(dev, p->device_id, 8, 0, why, len)) return 0;
  tk_cuda_gg g;
  return tk_cuda_gg_from_problem(p, &g, why, len) && tk_cublas_gg_fits(&g, why, len);
}

static void cublas_heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  (void)dev;
  cublas_config *c = config;
  c->mode = p->u.grouped_gemm.out.dtype == p->dtype && p->u.grouped_gemm.G > 1 ? TK_CUBLAS_GROUPED
                                                                               : TK_CUBLAS_LOOP;
}

static size_t cublas_workspace(const tk_problem *p, const void *config) {
  tk_cuda_gg g;
  char why[8];
  if (!tk_cuda_gg_from_problem(p, &g, why, sizeof why)) return 0;
  return tk_cublas_gg_workspace(&g, ((const cublas_config *)config)->mode);
}

static tk_status cublas_run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  tk_cuda_gg g;
  char why[256];
  if (!tk_cuda_gg_from_problem(p, &g, why, sizeof why))
    return tk_fail(TK_ERR_UNSUPPORTED, "grouped_gemm (cublas): %s", why);
  int prev;
  tk_status s = tk_cuda_use_device(p->device_id, &prev);
  if (s != TK_OK) return s;
  s = tk_cublas_gg_run(&g, ((const cublas_config *)config)->mode, ws, ex->cuda_stream);
  tk_cuda_restore_device(prev);
  return s;
}

const tk_impl tk_cublas_grouped_gemm_impl = {.name = "cublas",
                                             .backend = TK_BACKEND_CUDA,
                                             .space = &space,
                                             .supports = cublas_supports,
                                             .heuristic = cublas_heuristic,
                                             .workspace = cublas_workspace,
                                             .run = cublas_run};
