/* test_cache_soak.c: the tuning cache under concurrent use across processes
 * (issue 17). Two sweeps write one database at once under this machine's
 * fingerprint while a reader process keeps creating contexts over it (each
 * loading the tuned map the sweeps are writing) and calling ops, checked
 * against the reference. One sweep is killed with SIGKILL mid-way and run
 * again. Afterwards: PRAGMA integrity_check is "ok"; every candidate of
 * both sweeps is there once; what the killed sweep had committed was kept
 * as it was (same timestamp: not measured again) and only the rest was
 * measured by the rerun; every problem has a best; the reader never saw a
 * failed call. Kept to seconds: small problems, short timings. */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "kernels/problem.h"
#include "regress/case_sweep.h"
#include "runtime/context.h"
#include "tests/test_cache_util.h"

/* Sweep A (killed, then resumed) and sweep B (runs through). */
static const char *const SWEEP_A[] = {
    "grouped_gemm dtype=f32 out=f32 layout=nn M=96 K=64 N=64 G=3 sizes=random",
    "moe_permute dtype=bf16 T=64 H=128 k=2 E=8 align=8",
    "attention dtype=f32 B=1 Tq=32 Tk=48 Hq=4 Hkv=2 D=32 causal=1",
    "grouped_gemm dtype=bf16 out=f32 layout=tn M=64 K=32 N=48 G=4 sizes=balanced",
    "paged_attention dtype=bf16 Hq=4 Hkv=2 D=32 page=16 decode=3 prefill=0 kvmax=100",
};
static const char *const SWEEP_B[] = {
    "grouped_gemm dtype=bf16 out=same layout=nt M=80 K=64 N=48 G=2 sizes=zipf",
    "moe_unpermute dtype=f32 T=48 H=64 k=2 E=4 align=1",
    "paged_attention dtype=f32 Hq=2 Hkv=1 D=16 page=8 decode=2 prefill=1 qlen=4 kvmax=40",
    "attention dtype=bf16 B=2 Tq=16 Tk=32 Hq=4 Hkv=1 D=64 causal=0",
    "moe_permute dtype=f32 T=48 H=64 k=2 E=4 align=1",
};
#define N_SPECS 5
#define KILL_AFTER 60 /* candidates sweep A commits before it is killed */

static char fingerprint[512];

typedef struct {
  int fd; /* one byte per measured candidate; -1: none */
  int measured, resumed, candidates;
} progress;

static void on_candidate(void *user, const tk_sweep_event *e) {
  progress *p = user;
  if (e->resumed) {
    p->resumed++;
    return;
  }
  p->measured++;
  if (p->fd >= 0 && write(p->fd, "x", 1) != 1) p->fd = -1;
}

/* Sweeps specs into the cache at db; exit status 0 when every sweep
 * worked. Reports its counts on stdout as "measured resumed candidates". */
