/* test_cache_hostile.c: cache files a careless user or an attacker hands
 * the library (issue 17): negative and foreign schema versions, a file of
 * another program, a v2 file marked version 1, read-only caches (file and
 * folder not writable, WAL and rollback journal), and a cache locked by
 * another connection. Each open either works or fails with its first, real
 * reason, leaves a file it does not own byte for byte as it was, and never
 * waits longer in total than the busy timeout. */
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "runtime/device.h"
#include "tests/test_cache_util.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Runs sql on the file at path with a plain connection; 1 when it worked. */
static int sql(const char *path, const char *text) {
  sqlite3 *db = NULL;
  int ok = sqlite3_open(path, &db) == SQLITE_OK &&
           sqlite3_exec(db, text, NULL, NULL, NULL) == SQLITE_OK;
  if (!ok) fprintf(stderr, "sql on %s: %s\n", path, db ? sqlite3_errmsg(db) : "no memory");
  sqlite3_close(db);
  return ok;
}

/* The whole file at path (caller frees; *len its size); NULL if unreadable. */
static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n == cap && !(buf = realloc(buf, cap = cap ? 2 * cap : 65536))) break;
    size_t got = fread(buf + n, 1, cap - n, f);
    if (got == 0) break;
    n += got;
  }
  fclose(f);
  *len = n;
  return buf;
}

