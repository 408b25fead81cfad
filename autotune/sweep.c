/* sweep.c: enumerating, checking, timing and recording the candidates of
 * one problem. */
#include "autotune/sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/status.h"
#include "autotune/config.h"
#include "runtime/name_list.h"

/* Cap on the combinations enumerated per space (spaces are far smaller). */
#define MAX_COMBINATIONS 1000000

typedef struct {
  const tk_impl *impl;
  tk_config cfg;
  int is_heuristic;
} candidate;

typedef struct {
  candidate *v;
  int n, cap;
} candidate_list;

static int push(candidate_list *l, const tk_impl *impl, const tk_config *cfg, int heuristic) {
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 64;
    candidate *v = realloc(l->v, (size_t)cap * sizeof *v);
    if (!v) return 0;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = (candidate){impl, *cfg, heuristic};
  return 1;
}

/* Fails when list names something that is not an impl of op. */
static tk_status check_names(tk_op op, const char *list) {
  char name[64];
  for (tk_name_iter it = tk_name_iter_init(list); tk_name_next(&it, name, sizeof name);)
    if (!tk_registry_find(op, name))
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "sweep: '%s' is not an implementation of %s", name,
                     tk_op_name(op));
  return TK_OK;
}

/* Every runnable (impl, valid config) of p: each impl's heuristic config
 * first, then the rest of its space in odometer order. */
static tk_status enumerate(tk_context *ctx, const tk_problem *p, const char *impls,
                           candidate_list *out) {
  int n;
  const tk_impl *const *list = tk_registry(p->op, &n);
  for (int i = 0; i < n; i++) {
    const tk_impl *impl = list[i];
    char why[256];
    if (!tk_name_listed(impls, impl->name) || !tk_impl_can_run(ctx, impl, p, why, sizeof why)) continue;
    tk_config h;
    tk_config_heuristic(impl, p, &ctx->dev, &h);
    if (!push(out, impl, &h, 1)) return tk_fail(TK_ERR_OUT_OF_MEMORY, "sweep: out of memory");
    int64_t size = tk_config_space_size(impl->space);
    if (size > MAX_COMBINATIONS) size = MAX_COMBINATIONS;
    for (int64_t k = 0; k < size; k++) {
      tk_config c;
      tk_config_nth(impl->space, k, &c);
      if (tk_config_equal(impl->space, &c, &h) || !tk_config_valid(impl->space, p, &c, why, sizeof why)) continue;
      if (!push(out, impl, &c, 0)) return tk_fail(TK_ERR_OUT_OF_MEMORY, "sweep: out of memory");
    }
  }
  return TK_OK;
}

