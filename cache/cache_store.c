/* cache_store.c: devices, measurements and best choices, one row at a time. */
#include <math.h>
#include <string.h>

#include "cache/cache_db.h"
#include "runtime/status.h"

static tk_status tk_null_arg(const char *fn) {
  return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: %s: NULL argument", fn);
}

tk_status tk_cache_device_upsert(tk_cache *c, const char *fingerprint, const char *description,
                                 int64_t created_us, int64_t *id) {
  sqlite3_stmt *st = c->st[TK_SQL_DEVICE_UPSERT];
  tk_cache_bind_text(st, 1, fingerprint);
  tk_cache_bind_text(st, 2, description);
  sqlite3_bind_int64(st, 3, created_us);
  tk_status s;
  if (tk_cache_step(c, st, "storing a device", &s) == SQLITE_ROW) {
    *id = sqlite3_column_int64(st, 0);
    tk_cache_done(st);
  }
  return s;
}

tk_status tk_cache_device_id(tk_cache *c, const char *fingerprint, const char *description,
                             int64_t *id) {
  if (!c || !fingerprint || !id) return tk_null_arg("device_id");
  return tk_cache_device_upsert(c, fingerprint, description, tk_cache_now_us(), id);
}

static int tk_measurement_complete(const tk_cache_measurement *m) {
  return m && m->op && m->problem_key && m->impl && m->config;
}

tk_status tk_cache_put_measurement(tk_cache *c, int64_t device, const tk_cache_measurement *m,
                                   int force) {
  sqlite3_stmt *st = c->st[TK_SQL_RECORD];
  tk_cache_bind_measurement(st, device, m);
  sqlite3_bind_int(st, 14, force);
  return tk_cache_run(c, TK_SQL_RECORD, "storing a measurement");
}

tk_status tk_cache_record(tk_cache *c, int64_t device, const tk_cache_measurement *m) {
  if (!c || !tk_measurement_complete(m)) return tk_null_arg("record");
  tk_cache_measurement now = *m;
  now.measured_us = tk_cache_now_us();
  return tk_cache_put_measurement(c, device, &now, 1);
}

tk_status tk_cache_has_measurement(tk_cache *c, int64_t device, const char *op,
                                   const char *problem_key, const char *impl, const char *config,
                                   int *found) {
  if (!c || !op || !problem_key || !impl || !config || !found) return tk_null_arg("has");
  sqlite3_stmt *st = c->st[TK_SQL_HAS];
  sqlite3_bind_int64(st, 1, device);
  tk_cache_bind_text(st, 2, op);
  tk_cache_bind_text(st, 3, problem_key);
  tk_cache_bind_text(st, 4, impl);
  tk_cache_bind_text(st, 5, config);
  tk_status s;
  int rc = tk_cache_step(c, st, "looking up a measurement", &s);
  if (rc == SQLITE_ROW) tk_cache_done(st);
  if (s == TK_OK) *found = rc == SQLITE_ROW;
  return s;
}

tk_status tk_cache_put_best(tk_cache *c, int64_t device, const tk_cache_best *b, int force) {
  sqlite3_stmt *st = c->st[TK_SQL_BEST_SET];
  sqlite3_bind_int64(st, 1, device);
  tk_cache_bind_text(st, 2, b->op);
  tk_cache_bind_text(st, 3, b->problem_key);
  tk_cache_bind_text(st, 4, b->impl);
  tk_cache_bind_text(st, 5, b->config);
  sqlite3_bind_double(st, 6, b->median_ns);
  sqlite3_bind_int64(st, 7, b->updated_us);
  sqlite3_bind_int(st, 8, force);
  return tk_cache_run(c, TK_SQL_BEST_SET, "storing a best choice");
}

tk_status tk_cache_set_best(tk_cache *c, int64_t device, const char *op, const char *problem_key,
                            const char *impl, const char *config, double median_ns) {
  if (!c || !op || !problem_key || !impl || !config) return tk_null_arg("set_best");
  tk_cache_best b = {op, problem_key, impl, config, median_ns, tk_cache_now_us()};
  return tk_cache_put_best(c, device, &b, 1);
}