static int sweep(const char *db, const char *const *specs, int fd) {
  tk_context_options o = {":memory:", 1, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  tk_cache *cache = NULL;
  if (tk_context_create(&o, &ctx) != TK_OK || tk_cache_open(db, TK_CACHE_CREATE, 0, &cache) != TK_OK) {
    fprintf(stderr, "sweep: %s\n", tk_last_error());
    return 1;
  }
  progress pr = {fd, 0, 0, 0};
  tk_sweep_options so = tk_sweep_defaults();
  so.timing = (tk_timing_plan){1, 3, 400, 5e6}; /* ~5 ms a candidate */
  so.progress = on_candidate;
  so.progress_user = &pr;
  int rc = 0;
  for (int i = 0; i < N_SPECS && !rc; i++) {
    case_target *ct = NULL;
    tk_sweep_target t;
    tk_sweep_summary s;
    char err[256];
    if (case_target_create(ctx, specs[i], &(case_target_options){3, -1, NULL}, &ct, &t, err,
                           sizeof err) != TK_OK ||
        tk_sweep_problem(ctx, cache, fingerprint, &t, &so, &s) != TK_OK) {
      fprintf(stderr, "sweep %s: %s %s\n", specs[i], err, tk_last_error());
      rc = 1;
    }
    pr.candidates += rc ? 0 : s.candidates;
    case_target_destroy(ct);
  }
  printf("%d %d %d\n", pr.measured, pr.resumed, pr.candidates);
  fflush(stdout);
  tk_cache_close(cache);
  tk_context_destroy(ctx);
  return rc;
}

/* Until the file at stop exists: a context over db (loading what the
 * sweeps wrote so far), then every spec of both sweeps run with the
 * automatic choice and checked. Exit 0 when every call passed and there
 * was at least one round; prints the rounds. */
static int reader(const char *db, const char *stop) {
  int rounds = 0;
  tk_case *cases[2 * N_SPECS];
  char err[256];
  for (int i = 0; i < 2 * N_SPECS; i++)
    if (tk_case_create(i < N_SPECS ? SWEEP_A[i] : SWEEP_B[i - N_SPECS], 11, &cases[i], err,
                       sizeof err) != TK_OK) {
      fprintf(stderr, "reader: %s\n", err);
      return 1;
    }
  tk_context_options ref = {":memory:", 1, TK_TUNE_OFF, NULL};
  tk_context *rctx = NULL;
  if (tk_context_create(&ref, &rctx) != TK_OK) return 1;
  for (int i = 0; i < 2 * N_SPECS; i++)
    if (tk_case_prepare_expected(cases[i], rctx) != TK_OK) return 1;
  tk_context_destroy(rctx);
  while (access(stop, F_OK) != 0 || rounds == 0) {
    tk_context_options o = {db, 1, TK_TUNE_OFF, NULL};
    tk_context *ctx = NULL;
    if (tk_context_create(&o, &ctx) != TK_OK) {
      fprintf(stderr, "reader: context: %s\n", tk_last_error());
      return 1;
    }
    for (int i = 0; i < 2 * N_SPECS; i++) {
      tk_case_report r;
      if (tk_case_run(cases[i], ctx, NULL) != TK_OK || !tk_case_check(cases[i], &r)) {
        fprintf(stderr, "reader: %s: %s %s\n", tk_case_spec(cases[i]), tk_last_error(), r.why);
        return 1;
      }
    }
    tk_context_destroy(ctx);
    rounds++;
  }
  for (int i = 0; i < 2 * N_SPECS; i++) tk_case_destroy(cases[i]);
  printf("%d\n", rounds);
  fflush(stdout);
  return 0;
}

/* Forks fn's process with its stdout into the file at out. */
static pid_t spawn(int (*fn)(const char *, const char *const *, int), const char *db,
                   const char *const *specs, int fd, const char *out) {
  pid_t pid = fork();
  if (pid == 0) {
    int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    _exit(fn(db, specs, fd));
  }
  return pid;
}

static int exit_code(pid_t pid) {
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The three counts a sweep printed. */
static void counts(const char *path, int *measured, int *resumed, int *candidates) {
  FILE *f = fopen(path, "r");
  *measured = *resumed = *candidates = -1;
  if (!f || fscanf(f, "%d %d %d", measured, resumed, candidates) != 3)
    fprintf(stderr, "no counts in %s\n", path);
  if (f) fclose(f);
}

/* The measurements of sweep A's problems in the cache at db, one line
 * "key|impl|config|measured_us" each (caller frees). */
static char *committed_rows(const char *db) {
  tc_buf buf = {0};
  tc_printf(&buf, "%s", "");
  sqlite3 *q = NULL;
  sqlite3_stmt *st = NULL;
  sqlite3_open_v2(db, &q, SQLITE_OPEN_READONLY, NULL);
  sqlite3_busy_timeout(q, 5000);
  sqlite3_prepare_v2(q,
                     "SELECT problem_key || '|' || impl || '|' || config || '|' || measured_us "
                     "FROM measurements WHERE problem_key = ?1 ORDER BY 1",
                     -1, &st, NULL);
  for (int i = 0; i < N_SPECS; i++) {
    tk_case *c = NULL;
    char err[256], key[1024];
    tk_problem p;
    CHECK_OK(tk_case_create(SWEEP_A[i], 3, &c, err, sizeof err));
    if (!c) continue;
    CHECK_OK(tk_problem_validate(tk_case_op(c), tk_case_args(c), 1, &p));
    tk_problem_key(&p, key, sizeof key);
    tk_case_destroy(c);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) tc_printf(&buf, "%s\n", sqlite3_column_text(st, 0));
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  sqlite3_close(q);
  return buf.s;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(void) {
  double t0 = now_s();
  tk_device_info d;
  tk_device_detect(&d);
  tk_device_fingerprint_cpu(&d, fingerprint, sizeof fingerprint);
  tc_make_dir();
  const char *db = tc_path("soak.db"), *stop = tc_path("stop");
  char db_copy[256], stop_copy[256];
  snprintf(db_copy, sizeof db_copy, "%s", db);
  snprintf(stop_copy, sizeof stop_copy, "%s", stop);
  db = db_copy, stop = stop_copy;
  tk_cache *c = NULL; /* the file exists before the reader starts */
  CHECK_OK(tk_cache_open(db, TK_CACHE_CREATE, 0, &c));
  tk_cache_close(c);

  int p[2];
  if (pipe(p) != 0) return 1;
  pid_t reader_pid = fork();
  if (reader_pid == 0) {
    int o = open(tc_path("reader.out"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    _exit(reader(db, stop));
  }
  pid_t a = spawn(sweep, db, SWEEP_A, p[1], tc_path("a.out"));
  pid_t b = spawn(sweep, db, SWEEP_B, -1, tc_path("b.out"));
  close(p[1]);
  /* Kill A once it has committed KILL_AFTER candidates (of over a hundred). */
  char x;
  int seen = 0;
  while (seen < KILL_AFTER && read(p[0], &x, 1) == 1) seen++;
  kill(a, SIGKILL);
  CHECK(exit_code(a) == 128 + SIGKILL, "sweep A was not killed");
  close(p[0]);
  CHECK(seen == KILL_AFTER, "sweep A ended before it was killed (%d candidates)", seen);

  /* What A committed before it died: "key|impl|config|measured_us" lines. */
  char *committed = committed_rows(db);
  int before = 0;
  for (const char *s = committed; s && *s; s++) before += *s == '\n';

  CHECK(exit_code(b) == 0, "sweep B failed");
  pid_t a2 = spawn(sweep, db, SWEEP_A, -1, tc_path("a2.out"));
  CHECK(exit_code(a2) == 0, "the rerun of sweep A failed");
  FILE *f = fopen(stop, "w");
  if (f) fclose(f);
  CHECK(exit_code(reader_pid) == 0, "the reader saw a failed call (see its stderr)");

  int bm, br, bc, am, ar, ac, rounds = 0;
  counts(tc_path("b.out"), &bm, &br, &bc);
  counts(tc_path("a2.out"), &am, &ar, &ac);
  f = fopen(tc_path("reader.out"), "r");
  if (!f || fscanf(f, "%d", &rounds) != 1) rounds = 0;
  if (f) fclose(f);
  CHECK(rounds >= 1, "the reader ran %d rounds", rounds);
  CHECK(bm == bc && br == 0, "sweep B measured %d of %d", bm, bc);
  CHECK(ar == before && am == ac - before && before >= KILL_AFTER,
        "the rerun resumed %d and measured %d of %d; %d were committed before the kill", ar, am,
        ac, before);

  /* The file is sound and holds each candidate of both sweeps once. */
  CHECK(tc_integrity_ok(db), "integrity_check is not ok");
  CHECK(tc_sql_int(db, "SELECT count(*) FROM measurements") == ac + bc,
        "%lld measurements, want %d + %d", (long long)tc_sql_int(db, "SELECT count(*) FROM measurements"),
        ac, bc);
  CHECK(tc_sql_int(db, "SELECT count(*) FROM best") == 2 * N_SPECS, "%lld best rows, want %d",
        (long long)tc_sql_int(db, "SELECT count(*) FROM best"), 2 * N_SPECS);
  CHECK(tc_sql_int(db, "SELECT count(*) FROM devices") == 1, "one device");
  /* What A had committed is still there, unchanged (not measured again). */
  int kept = 0;
  for (char *line = committed; line && *line;) {
    char *end = strchr(line, '\n');
    *end = '\0';
    char sql[2048], *esc = sqlite3_mprintf("%q", line);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM measurements WHERE problem_key || '|' || impl || '|' || config "
             "|| '|' || measured_us = '%s'", esc);
    sqlite3_free(esc);
    kept += tc_sql_int(db, sql) == 1;
    line = end + 1;
  }
  CHECK(kept == before, "%d of the %d rows committed before the kill are unchanged", kept, before);
  free(committed);
  tc_remove_dir();
  printf("soak: sweep A %d candidates (%d committed before the kill, %d measured by the rerun), "
         "sweep B %d, %d reader rounds, %.1f s\n", ac, before, am, bc, rounds, now_s() - t0);
  TK_TEST_END();
}
