/* test_cache.c: the tuning-cache store in one process: schema and reopen,
 * record/has/best, recompute, hostile text, clear, export/import/merge,
 * malformed files, and databases that cannot be used. */
#include <errno.h>
#include <time.h>

#include "tests/test_cache_util.h"

static const char *const ops[] = {"attention", "grouped_gemm"};

/* Creating in a missing folder, WAL + version set, data kept on reopen. */
static void test_create_reopen(void) {
  const char *path = tc_path("a/b/tune.db");
  tk_cache *c = NULL;
  CHECK_OK(tk_cache_open(path, TK_CACHE_CREATE, 0, &c));
  if (!c) return;
  int64_t dev = -1;
  CHECK_OK(tk_cache_device_id(c, "cpu:test:1", "{\"cores\":2}", &dev));
  tk_cache_measurement m = tc_measurement("attention", "k1", "cpu", "block_q=64");
  CHECK_OK(tk_cache_record(c, dev, &m));
  tk_cache_close(c);
  CHECK(tc_sql_int(path, "PRAGMA user_version") == TK_CACHE_SCHEMA_VERSION, "user_version");
  CHECK(tc_sql_int(path, "SELECT count(*) FROM measurements") == 1, "one row");
  CHECK(tc_sql_int(path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode") == 1, "WAL");
  c = NULL;
  CHECK_OK(tk_cache_open(path, TK_CACHE_READONLY, 0, &c));
  int found = 0;
  int64_t dev2 = -1;
  tk_cache_close(c);
  c = NULL;
  CHECK_OK(tk_cache_open(path, 0, 0, &c));
  CHECK_OK(tk_cache_device_id(c, "cpu:test:1", NULL, &dev2));
  CHECK(dev2 == dev, "same device id %lld vs %lld", (long long)dev2, (long long)dev);
  CHECK_OK(tk_cache_has_measurement(c, dev, "attention", "k1", "cpu", "block_q=64", &found));
  CHECK(found == 1, "measurement survives reopen");
  CHECK_OK(tk_cache_has_measurement(c, dev, "attention", "k1", "cpu", "block_q=32", &found));
  CHECK(found == 0, "other config absent");
  tk_cache_close(c);
  CHECK(tc_sql_int(path, "SELECT description = '{\"cores\":2}' FROM devices") == 1,
        "description kept when NULL is given");
}

typedef struct {
  int n;
  tk_cache_measurement m; /* its strings are not kept: see the copies */
  char reason[64], key[64], config[64];
} tc_one;

static int tc_keep_m(void *user, const char *fp, const tk_cache_measurement *m) {
  (void)fp;
  tc_one *o = user;
  o->n++;
  o->m = *m;
  snprintf(o->reason, sizeof o->reason, "%s", m->reason);
  snprintf(o->key, sizeof o->key, "%s", m->problem_key);
  snprintf(o->config, sizeof o->config, "%s", m->config);
  return 0;
}

static int tc_keep_b(void *user, const char *fp, const tk_cache_best *b) {
  (void)fp;
  tc_buf *buf = user;
  tc_printf(buf, "%s|%s|%a", b->impl, b->config, b->median_ns);
  return 0;
}

/* Record replaces, NAN round trips as unknown, best set/get. */
static void test_round_trip(void) {
  tk_cache *c = NULL;
  CHECK_OK(tk_cache_open(":memory:", TK_CACHE_CREATE, 0, &c));
  if (!c) return;
  int64_t dev;
  CHECK_OK(tk_cache_device_id(c, "cpu:x", NULL, &dev));
  tk_cache_measurement a = tc_measurement("attention", "key", "cpu", "c=1");
  tk_cache_measurement b = tc_measurement("attention", "key", "cpu", "c=1");
  b.result = TK_CACHE_RESULT_FAILED;
  b.reason = "segfault in tile";
  b.median_ns = b.p20_ns = b.p80_ns = b.max_err = NAN;
  CHECK_OK(tk_cache_record(c, dev, &a));
  tc_one o = {0};
  tk_cache_filter f = {"cpu:x", "attention", "cpu", "ke"};
  CHECK_OK(tk_cache_each_measurement(c, &f, tc_keep_m, &o));
  CHECK(o.n == 1 && o.m.median_ns == a.median_ns && o.m.p20_ns == a.p20_ns && o.m.reps == a.reps &&
            o.m.max_err == a.max_err && o.m.result == TK_CACHE_RESULT_OK,
        "first record read back (%d rows)", o.n);
  int64_t t = time(NULL) * (int64_t)1000000;
  CHECK(llabs(o.m.measured_us - t) < 5000000, "timestamp %lld", (long long)o.m.measured_us);
  CHECK_OK(tk_cache_record(c, dev, &b));
  o.n = 0;
  CHECK_OK(tk_cache_each_measurement(c, NULL, tc_keep_m, &o));
  CHECK(o.n == 1 && o.m.result == TK_CACHE_RESULT_FAILED && isnan(o.m.median_ns) &&
            isnan(o.m.max_err) && !strcmp(o.reason, "segfault in tile"),
        "re-measure replaced (%d rows, %s)", o.n, o.reason);
  f.key_contains = "zz";
  o.n = 0;
  CHECK_OK(tk_cache_each_measurement(c, &f, tc_keep_m, &o));
  CHECK(o.n == 0, "key filter excludes");

  tc_buf got = {0};
  int found = -1;
  CHECK_OK(tk_cache_get_best(c, dev, "attention", "key", tc_keep_b, &got, &found));
  CHECK(found == 0 && got.s == NULL, "no best yet");
  double med = tc_rand(1, 1e6);
  CHECK_OK(tk_cache_set_best(c, dev, "attention", "key", "cpu", "c=2", med));
  CHECK_OK(tk_cache_get_best(c, dev, "attention", "key", tc_keep_b, &got, &found));
  char want[128];
  snprintf(want, sizeof want, "cpu|c=2|%a", med);
  CHECK(found == 1 && got.s && !strcmp(got.s, want), "best %s", got.s ? got.s : "(none)");
  free(got.s);
  tk_cache_close(c);
}

/* The fastest ok measurement wins; faster wrong/failed ones never do. */
static void test_recompute(void) {
  tk_cache *c = NULL;
  CHECK_OK(tk_cache_open(":memory:", TK_CACHE_CREATE, 0, &c));
  if (!c) return;
  int64_t dev;
  CHECK_OK(tk_cache_device_id(c, "cpu:x", NULL, &dev));
  double best = INFINITY;
  char best_cfg[32] = "";
  for (int i = 0; i < 40; i++) {
    char cfg[32];
    snprintf(cfg, sizeof cfg, "block=%d", i);
    tk_cache_measurement m = tc_measurement("grouped_gemm", "g", "cpu", cfg);
    int r = rand() % 3;
    m.result = (tk_cache_result)r;
    if (r != TK_CACHE_RESULT_OK) m.median_ns *= 0.001; /* faster, but not valid */
    if (r == TK_CACHE_RESULT_OK && m.median_ns < best) {
      best = m.median_ns;
      strcpy(best_cfg, cfg);
    }
    CHECK_OK(tk_cache_record(c, dev, &m));
  }
  int found = -1;
  CHECK_OK(tk_cache_recompute_best(c, dev, "grouped_gemm", "g", &found));
  tc_buf got = {0};
  CHECK_OK(tk_cache_get_best(c, dev, "grouped_gemm", "g", tc_keep_b, &got, NULL));
  char want[96];
  snprintf(want, sizeof want, "cpu|%s|%a", best_cfg, best);
  CHECK(found == (best_cfg[0] != 0), "found %d", found);
  CHECK(best_cfg[0] == 0 || (got.s && !strcmp(got.s, want)), "best %s, want %s",
        got.s ? got.s : "(none)", want);
  free(got.s);
  /* Every candidate re-measured as wrong: no best remains. */
  for (int i = 0; i < 40; i++) {
    char cfg[32];
    snprintf(cfg, sizeof cfg, "block=%d", i);
    tk_cache_measurement m = tc_measurement("grouped_gemm", "g", "cpu", cfg);
    m.result = TK_CACHE_RESULT_WRONG;
    m.reason = "max error 3.5";
    CHECK_OK(tk_cache_record(c, dev, &m));
  }
  CHECK_OK(tk_cache_recompute_best(c, dev, "grouped_gemm", "g", &found));
  CHECK(found == 0, "best removed when nothing is ok");
  tk_cache_close(c);
}

/* Quotes, SQL, LIKE wildcards, tabs and newlines are plain data. */
static void test_hostile_text(void) {
  const char *path = tc_path("hostile.db");
  const char *evil[] = {"x'); DROP TABLE measurements;--", "a\"b\\c\td\ne\r%_*",
                        "'; DELETE FROM best; SELECT '", "100%_done"};
  tk_cache *c = NULL;
  CHECK_OK(tk_cache_open(path, TK_CACHE_CREATE, 0, &c));
  if (!c) return;
  int64_t dev;
  CHECK_OK(tk_cache_device_id(c, evil[2], evil[0], &dev));
  for (int i = 0; i < 4; i++) {
    tk_cache_measurement m =
        tc_measurement(evil[(i + 1) % 4], evil[i], evil[(i + 2) % 4], evil[(i + 3) % 4]);
    m.reason = evil[i];
    CHECK_OK(tk_cache_record(c, dev, &m));
    CHECK_OK(tk_cache_set_best(c, dev, m.op, m.problem_key, m.impl, m.config, 1.0));
  }
  for (int i = 0; i < 4; i++) {
    tc_one o = {0};
    tk_cache_filter f = {evil[2], evil[(i + 1) % 4], evil[(i + 2) % 4], evil[i]};
    CHECK_OK(tk_cache_each_measurement(c, &f, tc_keep_m, &o));
    CHECK(o.n == 1 && !strcmp(o.key, evil[i]) && !strcmp(o.config, evil[(i + 3) % 4]),
          "row %d read back verbatim (%d rows)", i, o.n);
  }
  tc_one o = {0};
  tk_cache_filter pct = {NULL, NULL, NULL, "%"};
  CHECK_OK(tk_cache_each_measurement(c, &pct, tc_keep_m, &o));
  CHECK(o.n == 2, "'%%' is a plain substring: %d rows", o.n);
  tk_cache_close(c);
  CHECK(tc_sql_int(path, "SELECT count(*) FROM measurements") == 4, "measurements intact");
  CHECK(tc_sql_int(path, "SELECT count(*) FROM best") == 4, "best intact");
}

/* Two devices, random rows, bests by recompute plus one set by hand. */
static void tc_fill(tk_cache *c, const char *fp, int keys, int impls) {
  int64_t dev;
  CHECK_OK(tk_cache_device_id(c, fp, "{\"note\":\"tab\\there\"}", &dev));
  for (int k = 0; k < keys; k++) {
    char key[64];
    snprintf(key, sizeof key, "%s|M=%d|\tN=%d", fp, rand() % 4096 + 1, k);
    const char *op = ops[k % 2];
    for (int i = 0; i < impls; i++) {
      char impl[16], cfg[32];
      snprintf(impl, sizeof impl, "impl%d", i % 3);
      snprintf(cfg, sizeof cfg, "b=%d", i);
      tk_cache_measurement m = tc_measurement(op, key, impl, cfg);
      if (i % 5 == 4) {
        m.result = TK_CACHE_RESULT_FAILED;
        m.reason = "out of\nshared memory";
        m.median_ns = NAN;
      }
      CHECK_OK(tk_cache_record(c, dev, &m));
    }
    CHECK_OK(tk_cache_recompute_best(c, dev, op, key, NULL));
  }
  CHECK_OK(tk_cache_set_best(c, dev, "attention", "hand-set", "cpu", "", 42.5));
}

static tk_cache *tc_open(const char *name) {
  tk_cache *c = NULL;
  CHECK_OK(tk_cache_open(tc_path(name), TK_CACHE_CREATE, 0, &c));
  return c;
}

static char *tc_read_file(const char *path) {
  FILE *f = fopen(path, "r");
  tc_buf b = {0};
  tc_printf(&b, "%s", "");
  char chunk[4096];
  size_t n;
  while (f && (n = fread(chunk, 1, sizeof chunk - 1, f)) > 0) {
    chunk[n] = '\0';
    tc_printf(&b, "%s", chunk);
  }
  if (f) fclose(f);
  return b.s;
}

/* export -> import into a fresh db is identical (and re-exports the same
 * bytes); importing again changes nothing. */
static void test_export_import(void) {
  tk_cache *a = tc_open("src.db"), *b = tc_open("dst.db");
  if (!a || !b) return;
  tc_fill(a, "cpu:one", 12, 7);
  tc_fill(a, "cpu:two", 5, 4);
  const char *file = tc_path("all.tsv"), *again = tc_path("again.tsv");
  CHECK_OK(tk_cache_export(a, file, NULL));
  const char *const files[] = {file};
  int64_t n = 0;
  CHECK_OK(tk_cache_import(b, files, 1, &n));
  CHECK(n == 12 * 7 + 5 * 4, "imported %lld measurement lines", (long long)n);
  char *da = tc_dump(a), *db = tc_dump(b);
  CHECK(da && db && !strcmp(da, db), "dumps differ:\n%s\n---\n%s", da, db);
  CHECK_OK(tk_cache_import(b, files, 1, NULL));
  char *db2 = tc_dump(b);
  CHECK(db2 && db && !strcmp(db, db2), "second import changed the db");
  CHECK_OK(tk_cache_export(b, again, NULL));
  char *fa = tc_read_file(file), *fb = tc_read_file(again);
  CHECK(!strcmp(fa, fb) && strlen(fa) > 1000, "re-export differs");
  CHECK(!strncmp(fa, "tokamax-cache\t2\n", 16), "header");
  free(da), free(db), free(db2), free(fa), free(fb);
  /* One device only. */
  CHECK_OK(tk_cache_export(a, again, "cpu:two"));
  fb = tc_read_file(again);
  CHECK(strstr(fb, "cpu:two") && !strstr(fb, "cpu:one"), "export by fingerprint");
  free(fb);
  tk_cache_close(a);
  tk_cache_close(b);
}

/* What tk_cache_each_import_conflict reported (the last one). */
typedef struct {
  int n;
  char config[32], kept_file[512];
  double kept_ns, dropped_ns;
} tc_conflict_seen;

static int tc_keep_conflict(void *user, const tk_cache_conflict *x) {
  tc_conflict_seen *c = user;
  c->n++;
  snprintf(c->config, sizeof c->config, "%s", x->config);
  snprintf(c->kept_file, sizeof c->kept_file, "%s", x->kept_file);
  c->kept_ns = x->kept_ns;
  c->dropped_ns = x->dropped_ns;
  return 0;
}

/* Merging shards: the union, a candidate re-measured as wrong stays wrong
 * (a conflict), best recomputed. */
static void test_merge(void) {
  tk_cache *s1 = tc_open("s1.db"), *s2 = tc_open("s2.db"), *m = tc_open("merged.db");
  if (!s1 || !s2 || !m) return;
  int64_t d1, d2;
  CHECK_OK(tk_cache_device_id(s1, "gpu:h100", NULL, &d1));
  CHECK_OK(tk_cache_device_id(s2, "gpu:h100", NULL, &d2));
  tk_cache_measurement slow = tc_measurement("attention", "k", "cuda", "t=1");
  tk_cache_measurement fast = tc_measurement("attention", "k", "cuda", "t=2");
  fast.median_ns = slow.median_ns / 2;
  tk_cache_measurement old = tc_measurement("attention", "k", "cuda", "t=3");
  old.median_ns = fast.median_ns / 4;
  CHECK_OK(tk_cache_record(s1, d1, &old)); /* fastest, but re-measured later as wrong */
  CHECK_OK(tk_cache_record(s1, d1, &slow));
  struct timespec pause = {0, 2000000};
  nanosleep(&pause, NULL);
  tk_cache_measurement newer = old;
  newer.result = TK_CACHE_RESULT_WRONG;
  newer.reason = "mismatch";
  CHECK_OK(tk_cache_record(s2, d2, &fast));
  CHECK_OK(tk_cache_record(s2, d2, &newer));
  const char *f1 = tc_path("s1.tsv"), *f2 = tc_path("s2.tsv");
  CHECK_OK(tk_cache_export(s1, f1, NULL));
  CHECK_OK(tk_cache_export(s2, f2, NULL));
  const char *const files[] = {f2, f1}; /* order must not matter */
  CHECK_OK(tk_cache_import(m, files, 2, NULL));
  tc_one o = {0};
  CHECK_OK(tk_cache_each_measurement(m, NULL, tc_keep_m, &o));
  CHECK(o.n == 3 && o.m.result == TK_CACHE_RESULT_WRONG, "merged %d rows, t=3 is wrong", o.n);
  /* t=3 was read twice with different results: one conflict, kept wrong. */
  tc_conflict_seen cs = {0};
  int64_t nc = -1;
  CHECK_OK(tk_cache_each_import_conflict(m, tc_keep_conflict, &cs, &nc));
  CHECK(nc == 1 && cs.n == 1 && !strcmp(cs.config, "t=3") && !strcmp(cs.kept_file, f2) &&
            cs.kept_ns == newer.median_ns && cs.dropped_ns == old.median_ns,
        "conflicts: %lld, config %s, kept %g from %s", (long long)nc, cs.config, cs.kept_ns,
        cs.kept_file);
  tc_buf got = {0};
  int64_t dm;
  CHECK_OK(tk_cache_device_id(m, "gpu:h100", NULL, &dm));
  CHECK_OK(tk_cache_get_best(m, dm, "attention", "k", tc_keep_b, &got, NULL));
  char want[96];
  snprintf(want, sizeof want, "cuda|t=2|%a", fast.median_ns);
  CHECK(got.s && !strcmp(got.s, want), "merged best %s, want %s", got.s ? got.s : "-", want);
  free(got.s);
  tk_cache_close(s1), tk_cache_close(s2), tk_cache_close(m);
}

static void tc_write(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f) fputs(text, f), fclose(f);
}

/* Each malformed file fails naming file:line and leaves the db as it was. */
static void test_malformed_import(void) {
  tk_cache *c = tc_open("keep.db");
  if (!c) return;
  tc_fill(c, "cpu:keep", 3, 3);
  char *before = tc_dump(c);
  const char *good =
      "tokamax-cache\t1\nD\tcpu:new\t{}\t5\n"
      "M\tcpu:new\tattention\tk\tcpu\tb=1\tok\t\t10\t9\t11\t5\t0.001\t7\n";
  struct {
    const char *tail;
    int line;
    const char *why;
  } bad[] = {
      {"M\tcpu:new\tattention\tk\tcpu\tb=2\tok\t\t10\t9\t11\t5\t0.001\n", 4, "14 fields"},
      {"M\tcpu:new\tattention\tk\tcpu\tb=2\tgood\t\t10\t9\t11\t5\t0.001\t8\n", 4, "status"},
      {"M\tcpu:new\tattention\tk\tcpu\tb=2\tok\t\t1x\t9\t11\t5\t0.001\t8\n", 4, "number"},
      {"B\tcpu:new\tattention\tk\tcpu\tb=1\t10\tsoon\n", 4, "integer"},
      {"D\tcpu:\\q\t{}\t5\n", 4, "escape"},
      {"X\tsomething\n", 4, "record type"},
      {"\n", 4, "record type"},
      {"M\t\tattention\tk\tcpu\tb=2\tok\t\t10\t9\t11\t5\t0.001\t8\n", 4, "empty"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[512], where[64];
    snprintf(text, sizeof text, "%s%s", good, bad[i].tail);
    const char *file = tc_path("bad.tsv");
    tc_write(file, text);
    const char *const files[] = {file};
    tk_status s = tk_cache_import(c, files, 1, NULL);
    snprintf(where, sizeof where, "bad.tsv:%d:", bad[i].line);
    CHECK(
        s == TK_ERR_CACHE && strstr(tk_last_error(), where) && strstr(tk_last_error(), bad[i].why),
        "case %zu: %s: %s", i, tk_status_string(s), tk_last_error());
  }
  const char *heads[] = {"", "tokamax-cache\t3\n", "sqlite format 3\n", "tokamax-cachex\t1\n"};
  for (int i = 0; i < 4; i++) {
    const char *file = tc_path("head.tsv");
    tc_write(file, heads[i]);
    const char *const files[] = {tc_path("keep.db") /* not an export */, file};
    tk_status s = tk_cache_import(c, files + (i != 2), 1 + (i == 2), NULL);
    CHECK(s == TK_ERR_CACHE && strstr(tk_last_error(), ":1:"), "header %d: %s", i, tk_last_error());
  }
  const char *const missing[] = {tc_path("no-such-file.tsv")};
  CHECK(tk_cache_import(c, missing, 1, NULL) == TK_ERR_CACHE, "missing file");
  char *after = tc_dump(c);
  CHECK(before && after && !strcmp(before, after), "db changed by a failed import");
  CHECK(tc_sql_int(tc_path("keep.db"),
                   "SELECT count(*) FROM devices WHERE fingerprint='cpu:new'") == 0,
        "device of a failed import left behind");
  free(before), free(after);
  tk_cache_close(c);
}

/* clear by op, by device, and all; empty devices go. */
static void test_clear(void) {
  tk_cache *c = tc_open("clear.db");
  if (!c) return;
  tc_fill(c, "cpu:one", 4, 3);
  tc_fill(c, "cpu:two", 4, 3);
  int64_t n = -1;
  CHECK_OK(tk_cache_clear(c, "cpu:one", "grouped_gemm", &n));
  CHECK(n == 2 * 3 + 2, "cleared %lld (6 measurements, 2 best)", (long long)n);
  CHECK_OK(tk_cache_clear(c, "cpu:one", NULL, &n));
  CHECK(n == 2 * 3 + 3, "cleared %lld", (long long)n);
  CHECK(tc_sql_int(tc_path("clear.db"), "SELECT count(*) FROM devices") == 1, "one device left");
  CHECK_OK(tk_cache_clear(c, NULL, NULL, &n));
  CHECK(n == 4 * 3 + 5, "cleared %lld", (long long)n);
  CHECK(tc_sql_int(tc_path("clear.db"), "SELECT count(*) FROM devices") == 0, "no devices");
  tk_cache_close(c);
}

/* Expects tk_cache_open(path, flags) to fail with TK_ERR_CACHE mentioning
 * want (and the path), and leave *out untouched. */
static void tc_open_fails(const char *path, int flags, const char *want) {
  tk_cache *c = (tk_cache *)&tc_dir;
  tk_status s = tk_cache_open(path, flags, 200, &c);
  CHECK(s == TK_ERR_CACHE && strstr(tk_last_error(), want) && strstr(tk_last_error(), path) &&
            c == (tk_cache *)&tc_dir,
        "open %s: %s: %s", path, tk_status_string(s), tk_last_error());
}

static void test_unusable(void) {
  /* Random garbage. */
  const char *junk = tc_path("junk.db");
  FILE *f = fopen(junk, "w");
  for (int i = 0; f && i < 8192; i++) fputc(rand() % 256, f);
  if (f) fclose(f);
  tc_open_fails(junk, TK_CACHE_CREATE, "not a database");
  tc_open_fails(junk, TK_CACHE_READONLY, "not a database");
  /* A newer schema. */
  const char *newer = tc_path("newer.db");
  sqlite3 *db = NULL;
  sqlite3_open(newer, &db);
  sqlite3_exec(db, "CREATE TABLE future(x); PRAGMA user_version = 99", NULL, NULL, NULL);
  sqlite3_close(db);
  char want[128];
  snprintf(want, sizeof want, "schema version 99, newer than this library's %d",
           TK_CACHE_SCHEMA_VERSION);
  tc_open_fails(newer, TK_CACHE_CREATE, want);
  CHECK(tc_sql_int(newer, "PRAGMA user_version") == 99, "newer db untouched");
  /* A folder, a missing file without CREATE, an unreachable place. */
  tc_open_fails(tc_dir, TK_CACHE_CREATE, "unable to open");
  tc_open_fails(tc_path("missing.db"), 0, "unable to open");
  tc_open_fails("/proc/nonexistent/x/tune.db", TK_CACHE_CREATE, "cannot create folder");
  if (geteuid() != 0) {
    const char *locked = tc_path("mode000.db");
    tk_cache *c = tc_open("mode000.db");
    tk_cache_close(c);
    chmod(locked, 0);
    tc_open_fails(locked, TK_CACHE_CREATE, "unable to open");
  }
  tk_cache *c = NULL;
  CHECK(tk_cache_open(NULL, 0, 0, &c) == TK_ERR_INVALID_ARGUMENT, "NULL path");
}

int main(void) {
  srand((unsigned)time(NULL));
  tc_make_dir();
  test_create_reopen();
  test_round_trip();
  test_recompute();
  test_hostile_text();
  test_export_import();
  test_merge();
  test_malformed_import();
  test_clear();
  test_unusable();
  tc_remove_dir();
  TK_TEST_END();
}
