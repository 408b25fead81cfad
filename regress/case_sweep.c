/* case_sweep.c: checking through tk_case_run + tk_case_check; timing
 * through tk_execute on the validated problems of the input copies. */
#include "regress/case_sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/config.h"
#include "kernels/runtime/context.h"
#include "kernels/runtime/status.h"

#define MAX_COPIES 16
#define MAX_COPY_BYTES ((double)(512u << 20))

struct case_target {
  tk_context *ctx;
  tk_case *copies[MAX_COPIES]; /* copies[0] is checked */
  tk_problem problems[MAX_COPIES];
  int n;
};

static tk_status check(void *user, const tk_choice *c, int *right, double *max_err, char *why,
                       size_t why_len) {
  case_target *ct = user;
  char config[256];
  tk_config_format(c->impl->space, &c->cfg, config, sizeof config);
  tk_call_options opts = {c->impl->name, config};
  tk_status s = tk_case_run(ct->copies[0], ct->ctx, &opts);
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

/* How many copies make the rotated inputs overflow the CPU caches. */
static int copies_for(const tk_context *ctx, double bytes) {
  double caches = (double)ctx->dev.l2_bytes * ctx->dev.physical_cores + (double)ctx->dev.l3_bytes;
  if (caches <= 0) caches = 64.0 * (1 << 20);
  int n = bytes > 0 ? (int)(2 * caches / bytes) + 1 : 1;
  if (n > MAX_COPIES) n = MAX_COPIES;
  while (n > 1 && n * bytes > MAX_COPY_BYTES) n--;
  return n < 1 ? 1 : n;
}

tk_status case_target_create(tk_context *ctx, const char *spec, uint64_t seed, case_target **out,
                             tk_sweep_target *t, char *err, size_t err_len) {
  case_target *ct = calloc(1, sizeof *ct);
  if (!ct) return tk_fail(TK_ERR_OUT_OF_MEMORY, "out of memory");
  ct->ctx = ctx;
  tk_status s = tk_case_create(spec, seed, &ct->copies[0], err, err_len);
  if (s == TK_OK && (s = tk_case_prepare_expected(ct->copies[0], ctx)) != TK_OK)
    snprintf(err, err_len, "reference: %s", tk_last_error());
  int want = s == TK_OK ? copies_for(ctx, tk_case_bytes(ct->copies[0])) : 0;
  for (ct->n = s == TK_OK; s == TK_OK && ct->n < want; ct->n++)
    s = tk_case_create(spec, seed + 7919u * (uint64_t)ct->n, &ct->copies[ct->n], err, err_len);
  for (int i = 0; s == TK_OK && i < ct->n; i++) {
    s = tk_problem_validate(tk_case_op(ct->copies[i]), tk_case_args(ct->copies[i]), 1,
                            &ct->problems[i]);
    if (s != TK_OK) snprintf(err, err_len, "%s", tk_last_error());
  }
  if (s != TK_OK) {
    case_target_destroy(ct);
    return s;
  }
  *t = (tk_sweep_target){&ct->problems[0], ct, check, run};
  *out = ct;
  return TK_OK;
}

void case_target_destroy(case_target *ct) {
  if (!ct) return;
  for (int i = 0; i < MAX_COPIES; i++) tk_case_destroy(ct->copies[i]);
  free(ct);
}

double case_target_flops(const case_target *ct) { return tk_case_flops(ct->copies[0]); }
double case_target_bytes(const case_target *ct) { return tk_case_bytes(ct->copies[0]); }
