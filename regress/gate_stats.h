/* gate_stats.h: the statistics of the regression gate. */
#ifndef TK_REGRESS_GATE_STATS_H
#define TK_REGRESS_GATE_STATS_H

/* One-sided Mann-Whitney U test (normal approximation with tie
 * correction; meant for n, m >= 8): the p-value of "values of a tend to be
 * larger than values of b". 1 when either sample is empty or all values
 * tie. */
double tk_mann_whitney_greater(const double *a, int n, const double *b, int m);

/* The median of n > 0 values (they are not modified). */
double tk_median_of(const double *v, int n);

/* (p80 - p20) / median of n > 0 values: their relative spread. */
double tk_relative_spread(const double *v, int n);

/* Parses the space-separated numbers of text (stored samples) into out;
 * returns how many (at most max). */
int tk_parse_samples(const char *text, double *out, int max);

#endif
