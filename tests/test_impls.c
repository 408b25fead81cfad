/* test_impls: every implementation of every op, in every config of its
 * space, against the reference on each case of regress/suites/impls.suite:
 * tolerance, coverage, poison, guards, unchanged inputs, and the same bits
 * on a second run. Also the automatic choice (impl NULL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regress/case.h"
#include "tests/tk_test.h"

#define MAX_VALUES 32

/* A config space parsed from tk_impl_config_space's "name: v1 v2 ..." lines. */
typedef struct {
  int n;
  char names[8][64];
  int n_values[8];
  long values[8][MAX_VALUES];
} space;

/* Parses text into sp; returns 0 when a line is malformed. */
static int parse_space(const char *text, space *sp) {
  memset(sp, 0, sizeof *sp);
  const char *s = text;
  while (*s) {
    const char *nl = strchr(s, '\n');
    size_t len = nl ? (size_t)(nl - s) : strlen(s);
    char line[1024];
    if (len >= sizeof line) return 0;
    memcpy(line, s, len);
    line[len] = '\0';
    s += len + (nl != NULL);
    char *colon = strchr(line, ':');
    if (len == 0) continue;
    if (!colon || sp->n == 8 || (size_t)(colon - line) >= sizeof sp->names[0]) return 0;
    *colon = '\0';
    memcpy(sp->names[sp->n], line, (size_t)(colon - line) + 1);
    char *p = colon + 1, *end;
    for (;;) {
      long v = strtol(p, &end, 10);
      if (end == p) break;
      if (sp->n_values[sp->n] == MAX_VALUES) return 0;
      sp->values[sp->n][sp->n_values[sp->n]++] = v;
      p = end;
    }
    if (sp->n_values[sp->n] == 0) return 0;
    sp->n++;
  }
  return 1;
}

typedef struct {
  long runs, invalid_configs, skipped_impls;
  double max_err;
} tally;

/* Runs c with impl/config, checks it, reruns, compares bits. */
static void run_one(tk_case *c, tk_context *ctx, const char *impl, const char *config, tally *t) {
  tk_call_options opts = {impl, config};
  const char *spec = tk_case_spec(c);
  const char *in = impl ? impl : "auto", *cf = config ? config : "-";
  tk_status st = tk_case_run(c, ctx, &opts);
  /* Skipped only when the space's validity predicate rejects the combination
   * (autotune/config.c: "config: invalid for this problem: ..."). */
  if (st == TK_ERR_INVALID_ARGUMENT && config && strstr(tk_last_error(), "config: invalid")) {
    t->invalid_configs++;
    return;
  }
  CHECK(st == TK_OK, "%s | %s | %s: %s: %s", spec, in, cf, tk_status_string(st), tk_last_error());
  if (st != TK_OK) return;
  tk_case_report r;
  int pass = tk_case_check(c, &r);
  CHECK(pass, "%s | %s | %s: %s", spec, in, cf, r.why);
  if (r.max_rel_err > t->max_err) t->max_err = r.max_rel_err;
  tk_case_snapshot(c);
  st = tk_case_run(c, ctx, &opts);
  CHECK(st == TK_OK, "%s | %s | %s: second run: %s: %s", spec, in, cf, tk_status_string(st),
        tk_last_error());
  CHECK(st != TK_OK || tk_case_same_as_snapshot(c), "%s | %s | %s: second run differs in bits",
        spec, in, cf);
  t->runs++;
}

/* Runs every combination of impl's config space on c. */
static void run_configs(tk_case *c, tk_context *ctx, const char *impl, tally *t) {
  char text[4096];
  space sp;
  tk_status st = tk_impl_config_space(tk_case_op(c), impl, text, sizeof text);
  CHECK(st == TK_OK && parse_space(text, &sp), "%s: config space unreadable: %s", impl, text);
  if (st != TK_OK) return;
  if (sp.n == 0) {
    run_one(c, ctx, impl, NULL, t);
    return;
  }
  int idx[8] = {0};
  for (;;) {
    char cfg[512];
    size_t n = 0;
    for (int i = 0; i < sp.n; i++)
      n += (size_t)snprintf(cfg + n, sizeof cfg - n, "%s%s=%ld", i ? "," : "", sp.names[i],
                            sp.values[i][idx[i]]);
    run_one(c, ctx, impl, cfg, t);
    int d = sp.n - 1;
    while (d >= 0 && ++idx[d] == sp.n_values[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

int main(void) {
  tk_suite suite;
  char err[512];
  tk_status st = tk_suite_load("impls", &suite, err, sizeof err);
  CHECK(st == TK_OK, "loading impls suite: %s", err);
  if (st != TK_OK) TK_TEST_END();
  tk_context_options o = {":memory:", 0, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  CHECK_OK(tk_context_create(&o, &ctx));
  if (!ctx) TK_TEST_END();
  long total_runs = 0, total_skipped = 0;
  for (int i = 0; i < suite.count; i++) {
    const char *spec = suite.specs[i];
    tk_case *c = NULL;
    st = tk_case_create(spec, 1000 + (uint64_t)i, &c, err, sizeof err);
    CHECK(st == TK_OK, "%s:%d: %s", suite.path, suite.line_numbers[i], err);
    if (st != TK_OK) continue;
    st = tk_case_prepare_expected(c, ctx);
    CHECK(st == TK_OK, "%s | reference: %s: %s", spec, tk_status_string(st), tk_last_error());
    if (st != TK_OK) {
      tk_case_destroy(c);
      continue;
    }
    const char *names[16];
    int count = 0;
    CHECK_OK(tk_impl_list(tk_case_op(c), names, 16, &count));
    tally t = {0, 0, 0, 0};
    for (int j = 0; j < count && j < 16; j++) {
      char why[256] = "";
      st = tk_impl_supports(ctx, tk_case_op(c), names[j], tk_case_args(c), why, sizeof why);
      if (st == TK_ERR_UNSUPPORTED) {
        t.skipped_impls++;
        continue;
      }
      CHECK(st == TK_OK, "%s | %s: supports: %s: %s", spec, names[j], tk_status_string(st), why);
      if (st == TK_OK) run_configs(c, ctx, names[j], &t);
    }
    run_one(c, ctx, NULL, NULL, &t);
    printf("%-100s runs %3ld  invalid configs %3ld  skipped impls %ld  max err %.3g\n", spec,
           t.runs, t.invalid_configs, t.skipped_impls, t.max_err);
    total_runs += t.runs;
    total_skipped += t.skipped_impls;
    tk_case_destroy(c);
  }
  printf("%d cases, %ld checked runs, %ld impl skips (unsupported here)\n", suite.count, total_runs,
         total_skipped);
  tk_context_destroy(ctx);
  tk_suite_free(&suite);
  TK_TEST_END();
}