tk_status tk_cache_get_best(tk_cache *c, int64_t device, const char *op, const char *problem_key,
                            tk_cache_best_fn fn, void *user, int *found) {
  if (!c || !op || !problem_key || !fn) return tk_null_arg("get_best");
  sqlite3_stmt *st = c->st[TK_SQL_BEST_GET];
  sqlite3_bind_int64(st, 1, device);
  tk_cache_bind_text(st, 2, op);
  tk_cache_bind_text(st, 3, problem_key);
  tk_status s;
  int rc = tk_cache_step(c, st, "looking up a best choice", &s);
  if (rc == SQLITE_ROW) {
    tk_cache_best b = {tk_cache_col_text(st, 0),   tk_cache_col_text(st, 1),
                       tk_cache_col_text(st, 2),   tk_cache_col_text(st, 3),
                       tk_cache_col_double(st, 4), sqlite3_column_int64(st, 5)};
    fn(user, NULL, &b);
    tk_cache_done(st);
  }
  if (s == TK_OK && found) *found = rc == SQLITE_ROW;
  return s;
}

/* What the stored best of (device, op, key) is, to tell a real change. */
typedef struct {
  int found;
  char impl[256], config[1024];
  double median_ns;
} tk_best_copy;

static int tk_copy_best(void *user, const char *fingerprint, const tk_cache_best *b) {
  (void)fingerprint;
  tk_best_copy *k = user;
  k->found = strlen(b->impl) < sizeof k->impl && strlen(b->config) < sizeof k->config;
  if (k->found) {
    strcpy(k->impl, b->impl);
    strcpy(k->config, b->config);
    k->median_ns = b->median_ns;
  }
  return 0;
}

tk_status tk_cache_recompute_in_tx(tk_cache *c, int64_t device, const char *op,
                                   const char *problem_key, int *found) {
  tk_best_copy old = {0};
  tk_status s = tk_cache_get_best(c, device, op, problem_key, tk_copy_best, &old, NULL);
  if (s != TK_OK) return s;
  sqlite3_stmt *st = c->st[TK_SQL_FASTEST];
  sqlite3_bind_int64(st, 1, device);
  tk_cache_bind_text(st, 2, op);
  tk_cache_bind_text(st, 3, problem_key);
  int rc = tk_cache_step(c, st, "finding the fastest measurement", &s);
  if (rc == SQLITE_ROW) {
    tk_cache_best b = {op,
                       problem_key,
                       tk_cache_col_text(st, 0),
                       tk_cache_col_text(st, 1),
                       sqlite3_column_double(st, 2),
                       tk_cache_now_us()};
    int same = old.found && !strcmp(old.impl, b.impl) && !strcmp(old.config, b.config) &&
               old.median_ns == b.median_ns;
    if (!same) s = tk_cache_put_best(c, device, &b, 1);
    tk_cache_done(st);
  } else if (s == TK_OK) {
    sqlite3_stmt *del = c->st[TK_SQL_BEST_DELETE];
    sqlite3_bind_int64(del, 1, device);
    tk_cache_bind_text(del, 2, op);
    tk_cache_bind_text(del, 3, problem_key);
    s = tk_cache_run(c, TK_SQL_BEST_DELETE, "removing a best choice");
  }
  if (s == TK_OK && found) *found = rc == SQLITE_ROW;
  return s;
}

tk_status tk_cache_recompute_best(tk_cache *c, int64_t device, const char *op,
                                  const char *problem_key, int *found) {
  if (!c || !op || !problem_key) return tk_null_arg("recompute_best");
  int f = 0;
  tk_status s = tk_cache_begin(c, 1);
  if (s == TK_OK) s = tk_cache_recompute_in_tx(c, device, op, problem_key, &f);
  s = s == TK_OK ? tk_cache_commit(c) : tk_cache_rollback(c, s);
  if (s == TK_OK && found) *found = f;
  return s;
}
