/* test_cache_util.h: what the cache tests share: a scratch folder under
 * /tmp, random measurements, row counts and a text dump of a database. */
#ifndef TK_TEST_CACHE_UTIL_H
#define TK_TEST_CACHE_UTIL_H

#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache.h"
#include "tests/tk_test.h"

static char tc_dir[64];

/* Makes the scratch folder; exits on failure (nothing could be tested). */
static inline void tc_make_dir(void) {
  strcpy(tc_dir, "/tmp/tk_cache_test_XXXXXX");
  if (!mkdtemp(tc_dir)) {
    perror("mkdtemp");
    exit(1);
  }
}

static inline int tc_remove_one(const char *path, const struct stat *sb, int flag,
                                struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  chmod(path, 0700);
  return remove(path);
}

/* Removes the scratch folder and everything in it. */
static inline void tc_remove_dir(void) { nftw(tc_dir, tc_remove_one, 16, FTW_DEPTH | FTW_PHYS); }

/* tc_dir + "/" + name in a static rotating buffer. */
static inline const char *tc_path(const char *name) {
  static char buf[4][256];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tc_dir, name);
  return buf[k];
}

static inline double tc_rand(double lo, double hi) {
  return lo + (hi - lo) * (rand() / (double)RAND_MAX);
}

/* A random ok measurement of (op, key, impl, config). */
static inline tk_cache_measurement tc_measurement(const char *op, const char *key, const char *impl,
                                                  const char *config) {
  double med = tc_rand(1e3, 1e6);
  tk_cache_measurement m = {op,
                            key,
                            impl,
                            config,
                            TK_CACHE_RESULT_OK,
                            "",
                            med,
                            med * tc_rand(0.8, 1.0),
                            med * tc_rand(1.0, 1.2),
                            (int64_t)(rand() % 90 + 10),
                            tc_rand(1e-7, 1e-3),
                            0};
  return m;
}

/* The single integer answer of sql on the file at path, -1 on error. */
static inline int64_t tc_sql_int(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int64_t v = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

/* 1 when SQLite's PRAGMA integrity_check of the file at path says "ok". */
static inline int tc_integrity_ok(const char *path) {
  sqlite3 *db = NULL;
  sqlite3_stmt *q = NULL;
  int ok = sqlite3_open(path, &db) == SQLITE_OK &&
           sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL) == SQLITE_OK &&
           sqlite3_step(q) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(q, 0), "ok");
  sqlite3_finalize(q);
  sqlite3_close(db);
  return ok;
}

/* A growing text buffer for dumps. */
typedef struct {
  char *s;
  size_t len, cap;
} tc_buf;

static inline void tc_printf(tc_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (b->len + (size_t)n + 1 > b->cap) {
    b->cap = 2 * (b->len + (size_t)n + 1);
    b->s = realloc(b->s, b->cap);
    if (!b->s) exit(1);
  }
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

static inline int tc_dump_m(void *user, const char *fp, const tk_cache_measurement *m) {
  tc_printf(user, "M|%s|%s|%s|%s|%s|%s|%s|%a|%a|%a|%" PRId64 "|%a|%" PRId64 "\n", fp, m->op,
            m->problem_key, m->impl, m->config, tk_cache_result_name(m->result), m->reason,
            m->median_ns, m->p20_ns, m->p80_ns, m->reps, m->max_err, m->measured_us);
  return 0;
}

static inline int tc_dump_b(void *user, const char *fp, const tk_cache_best *b) {
  tc_printf(user, "B|%s|%s|%s|%s|%s|%a|%" PRId64 "\n", fp ? fp : "", b->op, b->problem_key, b->impl,
            b->config, b->median_ns, b->updated_us);
  return 0;
}

/* Every measurement and best row of c as text (caller frees); NULL and a
 * failed CHECK on error. */
static inline char *tc_dump(tk_cache *c) {
  tc_buf b = {0};
  tc_printf(&b, "%s", "");
  CHECK_OK(tk_cache_each_measurement(c, NULL, tc_dump_m, &b));
  CHECK_OK(tk_cache_each_best(c, NULL, tc_dump_b, &b));
  return b.s;
}

#endif
