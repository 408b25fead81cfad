/* case_check.c: checking a run against the reference: tolerances per
 * dtype (docs/suites.md), coverage of the outputs, untouched poison and
 * guards, unchanged inputs. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "autotune/tolerance.h"
#include "runtime/half.h"
#include "regress/case_internal.h"

/* Records the first failure in r. */
static void fail(tk_case_report *r, const char *fmt, ...) {
  if (!r->pass) return;
  r->pass = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->why, sizeof r->why, fmt, ap);
  va_end(ap);
}

/* Formats logical index idx of t as "[i,j,...]". */
static const char *index_text(const tk_case_tensor *t, const int64_t *idx, char *buf, size_t len) {
  size_t n = (size_t)snprintf(buf, len, "[");
  for (int d = 0; d < t->dl.ndim && n < len; d++)
    n += (size_t)snprintf(buf + n, len - n, d ? ",%lld" : "%lld", (long long)idx[d]);
  if (n < len) snprintf(buf + n, len - n, "]");
  return buf;
}

/* Poison where nothing may be written (gaps, masked rows), guard intact. */
static void check_untouched(const tk_case_tensor *t, tk_case_report *r) {
  int64_t es = tk_dtype_size(t->dtype);
  unsigned char pat[4];
  tk_case_poison_element(t->dtype, pat);
  for (int64_t e = 0; e < t->span; e++)
    if (!t->want[e] && memcmp(t->buf + e * es, pat, (size_t)es) != 0) {
      fail(r, "%s: element at offset %lld was written but must not be (masked row or stride gap)",
           t->name, (long long)e);
      break;
    }
  for (int g = 0; g < TK_CASE_GUARD; g++)
    if (t->buf[t->data_bytes + (size_t)g] != TK_CASE_GUARD_BYTE) {
      fail(r, "%s: guard byte %d after the last element was overwritten", t->name, g);
      break;
    }
}

/* Compares one element; returns 0 if it fails (and records why). */
static int check_element(const tk_case_tensor *t, const int64_t *idx, tk_case_report *r,
                         double loose, double tight, double scale, int64_t *over_tight) {
  int64_t es = tk_dtype_size(t->dtype), off = tk_case_offset(t, idx);
  const unsigned char *a = t->buf + off * es, *x = t->expected + off * es;
  unsigned char pat[4];
  char at[64];
  tk_case_poison_element(t->dtype, pat);
  if (memcmp(a, pat, (size_t)es) == 0) {
    fail(r, "%s%s was not written", t->name, index_text(t, idx, at, sizeof at));
    return 0;
  }
  if (t->exact || t->dtype == TK_I32) {
    if (memcmp(a, x, (size_t)es) == 0) return 1;
    if (t->dtype == TK_I32)
      fail(r, "%s%s = %d, reference %d", t->name, index_text(t, idx, at, sizeof at),
           *(const int32_t *)a, *(const int32_t *)x);
    else
      fail(r, "%s%s = %g, reference %g (must be exact)", t->name, index_text(t, idx, at, sizeof at),
           (double)tk_load_f32(a, t->dtype), (double)tk_load_f32(x, t->dtype));
    return 0;
  }
  double va = tk_load_f32(a, t->dtype), vx = tk_load_f32(x, t->dtype);
  if (!isfinite(vx)) { /* e.g. lse -inf of a row that sees no key */
    if (va == vx) return 1;
    fail(r, "%s%s = %g, reference %g", t->name, index_text(t, idx, at, sizeof at), va, vx);
    return 0;
  }
  if (!isfinite(va)) {
    fail(r, "%s%s = %g where the reference has %g", t->name, index_text(t, idx, at, sizeof at), va, vx);
    return 0;
  }
  double d = fabs(va - vx), mag = fabs(vx), err = d / (mag > scale ? mag : scale);
  double rel = d / (mag > 1 ? mag : 1);
  if (d > r->max_abs_err) r->max_abs_err = d;
  if (rel > r->max_rel_err) r->max_rel_err = rel;
  if (err > tight) (*over_tight)++;
  if (err > loose) {
    fail(r, "%s%s = %.7g, reference %.7g: error %.3g over the bound %.3g", t->name,
         index_text(t, idx, at, sizeof at), va, vx, err, loose);
    return 0;
  }
  return 1;
}

/* Calls fn(t, idx, arg) for every logical element of t that must be written. */
static void each_wanted(const tk_case_tensor *t,
                        void (*fn)(const tk_case_tensor *t, const int64_t *idx, void *arg),
                        void *arg) {
  int64_t idx[TK_MAX_DIMS] = {0};
  int nd = t->dl.ndim;
  for (int d = 0; d < nd; d++)
    if (t->shape[d] == 0) return;
  for (;;) {
    if (t->want[tk_case_offset(t, idx)]) fn(t, idx, arg);
    int d = nd - 1;
    while (d >= 0 && ++idx[d] == t->shape[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

/* Sums the squares of the finite expected values into acc[0], counts into acc[1]. */
static void add_square(const tk_case_tensor *t, const int64_t *idx, void *arg) {
  double *acc = arg, e = tk_load_f32(t->expected + tk_case_offset(t, idx) * tk_dtype_size(t->dtype), t->dtype);
  if (isfinite(e)) acc[0] += e * e, acc[1] += 1;
}

/* The magnitude errors of t are judged against: its scale, or the RMS of
 * its expected values when it asks for that. */
static double error_scale(const tk_case_tensor *t) {
  if (!t->scale_rms) return t->scale;
  double acc[2] = {0, 0};
  each_wanted(t, add_square, acc);
  double rms = acc[1] > 0 ? sqrt(acc[0] / acc[1]) : 0;
  return rms > DBL_MIN ? rms : DBL_MIN;
}

typedef struct {
  tk_case_report *r;
  double loose, tight, scale;
  int64_t n, over_tight;
  int ok;
} value_check;

static void check_one(const tk_case_tensor *t, const int64_t *idx, void *arg) {
  value_check *v = arg;
  v->n++;
  if (v->ok) v->ok = check_element(t, idx, v->r, v->loose, v->tight, v->scale, &v->over_tight);
}

/* Checks every logical element of output t that must be written. */
static void check_values(const tk_case_tensor *t, tk_case_report *r) {
  value_check v = {r, 0, 0, error_scale(t), 0, 0, 1};
  tk_tolerance(t->tol_dtype, &v.loose, &v.tight);
  if (r->tol < v.loose && !t->exact && t->dtype != TK_I32) r->tol = v.loose;
  each_wanted(t, check_one, &v);
  if (v.ok && v.over_tight > v.n / 100 + 1)
    fail(r, "%s: %lld of %lld elements have an error over %.3g (at most 1%% may)", t->name,
         (long long)v.over_tight, (long long)v.n, v.tight);
}

int tk_case_check(tk_case *c, tk_case_report *r) {
  memset(r, 0, sizeof *r);
  r->pass = 1;
  if (!c->have_expected) {
    fail(r, "no expected outputs: call tk_case_prepare_expected first");
    return 0;
  }
  for (int i = 0; i < c->n_tensors; i++) {
    tk_case_tensor *t = &c->t[i];
    if (t->is_output) {
      check_untouched(t, r);
      check_values(t, r);
    } else if (memcmp(t->buf, t->input_copy, t->data_bytes) != 0) {
      fail(r, "input %s was changed", t->name);
    }
  }
  return r->pass;
}
