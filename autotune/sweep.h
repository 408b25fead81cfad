/* sweep.h: the sweep engine: for one problem, every implementation that
 * runs it and every valid config of its space (or a seeded sample under a
 * time budget) is checked against the reference, timed, and recorded in the
 * tuning cache, one transaction per candidate, so an interrupted sweep
 * resumes where it stopped; then the best is recomputed. */
#ifndef TK_AUTOTUNE_SWEEP_H
#define TK_AUTOTUNE_SWEEP_H

#include "cache/cache.h"
#include "autotune/choose.h"
#include "autotune/execute.h"
#include "autotune/measure.h"

/* What candidates run on; built by the caller (tokamax-tune from a regress
 * case, TK_TUNE_ON_MISS from the caller's own data). */
typedef struct {
  const tk_problem *problem; /* validated with data */
  void *user;
  /* Runs c once and compares its outputs with the reference: TK_OK with
   * *right = 1, or 0 and the reason in why; max_err (NAN unknown). A status
   * other than TK_OK means c failed to run (message in tk_last_error). */
  tk_status (*check)(void *user, const tk_choice *c, int *right, double *max_err, char *why,
                     size_t why_len);
  /* Runs c on input set rep (targets rotate several copies so caches do not
   * flatter); may time itself (CUDA events) into *self_ns. */
  tk_status (*run)(void *user, const tk_choice *c, int rep, double *self_ns);
} tk_sweep_target;

/* Reported for each candidate as it finishes (for progress output). */
typedef struct {
  const char *impl, *config;
  int index, total;          /* this candidate's number (1-based) of total */
  int resumed;               /* already in the cache: not rerun */
  tk_cache_result result;
  const char *reason;
  double median_ns;
} tk_sweep_event;

typedef struct {
  const char *impls;         /* comma-separated names to sweep; NULL: all */
  double budget_s;           /* > 0: seeded random order, stop after this long */
  uint64_t seed;
  tk_timing_plan timing;
  int remeasure;             /* 1: ignore measurements already cached */
  void (*progress)(void *user, const tk_sweep_event *e);
  void *progress_user;
} tk_sweep_options;

/* Options with the default timing plan, seed 1, everything else off. */
tk_sweep_options tk_sweep_defaults(void);

/* What the cache holds for the problem after the sweep. Times in ns, NAN
 * when not measured (e.g. the impl was filtered out). */
typedef struct {
  char key[1024];
  int candidates, measured, resumed, wrong, failed, skipped_by_budget;
  int have_best;
  char best_impl[64], best_config[256];
  double best_ns;
  char heuristic_impl[64], heuristic_config[256]; /* the untuned automatic choice */
  double heuristic_ns, reference_ns;
} tk_sweep_summary;

/* Sweeps t->problem on ctx into cache under the device with this
 * fingerprint (added if new). Fails only for bad arguments (an unknown impl
 * name in o->impls, nothing that runs the problem) or a cache error;
 * candidates that fail are recorded, not fatal. Heuristic configs are
 * measured even past the budget, so the speed-up over them is known. */
tk_status tk_sweep_problem(tk_context *ctx, tk_cache *cache, const char *fingerprint,
                           const tk_sweep_target *t, const tk_sweep_options *o,
                           tk_sweep_summary *out);

#endif
