/* sweep_output.h: what `tokamax-tune sweep` shows: progress while it runs
 * (a bar with ETA on a terminal, one plain line per problem otherwise, on
 * stderr) and the results (a table, or JSON with --json, on stdout). */
#ifndef TK_TOOLS_SWEEP_OUTPUT_H
#define TK_TOOLS_SWEEP_OUTPUT_H

#include "autotune/sweep.h"

typedef struct {
  int json, quiet, bar;   /* bar: stderr is a terminal */
  int n_problems, done;   /* problems in this sweep / finished */
  double t0_ns;
  const char *spec;       /* the problem being swept */
} sweep_progress;

/* Starts progress for n problems. */
void sweep_progress_begin(sweep_progress *p, int n_problems, int json, int quiet);
/* tk_sweep_options.progress callback (user = sweep_progress). */
void sweep_progress_event(void *user, const tk_sweep_event *e);
/* A problem finished (s == NULL: it failed with message err). */
void sweep_progress_problem(sweep_progress *p, const tk_sweep_summary *s, const char *err);

/* One line of the final results. */
typedef struct {
  char spec[512];
  int ok;                 /* swept; else err says why */
  char err[512];
  tk_sweep_summary s;
  double flops, bytes;    /* useful work, for the rate */
  int memory_bound;       /* the rate is bytes/s */
} sweep_result;

/* Prints the results table (or JSON array) to stdout, and the geometric
 * mean speed-up over the heuristic default. */
void sweep_print_results(const sweep_result *r, int n, int json);

#endif
