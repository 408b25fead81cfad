/* cache_merge.c: the measurements of one import (or merge) gathered before
 * they meet the database, so that a candidate read twice on one device is
 * resolved by speed and reported, not by the order of the files. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cache/cache_db.h"
#include "runtime/status.h"

/* What the stage holds of one candidate. */
typedef struct {
  int result;
  double median_ns, p20_ns, p80_ns, max_err;
  int64_t reps, measured_us;
  char reason[256], file[1024];
} tk_staged;

/* 1 if the reading a is worth keeping over b: between two ok ones with
 * known medians the faster (ties: a); when either is not ok, the newer
 * (ties: a), so a candidate re-measured as wrong stays wrong. */
static int tk_keep_first(int ra, double ma, int64_t ta, int rb, double mb, int64_t tb) {
  int ok_a = ra == TK_CACHE_RESULT_OK && !isnan(ma);
  int ok_b = rb == TK_CACHE_RESULT_OK && !isnan(mb);
  return ok_a && ok_b ? ma <= mb : ta >= tb;
}

/* Doubles equal, NAN equal to NAN (both unknown). */
static int tk_same_double(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

/* 1 if m is exactly the staged reading (the same file merged twice, or a
 * merged file beside one of its inputs). */
static int tk_same_reading(const tk_staged *s, const tk_cache_measurement *m) {
  return s->result == (int)m->result && tk_same_double(s->median_ns, m->median_ns) &&
         tk_same_double(s->p20_ns, m->p20_ns) && tk_same_double(s->p80_ns, m->p80_ns) &&
         tk_same_double(s->max_err, m->max_err) && s->reps == m->reps &&
         s->measured_us == m->measured_us && strcmp(s->reason, m->reason ? m->reason : "") == 0;
}

/* The staged reading of m's candidate into *out; *found 0 when none. */
static tk_status tk_stage_get(tk_cache *c, int64_t device, const tk_cache_measurement *m,
                              tk_staged *out, int *found) {
  sqlite3_stmt *st = c->st[TK_SQL_STAGE_GET];
  tk_cache_bind_candidate(st, device, m);
  tk_status s;
  *found = tk_cache_step(c, st, "reading a staged measurement", &s) == SQLITE_ROW;
  if (*found) {
    out->result = tk_cache_result_parse(tk_cache_col_text(st, 0));
    out->median_ns = tk_cache_col_double(st, 1);
    out->p20_ns = tk_cache_col_double(st, 2);
    out->p80_ns = tk_cache_col_double(st, 3);
    out->reps = sqlite3_column_int64(st, 4);
    out->max_err = tk_cache_col_double(st, 5);
    out->measured_us = sqlite3_column_int64(st, 6);
    /* Longer texts compare unequal after the cut, which only reports a
     * conflict that a byte-exact compare would also report. */
    snprintf(out->reason, sizeof out->reason, "%s", tk_cache_col_text(st, 7));
    snprintf(out->file, sizeof out->file, "%s", tk_cache_col_text(st, 8));
    tk_cache_done(st);
  }
  return s;
}

static tk_status tk_stage_put(tk_cache *c, int64_t device, const tk_cache_measurement *m,
                              const char *file) {
  sqlite3_stmt *st = c->st[TK_SQL_STAGE_PUT];
  tk_cache_bind_measurement(st, device, m);
  tk_cache_bind_text(st, 14, file);
  return tk_cache_run(c, TK_SQL_STAGE_PUT, "staging a measurement");
}

static tk_status tk_note_conflict(tk_cache *c, const char *fp, const tk_cache_measurement *m,
                                  double kept_ns, const char *kept_file, double dropped_ns,
                                  const char *dropped_file) {
  sqlite3_stmt *st = c->st[TK_SQL_CONFLICT_ADD];
  tk_cache_bind_text(st, 1, fp);
  tk_cache_bind_text(st, 2, m->op);
  tk_cache_bind_text(st, 3, m->problem_key);
  tk_cache_bind_text(st, 4, m->impl);
  tk_cache_bind_text(st, 5, m->config);
  sqlite3_bind_double(st, 6, kept_ns);
  tk_cache_bind_text(st, 7, kept_file);
  sqlite3_bind_double(st, 8, dropped_ns);
  tk_cache_bind_text(st, 9, dropped_file);
  return tk_cache_run(c, TK_SQL_CONFLICT_ADD, "noting a conflict");
}

tk_status tk_cache_stage_measurement(tk_cache *c, int64_t device, const char *fp,
                                     const tk_cache_measurement *m, const char *file) {
  tk_staged old;
  int found = 0;
  tk_status s = tk_stage_get(c, device, m, &old, &found);
  if (s != TK_OK) return s;
  if (!found) return tk_stage_put(c, device, m, file);
  if (tk_same_reading(&old, m)) return TK_OK;
  if (tk_keep_first(old.result, old.median_ns, old.measured_us, (int)m->result, m->median_ns,
                    m->measured_us))
    return tk_note_conflict(c, fp, m, old.median_ns, old.file, m->median_ns, file);
  s = tk_note_conflict(c, fp, m, m->median_ns, file, old.median_ns, old.file);
  return s == TK_OK ? tk_stage_put(c, device, m, file) : s;
}

tk_status tk_cache_apply_staged(tk_cache *c) {
  tk_status s = tk_cache_run(c, TK_SQL_STAGE_APPLY, "storing the imported measurements");
  if (s == TK_OK) s = tk_cache_run(c, TK_SQL_STAGE_TOUCH, "noting the imported keys");
  if (s == TK_OK) s = tk_cache_run(c, TK_SQL_STAGE_CLEAR, "emptying the stage");
  return s;
}

tk_status tk_cache_stage_reset(tk_cache *c) {
  tk_status s = tk_cache_run(c, TK_SQL_STAGE_CLEAR, "emptying the stage");
  return s == TK_OK ? tk_cache_run(c, TK_SQL_CONFLICT_CLEAR, "forgetting the conflicts") : s;
}

tk_status tk_cache_each_import_conflict(tk_cache *c, tk_cache_conflict_fn fn, void *user,
                                        int64_t *count) {
  if (!c) return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: each_import_conflict: NULL cache");
  sqlite3_stmt *st = c->st[TK_SQL_CONFLICT_EACH];
  tk_status s;
  int64_t n = 0;
  int stop = 0;
  while (tk_cache_step(c, st, "reading the conflicts", &s) == SQLITE_ROW) {
    n++;
    if (!fn || stop) continue;
    tk_cache_conflict x = {tk_cache_col_text(st, 0),   tk_cache_col_text(st, 1),
                           tk_cache_col_text(st, 2),   tk_cache_col_text(st, 3),
                           tk_cache_col_text(st, 4),   tk_cache_col_double(st, 5),
                           tk_cache_col_double(st, 7), tk_cache_col_text(st, 6),
                           tk_cache_col_text(st, 8)};
    stop = fn(user, &x);
  }
  if (s == TK_OK && count) *count = n;
  return s;
}
