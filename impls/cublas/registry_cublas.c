/* registry_cublas.c: the cublas grouped GEMM record, the baseline the CUDA
 * kernels are measured against (grouped_gemm_cublas.h). Not graph-safe: it
 * reads the group sizes on the host.
 *
 * Config space: mode 0 = a loop of cublasGemmEx (one per non-empty group),
 * 1 = one cublasGemmGroupedBatchedEx. Mode 1 is valid only when out has the
 * input dtype (cuBLAS's documented type table for the grouped call pairs
 * 16-bit inputs with 16-bit outputs only). Heuristic: mode 1 when valid and
 * there are several groups, else mode 0. */
#include <stdio.h>

#include "../../kernels/runtime/status.h"
#include "../cuda/cuda_memory.h"
#include "../cuda/registry_cuda_attention_common.h"
#include "../cuda/registry_cuda_gemm.h"
#include "../registry.h"
#include "grouped_gemm_cublas.h"

static const int mode_values[] = {TK_CUBLAS_LOOP, TK_CUBLAS_GROUPED};
static const tk_param_def params[] = {{"mode", mode_values, 2}};

static int cublas_valid(const tk_problem *p, const tk_config *c, char *why, size_t len) {
  if (c->v[0] == TK_CUBLAS_GROUPED && p->u.grouped_gemm.out.dtype != p->dtype) {
    snprintf(why, len, "mode=1 (cublasGemmGroupedBatchedEx) needs out in the input dtype");
    return 0;
  }
  return 1;
}

static const tk_config_space space = {1, params, cublas_valid};

static int cublas_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  if (!tk_cuda_cc_at_least(dev, p->device_id, 8, 0, why, len)) return 0;
  tk_cuda_gg g;
  return tk_cuda_gg_from_problem(p, &g, why, len) && tk_cublas_gg_fits(&g, why, len);
}

static void cublas_heuristic(const tk_problem *p, const tk_device_info *dev, tk_config *c) {
  (void)dev;
  c->n = 1;
  c->v[0] = p->u.grouped_gemm.out.dtype == p->dtype && p->u.grouped_gemm.G > 1 ? TK_CUBLAS_GROUPED
                                                                               : TK_CUBLAS_LOOP;
}

static size_t cublas_workspace(const tk_problem *p, const tk_config *c) {
  tk_cuda_gg g;
  char why[8];
  if (!tk_cuda_gg_from_problem(p, &g, why, sizeof why)) return 0;
  return tk_cublas_gg_workspace(&g, c->v[0]);
}

static tk_status cublas_run(const tk_problem *p, const tk_config *c, const tk_exec *ex, void *ws) {
  tk_cuda_gg g;
  char why[256];
  if (!tk_cuda_gg_from_problem(p, &g, why, sizeof why))
    return tk_fail(TK_ERR_UNSUPPORTED, "grouped_gemm (cublas): %s", why);
  int prev;
  tk_status s = tk_cuda_use_device(p->device_id, &prev);
  if (s != TK_OK) return s;
  s = tk_cublas_gg_run(&g, c->v[0], ws, ex->cuda_stream);
  tk_cuda_restore_device(prev);
  return s;
}

const tk_impl tk_cublas_grouped_gemm_impl = {"cublas",         TK_BACKEND_CUDA,  &space,
                                             cublas_supports,  cublas_heuristic, cublas_workspace,
                                             cublas_run};
