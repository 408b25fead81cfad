/* test_cache_proc.c: the cache across processes: two writers at once, a
 * writer killed with SIGKILL (then resumed), and a database held locked. */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/test_cache_util.h"

#define PER_WRITER 200

static double tc_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Records keys [0, n) of writer w unless present (a resumable sweep);
 * writes one byte to fd (if >= 0) after each commit. Returns how many it
 * recorded, -1 on error. */
static int tc_sweep(const char *path, int w, int n, int fd) {
  tk_cache *c = NULL;
  int64_t dev;
  if (tk_cache_open(path, TK_CACHE_CREATE, 0, &c) != TK_OK ||
      tk_cache_device_id(c, "cpu:shared", NULL, &dev) != TK_OK) {
    fprintf(stderr, "writer %d: %s\n", w, tk_last_error());
    tk_cache_close(c);
    return -1;
  }
  int done = 0;
  for (int i = 0; i < n; i++) {
    char key[32];
    int found = 0;
    snprintf(key, sizeof key, "w%d-k%04d", w, i);
    if (tk_cache_has_measurement(c, dev, "attention", key, "cpu", "b=1", &found) != TK_OK) break;
    if (found) continue;
    tk_cache_measurement m = tc_measurement("attention", key, "cpu", "b=1");
    if (tk_cache_record(c, dev, &m) != TK_OK) {
      fprintf(stderr, "writer %d: %s\n", w, tk_last_error());
      break;
    }
    done++;
    if (fd >= 0 && write(fd, "x", 1) != 1) break;
  }
  tk_cache_close(c);
  return done;
}

/* Two processes open a new file and record at the same time: all rows. */
static void test_two_writers(void) {
  const char *path = tc_path("shared/tune.db");
  pid_t pid[2];
  for (int w = 0; w < 2; w++) {
    pid[w] = fork();
    if (pid[w] == 0) _exit(tc_sweep(path, w, PER_WRITER, -1) == PER_WRITER ? 0 : 1);
  }
  for (int w = 0; w < 2; w++) {
    int st = 0;
    waitpid(pid[w], &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer %d failed (status %d)", w, st);
  }
  CHECK(tc_sql_int(path, "SELECT count(*) FROM measurements") == 2 * PER_WRITER,
        "%lld rows, want %d", (long long)tc_sql_int(path, "SELECT count(*) FROM measurements"),
        2 * PER_WRITER);
  CHECK(tc_sql_int(path, "SELECT count(*) FROM devices") == 1, "one device");
}

/* A writer killed mid-sweep: the db is intact, holds a prefix of the keys
 * of at least what it reported, and a rerun records only the rest. */
static void test_killed_writer(void) {
  const char *path = tc_path("killed.db");
  int p[2];
  if (pipe(p) != 0) return;
  const int total = 100000, kill_after = 20 + rand() % 60;
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    _exit(tc_sweep(path, 0, total, p[1]) < 0);
  }
  close(p[1]);
  char x;
  int reported = 0;
  while (reported < kill_after && read(p[0], &x, 1) == 1) reported++;
  kill(pid, SIGKILL);
  int st = 0;
  waitpid(pid, &st, 0);
  while (read(p[0], &x, 1) == 1) reported++;
  close(p[0]);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child was not killed (status %d)", st);
  tk_cache *c = NULL;
  CHECK_OK(tk_cache_open(path, TK_CACHE_CREATE, 0, &c));
  tk_cache_close(c);
  CHECK(tc_integrity_ok(path), "integrity_check failed");
  int64_t n = tc_sql_int(path, "SELECT count(*) FROM measurements");
  char prefix[128];
  snprintf(prefix, sizeof prefix, "SELECT max(problem_key) = 'w0-k%04d' FROM measurements",
           (int)n - 1);
  CHECK(n == reported || n == reported + 1, "%lld rows after %d reported commits", (long long)n,
        reported);
  CHECK(tc_sql_int(path, prefix) == 1, "rows are not the first %lld keys", (long long)n);
  int resumed = tc_sweep(path, 0, (int)n + 100, -1);
  CHECK(resumed == 100, "rerun recorded %d, want 100", resumed);
  CHECK(tc_sql_int(path, "SELECT count(*) FROM measurements") == n + 100, "rerun completes");
}

/* Another connection holds the write lock: a WAL db still opens and reads,
 * but a record fails after the busy timeout; a rollback-journal db locked
 * exclusively cannot even be opened. */
static void test_locked(void) {
  const char *wal = tc_path("wal.db"), *plain = tc_path("plain.db");
  tk_cache *c = NULL;
  CHECK_OK(tk_cache_open(wal, TK_CACHE_CREATE, 0, &c));
  tk_cache_close(c);
  sqlite3 *holder = NULL;
  sqlite3_open(wal, &holder);
  CHECK(sqlite3_exec(holder, "BEGIN EXCLUSIVE; DELETE FROM devices", NULL, NULL, NULL) == SQLITE_OK,
        "locking: %s", sqlite3_errmsg(holder));
  c = NULL;
  CHECK_OK(tk_cache_open(wal, 0, 300, &c));
  if (c) {
    int64_t dev = 0;
    double t0 = tc_now();
    tk_status s = tk_cache_device_id(c, "cpu:locked", NULL, &dev);
    double dt = tc_now() - t0;
    CHECK(s == TK_ERR_CACHE && strstr(tk_last_error(), "locked") && dt > 0.25 && dt < 2,
          "%s after %.2f s: %s", tk_status_string(s), dt, tk_last_error());
    tk_cache_close(c);
  }
  sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close(holder);

  sqlite3_open(plain, &holder);
  CHECK(sqlite3_exec(holder, "CREATE TABLE t(x); BEGIN EXCLUSIVE; INSERT INTO t VALUES(1)", NULL,
                     NULL, NULL) == SQLITE_OK,
        "locking: %s", sqlite3_errmsg(holder));
  c = (tk_cache *)&tc_dir;
  double t0 = tc_now();
  tk_status s = tk_cache_open(plain, TK_CACHE_CREATE, 300, &c);
  double dt = tc_now() - t0;
  CHECK(s == TK_ERR_CACHE && strstr(tk_last_error(), "locked") && dt > 0.25 && dt < 2 &&
            c == (tk_cache *)&tc_dir,
        "%s after %.2f s: %s", tk_status_string(s), dt, tk_last_error());
  sqlite3_close(holder);
}

int main(void) {
  srand((unsigned)time(NULL));
  tc_make_dir();
  test_two_writers();
  test_killed_writer();
  test_locked();
  tc_remove_dir();
  TK_TEST_END();
}
