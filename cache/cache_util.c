/* cache_util.c: errors, stepping, transactions and column reading shared by
 * the cache/ files. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "cache/cache_db.h"
#include "runtime/status.h"

tk_status tk_cache_fail_sql(tk_cache *c, const char *what) {
  c->sql_code = sqlite3_extended_errcode(c->db);
  return tk_fail(TK_ERR_CACHE, "cache: %s: %s: %s", c->path, what, sqlite3_errmsg(c->db));
}

int tk_cache_bind_text(sqlite3_stmt *st, int i, const char *s) {
  return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

void tk_cache_bind_candidate(sqlite3_stmt *st, int64_t device, const tk_cache_measurement *m) {
  sqlite3_bind_int64(st, 1, device);
  tk_cache_bind_text(st, 2, m->op);
  tk_cache_bind_text(st, 3, m->problem_key);
  tk_cache_bind_text(st, 4, m->impl);
  tk_cache_bind_text(st, 5, m->config);
}

void tk_cache_bind_measurement(sqlite3_stmt *st, int64_t device, const tk_cache_measurement *m) {
  tk_cache_bind_candidate(st, device, m);
  tk_cache_bind_text(st, 6, tk_cache_result_name(m->result));
  tk_cache_bind_text(st, 7, m->reason ? m->reason : "");
  sqlite3_bind_double(st, 8, m->median_ns); /* NAN binds as NULL */
  sqlite3_bind_double(st, 9, m->p20_ns);
  sqlite3_bind_double(st, 10, m->p80_ns);
  sqlite3_bind_int64(st, 11, m->reps);
  sqlite3_bind_double(st, 12, m->max_err);
  sqlite3_bind_int64(st, 13, m->measured_us);
}

void tk_cache_done(sqlite3_stmt *st) {
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

int tk_cache_step(tk_cache *c, sqlite3_stmt *st, const char *what, tk_status *status) {
  int rc = sqlite3_step(st);
  *status = TK_OK;
  if (rc == SQLITE_ROW) return rc;
  if (rc != SQLITE_DONE) *status = tk_cache_fail_sql(c, what); /* message before reset */
  tk_cache_done(st);
  return rc;
}

tk_status tk_cache_run(tk_cache *c, tk_sql_id id, const char *what) {
  sqlite3_stmt *st = c->st[id];
  tk_status s;
  while (tk_cache_step(c, st, what, &s) == SQLITE_ROW) {
  }
  return s;
}

tk_status tk_cache_begin(tk_cache *c, int write) {
  return tk_cache_run(c, write ? TK_SQL_BEGIN_WRITE : TK_SQL_BEGIN_READ, "begin transaction");
}

tk_status tk_cache_commit(tk_cache *c) {
  tk_status s = tk_cache_run(c, TK_SQL_COMMIT, "commit");
  return s == TK_OK ? s : tk_cache_rollback(c, s);
}

tk_status tk_cache_rollback(tk_cache *c, tk_status s) {
  if (!sqlite3_get_autocommit(c->db)) {
    sqlite3_step(c->st[TK_SQL_ROLLBACK]);
    sqlite3_reset(c->st[TK_SQL_ROLLBACK]);
  }
  return s;
}

int64_t tk_cache_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *tk_cache_col_text(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? (const char *)t : "";
}

double tk_cache_col_double(sqlite3_stmt *st, int i) {
  return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static const char *const tk_result_names[] = {"ok", "wrong", "failed"};

const char *tk_cache_result_name(tk_cache_result r) {
  return (unsigned)r < 3 ? tk_result_names[r] : "failed";
}

int tk_cache_result_parse(const char *s) {
  for (int i = 0; i < 3; i++)
    if (strcmp(s, tk_result_names[i]) == 0) return i;
  return -1;
}