/* The text of the file at path, for messages ("" if unreadable; static). */
static const char *slurp_text(const char *path) {
  static char text[4096];
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
  text[n] = '\0';
  if (f) fclose(f);
  return text;
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

/* 1 when the file at path holds exactly before[0..len) and SQLite left no
 * -wal or -journal file beside it. */
static int untouched(const char *path, const unsigned char *before, size_t len) {
  size_t n = 0;
  unsigned char *now = slurp(path, &n);
  char side[300];
  int same = now && n == len && memcmp(now, before, len) == 0;
  snprintf(side, sizeof side, "%s-wal", path);
  same = same && !exists(side);
  snprintf(side, sizeof side, "%s-journal", path);
  same = same && !exists(side);
  free(now);
  return same;
}

/* A schema-2 cache at path holding one best row for this machine's CPU
 * (what a context loads), in WAL (wal = 1) or rollback-journal mode. */
static void make_cache(const char *path, int wal) {
  tk_device_info d;
  char fp[512];
  tk_device_detect(&d);
  tk_device_fingerprint_cpu(&d, fp, sizeof fp);
  tk_cache *c = NULL;
  int64_t dev = 0;
  CHECK_OK(tk_cache_open(path, TK_CACHE_CREATE, 0, &c));
  if (!c) return;
  CHECK_OK(tk_cache_device_id(c, fp, NULL, &dev));
  CHECK_OK(tk_cache_set_best(c, dev, "attention", "attention:hostile-test", "reference", "", 5.0));
  tk_cache_close(c);
  if (!wal) CHECK(sql(path, "PRAGMA journal_mode = DELETE"), "leaving WAL mode");
}

/* Creates a context over the cache at path with stderr captured into log
 * (the test runs with TOKAMAX_LOG=info); returns its tuned-shape count
 * (-1 when the context failed). *seconds: how long creation took. */
static int context_over(const char *path, const char *log, double *seconds) {
  fflush(stderr);
  int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (saved < 0 || fd < 0) return -1;
  dup2(fd, 2);
  close(fd);
  tk_context_options o = {path, 1, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  double t0 = now_s();
  tk_status s = tk_context_create(&o, &ctx);
  if (seconds) *seconds = now_s() - t0;
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  if (s != TK_OK) return -1;
  char desc[4096];
  int tuned = -1;
  if (tk_context_describe(ctx, desc, sizeof desc) == TK_OK) {
    const char *t = strstr(desc, "\"tuned_shapes\":");
    if (t) tuned = atoi(t + 15);
  }
  tk_context_destroy(ctx);
  return tuned;
}

/* Lines of the file at path that contain word. */
static int lines_with(const char *path, const char *word) {
  FILE *f = fopen(path, "r");
  char line[2048];
  int n = 0;
  while (f && fgets(line, sizeof line, f)) n += strstr(line, word) != NULL;
  if (f) fclose(f);
  return n;
}

/* A negative user_version was taken for an older schema and indexed the
 * migration table below its start: a crash. Now it is refused, named, and
 * the file left alone; a context over it still works (on heuristics). */
static void test_negative_version(void) {
  static const int versions[] = {INT_MIN, -1000000, -100, -2, -1};
  for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
    char name[64], set[64], want[64];
    snprintf(name, sizeof name, "negative%zu.db", i);
    const char *path = tc_path(name);
    make_cache(path, 0);
    snprintf(set, sizeof set, "PRAGMA user_version = %d", versions[i]);
    CHECK(sql(path, set), "setting %s", set);
    size_t len = 0;
    unsigned char *before = slurp(path, &len);
    snprintf(want, sizeof want, "schema version %d", versions[i]);
    for (int ro = 0; ro < 2; ro++) {
      tk_cache *c = NULL;
      tk_status s = tk_cache_open(path, ro ? TK_CACHE_READONLY : TK_CACHE_CREATE, 200, &c);
      CHECK(s == TK_ERR_CACHE && !c && strstr(tk_last_error(), want) &&
                strstr(tk_last_error(), "not a tokamax cache"),
            "user_version %d: %s: %s", versions[i], tk_status_string(s), tk_last_error());
      tk_cache_close(c);
    }
    CHECK(context_over(path, tc_path("negative.log"), NULL) == 0,
          "a context over a cache of version %d runs untuned", versions[i]);
    CHECK(before && untouched(path, before, len), "version %d: the file was modified",
          versions[i]);
    free(before);
  }
}

/* Files of other programs: SQLite databases whose tables are not a tokamax
 * schema, with user_version 2 (ours), 0 (SQLite's default) and 1; and a
 * tokamax v2 cache whose version was set back to 1 (its migration to 2
 * would fail: the tables exist). Refused before anything is written: not
 * switched to WAL, not migrated. */
static void test_foreign(void) {
  struct {
    const char *name, *setup, *want;
  } files[] = {
      {"foreign2.db", "CREATE TABLE notes(x); PRAGMA user_version = 2", "schema version 2"},
      {"foreign0.db", "CREATE TABLE notes(x)", "schema version 0"},
      {"foreign1.db", "CREATE TABLE devices(id); PRAGMA user_version = 1", "schema version 1"},
      {"v2as1.db", NULL, "schema version 1"},
  };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    const char *path = tc_path(files[i].name);
    if (files[i].setup)
      CHECK(sql(path, files[i].setup), "making %s", files[i].name);
    else {
      make_cache(path, 0);
      CHECK(sql(path, "PRAGMA user_version = 1"), "marking %s version 1", files[i].name);
    }
    size_t len = 0;
    unsigned char *before = slurp(path, &len);
    for (int flags = 0; flags < 4; flags++) {
      static const int modes[] = {0, TK_CACHE_CREATE, TK_CACHE_READONLY, TK_CACHE_MAY_READ_ONLY};
      tk_cache *c = NULL;
      tk_status s = tk_cache_open(path, modes[flags], 200, &c);
      CHECK(s == TK_ERR_CACHE && !c && strstr(tk_last_error(), "not a tokamax cache") &&
                strstr(tk_last_error(), files[i].want) && strstr(tk_last_error(), path),
            "%s flags %d: %s: %s", files[i].name, modes[flags], tk_status_string(s),
            tk_last_error());
      tk_cache_close(c);
    }
    /* The context's single open keeps that reason (it once logged the
     * read-only fallback's "opened read-only" instead). */
    const char *log = tc_path("foreign.log");
    CHECK(context_over(path, log, NULL) == 0, "%s: context runs untuned", files[i].name);
    CHECK(lines_with(log, "not a tokamax cache") == 1 && lines_with(log, "read-only") == 0,
          "%s: the context's log does not give the real reason", files[i].name);
    CHECK(before && untouched(path, before, len), "%s was modified", files[i].name);
    free(before);
  }
}

/* Drops the capabilities that let root ignore file permissions, so a
 * read-only file is read-only to this process too. 0 if that failed. */
static int drop_dac_override(void) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) != 0) return 0;
  unsigned mask = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH) | (1u << CAP_FOWNER);
  d[0].effective &= ~mask;
  d[0].permitted &= ~mask;
  d[0].inheritable &= ~mask;
  return syscall(SYS_capset, &h, d) == 0;
}

/* In a child whose file permissions hold (root's override dropped): a
 * context over the cache at path must load its tuned shape, logging one
 * line that says it is used read-only; a READONLY open must read it.
 * Exit 0 when both held, 1 when not, 77 when the permissions cannot be
 * made to hold. */
