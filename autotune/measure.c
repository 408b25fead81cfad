/* measure.c: clock, quantiles and the repeated-timing loop. */
#include "autotune/measure.h"

#include <stdlib.h>
#include <time.h>

double tk_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double tk_quantile(double *samples, int n, double q) {
  qsort(samples, (size_t)n, sizeof *samples, cmp_double);
  double pos = q * (n - 1);
  int lo = (int)pos;
  if (lo >= n - 1) return samples[n - 1];
  return samples[lo] + (pos - lo) * (samples[lo + 1] - samples[lo]);
}

tk_stats tk_stats_of(double *samples, int n) {
  tk_stats s;
  s.median = tk_quantile(samples, n, 0.5);
  s.p20 = tk_quantile(samples, n, 0.2);
  s.p80 = tk_quantile(samples, n, 0.8);
  s.min = samples[0];
  s.n = n;
  return s;
}

tk_timing_plan tk_timing_default(void) { return (tk_timing_plan){1, 5, 50, 30e6}; }

int tk_time_runs(const tk_timing_plan *plan, tk_timed_fn fn, void *arg, double *samples,
                 int *n_samples) {
  int rep = 0;
  for (; rep < plan->warmup; rep++) {
    double self = -1;
    int rc = fn(arg, rep, &self);
    if (rc) return rc;
  }
  double total = 0;
  int n = 0;
  while (n < plan->max_reps && (n < plan->min_reps || total < plan->min_ns)) {
    double self = -1, t0 = tk_now_ns();
    int rc = fn(arg, rep++, &self);
    double dt = self >= 0 ? self : tk_now_ns() - t0;
    if (rc) return rc;
    samples[n++] = dt;
    total += dt;
  }
  *n_samples = n;
  return 0;
}
