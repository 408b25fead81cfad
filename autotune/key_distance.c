/* key_distance.c: splitting problem keys into family and sizes. */
#include "autotune/key_distance.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds beyond the default (every size within TK_KEY_MAX_FACTOR either
 * way), for ops whose size fields include num (and den): the problem's
 * value of num (on 1 + value; or the ratio num/den of the values floored
 * at 1) may be at most `up`
 * times the tuned shape's and at least 1/`down` of it. NULL op: any op.
 *   - Regimes: rows per group M/G, queries per key Tq/Tk, query tokens per
 *     sequence Tq_total/S.
 *   - A grouped GEMM's K and N equal (its depth block and column tile are
 *     cut against them), and its rows per group no more than the tuned
 *     shape's: a row tile tuned on groups of 64 rows (where 64 and 512
 *     tile alike) splits groups of 128 (measured: 0.92x the heuristic),
 *     but still covers a smaller group whole. What varies between calls of
 *     one layer is its token count M.
 *   - Attention's token counts within 1.5x: its row block is cut against
 *     the query rows per kv head, and the thread count's share of them
 *     moves with Tq (measured: block_q = 16 tuned at 256 tokens ran at
 *     0.86x the heuristic's 128 at 512). */
static const struct {
  const char *op, *num, *den;
  double up, down;
} bounds[] = {
    {NULL, "M", "G", TK_KEY_MAX_FACTOR, TK_KEY_MAX_FACTOR},
    {NULL, "Tq", "Tk", TK_KEY_MAX_FACTOR, TK_KEY_MAX_FACTOR},
    {NULL, "Tq_total", "S", TK_KEY_MAX_FACTOR, TK_KEY_MAX_FACTOR},
    {"grouped_gemm", "K", NULL, 1, 1},
    {"grouped_gemm", "N", NULL, 1, 1},
    {"grouped_gemm", "M", "G", 1, TK_KEY_MAX_FACTOR},
    {"attention", "Tq", NULL, 1.5, 1.5},
    {"attention", "Tk", NULL, 1.5, 1.5},
    {"attention_backward", "Tq", NULL, 1.5, 1.5},
    {"attention_backward", "Tk", NULL, 1.5, 1.5},
};

/* The size-field list of the op key starts with, or NULL. */
static const char *const *sizes_of(const char *key, size_t op_len) {
  for (int i = 0; i < TK_OP_COUNT; i++) {
    const tk_op_desc *d = tk_op_desc_of((tk_op)i);
    if (strlen(d->name) == op_len && strncmp(key, d->name, op_len) == 0) return d->size_fields;
  }
  return NULL;
}

/* Index of field name (length n) in sizes, or -1. */
static int size_index(const char *const *sizes, const char *name, size_t n) {
  for (int i = 0; i < TK_KEY_MAX_SIZES && sizes[i]; i++)
    if (strlen(sizes[i]) == n && strncmp(sizes[i], name, n) == 0) return i;
  return -1;
}

int tk_key_shape_of(const char *key, tk_key_shape *out) {
  memset(out, 0, sizeof *out);
  const char *colon = strchr(key, ':');
  if (!colon || strlen(key) >= sizeof out->family) return 0;
  const char *const *sizes = sizes_of(key, (size_t)(colon - key));
  if (!sizes) return 0;
  size_t used = (size_t)(colon - key) + 1;
  memcpy(out->family, key, used);
  int seen = 0;
  for (const char *f = colon + 1; *f;) {
    size_t len = strcspn(f, ","), name_len = strcspn(f, "=");
    if (name_len >= len) return 0;
    int si = size_index(sizes, f, name_len);
    if (si >= 0) {
      char *end;
      double v = strtod(f + name_len + 1, &end);
      if (end != f + len || v < 0) return 0;
      out->sizes[si] = v;
      seen |= 1 << si;
      used += (size_t)snprintf(out->family + used, sizeof out->family - used, "%.*s=*,",
                               (int)name_len, f);
    } else {
      used += (size_t)snprintf(out->family + used, sizeof out->family - used, "%.*s,", (int)len, f);
    }
    f += len + (f[len] == ',');
  }
  int n = 0;
  while (n < TK_KEY_MAX_SIZES && sizes[n]) n++;
  out->n_sizes = n;
  out->size_names = sizes;
  return seen == (1 << n) - 1;
}

double tk_key_distance(const tk_key_shape *a, const tk_key_shape *b) {
  if (a->n_sizes != b->n_sizes || strcmp(a->family, b->family) != 0) return -1;
  double d = 0;
  for (int i = 0; i < a->n_sizes; i++) d += fabs(log1p(a->sizes[i]) - log1p(b->sizes[i]));
  return d;
}

/* ln(1 + num) of shape s for den < 0, else the log of the ratio num/den
 * of its values floored at 1. */
static double log_ratio(const tk_key_shape *s, int num, int den) {
  if (den < 0) return log1p(s->sizes[num]);
  return log(fmax(s->sizes[num], 1)) - log(fmax(s->sizes[den], 1));
}

/* Slack for rounding in the comparisons of logarithms. */
#define SLACK 1e-9

int tk_key_within_reach(const tk_key_shape *a, const tk_key_shape *b) {
  if (tk_key_distance(a, b) < 0) return 0;
  const double lim = log(TK_KEY_MAX_FACTOR) + SLACK;
  for (int i = 0; i < a->n_sizes; i++)
    if (fabs(log_ratio(a, i, -1) - log_ratio(b, i, -1)) > lim) return 0;
  size_t op_len = strcspn(a->family, ":");
  for (size_t r = 0; r < sizeof bounds / sizeof bounds[0]; r++) {
    if (bounds[r].op &&
        (strlen(bounds[r].op) != op_len || strncmp(a->family, bounds[r].op, op_len) != 0))
      continue;
    int num = size_index(a->size_names, bounds[r].num, strlen(bounds[r].num));
    int den = bounds[r].den ? size_index(a->size_names, bounds[r].den, strlen(bounds[r].den)) : -1;
    if (num < 0 || (bounds[r].den && den < 0)) continue;
    double q = log_ratio(a, num, den) - log_ratio(b, num, den);
    if (q > log(bounds[r].up) + SLACK || q < -log(bounds[r].down) - SLACK) return 0;
  }
  return 1;
}