static int read_only_child(const char *path, const char *log) {
  if (geteuid() == 0 && !drop_dac_override()) return 77;
  if (access(path, W_OK) == 0) return 77;
  int tuned = context_over(path, log, NULL);
  tk_cache *c = NULL;
  int rows = 0;
  if (tk_cache_open(path, TK_CACHE_READONLY, 200, &c) == TK_OK) {
    tc_buf b = {0};
    if (tk_cache_each_best(c, NULL, tc_dump_b, &b) == TK_OK) rows = b.s != NULL;
    free(b.s);
  } else {
    fprintf(stderr, "read-only open: %s\n", tk_last_error());
  }
  tk_cache_close(c);
  if (tuned != 1 || !rows) fprintf(stderr, "tuned %d, rows %d\n", tuned, rows);
  return tuned == 1 && rows ? 0 : 1;
}

/* A cache shipped read-only: the file (and, for some, its folder) not
 * writable, in WAL or rollback-journal mode. Each is used read-only, with
 * one info line saying so, and is not modified. A read-only WAL cache in
 * a read-only folder once failed with "attempt to write a readonly
 * database" (SQLite cannot create its -shm there). */
static void test_read_only(void) {
  struct {
    const char *dir;
    int wal, dir_writable;
  } cases[] = {{"ro-wal", 1, 0}, {"ro-journal", 0, 0}, {"ro-file-wal", 1, 1}, {"ro-file", 0, 1}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char sub[256], path[300], log[300];
    snprintf(sub, sizeof sub, "%s", tc_path(cases[i].dir));
    snprintf(path, sizeof path, "%s/tune.db", sub);
    snprintf(log, sizeof log, "%s.log", sub);
    mkdir(sub, 0755);
    make_cache(path, cases[i].wal);
    chmod(path, 0444);
    if (!cases[i].dir_writable) chmod(sub, 0555);
    size_t len = 0;
    unsigned char *before = slurp(path, &len);
    pid_t pid = fork();
    if (pid == 0) _exit(read_only_child(path, log));
    int st = 0;
    waitpid(pid, &st, 0);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
    if (rc == 77) {
      printf("%s: skipped (cannot make the file read-only to this process)\n", cases[i].dir);
    } else {
      CHECK(rc == 0, "%s: read-only cache not used (child exit %d)", cases[i].dir, rc);
      CHECK(lines_with(log, "read-only") == 1, "%s: %d log lines say read-only, want 1",
            cases[i].dir, lines_with(log, "read-only"));
      size_t n = 0;
      unsigned char *after = slurp(path, &n);
      CHECK(before && after && n == len && !memcmp(before, after, len), "%s: file modified",
            cases[i].dir);
      free(after);
    }
    free(before);
    chmod(sub, 0755);
  }
}

/* Another process holds an exclusive lock on a rollback-journal cache: a
 * context waits the documented busy timeout (5 s) once in all, not once
 * per attempt (it waited 10.3 s: read-write open, then a read-only retry),
 * and logs that the cache is locked. A direct open with a 300 ms timeout
 * fails in about 300 ms. */
static void test_locked_total_wait(void) {
  const char *path = tc_path("locked.db");
  make_cache(path, 0);
  sqlite3 *holder = NULL;
  sqlite3_open(path, &holder);
  CHECK(sqlite3_exec(holder, "BEGIN EXCLUSIVE; DELETE FROM best", NULL, NULL, NULL) == SQLITE_OK,
        "locking: %s", sqlite3_errmsg(holder));
  double dt = 0;
  const char *log = tc_path("locked.log");
  int tuned = context_over(path, log, &dt);
  double limit = TK_CACHE_DEFAULT_BUSY_MS / 1000.0;
  CHECK(tuned == 0 && dt > 0.8 * limit && dt < 1.4 * limit,
        "context over a locked cache: %d tuned after %.2f s (timeout %.1f s)", tuned, dt, limit);
  CHECK(lines_with(log, "database is locked") == 1, "the log does not say the cache is locked:\n%s",
        slurp_text(log));
  tk_cache *c = NULL;
  double t0 = now_s();
  tk_status s = tk_cache_open(path, TK_CACHE_MAY_READ_ONLY, 300, &c);
  dt = now_s() - t0;
  CHECK(s == TK_ERR_CACHE && strstr(tk_last_error(), "locked") && dt > 0.25 && dt < 0.6,
        "%s after %.2f s: %s", tk_status_string(s), dt, tk_last_error());
  tk_cache_close(c);
  sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close(holder);
}

int main(void) {
  setenv("TOKAMAX_LOG", "info", 1); /* read once, at the first log call */
  tc_make_dir();
  test_negative_version();
  test_foreign();
  test_read_only();
  test_locked_total_wait();
  tc_remove_dir();
  TK_TEST_END();
}
