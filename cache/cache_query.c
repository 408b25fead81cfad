/* cache_query.c: iterating measurements, best rows and devices by filter,
 * and clearing. */
#include "cache/cache_db.h"
#include "runtime/status.h"

/* Binds the four filter fields as ?1..?4 (NULL: match all). */
static void tk_bind_filter(sqlite3_stmt *st, const tk_cache_filter *f) {
  static const tk_cache_filter all = {0};
  if (!f) f = &all;
  tk_cache_bind_text(st, 1, f->fingerprint);
  tk_cache_bind_text(st, 2, f->op);
  tk_cache_bind_text(st, 3, f->impl);
  tk_cache_bind_text(st, 4, f->key_contains);
}

tk_status tk_cache_iter_measurements(tk_cache *c, const tk_cache_filter *f,
                                     tk_cache_measurement_fn fn, void *user) {
  sqlite3_stmt *st = c->st[TK_SQL_MEASUREMENT_EACH];
  tk_bind_filter(st, f);
  tk_status s;
  while (tk_cache_step(c, st, "reading measurements", &s) == SQLITE_ROW) {
    int r = tk_cache_result_parse(tk_cache_col_text(st, 5));
    tk_cache_measurement m = {tk_cache_col_text(st, 1),
                              tk_cache_col_text(st, 2),
                              tk_cache_col_text(st, 3),
                              tk_cache_col_text(st, 4),
                              r < 0 ? TK_CACHE_RESULT_FAILED : (tk_cache_result)r,
                              tk_cache_col_text(st, 6),
                              tk_cache_col_double(st, 7),
                              tk_cache_col_double(st, 8),
                              tk_cache_col_double(st, 9),
                              sqlite3_column_int64(st, 10),
                              tk_cache_col_double(st, 11),
                              sqlite3_column_int64(st, 12)};
    if (fn(user, tk_cache_col_text(st, 0), &m)) {
      tk_cache_done(st);
      break;
    }
  }
  return s;
}

tk_status tk_cache_iter_best(tk_cache *c, const tk_cache_filter *f, tk_cache_best_fn fn,
                             void *user) {
  sqlite3_stmt *st = c->st[TK_SQL_BEST_EACH];
  tk_bind_filter(st, f);
  tk_status s;
  while (tk_cache_step(c, st, "reading best choices", &s) == SQLITE_ROW) {
    tk_cache_best b = {tk_cache_col_text(st, 1),   tk_cache_col_text(st, 2),
                       tk_cache_col_text(st, 3),   tk_cache_col_text(st, 4),
                       tk_cache_col_double(st, 5), sqlite3_column_int64(st, 6)};
    if (fn(user, tk_cache_col_text(st, 0), &b)) {
      tk_cache_done(st);
      break;
    }
  }
  return s;
}

tk_status tk_cache_iter_devices(tk_cache *c, const char *fingerprint, tk_cache_device_fn fn,
                                void *user) {
  sqlite3_stmt *st = c->st[TK_SQL_DEVICE_EACH];
  tk_cache_bind_text(st, 1, fingerprint);
  tk_status s;
  while (tk_cache_step(c, st, "reading devices", &s) == SQLITE_ROW)
    if (fn(user, tk_cache_col_text(st, 0), tk_cache_col_text(st, 1), sqlite3_column_int64(st, 2))) {
      tk_cache_done(st);
      break;
    }
  return s;
}

tk_status tk_cache_each_measurement(tk_cache *c, const tk_cache_filter *f,
                                    tk_cache_measurement_fn fn, void *user) {
  if (!c || !fn) return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: each_measurement: NULL argument");
  tk_status s = tk_cache_begin(c, 0);
  if (s == TK_OK) s = tk_cache_iter_measurements(c, f, fn, user);
  return s == TK_OK ? tk_cache_commit(c) : tk_cache_rollback(c, s);
}

tk_status tk_cache_each_best(tk_cache *c, const tk_cache_filter *f, tk_cache_best_fn fn,
                             void *user) {
  if (!c || !fn) return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: each_best: NULL argument");
  tk_status s = tk_cache_begin(c, 0);
  if (s == TK_OK) s = tk_cache_iter_best(c, f, fn, user);
  return s == TK_OK ? tk_cache_commit(c) : tk_cache_rollback(c, s);
}

/* Runs one of the clear statements bound to (fingerprint, op); adds the
 * rows it removed to *deleted. */
static tk_status tk_clear_table(tk_cache *c, tk_sql_id id, const char *fingerprint, const char *op,
                                int64_t *deleted) {
  tk_cache_bind_text(c->st[id], 1, fingerprint);
  tk_cache_bind_text(c->st[id], 2, op);
  tk_status s = tk_cache_run(c, id, "clearing");
  if (s == TK_OK) *deleted += sqlite3_changes64(c->db);
  return s;
}

tk_status tk_cache_clear(tk_cache *c, const char *fingerprint, const char *op, int64_t *deleted) {
  if (!c) return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: clear: NULL cache");
  int64_t n = 0;
  tk_status s = tk_cache_begin(c, 1);
  if (s == TK_OK) s = tk_clear_table(c, TK_SQL_CLEAR_MEASUREMENTS, fingerprint, op, &n);
  if (s == TK_OK) s = tk_clear_table(c, TK_SQL_CLEAR_BEST, fingerprint, op, &n);
  if (s == TK_OK) s = tk_cache_run(c, TK_SQL_CLEAR_DEVICES, "removing empty devices");
  s = s == TK_OK ? tk_cache_commit(c) : tk_cache_rollback(c, s);
  if (s == TK_OK && deleted) *deleted = n;
  return s;
}
