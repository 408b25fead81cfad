/* on_miss_cuda.c: the on-miss target of a problem on a CUDA device: the
 * candidates write device scratch, reset from the caller's output contents
 * before each check and copied back to be compared on the host; runs are
 * timed with CUDA events, the L2 evicted first. */
#include <stdlib.h>

#include "runtime/status.h"
#include "autotune/on_miss_target.h"
#if TK_HAVE_CUDA
#include "runtime/cuda/cuda_memory.h"
#include "runtime/cuda/cuda_timer.h"

static tk_status check(void *user, const tk_choice *c, int *right, double *max_err, char *why,
                       size_t why_len) {
  on_miss_target *d = user;
  tk_status s = TK_OK;
  for (int i = 0; s == TK_OK && i < d->n_out; i++)
    s = tk_cuda_copy_to_device(d->cand_out[i]->data, d->initial[i], d->out_bytes[i]);
  if (s == TK_OK) s = tk_execute(d->ctx, &d->cand, c);
  tk_status sync = tk_cuda_synchronize(d->cand.device_id);
  if (s == TK_OK) s = sync;
  for (int i = 0; s == TK_OK && i < d->n_out; i++)
    s = tk_cuda_copy_to_host(d->got[i], d->cand_out[i]->data, d->out_bytes[i]);
  if (s == TK_OK) *right = tk_on_miss_compare(d, d->got, max_err, why, why_len);
  return s;
}

static tk_status run(void *user, const tk_choice *c, int rep, double *self_ns) {
  (void)rep;
  on_miss_target *d = user;
  tk_status s = tk_cuda_timer_start(d->timer, d->ctx->cuda_stream);
  if (s != TK_OK) return s;
  tk_status st = tk_execute(d->ctx, &d->cand, c);
  s = tk_cuda_timer_stop(d->timer, d->ctx->cuda_stream, self_ns);
  return st != TK_OK ? st : s;
}

/* Makes t (a tensor of d->ref) a host tensor over a copy of the span of
 * device memory it addresses. */
static tk_status mirror_input(on_miss_target *d, tk_tensor *t) {
  const int64_t es = tk_dtype_size(t->dtype);
  int64_t first;
  const size_t bytes = (size_t)(tk_tensor_span(t, &first) * es);
  char *h = malloc(bytes + 1);
  d->host_in[d->n_in++] = h;
  if (!h) return tk_fail(TK_ERR_OUT_OF_MEMORY, "tune on miss: out of memory");
  tk_status s = tk_cuda_copy_to_host(h, (const char *)t->data + first * es, bytes);
  t->data = h - first * es;
  t->device_type = kDLCPU;
  t->device_id = 0;
  return s;
}

/* Host copies of the caller's inputs and output contents in d->ref and
 * d->initial; `caller` is the caller's problem. */
static tk_status mirror_on_host(on_miss_target *d, tk_problem *caller) {
  tk_tensor *in[TK_MAX_INPUTS], *src[TK_MAX_OUTPUTS];
  const int n_in = tk_problem_inputs(&d->ref, in);
  tk_problem_outputs(caller, src);
  tk_status s = TK_OK;
  for (int i = 0; s == TK_OK && i < n_in; i++) s = mirror_input(d, in[i]);
  for (int i = 0; s == TK_OK && i < d->n_out; i++) {
    s = tk_cuda_copy_to_host(d->initial[i], src[i]->data, d->out_bytes[i]);
    d->ref_out[i]->device_type = kDLCPU;
    d->ref_out[i]->device_id = 0;
  }
  d->ref.device_type = kDLCPU;
  d->ref.device_id = 0;
  return s;
}

/* Device scratch for the candidates' outputs, host buffers to copy them
 * back into, and the timer. */
static tk_status make_scratch(on_miss_target *d) {
  tk_status s = TK_OK;
  for (int i = 0; s == TK_OK && i < d->n_out; i++) {
    s = tk_cuda_malloc(d->cand.device_id, d->out_bytes[i] + 1, &d->cand_out[i]->data);
    if (s == TK_OK && !(d->got[i] = malloc(d->out_bytes[i] + 1)))
      s = tk_fail(TK_ERR_OUT_OF_MEMORY, "tune on miss: out of memory");
  }
  if (s == TK_OK) s = tk_cuda_timer_create(d->cand.device_id, 1, &d->timer);
  return s;
}

tk_status tk_on_miss_cuda_target(tk_context *ctx, const tk_problem *p, on_miss_target *d,
                                 tk_sweep_target *t) {
  tk_problem caller = *p;
  /* The caller's queued work may still be producing the data. */
  tk_status s = tk_cuda_synchronize(p->device_id);
  if (s == TK_OK && !tk_on_miss_layout(d, ctx, p))
    s = tk_fail(TK_ERR_OUT_OF_MEMORY, "tune on miss: out of memory");
  if (s == TK_OK) s = mirror_on_host(d, &caller);
  if (s == TK_OK) s = tk_problem_check_data(&d->ref);
  if (s == TK_OK) s = make_scratch(d);
  if (s != TK_OK) return s;
  *t = (tk_sweep_target){&d->cand, d, check, run};
  return tk_on_miss_run_reference(d);
}

#else /* built without CUDA */

tk_status tk_on_miss_cuda_target(tk_context *ctx, const tk_problem *p, on_miss_target *d,
                                 tk_sweep_target *t) {
  (void)ctx;
  (void)p;
  (void)d;
  (void)t;
  return tk_fail(TK_ERR_UNSUPPORTED, "tune on miss: this library was built without CUDA");
}

#endif
