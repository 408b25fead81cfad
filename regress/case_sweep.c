/* case_sweep.c: checking through tk_case_run (or tk_case_run_device) +
 * tk_case_check; timing through tk_execute on the validated problems of
 * the input copies (host) or of the device mirror (CUDA events). */
#include "regress/case_sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/config.h"
#include "runtime/context.h"
#include "runtime/status.h"
#if TK_HAVE_CUDA
#include "runtime/cuda/cuda_timer.h"
#endif

#define MAX_COPIES 16
#define MAX_COPY_BYTES ((double)(512u << 20))

struct case_target {
  tk_context *ctx;
  tk_case *copies[MAX_COPIES]; /* copies[0] is checked */
  tk_problem problems[MAX_COPIES];
  int n;
  tk_case_device *mirror;      /* device targets: copies[0] on the device */
#if TK_HAVE_CUDA
  struct tk_cuda_timer *timer;
#endif
};

/* The call options forcing c. */
static tk_call_options forced(const tk_choice *c, char *config, size_t len) {
  tk_config_format(c->impl->space, &c->cfg, config, len);
  return (tk_call_options){c->impl->name, config};
}

static tk_status check(void *user, const tk_choice *c, int *right, double *max_err, char *why,
                       size_t why_len) {
  case_target *ct = user;
  char config[256];
  tk_call_options opts = forced(c, config, sizeof config);
  tk_status s = ct->mirror ? tk_case_run_device(ct->mirror, ct->ctx, &opts)
                           : tk_case_run(ct->copies[0], ct->ctx, &opts);
  if (s != TK_OK) return s;
  tk_case_report r;
  *right = tk_case_check(ct->copies[0], &r);
  *max_err = r.max_rel_err;
  if (!*right) snprintf(why, why_len, "%s", r.why);
  return TK_OK;
}

static tk_status run(void *user, const tk_choice *c, int rep, double *self_ns) {
  (void)self_ns;
  case_target *ct = user;
  return tk_execute(ct->ctx, &ct->problems[rep % ct->n], c);
}

#if TK_HAVE_CUDA
/* One run between CUDA events on the context's stream, L2 evicted first. */
static tk_status run_timed_on_device(void *user, const tk_choice *c, int rep, double *self_ns) {
  (void)rep;
  case_target *ct = user;
  tk_status s = tk_cuda_timer_start(ct->timer, ct->ctx->cuda_stream);
  if (s != TK_OK) return s;
  tk_status st = tk_execute(ct->ctx, &ct->problems[0], c);
  s = tk_cuda_timer_stop(ct->timer, ct->ctx->cuda_stream, self_ns);
  return st != TK_OK ? st : s;
}
#endif

/* How many copies make the rotated inputs overflow the CPU caches. */
static int copies_for(const tk_context *ctx, double bytes) {
  double caches = (double)ctx->dev.l2_bytes * ctx->dev.physical_cores + (double)ctx->dev.l3_bytes;
  if (caches <= 0) caches = 64.0 * (1 << 20);
  int n = bytes > 0 ? (int)(2 * caches / bytes) + 1 : 1;
  if (n > MAX_COPIES) n = MAX_COPIES;
  while (n > 1 && n * bytes > MAX_COPY_BYTES) n--;
  return n < 1 ? 1 : n;
}

/* Host copies 1..want-1 of the case and the validated problems of all. */
static tk_status make_host_copies(case_target *ct, const char *spec, uint64_t seed, char *err,
                                  size_t err_len) {
  const int want = copies_for(ct->ctx, tk_case_bytes(ct->copies[0]));
  tk_status s = TK_OK;
  for (ct->n = 1; s == TK_OK && ct->n < want; ct->n++)
    s = tk_case_create(spec, seed + 7919u * (uint64_t)ct->n, &ct->copies[ct->n], err, err_len);
  for (int i = 0; s == TK_OK && i < ct->n; i++) {
    s = tk_problem_validate(tk_case_op(ct->copies[i]), tk_case_args(ct->copies[i]), 1,
                            &ct->problems[i]);
    if (s != TK_OK) snprintf(err, err_len, "%s", tk_last_error());
  }
  return s;
}

/* The mirror of copies[0] on `device`, its validated problem, and the timer. */
static tk_status make_device_mirror(case_target *ct, int device, tk_sweep_target *t, char *err,
                                    size_t err_len) {
#if TK_HAVE_CUDA
  ct->n = 1;
  tk_status s = tk_case_device_create(ct->copies[0], device, &ct->mirror, err, err_len);
  if (s == TK_OK) {
    s = tk_problem_validate(tk_case_op(ct->copies[0]), tk_case_device_args(ct->mirror), 1,
                            &ct->problems[0]);
    if (s == TK_OK) s = tk_cuda_timer_create(device, 1, &ct->timer);
    if (s != TK_OK) snprintf(err, err_len, "%s", tk_last_error());
  }
  t->run = run_timed_on_device;
  return s;
#else
  (void)t;
  return tk_case_device_create(ct->copies[0], device, &ct->mirror, err, err_len);
#endif
}

tk_status case_target_create(tk_context *ctx, const char *spec, const case_target_options *o,
                             case_target **out, tk_sweep_target *t, char *err, size_t err_len) {
  case_target *ct = calloc(1, sizeof *ct);
  if (!ct) return tk_fail(TK_ERR_OUT_OF_MEMORY, "out of memory");
  ct->ctx = ctx;
  *t = (tk_sweep_target){&ct->problems[0], ct, check, run};
  const char *oracle = o->oracle ? o->oracle : "reference";
  tk_status s = tk_case_create(spec, o->seed, &ct->copies[0], err, err_len);
  if (s == TK_OK && (s = tk_case_prepare_expected_by(ct->copies[0], ctx, oracle)) != TK_OK)
    snprintf(err, err_len, "oracle %s: %s", oracle, tk_last_error());
  if (s == TK_OK)
    s = o->device < 0 ? make_host_copies(ct, spec, o->seed, err, err_len)
                      : make_device_mirror(ct, o->device, t, err, err_len);
  if (s != TK_OK) {
    case_target_destroy(ct);
    return s;
  }
  *out = ct;
  return TK_OK;
}

void case_target_destroy(case_target *ct) {
  if (!ct) return;
#if TK_HAVE_CUDA
  tk_cuda_timer_destroy(ct->timer);
#endif
  tk_case_device_destroy(ct->mirror);
  for (int i = 0; i < MAX_COPIES; i++) tk_case_destroy(ct->copies[i]);
  free(ct);
}

double case_target_flops(const case_target *ct) { return tk_case_flops(ct->copies[0]); }
double case_target_bytes(const case_target *ct) { return tk_case_bytes(ct->copies[0]); }
int case_target_memory_bound(const case_target *ct) { return tk_case_memory_bound(ct->copies[0]); }
