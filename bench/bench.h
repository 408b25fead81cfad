/* bench.h: a C interface to Google Benchmark (bench_gbench.cc), so
 * benchmarks are written in C.
 *
 * A benchmark is a name, user data and three callbacks: setup (once, before
 * its first timed call; may decline with a reason, which skips it), run (one
 * timed call) and teardown (once, at the end). Rates (FLOP/s, bytes/s) come
 * from the work per call. Timing is either Google Benchmark's wall clock
 * around run, or manual: run measures itself (e.g. CUDA events, or to leave
 * a cache flush out) and returns its seconds. After tk_bench_run the C side
 * reads back each benchmark's median over repetitions.
 *
 * Google Benchmark's own flags (--benchmark_filter, _repetitions,
 * _min_time (plain seconds in 1.7.1), _enable_random_interleaving, _out,
 * _out_format=json, ...) all work; JSON comes from its own reporter.
 */
#ifndef TK_BENCH_H
#define TK_BENCH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  const char *name; /* unique; copied at registration */
  void *user;       /* passed to every callback */
  /* Once, before the first timed call (NULL: nothing to do). Returns 0 to
   * go ahead; nonzero skips the benchmark, with the reason written to why. */
  int (*setup)(void *user, char *why, size_t why_len);
  /* One call of the work being timed. With manual_time it returns the
   * seconds it measured itself; otherwise the value is ignored. A negative
   * return stops the benchmark as failed, with the reason in why. */
  double (*run)(void *user, char *why, size_t why_len);
  /* Once, after every benchmark has run (NULL: nothing to do). Also called
   * when setup declined. */
  void (*teardown)(void *user);
  int manual_time; /* 1: time from run's return value; 0: wall clock around run */
  double flops;    /* floating-point operations per call; 0: no FLOP/s counter */
  double bytes;    /* bytes moved per call; 0: no bytes/s counter */
} tk_bench_def;

/* What one benchmark measured. */
typedef struct {
  int ran;           /* 1 if it was run (not filtered out) */
  int skipped;       /* setup declined or run failed: see why */
  char why[256];
  int samples;       /* repetitions measured */
  double median_s;   /* median over repetitions of seconds per call */
  double min_s, max_s;
  double flops, bytes; /* per call, as registered */
} tk_bench_result;

/* Reads Google Benchmark's flags from argv and removes them (argc/argv are
 * updated); what is left is for the caller. A flag given twice takes its
 * last value, so a caller can put defaults first. Call before registering. */
void tk_bench_init(int *argc, char **argv);

/* Registers a benchmark; returns its index (>= 0), or -1 when the name is
 * empty or already taken, or run is NULL. */
int tk_bench_register(const tk_bench_def *def);

/* Adds key: value to the "context" object of the JSON report (and the
 * console header). Call before tk_bench_run. */
void tk_bench_add_context(const char *key, const char *value);

/* Runs every registered benchmark that the filter selects (console output,
 * and the JSON file when --benchmark_out is given), then calls every
 * teardown. Returns the number of benchmarks run. */
int tk_bench_run(void);

/* The result of the benchmark registered under name; 0 if none is. */
int tk_bench_result_get(const char *name, tk_bench_result *out);

/* Forgets every registration and result (Google Benchmark's included). */
void tk_bench_shutdown(void);

#ifdef __cplusplus
}
#endif

#endif
