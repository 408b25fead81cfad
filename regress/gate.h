/* gate.h: the numerics and performance regression gate. It runs every
 * implementation on every case of a suite, checks numerics against the
 * reference, times them with interleaved repetitions together with two
 * anchors (a memory copy and an FMA loop), stores the run in the SQLite
 * history and compares it with a baseline run. See docs/gate.md. */
#ifndef TK_REGRESS_GATE_H
#define TK_REGRESS_GATE_H

#include <stdint.h>

typedef struct {
  const char *suite;        /* name or file */
  const char *db;           /* history database (NULL: the default cache) */
  const char *impls;        /* comma-separated filter, NULL: all */
  const char *git_rev;      /* NULL: $TOKAMAX_GIT_REV, else `git rev-parse`, else "unknown" */
  const char *json_path;    /* write the results as JSON here (NULL: no) */
  const char *report_dir;   /* write report.md and SVG charts here (NULL: no) */
  int numerics_only;        /* no timing, no baseline (the per-push mode) */
  int reps;                 /* interleaved timing repetitions (>= 9) */
  int set_baseline;         /* make this run the suite's baseline */
  int64_t baseline_run;     /* compare with this run id; < 0: the suite's baseline */
  double band;              /* noise band: a ratio beyond 1 +- band can fail */
  double alpha;             /* significance level of the Mann-Whitney U test */
  double min_batch_ns;      /* each timed sample runs the op for at least this long */
  int threads;              /* worker threads (0: one per physical core) */
  int quiet;
} tk_gate_options;

/* Defaults: 11 repetitions, band 0.2, alpha 0.01, 2 ms batches. */
tk_gate_options tk_gate_defaults(void);

/* Runs the gate and prints the table to stdout; returns the exit code:
 * 0 all passed, 1 a case failed (or no usable baseline in performance
 * mode), 2 bad options or suite (with the message on stderr). */
int tk_gate_run(const tk_gate_options *o);

#endif
