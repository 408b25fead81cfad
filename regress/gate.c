/* gate.c: the gate's run: suite -> items (numerics) -> timing -> history
 * -> comparison -> report. */
#include "regress/gate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/name_list.h"
#include "autotune/tolerance.h"
#include "runtime/context.h"
#include "regress/gate_internal.h"

tk_gate_options tk_gate_defaults(void) {
  tk_gate_options o;
  memset(&o, 0, sizeof o);
  o.reps = 11;
  o.band = 0.2;
  o.alpha = 0.01;
  o.min_batch_ns = 2e6;
  o.baseline_run = -1;
  return o;
}

const char *tk_gate_verdict_name(tk_gate_verdict v) {
  static const char *const names[] = {"pass", "new", "skip", "WRONG", "ERROR GREW", "SLOWER",
                                      "FASTER"};
  return names[v];
}

/* The git revision to record. */
static void git_revision(const tk_gate_options *o, char *buf, size_t len) {
  const char *v = o->git_rev ? o->git_rev : getenv("TOKAMAX_GIT_REV");
  if (v && v[0]) {
    snprintf(buf, len, "%s", v);
    return;
  }
  snprintf(buf, len, "unknown");
  FILE *p = popen("git -C '" TK_SOURCE_DIR "' rev-parse --short HEAD 2>/dev/null", "r");
  if (!p) return;
  char line[64];
  if (fgets(line, sizeof line, p) && line[0] != '\n') {
    line[strcspn(line, "\n")] = '\0';
    snprintf(buf, len, "%s", line);
  }
  pclose(p);
}

/* Adds the items of one case (one per implementation that exists). */
static int add_case(tk_gate_run_data *g, tk_context *ctx, tk_case *c, const tk_gate_options *o) {
  const char *names[16];
  int n = 0;
  tk_impl_list(tk_case_op(c), names, 16, &n);
  for (int i = 0; i < n && i < 16; i++) {
    if (!tk_name_listed(o->impls, names[i])) continue;
    tk_gate_item *grown = realloc(g->items, (size_t)(g->n + 1) * sizeof *grown);
    if (!grown) return 0;
    g->items = grown;
    tk_gate_item *it = memset(&g->items[g->n++], 0, sizeof *it);
    snprintf(it->spec, sizeof it->spec, "%s", tk_case_spec(c));
    snprintf(it->impl, sizeof it->impl, "%s", names[i]);
    it->c = c;
    it->max_err = it->tol = it->median_ns = it->norm = NAN;
    tk_op op = tk_case_op(c);
    it->memory_bound = tk_case_memory_bound(c);
    char why[256] = "";
    if (tk_impl_supports(ctx, op, names[i], tk_case_args(c), why, sizeof why) != TK_OK) {
      it->verdict = TK_GATE_SKIP;
      snprintf(it->why, sizeof it->why, "%s", why[0] ? why : tk_last_error());
      continue;
    }
    tk_call_options forced = {names[i], NULL};
    if (tk_plan_create(ctx, op, tk_case_args(c), &forced, &it->plan) != TK_OK ||
        tk_case_run(c, ctx, &(tk_call_options){names[i], tk_plan_config(it->plan)}) != TK_OK) {
      it->verdict = TK_GATE_WRONG;
      snprintf(it->reason, sizeof it->reason, "did not run: %s", tk_last_error());
      continue;
    }
    snprintf(it->config, sizeof it->config, "%s", tk_plan_config(it->plan));
    tk_case_report r;
    it->numerics_ok = tk_case_check(c, &r);
    it->max_err = r.max_rel_err;
    it->tol = r.tol;
    if (!it->numerics_ok) {
      it->verdict = TK_GATE_WRONG;
      snprintf(it->reason, sizeof it->reason, "%s", r.why);
    }
  }
  return 1;
}

/* Builds every case and item; 2 with the message printed on a bad suite. */
static int build(tk_gate_run_data *g, tk_context *ctx, const tk_suite *suite, tk_case **cases,
                 const tk_gate_options *o) {
  for (int i = 0; i < suite->count; i++) {
    char err[512];
    if (tk_case_create(suite->specs[i], 1000u + (uint64_t)suite->line_numbers[i], &cases[i], err,
                       sizeof err) != TK_OK) {
      fprintf(stderr, "tokamax-tune: gate: %s:%d: %s\n", suite->path, suite->line_numbers[i], err);
      return 2;
    }
    if (tk_case_prepare_expected(cases[i], ctx) != TK_OK) {
      fprintf(stderr, "tokamax-tune: gate: %s:%d: the reference failed: %s\n", suite->path,
              suite->line_numbers[i], tk_last_error());
      return 2;
    }
    if (!o->quiet) fprintf(stderr, "[%d/%d] numerics: %s\n", i + 1, suite->count, suite->specs[i]);
    if (!add_case(g, ctx, cases[i], o)) {
      fprintf(stderr, "tokamax-tune: gate: out of memory\n");
      return 2;
    }
  }
  return 0;
}

/* Formats the item's normalised samples as text. */
static char *samples_text(const tk_gate_item *it, const tk_gate_run_data *g) {
  if (it->n_samples == 0) return strdup("");
  double *norm = malloc((size_t)it->n_samples * sizeof *norm);
  char *text = malloc((size_t)it->n_samples * 24 + 1);
  if (!norm || !text) {
    free(norm);
    free(text);
    return NULL;
  }
  tk_gate_normalised(it, g, norm);
  size_t used = 0;
  text[0] = '\0';
  for (int i = 0; i < it->n_samples; i++)
    used += (size_t)sprintf(text + used, "%s%.6g", i ? " " : "", norm[i]);
  free(norm);
  return text;
}