/* splitmix64: the seeded order of a budgeted sweep. */
static uint64_t next_random(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Heuristic configs first (kept in registry order), the rest shuffled. */
static void seeded_order(candidate_list *l, uint64_t seed) {
  int h = 0;
  for (int i = 0; i < l->n; i++)
    if (l->v[i].is_heuristic) {
      candidate t = l->v[i];
      memmove(&l->v[h + 1], &l->v[h], (size_t)(i - h) * sizeof t);
      l->v[h++] = t;
    }
  for (int i = l->n - 1; i > h; i--) {
    int j = h + (int)(next_random(&seed) % (uint64_t)(i - h + 1));
    candidate t = l->v[i];
    l->v[i] = l->v[j];
    l->v[j] = t;
  }
}

typedef struct {
  const tk_sweep_target *t;
  const tk_choice *c;
} run_ctx;

static int timed_run(void *arg, int rep, double *self_ns) {
  run_ctx *r = arg;
  return r->t->run(r->t->user, r->c, rep, self_ns) != TK_OK;
}

/* Checks and times one candidate into m (strings point into reason). */
static void measure(const tk_sweep_target *t, const tk_choice *c, const tk_timing_plan *plan,
                    tk_cache_measurement *m, char *reason, size_t reason_len) {
  int right = 0;
  double err = NAN;
  reason[0] = '\0';
  m->median_ns = m->p20_ns = m->p80_ns = NAN;
  m->reps = 0;
  tk_status s = t->check(t->user, c, &right, &err, reason, reason_len);
  m->max_err = err;
  if (s != TK_OK) {
    snprintf(reason, reason_len, "%s: %s", tk_status_string(s), tk_last_error());
    m->result = TK_CACHE_RESULT_FAILED;
    return;
  }
  if (!right) {
    m->result = TK_CACHE_RESULT_WRONG;
    return;
  }
  double *samples = malloc((size_t)plan->max_reps * sizeof *samples);
  int n = 0;
  run_ctx r = {t, c};
  if (!samples || tk_time_runs(plan, timed_run, &r, samples, &n) != 0) {
    snprintf(reason, reason_len, "%s", samples ? tk_last_error() : "out of memory while timing");
    m->result = TK_CACHE_RESULT_FAILED;
    free(samples);
    return;
  }
  tk_stats st = tk_stats_of(samples, n);
  free(samples);
  m->result = TK_CACHE_RESULT_OK;
  m->median_ns = st.median;
  m->p20_ns = st.p20;
  m->p80_ns = st.p80;
  m->reps = n;
}

/* Runs c untimed for the plan's min_ns (2 to max_reps runs), so the first
 * candidate timed does not pay for what a process's first runs of a
 * problem pay (faulting in fresh pages, cold caches and predictors): on
 * the 2-core Zen 3 the heuristic, timed first, measured 5-70% slower
 * alone than in its interleaved confirmations moments later. */
static void warm_up(const tk_sweep_target *t, const tk_choice *c, const tk_timing_plan *plan) {
  double t0 = tk_now_ns();
  for (int r = 0; r < plan->max_reps && (r < 2 || tk_now_ns() - t0 < plan->min_ns); r++) {
    double self = -1;
    if (t->run(t->user, c, r, &self) != TK_OK) return;
  }
}

/* What this sweep measured of one candidate, kept for the confirmation. */
typedef struct {
  tk_cache_measurement m;
  char config[256];
  int have; /* measured (m is set) in this sweep, not resumed */
} measured;

/* Times candidates a and b alternately (each round runs both, the first of
 * the pair alternating) the same number of times, at least plan's
 * min_reps and min_ns of the slower's earlier median, at most max_reps:
 * a burst of load elsewhere then slows both alike, where timing one
 * candidate after the other hands the burst to one. Stats into sa, sb;
 * nonzero when a run failed. */
static int time_interleaved(const tk_sweep_target *t, const tk_choice *a, const tk_choice *b,
                            double slower_ns, const tk_timing_plan *plan, tk_stats *sa,
                            tk_stats *sb) {
  int rounds = plan->min_reps;
  while (rounds < plan->max_reps && rounds * slower_ns < plan->min_ns) rounds++;
  double *samples = malloc(2 * (size_t)rounds * sizeof *samples);
  if (!samples) return 1;
  double *xa = samples, *xb = samples + rounds;
  int rc = 0, rep = 0;
  for (int r = 0; r < rounds && !rc; r++)
    for (int side = 0; side < 2 && !rc; side++) {
      int first_b = (r + side) & 1;
      double self = -1, t0 = tk_now_ns();
      rc = t->run(t->user, first_b ? b : a, rep++, &self) != TK_OK;
      (first_b ? xb : xa)[r] = self >= 0 ? self : tk_now_ns() - t0;
    }
  if (!rc) {
    *sa = tk_stats_of(xa, rounds);
    *sb = tk_stats_of(xb, rounds);
  }
  free(samples);
  return rc;
}

/* Puts stats st into m as its timing. */
static void set_timing(tk_cache_measurement *m, const tk_stats *st) {
  m->median_ns = st->median;
  m->p20_ns = st->p20;
  m->p80_ns = st->p80;
  m->reps = st->n;
}

/* How many interleaved timings against the heuristic a problem gets at
 * most. */
#define MAX_CONFIRMATIONS 6

/* Guards against the winner's curse: the fastest of many candidates timed
 * one after another on a shared machine is often just the one timed in a
 * quiet moment. While the fastest candidate measured in this sweep is
 * neither the default heuristic (index h) nor the one last timed together
 * with it, it is timed again interleaved with the heuristic, and both
 * measurements are replaced by those medians (recorded), so the best is
 * decided by a comparison under the same load, and the heuristic's
 * measurement left in the cache is the one timed with the best (an
 * earlier confirmed candidate stands against a newer heuristic timing, so
 * it is timed again when it is the fastest). Up to MAX_CONFIRMATIONS
 * timings; a failed run ends them. */
static tk_status confirm_fastest(const tk_sweep_target *t, tk_cache *cache, int64_t dev,
                                 const candidate_list *l, measured *ms, int h,
                                 const tk_timing_plan *plan) {
  if (h < 0 || !ms[h].have || ms[h].m.result != TK_CACHE_RESULT_OK) return TK_OK;
  int last = -1; /* the candidate timed together with h's current measurement */
  for (int round = 0; round < MAX_CONFIRMATIONS; round++) {
    int f = -1;
    for (int i = 0; i < l->n; i++)
      if (ms[i].have && ms[i].m.result == TK_CACHE_RESULT_OK &&
          (f < 0 || ms[i].m.median_ns < ms[f].m.median_ns))
        f = i;
    if (f == h || f == last) return TK_OK;
    tk_choice cf = {l->v[f].impl, l->v[f].cfg, TK_CHOICE_FORCED};
    tk_choice ch = {l->v[h].impl, l->v[h].cfg, TK_CHOICE_FORCED};
    double slower = fmax(ms[f].m.median_ns, ms[h].m.median_ns);
    tk_stats sf, sh;
    if (time_interleaved(t, &cf, &ch, slower, plan, &sf, &sh)) return TK_OK; /* keep the timings */
    last = f;
    set_timing(&ms[f].m, &sf);
    set_timing(&ms[h].m, &sh);
    tk_status s = tk_cache_record(cache, dev, &ms[f].m);
    if (s == TK_OK) s = tk_cache_record(cache, dev, &ms[h].m);
    if (s != TK_OK) return s;
  }
  return TK_OK;
}

typedef struct {
  const char *key;
  tk_sweep_summary *s;
  const char *ref_config;
} summary_ctx;

/* Fills the summary's times from the cached measurements of the key. */
static int summarize_row(void *user, const char *fp, const tk_cache_measurement *m) {
  (void)fp;
  summary_ctx *sc = user;
  if (strcmp(m->problem_key, sc->key) != 0 || m->result != TK_CACHE_RESULT_OK) return 0;
  if (strcmp(m->impl, sc->s->heuristic_impl) == 0 && strcmp(m->config, sc->s->heuristic_config) == 0)
    sc->s->heuristic_ns = m->median_ns;
  if (strcmp(m->impl, "reference") == 0 && strcmp(m->config, sc->ref_config) == 0)
    sc->s->reference_ns = m->median_ns;
  return 0;
}

static int best_row(void *user, const char *fp, const tk_cache_best *b) {
  (void)fp;
  tk_sweep_summary *s = user;
  s->have_best = 1;
  snprintf(s->best_impl, sizeof s->best_impl, "%s", b->impl);
  snprintf(s->best_config, sizeof s->best_config, "%s", b->config);
  s->best_ns = b->median_ns;
  return 0;
}

/* The cached outcome of the sweep: best, heuristic default, reference. */
static tk_status summarize(tk_context *ctx, tk_cache *cache, const char *fp, int64_t dev,
                           const tk_problem *p, tk_sweep_summary *s) {
  tk_choice h;
  s->heuristic_ns = s->reference_ns = s->best_ns = NAN;
  if (tk_choose_untuned(ctx, p, &h) == TK_OK) {
    snprintf(s->heuristic_impl, sizeof s->heuristic_impl, "%s", h.impl->name);
    tk_config_format(h.impl->space, &h.cfg, s->heuristic_config, sizeof s->heuristic_config);
  }
  char ref_config[256] = "";
  const tk_impl *ref = tk_registry_find(p->op, "reference");
  if (ref) {
    tk_config rc;
    tk_config_heuristic(ref, p, &ctx->dev, &rc);
    tk_config_format(ref->space, &rc, ref_config, sizeof ref_config);
  }
  const char *op = tk_op_name(p->op);
  summary_ctx sc = {s->key, s, ref_config};
  tk_cache_filter f = {fp, op, NULL, s->key};
  tk_status st = tk_cache_each_measurement(cache, &f, summarize_row, &sc);
  if (st == TK_OK) st = tk_cache_get_best(cache, dev, op, s->key, best_row, s, NULL);
  return st;
}

tk_sweep_options tk_sweep_defaults(void) {
  tk_sweep_options o;
  memset(&o, 0, sizeof o);
  o.seed = 1;
  o.timing = tk_timing_default();
  return o;
}

tk_status tk_sweep_problem(tk_context *ctx, tk_cache *cache, const char *fingerprint,
                           const tk_sweep_target *t, const tk_sweep_options *o,
                           tk_sweep_summary *out) {
  const tk_problem *p = t->problem;
  memset(out, 0, sizeof *out);
  if (tk_problem_key(p, out->key, sizeof out->key) >= (int)sizeof out->key)
    return tk_fail(TK_ERR_INTERNAL, "sweep: problem key too long");
  tk_status s = check_names(p->op, o->impls);
  if (s != TK_OK) return s;
  int64_t dev;
  s = tk_cache_device_id(cache, fingerprint, NULL, &dev);
  if (s != TK_OK) return s;
  candidate_list l = {0};
  s = enumerate(ctx, p, o->impls, &l);
  if (s == TK_OK && l.n == 0)
    s = tk_fail(TK_ERR_UNSUPPORTED, "sweep: no implementation%s%s runs %s here",
                o->impls ? " among " : "", o->impls ? o->impls : "", out->key);
  if (s != TK_OK) {
    free(l.v);
    return s;
  }
  if (o->budget_s > 0) seeded_order(&l, o->seed);
  out->candidates = l.n;
  const char *op = tk_op_name(p->op);
  measured *ms = calloc((size_t)l.n, sizeof *ms);
  if (!ms) {
    free(l.v);
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "sweep: out of memory");
  }
  /* the default heuristic's candidate: the untuned choice's impl and config */
  int h = -1;
  tk_choice untuned;
  if (tk_choose_untuned(ctx, p, &untuned) == TK_OK)
    for (int i = 0; i < l.n && h < 0; i++)
      if (l.v[i].impl == untuned.impl && tk_config_equal(untuned.impl->space, &l.v[i].cfg, &untuned.cfg))
        h = i;
  const double deadline = o->budget_s > 0 ? tk_now_ns() + o->budget_s * 1e9 : INFINITY;
  int warmed = 0;
  for (int i = 0; i < l.n && s == TK_OK; i++) {
    tk_choice c = {l.v[i].impl, l.v[i].cfg, TK_CHOICE_FORCED};
    char *config = ms[i].config, reason[512];
    tk_config_format(c.impl->space, &c.cfg, config, sizeof ms[i].config);
    tk_sweep_event e = {c.impl->name, config, i + 1, l.n, 0, TK_CACHE_RESULT_OK, "", NAN};
    int found = 0;
    if (!o->remeasure) s = tk_cache_has_measurement(cache, dev, op, out->key, c.impl->name, config, &found);
    if (s != TK_OK) break;
    if (found) {
      out->resumed++;
      e.resumed = 1;
    } else if (tk_now_ns() > deadline && !l.v[i].is_heuristic) {
      out->skipped_by_budget++;
      continue;
    } else {
      tk_cache_measurement m = {op, out->key, c.impl->name, config, 0, reason, 0, 0, 0, 0, 0, 0};
      if (!warmed && h >= 0) {
        tk_choice hc = {l.v[h].impl, l.v[h].cfg, TK_CHOICE_FORCED};
        warm_up(t, &hc, &o->timing);
      }
      warmed = 1;
      measure(t, &c, &o->timing, &m, reason, sizeof reason);
      s = tk_cache_record(cache, dev, &m);
      ms[i].m = m;
      ms[i].m.reason = "";
      ms[i].have = 1;
      out->measured++;
      out->wrong += m.result == TK_CACHE_RESULT_WRONG;
      out->failed += m.result == TK_CACHE_RESULT_FAILED;
      e.result = m.result;
      e.reason = reason;
      e.median_ns = m.median_ns;
    }
    if (o->progress) o->progress(o->progress_user, &e);
  }
  if (s == TK_OK) s = confirm_fastest(t, cache, dev, &l, ms, h, &o->timing);
  free(ms);
  free(l.v);
  if (s == TK_OK) s = tk_cache_recompute_best(cache, dev, op, out->key, NULL);
  if (s == TK_OK) s = summarize(ctx, cache, fingerprint, dev, p, out);
  return s;
}
