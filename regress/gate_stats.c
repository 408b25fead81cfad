/* gate_stats.c: ranks, U statistic, medians and spreads. */
#include "regress/gate_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/measure.h"

typedef struct {
  double v;
  int from_a;
} ranked;

static int cmp_ranked(const void *x, const void *y) {
  double a = ((const ranked *)x)->v, b = ((const ranked *)y)->v;
  return (a > b) - (a < b);
}

double tk_mann_whitney_greater(const double *a, int n, const double *b, int m) {
  if (n <= 0 || m <= 0) return 1;
  ranked *r = malloc((size_t)(n + m) * sizeof *r);
  if (!r) return 1;
  for (int i = 0; i < n; i++) r[i] = (ranked){a[i], 1};
  for (int j = 0; j < m; j++) r[n + j] = (ranked){b[j], 0};
  qsort(r, (size_t)(n + m), sizeof *r, cmp_ranked);
  double rank_sum_a = 0, tie_term = 0;
  for (int i = 0; i < n + m;) {
    int j = i;
    while (j < n + m && r[j].v == r[i].v) j++;
    double mid = 0.5 * (i + 1 + j); /* average rank of the tied run i..j-1 */
    for (int k = i; k < j; k++)
      if (r[k].from_a) rank_sum_a += mid;
    double t = j - i;
    tie_term += t * t * t - t;
    i = j;
  }
  free(r);
  const double N = n + m;
  double u = rank_sum_a - 0.5 * n * (n + 1.0);
  double var = n * (double)m / 12.0 * ((N + 1) - tie_term / (N * (N - 1)));
  if (var <= 0) return 1;
  double z = (u - 0.5 * n * (double)m - 0.5) / sqrt(var); /* continuity correction */
  return 0.5 * erfc(z / sqrt(2.0));
}

double tk_median_of(const double *v, int n) {
  double *c = malloc((size_t)n * sizeof *c);
  if (!c) return NAN;
  memcpy(c, v, (size_t)n * sizeof *c);
  double q = tk_quantile(c, n, 0.5);
  free(c);
  return q;
}

double tk_relative_spread(const double *v, int n) {
  double *c = malloc((size_t)n * sizeof *c);
  if (!c) return NAN;
  memcpy(c, v, (size_t)n * sizeof *c);
  tk_stats s = tk_stats_of(c, n);
  free(c);
  return s.median > 0 ? (s.p80 - s.p20) / s.median : 0;
}

int tk_parse_samples(const char *text, double *out, int max) {
  int n = 0;
  char *end;
  for (const char *s = text; n < max; s = end) {
    double v = strtod(s, &end);
    if (end == s) break;
    out[n++] = v;
  }
  return n;
}
