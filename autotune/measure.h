/* measure.h: the monotonic clock and the statistics every timing in the
 * project uses (sweep, check, gate): medians and percentiles of samples. */
#ifndef TK_AUTOTUNE_MEASURE_H
#define TK_AUTOTUNE_MEASURE_H

#include <stdint.h>

/* Nanoseconds on the monotonic clock (only differences mean anything). */
double tk_now_ns(void);

/* The q-quantile (0..1, linear interpolation between order statistics) of
 * n > 0 samples; sorts samples in place. */
double tk_quantile(double *samples, int n, double q);

/* Summary of n > 0 samples (sorts them in place). */
typedef struct {
  double median, p20, p80, min;
  int n;
} tk_stats;
tk_stats tk_stats_of(double *samples, int n);

/* How long to time one candidate: at least min_reps runs and min_ns of
 * timed work, at most max_reps runs, after warmup untimed runs. */
typedef struct {
  int warmup, min_reps, max_reps;
  double min_ns;
} tk_timing_plan;

/* The default plan for CPU sweeps: 1 warm-up, 5..50 runs, 30 ms. */
tk_timing_plan tk_timing_default(void);

/* One run: returns nonzero on failure. It may time itself (CUDA events)
 * and set *self_ns; left negative, the monotonic clock around it counts. */
typedef int (*tk_timed_fn)(void *arg, int rep, double *self_ns);

/* Times fn(arg, rep, .) under plan (rep counts from 0 over warm-up and
 * timed runs, so the caller can rotate inputs); samples[] (max_reps long)
 * gets the timed durations in ns. Stops at the first nonzero return of fn
 * and returns it; else 0 with *n_samples set. */
int tk_time_runs(const tk_timing_plan *plan, tk_timed_fn fn, void *arg, double *samples,
                 int *n_samples);

#endif
