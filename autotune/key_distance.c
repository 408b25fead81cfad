/* key_distance.c: splitting problem keys into family and sizes. */
#include "autotune/key_distance.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  return seen == (1 << n) - 1;
}

double tk_key_distance(const tk_key_shape *a, const tk_key_shape *b) {
  if (a->n_sizes != b->n_sizes || strcmp(a->family, b->family) != 0) return -1;
  double d = 0;
  for (int i = 0; i < a->n_sizes; i++) d += fabs(log1p(a->sizes[i]) - log1p(b->sizes[i]));
  return d;
}
