/* test_history: the gate history in the cache database: a version-1 file
 * migrates to version 2 keeping its rows; runs and results round-trip with
 * NULL times; one baseline per suite; filters; bad ids are errors. */
#include "cache/cache_db.h"
#include "tests/test_cache_util.h"

typedef struct {
  int n;
  int64_t last_id;
  int baselines;
  char last_rev[64];
  double last_anchor;
} run_tally;

static int count_run(void *user, const tk_history_run *r) {
  run_tally *t = user;
  t->n++;
  t->last_id = r->id;
  t->baselines += r->baseline;
  snprintf(t->last_rev, sizeof t->last_rev, "%s", r->git_rev);
  t->last_anchor = r->anchor_fma_ns;
  return 0;
}

typedef struct {
  int n, nan_median;
  char samples[256];
} result_tally;

static int count_result(void *user, const tk_history_result *r) {
  result_tally *t = user;
  t->n++;
  t->nan_median += isnan(r->median_ns);
  if (r->samples[0]) snprintf(t->samples, sizeof t->samples, "%s", r->samples);
  return 0;
}

/* A file at schema version 1 (made with version 1's migration) opens,
 * migrates to 2 and keeps its measurements. */
static void test_migration(void) {
  const char *path = tc_path("v1.db");
  sqlite3 *db;
  CHECK(sqlite3_open(path, &db) == SQLITE_OK, "sqlite open");
  CHECK(sqlite3_exec(db, tk_cache_migrations[0], NULL, NULL, NULL) == SQLITE_OK, "v1 schema");
  CHECK(sqlite3_exec(db,
                     "INSERT INTO devices VALUES(1, 'cpu:old', '{}', 1);"
                     "INSERT INTO measurements VALUES(1, 'attention', 'k', 'cpu', 'c', 'ok', '',"
                     " 5, 4, 6, 5, 0, 1); PRAGMA user_version = 1;",
                     NULL, NULL, NULL) == SQLITE_OK, "v1 rows");
  sqlite3_close(db);
  tk_cache *c;
  CHECK_OK(tk_cache_open(path, 0, 0, &c));
  tk_cache_close(c);
  CHECK(tc_sql_int(path, "PRAGMA user_version") == TK_CACHE_SCHEMA_VERSION, "migrated");
  CHECK(tc_sql_int(path, "SELECT count(*) FROM measurements") == 1, "rows kept");
  CHECK(tc_sql_int(path, "SELECT count(*) FROM gate_runs") == 0, "gate tables exist");
}

static void test_runs(void) {
  tk_cache *c;
  CHECK_OK(tk_cache_open(tc_path("h.db"), TK_CACHE_CREATE, 0, &c));
  if (!c) return;
  int64_t dev, r1, r2, r3;
  CHECK_OK(tk_cache_device_id(c, "cpu:test", NULL, &dev));
  CHECK_OK(tk_history_add_run(c, dev, "ci", "perf", "abc123", 1e6, 2e6, &r1));
  CHECK_OK(tk_history_add_run(c, dev, "ci", "perf", "def456", NAN, 3e6, &r2));
  CHECK_OK(tk_history_add_run(c, dev, "nightly", "numerics", "def456", NAN, NAN, &r3));
  CHECK(r1 < r2 && r2 < r3, "ids increase");
  tk_history_result res = {"grouped_gemm M=1", "cpu", "a=1", "ok", "", 1e-6, 1e-4, 1234.5,
                           "0.5 0.51 0.49"};
  CHECK_OK(tk_history_add_result(c, r1, &res));
  res.impl = "reference";
  res.median_ns = NAN;
  res.samples = "";
  CHECK_OK(tk_history_add_result(c, r1, &res));
  CHECK_OK(tk_history_add_result(c, r1, &res)); /* replaced, not doubled */
  result_tally rt = {0, 0, ""};
  CHECK_OK(tk_history_each_result(c, r1, count_result, &rt));
  CHECK(rt.n == 2 && rt.nan_median == 1 && strcmp(rt.samples, "0.5 0.51 0.49") == 0,
        "results %d nan %d samples '%s'", rt.n, rt.nan_median, rt.samples);

  CHECK_OK(tk_history_set_baseline(c, r1));
  CHECK_OK(tk_history_set_baseline(c, r2));
  CHECK_OK(tk_history_set_baseline(c, r3));
  run_tally t = {0};
  CHECK_OK(tk_history_each_run(c, "ci", -1, 1, count_run, &t));
  CHECK(t.n == 1 && t.last_id == r2 && strcmp(t.last_rev, "def456") == 0 && t.last_anchor == 3e6,
        "one baseline per suite: %d, id %lld", t.n, (long long)t.last_id);
  memset(&t, 0, sizeof t);
  CHECK_OK(tk_history_each_run(c, NULL, -1, -1, count_run, &t));
  CHECK(t.n == 3 && t.baselines == 2, "all runs %d, baselines %d", t.n, t.baselines);
  memset(&t, 0, sizeof t);
  CHECK_OK(tk_history_each_run(c, NULL, r1, -1, count_run, &t));
  CHECK(t.n == 1 && t.last_id == r1, "by id");
  CHECK(tk_history_set_baseline(c, 9999) == TK_ERR_INVALID_ARGUMENT &&
            strstr(tk_last_error(), "9999"), "unknown run: %s", tk_last_error());
  memset(&t, 0, sizeof t);
  CHECK_OK(tk_history_each_run(c, "ci", -1, 1, count_run, &t));
  CHECK(t.n == 1 && t.last_id == r2, "a failed set_baseline changes nothing");
  /* A device with gate runs survives clearing the tuning results. */
  CHECK_OK(tk_cache_clear(c, NULL, NULL, NULL));
  CHECK(tc_sql_int(tc_path("h.db"), "SELECT count(*) FROM devices") == 1, "device kept");
  CHECK(tk_history_add_run(c, dev, NULL, "perf", "x", 0, 0, &r1) == TK_ERR_INVALID_ARGUMENT, "NULL");
  tk_cache_close(c);
}

int main(void) {
  tc_make_dir();
  test_migration();
  test_runs();
  tc_remove_dir();
  TK_TEST_END();
}
