/* history.c: storing and reading the regression gate's runs. */
#include <math.h>

#include "cache/cache_db.h"
#include "runtime/status.h"

/* Binds a double, NULL for NAN. */
static int bind_real(sqlite3_stmt *st, int i, double v) {
  return isnan(v) ? sqlite3_bind_null(st, i) : sqlite3_bind_double(st, i, v);
}

tk_status tk_history_add_run(tk_cache *c, int64_t device, const char *suite, const char *mode,
                             const char *git_rev, double anchor_copy_ns, double anchor_fma_ns,
                             int64_t *run) {
  if (!c || !suite || !mode || !git_rev || !run)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: add_run: NULL argument");
  tk_status s = tk_cache_begin(c, 1);
  if (s != TK_OK) return s;
  sqlite3_stmt *st = c->st[TK_SQL_RUN_INSERT];
  sqlite3_bind_int64(st, 1, device);
  tk_cache_bind_text(st, 2, suite);
  tk_cache_bind_text(st, 3, mode);
  tk_cache_bind_text(st, 4, git_rev);
  bind_real(st, 5, anchor_copy_ns);
  bind_real(st, 6, anchor_fma_ns);
  sqlite3_bind_int64(st, 7, tk_cache_now_us());
  if (tk_cache_step(c, st, "storing a gate run", &s) == SQLITE_ROW) {
    *run = sqlite3_column_int64(st, 0);
    tk_cache_done(st);
  }
  return s == TK_OK ? tk_cache_commit(c) : tk_cache_rollback(c, s);
}

tk_status tk_history_add_result(tk_cache *c, int64_t run, const tk_history_result *r) {
  if (!c || !r || !r->spec || !r->impl)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: add_result: NULL argument");
  tk_status s = tk_cache_begin(c, 1);
  if (s != TK_OK) return s;
  sqlite3_stmt *st = c->st[TK_SQL_RESULT_INSERT];
  sqlite3_bind_int64(st, 1, run);
  tk_cache_bind_text(st, 2, r->spec);
  tk_cache_bind_text(st, 3, r->impl);
  tk_cache_bind_text(st, 4, r->config ? r->config : "");
  tk_cache_bind_text(st, 5, r->status ? r->status : "");
  tk_cache_bind_text(st, 6, r->reason ? r->reason : "");
  bind_real(st, 7, r->max_err);
  bind_real(st, 8, r->tol);
  bind_real(st, 9, r->median_ns);
  tk_cache_bind_text(st, 10, r->samples ? r->samples : "");
  s = tk_cache_run(c, TK_SQL_RESULT_INSERT, "storing a gate result");
  return s == TK_OK ? tk_cache_commit(c) : tk_cache_rollback(c, s);
}

tk_status tk_history_set_baseline(tk_cache *c, int64_t run) {
  if (!c) return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: set_baseline: NULL cache");
  tk_status s = tk_cache_begin(c, 1);
  if (s != TK_OK) return s;
  sqlite3_bind_int64(c->st[TK_SQL_BASELINE_CLEAR], 1, run);
  s = tk_cache_run(c, TK_SQL_BASELINE_CLEAR, "clearing the baseline");
  if (s == TK_OK) {
    sqlite3_bind_int64(c->st[TK_SQL_BASELINE_SET], 1, run);
    s = tk_cache_run(c, TK_SQL_BASELINE_SET, "setting the baseline");
  }
  if (s == TK_OK && sqlite3_changes(c->db) != 1)
    s = tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: %s: no gate run %lld", c->path, (long long)run);
  return s == TK_OK ? tk_cache_commit(c) : tk_cache_rollback(c, s);
}

tk_status tk_history_each_run(tk_cache *c, const char *suite, int64_t run, int baseline,
                              tk_history_run_fn fn, void *user) {
  if (!c || !fn) return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: each_run: NULL argument");
  tk_status s = tk_cache_begin(c, 0);
  if (s != TK_OK) return s;
  sqlite3_stmt *st = c->st[TK_SQL_RUN_EACH];
  tk_cache_bind_text(st, 1, suite);
  if (run >= 0) sqlite3_bind_int64(st, 2, run);
  if (baseline >= 0) sqlite3_bind_int(st, 3, baseline);
  int stop = 0;
  while (!stop && tk_cache_step(c, st, "reading gate runs", &s) == SQLITE_ROW) {
    tk_history_run r = {sqlite3_column_int64(st, 0), tk_cache_col_text(st, 1),
                        tk_cache_col_text(st, 2), tk_cache_col_text(st, 3),
                        tk_cache_col_text(st, 4), tk_cache_col_double(st, 5),
                        tk_cache_col_double(st, 6), sqlite3_column_int(st, 7),
                        sqlite3_column_int64(st, 8)};
    stop = fn(user, &r);
  }
  tk_cache_done(st);
  return s == TK_OK ? tk_cache_commit(c) : tk_cache_rollback(c, s);
}

tk_status tk_history_each_result(tk_cache *c, int64_t run, tk_history_result_fn fn, void *user) {
  if (!c || !fn) return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: each_result: NULL argument");
  tk_status s = tk_cache_begin(c, 0);
  if (s != TK_OK) return s;
  sqlite3_stmt *st = c->st[TK_SQL_RESULT_EACH];
  sqlite3_bind_int64(st, 1, run);
  int stop = 0;
  while (!stop && tk_cache_step(c, st, "reading gate results", &s) == SQLITE_ROW) {
    tk_history_result r = {tk_cache_col_text(st, 0),   tk_cache_col_text(st, 1),
                           tk_cache_col_text(st, 2),   tk_cache_col_text(st, 3),
                           tk_cache_col_text(st, 4),   tk_cache_col_double(st, 5),
                           tk_cache_col_double(st, 6), tk_cache_col_double(st, 7),
                           tk_cache_col_text(st, 8)};
    stop = fn(user, &r);
  }
  tk_cache_done(st);
  return s == TK_OK ? tk_cache_commit(c) : tk_cache_rollback(c, s);
}