/* Stores the run and its results in the history. */
static int store(tk_gate_run_data *g, tk_cache *cache, int64_t device, const char *suite,
                 const tk_gate_options *o) {
  tk_status s = tk_history_add_run(cache, device, suite, o->numerics_only ? "numerics" : "perf",
                                   g->git_rev, g->anchor_copy_ns, g->anchor_fma_ns, &g->run_id);
  for (int i = 0; s == TK_OK && i < g->n; i++) {
    const tk_gate_item *it = &g->items[i];
    char *text = samples_text(it, g);
    const char *status = it->verdict == TK_GATE_SKIP ? "skip" : it->numerics_ok ? "ok" : "wrong";
    tk_history_result r = {it->spec, it->impl, it->config, status,
                           it->verdict == TK_GATE_SKIP ? it->why : it->reason,
                           it->max_err, it->tol, it->median_ns, text ? text : ""};
    s = tk_history_add_result(cache, g->run_id, &r);
    free(text);
  }
  if (s != TK_OK) fprintf(stderr, "tokamax-tune: gate: storing the run: %s\n", tk_last_error());
  return s == TK_OK;
}

/* Opens the history and registers this device; 0 on failure (printed). */
static int open_history(tk_context *ctx, tk_cache **cache, int64_t *device, char *fp, size_t len) {
  if (tk_cache_open(ctx->cache_path, TK_CACHE_CREATE, 0, cache) != TK_OK) {
    fprintf(stderr, "tokamax-tune: gate: %s\n", tk_last_error());
    return 0;
  }
  tk_device_fingerprint_cpu(&ctx->dev, fp, len);
  if (tk_cache_device_id(*cache, fp, NULL, device) != TK_OK) {
    fprintf(stderr, "tokamax-tune: gate: %s\n", tk_last_error());
    tk_cache_close(*cache);
    return 0;
  }
  return 1;
}

/* The gate once the suite is loaded. */
static int gate_suite(const tk_gate_options *o, const tk_suite *suite, tk_context *ctx) {
  tk_gate_run_data g;
  memset(&g, 0, sizeof g);
  g.ctx = ctx;
  g.anchor_copy_ns = g.anchor_fma_ns = NAN;
  git_revision(o, g.git_rev, sizeof g.git_rev);
  tk_case **cases = calloc((size_t)suite->count, sizeof *cases);
  int rc = cases ? build(&g, ctx, suite, cases, o) : 2;
  tk_cache *cache = NULL;
  int64_t device = 0;
  if (rc == 0 && !open_history(ctx, &cache, &device, g.fingerprint, sizeof g.fingerprint)) rc = 1;
  if (rc == 0 && !o->numerics_only) rc = tk_gate_measure(&g, o);
  char name[256];
  const char *base = strrchr(suite->path, '/');
  snprintf(name, sizeof name, "%s", base ? base + 1 : suite->path);
  name[strcspn(name, ".")] = '\0';
  if (rc == 0 && !store(&g, cache, device, name, o)) rc = 1;
  if (rc == 0) rc = tk_gate_compare(&g, cache, o, name);
  if (rc == 0 && o->set_baseline) {
    if (tk_history_set_baseline(cache, g.run_id) != TK_OK) {
      fprintf(stderr, "tokamax-tune: gate: %s\n", tk_last_error());
      rc = 1;
    } else if (!o->quiet) {
      fprintf(stderr, "run %lld is now the baseline of %s\n", (long long)g.run_id, name);
    }
  }
  if (rc <= 1 && g.n > 0 && cache) {
    int report_rc = tk_gate_report(&g, cache, o, name);
    if (rc == 0) rc = report_rc;
  }
  for (int i = 0; i < g.n; i++) {
    tk_plan_destroy(g.items[i].plan);
    free(g.items[i].samples);
  }
  free(g.items);
  free(g.copy_samples);
  free(g.fma_samples);
  for (int i = 0; cases && i < suite->count; i++) tk_case_destroy(cases[i]);
  free(cases);
  tk_cache_close(cache);
  return rc;
}

int tk_gate_run(const tk_gate_options *o) {
  if (o->reps < 9 && !o->numerics_only) {
    fprintf(stderr, "tokamax-tune: gate: --reps %d: at least 9 are needed for the U test\n", o->reps);
    return 2;
  }
  tk_suite suite;
  char err[512];
  if (tk_suite_load(o->suite, &suite, err, sizeof err) != TK_OK) {
    fprintf(stderr, "tokamax-tune: gate: %s\n", err);
    return 2;
  }
  tk_context_options copts = {o->db, o->threads, TK_TUNE_OFF, NULL};
  tk_context *ctx;
  if (tk_context_create(&copts, &ctx) != TK_OK) {
    fprintf(stderr, "tokamax-tune: gate: %s\n", tk_last_error());
    tk_suite_free(&suite);
    return 1;
  }
  int rc = gate_suite(o, &suite, ctx);
  tk_context_destroy(ctx);
  tk_suite_free(&suite);
  return rc;
}
