/* gate_compare.c: finding the baseline run and judging each item against
 * it: numerics, error growth, and the time ratio with its U test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regress/gate_internal.h"
#include "regress/gate_stats.h"

typedef struct {
  char *spec, *impl, *status, *samples;
  double max_err;
} base_row;

typedef struct {
  base_row *rows;
  int n, failed;
} base_rows;

static int keep_row(void *user, const tk_history_result *r) {
  base_rows *b = user;
  base_row *grown = realloc(b->rows, (size_t)(b->n + 1) * sizeof *grown);
  if (!grown) return b->failed = 1;
  b->rows = grown;
  base_row *x = &b->rows[b->n++];
  x->spec = strdup(r->spec);
  x->impl = strdup(r->impl);
  x->status = strdup(r->status);
  x->samples = strdup(r->samples);
  x->max_err = r->max_err;
  if (!x->spec || !x->impl || !x->status || !x->samples) b->failed = 1;
  return b->failed;
}

typedef struct {
  int64_t id;
  char fingerprint[512];
  int found;
} run_pick;

/* Keeps the last run seen (runs come oldest first). */
static int pick_run(void *user, const tk_history_run *r) {
  run_pick *p = user;
  p->id = r->id;
  snprintf(p->fingerprint, sizeof p->fingerprint, "%s", r->fingerprint);
  p->found = 1;
  return 0;
}

/* Judges one timed item against its baseline row. */
static void judge_time(tk_gate_item *it, const tk_gate_run_data *g, const base_row *b,
                       const tk_gate_options *o) {
  double base[1024], cur[1024];
  int m = tk_parse_samples(b->samples, base, 1024), n = it->n_samples < 1024 ? it->n_samples : 1024;
  if (m < 3 || n < 3) {
    it->verdict = TK_GATE_NEW;
    snprintf(it->why, sizeof it->why, "the baseline has no timing of it");
    return;
  }
  tk_gate_normalised(it, g, cur);
  it->base_norm = tk_median_of(base, m);
  it->ratio = tk_median_of(cur, n) / it->base_norm;
  double spread = fmax(tk_relative_spread(base, m), tk_relative_spread(cur, n));
  /* The band widens with the measured spread, up to three times its base. */
  it->band = fmin(o->band + spread, 3 * o->band);
  it->p_slower = tk_mann_whitney_greater(cur, n, base, m);
  it->p_faster = tk_mann_whitney_greater(base, m, cur, n);
  if (it->ratio > 1 + it->band && it->p_slower < o->alpha) {
    it->verdict = TK_GATE_SLOWER;
    snprintf(it->why, sizeof it->why, "%.2fx the baseline's time (band %.2f, p = %.2g)", it->ratio,
             it->band, it->p_slower);
  } else if (it->ratio < 1 / (1 + it->band) && it->p_faster < o->alpha) {
    it->verdict = TK_GATE_FASTER;
    snprintf(it->why, sizeof it->why,
             "%.2fx the baseline's time: faster than the band allows (p = %.2g); if the "
             "speed-up is real, refresh the baseline (--set-baseline)", it->ratio, it->p_faster);
  }
}

/* Judges one item against the baseline rows. */
static void judge(tk_gate_item *it, const tk_gate_run_data *g, const base_rows *b,
                  const tk_gate_options *o) {
  it->ratio = it->p_slower = it->p_faster = it->base_norm = it->base_err = NAN;
  if (it->verdict != TK_GATE_PASS || !it->numerics_ok) return;
  const base_row *r = NULL;
  for (int i = 0; i < b->n && !r; i++)
    if (strcmp(b->rows[i].spec, it->spec) == 0 && strcmp(b->rows[i].impl, it->impl) == 0)
      r = &b->rows[i];
  if (!r || strcmp(r->status, "ok") != 0) {
    it->verdict = TK_GATE_NEW;
    snprintf(it->why, sizeof it->why, r ? "the baseline's run of it failed" : "not in the baseline");
    return;
  }
  it->have_base = 1;
  it->base_err = r->max_err;
  if (isfinite(r->max_err) && it->max_err > 2 * r->max_err + 0.05 * it->tol) {
    it->verdict = TK_GATE_ERR_GREW;
    snprintf(it->why, sizeof it->why, "error %.3g, baseline %.3g (tolerance %.3g)", it->max_err,
             r->max_err, it->tol);
    return;
  }
  if (!o->numerics_only) judge_time(it, g, r, o);
}

/* Finds the run to compare with; 0 when there is none. */
static int find_baseline(tk_cache *cache, const tk_gate_options *o, const char *suite,
                         run_pick *p) {
  memset(p, 0, sizeof *p);
  tk_status s = o->baseline_run >= 0
                    ? tk_history_each_run(cache, NULL, o->baseline_run, -1, pick_run, p)
                    : tk_history_each_run(cache, suite, -1, 1, pick_run, p);
  if (s != TK_OK) fprintf(stderr, "tokamax-tune: gate: %s\n", tk_last_error());
  return s == TK_OK && p->found;
}

int tk_gate_compare(tk_gate_run_data *g, tk_cache *cache, const tk_gate_options *o,
                    const char *suite) {
  run_pick p;
  base_rows b = {NULL, 0, 0};
  int have = find_baseline(cache, o, suite, &p), rc = 0;
  g->base_run = have ? p.id : -1;
  if (have && p.id != g->run_id)
    tk_history_each_result(cache, p.id, keep_row, &b);
  const int perf = !o->numerics_only;
  if (!have || p.id == g->run_id) {
    if (o->baseline_run >= 0) {
      fprintf(stderr, "tokamax-tune: gate: no gate run %lld in the history to compare with\n",
              (long long)o->baseline_run);
      rc = 1;
    } else if (perf && !o->set_baseline) {
      fprintf(stderr, "tokamax-tune: gate: suite %s has no baseline run in %s yet; this run "
              "is stored as run %lld: make it the baseline with --set-baseline (or "
              "--baseline-run %lld)\n", suite, tk_cache_path(cache), (long long)g->run_id,
              (long long)g->run_id);
      rc = 1;
    }
  } else if (b.n == 0 || b.failed) {
    fprintf(stderr, "tokamax-tune: gate: the baseline run %lld of %s has no results%s\n",
            (long long)p.id, suite, b.failed ? " that could be read" : "; set a new one with --set-baseline");
    rc = perf && !o->set_baseline;
  } else if (strcmp(p.fingerprint, g->fingerprint) != 0 && !o->quiet) {
    fprintf(stderr, "note: the baseline run %lld was measured on another device (%s); times "
            "are compared as ratios to each run's own anchors\n", (long long)p.id, p.fingerprint);
  }
  for (int i = 0; i < g->n; i++) judge(&g->items[i], g, &b, o);
  for (int i = 0; i < b.n; i++) {
    free(b.rows[i].spec);
    free(b.rows[i].impl);
    free(b.rows[i].status);
    free(b.rows[i].samples);
  }
  free(b.rows);
  return rc;
}
