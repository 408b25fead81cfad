/* execute.c: workspace, run, and the fault hook kept off the path of
 * processes that configure no fault. */
#include "autotune/execute.h"

#include <stdlib.h>

#include "autotune/fault.h"
#include "autotune/measure.h"
#include "runtime/status.h"
#if TK_HAVE_CUDA
#include "runtime/cuda/cuda_memory.h"
#endif

/* Allocates bytes of workspace for c on p's device into *ws. */
static tk_status workspace_alloc(tk_context *ctx, const tk_problem *p, const tk_choice *c,
                                 size_t bytes, void **ws) {
  if (c->impl->backend == TK_BACKEND_CUDA) {
#if TK_HAVE_CUDA
    return tk_cuda_workspace_alloc(p->device_id, bytes, ctx->cuda_stream, ws);
#else
    (void)ctx;
    return tk_fail(TK_ERR_INTERNAL, "%s: %s needs device workspace in a build without CUDA",
                   tk_op_name(p->op), c->impl->name);
#endif
  }
  *ws = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
  if (!*ws)
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "%s: %s could not allocate %zu bytes of workspace",
                   tk_op_name(p->op), c->impl->name, bytes);
  return TK_OK;
}

/* Frees a workspace_alloc block; s is the run's status, returned unless
 * it was TK_OK and freeing failed. */
static tk_status workspace_free(tk_context *ctx, const tk_problem *p, const tk_choice *c, void *ws,
                                tk_status s) {
#if TK_HAVE_CUDA
  if (c->impl->backend == TK_BACKEND_CUDA) {
    tk_status f = tk_cuda_workspace_free(p->device_id, ws, ctx->cuda_stream);
    return s == TK_OK ? f : s;
  }
#else
  (void)ctx;
  (void)p;
  (void)c;
#endif
  free(ws);
  return s;
}

/* The run under a configured fault: timed, then the fault applied. */
static tk_status run_with_fault(const tk_problem *p, const tk_choice *c, const tk_exec *ex,
                                void *ws) {
  const double t0 = tk_now_ns();
  tk_status s = c->impl->run(p, tk_config_struct(&c->cfg), ex, ws);
  if (s == TK_OK) tk_fault_after_run(p, c->impl, tk_now_ns() - t0);
  return s;
}

tk_status tk_execute(tk_context *ctx, const tk_problem *p, const tk_choice *c) {
  const size_t bytes = c->impl->workspace ? c->impl->workspace(p, tk_config_struct(&c->cfg)) : 0;
  void *ws = NULL;
  if (bytes) {
    tk_status a = workspace_alloc(ctx, p, c, bytes, &ws);
    if (a != TK_OK) return a;
  }
  const tk_exec ex = {ctx->pool, &ctx->dev, ctx->cuda_stream};
  tk_status s = tk_fault_configured && tk_fault_armed(c->impl)
                    ? run_with_fault(p, c, &ex, ws)
                    : c->impl->run(p, tk_config_struct(&c->cfg), &ex, ws);
  return ws ? workspace_free(ctx, p, c, ws, s) : s;
}
