/* test_packs: tuned packs (issue 18): a pack written from a cache reads
 * back with its header, medians and spreads; a context loads the packs of
 * $TOKAMAX_PACKS under its own cache (the user's result wins) and a call
 * on a packed shape reports source "pack"; a pack of another fingerprint
 * loads when its device class matches and is ignored when it does not; a
 * pack cut at any byte, of a newer format, or naming an impl or config
 * this build lacks is skipped whole, with a warning; a file name met in an
 * earlier directory wins. The run's log (TOKAMAX_LOG=debug, stderr to a
 * file) must show the pack choice in the dispatch log and the skipped
 * packs' warnings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "autotune/packs.h"
#include "cache/pack.h"
#include "regress/case.h"
#include "runtime/device.h"
#include "tests/test_cache_util.h"

#define GEMM(M) "grouped_gemm dtype=f32 out=f32 layout=nn M=" #M " K=64 N=48 G=4 sizes=random"

static char fp[512], cls[512];
static char k64[1024], k200[1024], k96[1024];

/* The plan of spec on a context over cache (automatic dispatch): its
 * source, impl and config into the out-parameters. */
static void plan_of(const char *cache, const char *spec, tk_choice_source *src, char *impl,
                    char *config, char *key) {
  char err[256];
  tk_context_options o = {cache, 1, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  tk_case *c = NULL;
  tk_plan *plan = NULL;
  *src = TK_CHOICE_FORCED;
  impl[0] = config[0] = '\0';
  CHECK_OK(tk_context_create(&o, &ctx));
  CHECK_OK(tk_case_create(spec, 7, &c, err, sizeof err));
  if (ctx && c) CHECK_OK(tk_plan_create(ctx, tk_case_op(c), tk_case_args(c), NULL, &plan));
  if (plan) {
    *src = tk_plan_source(plan);
    strcpy(impl, tk_plan_impl(plan));
    strcpy(config, tk_plan_config(plan));
    if (key) strcpy(key, tk_plan_problem_key(plan));
  }
  tk_plan_destroy(plan);
  tk_case_destroy(c);
  tk_context_destroy(ctx);
}

/* The problem key of spec, from a plan forcing "reference" (so the
 * automatic call of the key is still new to the dispatch log). */
static void key_only(const char *spec, char *key) {
  char err[256];
  tk_context_options o = {":memory:", 1, TK_TUNE_OFF, NULL};
  tk_call_options forced = {"reference", NULL};
  tk_context *ctx = NULL;
  tk_case *c = NULL;
  tk_plan *plan = NULL;
  key[0] = '\0';
  CHECK_OK(tk_context_create(&o, &ctx));
  CHECK_OK(tk_case_create(spec, 7, &c, err, sizeof err));
  if (ctx && c) CHECK_OK(tk_plan_create(ctx, tk_case_op(c), tk_case_args(c), &forced, &plan));
  if (plan) strcpy(key, tk_plan_problem_key(plan));
  tk_plan_destroy(plan);
  tk_case_destroy(c);
  tk_context_destroy(ctx);
}

/* Where spec's choice comes from with the packs of $TOKAMAX_PACKS = dirs
 * and the user cache at cache. */
static tk_choice_source source_with(const char *dirs, const char *cache, const char *spec,
                                    char *config) {
  char impl[64];
  tk_choice_source src;
  setenv("TOKAMAX_PACKS", dirs, 1);
  plan_of(cache, spec, &src, impl, config, NULL);
  return src;
}

/* A cache at path whose device dev_fp has these best rows (key, impl,
 * config, median) with measurements of p20 = 0.9 median, p80 = 1.2. */
typedef struct {
  const char *key, *impl, *config;
  double median;
} row;

static void make_cache(const char *path, const char *dev_fp, const row *rows, int n) {
  tk_cache *c = NULL;
  int64_t id = 0;
  remove(path);
  CHECK_OK(tk_cache_open(path, TK_CACHE_CREATE, 0, &c));
  if (!c) return;
  CHECK_OK(tk_cache_device_id(c, dev_fp, NULL, &id));
  for (int i = 0; i < n; i++) {
    tk_cache_measurement m = {"grouped_gemm", rows[i].key, rows[i].impl, rows[i].config,
                              TK_CACHE_RESULT_OK, "", rows[i].median, 0.9 * rows[i].median,
                              1.2 * rows[i].median, 11, 0, 0};
    CHECK_OK(tk_cache_record(c, id, &m));
    CHECK_OK(tk_cache_set_best(c, id, "grouped_gemm", rows[i].key, rows[i].impl, rows[i].config,
                               rows[i].median));
  }
  tk_cache_close(c);
}

/* Writes the pack of dev_fp's rows to dir/name (dir created). */
static void make_pack(const char *dir, const char *name, const char *dev_fp, const row *rows,
                      int n) {
  char path[512], dev_cls[512];
  mkdir(dir, 0755);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  make_cache(tc_path("pack_src.db"), dev_fp, rows, n);
  tk_cache *c = NULL;
  CHECK_OK(tk_cache_open(tc_path("pack_src.db"), 0, 0, &c));
  if (!c) return;
  tk_device_class(dev_fp, dev_cls, sizeof dev_cls);
  tk_pack_header h = {dev_fp, dev_cls, "test", "test_packs make_pack"};
  int64_t written = -1;
  CHECK_OK(tk_cache_export_pack(c, path, &h, &written));
  CHECK(written == n, "%s: %lld entries written, want %d", path, (long long)written, n);
  tk_cache_close(c);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  *len = 0;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) *len = (size_t)n;
  fclose(f);
  return buf;
}

static void spill(const char *path, const char *text, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f) fwrite(text, 1, len, f), fclose(f);
}

static void test_round_trip(void) {
  const row rows[] = {{k64, "reference", "parallel=0", 123456.7},
                      {k200, "reference", "parallel=1", 98765.4}};
  make_pack(tc_path("rt"), "a.pack", fp, rows, 2);
  tk_pack *p = NULL;
  CHECK_OK(tk_pack_read(tc_path("rt/a.pack"), &p));
  if (!p) return;
  CHECK(!strcmp(p->fingerprint, fp) && !strcmp(p->device_class, cls) &&
            !strcmp(p->suite, "test") && !strcmp(p->command, "test_packs make_pack") &&
            !strcmp(p->library, "0.1.0") && strlen(p->created) == 20,
        "header: %s | %s | %s | %s | %s | %s", p->fingerprint, p->device_class, p->suite,
        p->command, p->library, p->created);
  CHECK(p->n == 2, "%d entries", p->n);
  for (int i = 0; i < p->n && i < 2; i++) {
    const tk_pack_entry *e = &p->entries[i];
    const row *r = !strcmp(e->problem_key, k64) ? &rows[0] : &rows[1];
    CHECK(!strcmp(e->op, "grouped_gemm") && !strcmp(e->impl, r->impl) &&
              !strcmp(e->config, r->config) && fabs(e->median_ns - r->median) < 0.06 &&
              fabs(e->p20_ns - 0.9 * r->median) < 0.06 &&
              fabs(e->p80_ns - 1.2 * r->median) < 0.06 && e->reps == 11,
          "entry %d: %s %s %s %.2f [%.2f %.2f] %lld", i, e->problem_key, e->impl, e->config,
          e->median_ns, e->p20_ns, e->p80_ns, (long long)e->reps);
  }
  tk_pack_free(p);
  /* A device with nothing tuned: an error, and no file. */
  tk_cache *c = NULL;
  CHECK_OK(tk_cache_open(tc_path("pack_src.db"), 0, 0, &c));
  tk_pack_header h = {"cpu:nobody", "cpu:nobody", "test", "x"};
  CHECK(c && tk_cache_export_pack(c, tc_path("rt/none.pack"), &h, NULL) == TK_ERR_CACHE &&
            strstr(tk_last_error(), "nothing tuned for cpu:nobody"),
        "empty pack: %s", tk_last_error());
  struct stat st;
  CHECK(stat(tc_path("rt/none.pack"), &st) != 0, "an empty pack was written");
  tk_cache_close(c);
}

/* The packs of $TOKAMAX_PACKS load under the user's cache. */
static void test_loading(void) {
  char config[256], dirs[1024];
  const row rows[] = {{k64, "reference", "parallel=0", 1000}, {k200, "reference", "parallel=0", 900}};
  make_pack(tc_path("load"), "mine.pack", fp, rows, 2);
  snprintf(dirs, sizeof dirs, "/nonexistent/packs::%s", tc_path("load"));
  CHECK(source_with(dirs, ":memory:", GEMM(64), config) == TK_CHOICE_PACK &&
            !strcmp(config, "parallel=0"),
        "packed shape: source %d config %s", (int)source_with(dirs, ":memory:", GEMM(64), config),
        config);
  CHECK(!strcmp(tk_choice_source_name(TK_CHOICE_PACK), "pack"), "source name");
  /* A call (not a plan) on a packed shape: runs, and the dispatch log
   * (checked at the end) names the pack. */
  const row call_rows[] = {{k96, "reference", "parallel=1", 700}};
  make_pack(tc_path("call"), "call.pack", fp, call_rows, 1);
  setenv("TOKAMAX_PACKS", tc_path("call"), 1);
  char err[256];
  tk_context_options o = {":memory:", 1, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  tk_case *c = NULL;
  CHECK_OK(tk_context_create(&o, &ctx));
  CHECK_OK(tk_case_create(GEMM(96), 7, &c, err, sizeof err));
  if (ctx && c) CHECK_OK(tk_case_run(c, ctx, NULL));
  tk_case_destroy(c);
  tk_context_destroy(ctx);
  /* Without the variable (and the default folders off) nothing is packed. */
  CHECK(source_with("", ":memory:", GEMM(64), config) == TK_CHOICE_HEURISTIC, "no packs: %s",
        config);
  /* The user's own result for the key wins; the other key still comes from the pack. */
  const row user[] = {{k64, "reference", "parallel=1", 5000}};
  make_cache(tc_path("user.db"), fp, user, 1);
  CHECK(source_with(dirs, tc_path("user.db"), GEMM(64), config) == TK_CHOICE_CACHE &&
            !strcmp(config, "parallel=1"),
        "user result: config %s", config);
  CHECK(source_with(dirs, tc_path("user.db"), GEMM(200), config) == TK_CHOICE_PACK,
        "other key under a user cache: %s", config);
  /* A shape near a packed one (in reach: fewer rows per group, key_distance.h)
   * is a nearest answer, not a pack hit. */
  CHECK(source_with(dirs, ":memory:", GEMM(56), config) == TK_CHOICE_NEAREST, "nearest: %s",
        config);
}

/* Another machine's pack: loads when the device class matches. */
static void test_device_class(void) {
  char config[256], other_fp[600];
  const row rows[] = {{k64, "reference", "parallel=0", 1000}};
  snprintf(other_fp, sizeof other_fp, "%s:cores=977:l1d=1K:l2=2K:l3=3K", cls);
  make_pack(tc_path("same_class"), "other.pack", other_fp, rows, 1);
  CHECK(source_with(tc_path("same_class"), ":memory:", GEMM(64), config) == TK_CHOICE_PACK,
        "same class, other fingerprint: not loaded (%s)", config);
  make_pack(tc_path("other_class"), "other.pack",
            "cpu:NoSuchVendor:99:99:avx2+fma:cores=2:l1d=32K:l2=512K:l3=32768K", rows, 1);
  CHECK(source_with(tc_path("other_class"), ":memory:", GEMM(64), config) == TK_CHOICE_HEURISTIC,
        "another class loaded: %s", config);
  char c2[512];
  tk_device_class("cuda:NVIDIA H200:sm_90:sms=132:mem=143000M:driver=1:runtime=2", c2, sizeof c2);
  CHECK(!strcmp(c2, "cuda:NVIDIA H200:sm_90:sms=132"), "cuda class %s", c2);
}

typedef struct {
  char text[4096];
  int loaded;
} seen;

static void keep_warning(void *user, const char *message) {
  seen *s = user;
  snprintf(s->text, sizeof s->text, "%s", message);
}

static int count_pack(void *user, const char *path, const tk_pack *p) {
  (void)path, (void)p;
  ((seen *)user)->loaded++;
  return 0;
}

/* What tk_packs_each makes of the folder dir alone. */
static seen scan(const char *dir) {
  seen s = {"", 0};
  setenv("TOKAMAX_PACKS", dir, 1);
  tk_packs_each(count_pack, keep_warning, &s);
  return s;
}

/* Bad packs are skipped whole, with a warning, and never crash. */
static void test_bad_packs(void) {
  char config[256];
  const row good[] = {{k64, "reference", "parallel=0", 1000}};
  make_pack(tc_path("good"), "g.pack", fp, good, 1);
  size_t len = 0;
  char *text = slurp(tc_path("good/g.pack"), &len);
  if (!text) return;
  /* Cut at every byte: never parses, never crashes. */
  int parsed = 0;
  for (size_t n = 0; n < len; n++) {
    tk_pack *p = NULL;
    if (tk_pack_parse(text, n, "cut", &p) == TK_OK) parsed++;
    tk_pack_free(p);
  }
  CHECK(parsed == 0, "%d cut copies parsed", parsed);
  mkdir(tc_path("cut"), 0755);
  spill(tc_path("cut/g.pack"), text, len - 10);
  seen s = scan(tc_path("cut"));
  CHECK(s.loaded == 0 && strstr(s.text, "truncated"), "cut: %d loaded, warning %s", s.loaded,
        s.text);
  CHECK(source_with(tc_path("cut"), ":memory:", GEMM(64), config) == TK_CHOICE_HEURISTIC,
        "a cut pack was used");
  /* A newer format (the version line is outside the checksum). */
  mkdir(tc_path("newer"), 0755);
  char *v2 = malloc(len + 1);
  memcpy(v2, text, len);
  v2[13] = '2';
  spill(tc_path("newer/g.pack"), v2, len);
  s = scan(tc_path("newer"));
  CHECK(s.loaded == 0 && strstr(s.text, "pack format version 2 is newer than this library's 1"),
        "newer: %s", s.text);
  /* An edited value breaks the checksum. */
  char *at = strstr(v2, "parallel=0");
  if (at) at[9] = '1';
  v2[13] = '1';
  mkdir(tc_path("edited"), 0755);
  spill(tc_path("edited/g.pack"), v2, len);
  s = scan(tc_path("edited"));
  CHECK(s.loaded == 0 && strstr(s.text, "checksum mismatch"), "edited: %s", s.text);
  free(v2);
  free(text);
  /* An impl this build lacks beside a good entry: none of it loads. */
  const row unknown[] = {{k64, "reference", "parallel=0", 1000},
                         {k200, "no_such_impl", "x=1", 900}};
  make_pack(tc_path("unknown"), "u.pack", fp, unknown, 2);
  s = scan(tc_path("unknown"));
  CHECK(s.loaded == 0 && strstr(s.text, "none of it loaded") &&
            strstr(s.text, "no grouped_gemm implementation 'no_such_impl'"),
        "unknown impl: %s", s.text);
  CHECK(source_with(tc_path("unknown"), ":memory:", GEMM(64), config) == TK_CHOICE_HEURISTIC,
        "half a pack was loaded");
  /* A config value outside the impl's space. */
  const row bad_config[] = {{k64, "reference", "parallel=7", 1000}};
  make_pack(tc_path("badcfg"), "b.pack", fp, bad_config, 1);
  s = scan(tc_path("badcfg"));
  CHECK(s.loaded == 0 && strstr(s.text, "config 'parallel=7' of reference"), "bad config: %s",
        s.text);
  s = scan(tc_path("good"));
  CHECK(s.loaded == 1 && !s.text[0], "the good pack: %d, %s", s.loaded, s.text);
}

/* A name met in an earlier folder wins; a folder listed twice is searched once. */
static void test_search_order(void) {
  char config[256], dirs[1024];
  const row first[] = {{k64, "reference", "parallel=0", 1000}};
  const row second[] = {{k64, "reference", "parallel=1", 1000}, {k200, "reference", "parallel=1", 9}};
  make_pack(tc_path("d1"), "x.pack", fp, first, 1);
  make_pack(tc_path("d2"), "x.pack", fp, second, 2);
  snprintf(dirs, sizeof dirs, "%s:%s", tc_path("d1"), tc_path("d2"));
  CHECK(source_with(dirs, ":memory:", GEMM(64), config) == TK_CHOICE_PACK &&
            !strcmp(config, "parallel=0"),
        "the first folder's x.pack: %s", config);
  CHECK(source_with(dirs, ":memory:", GEMM(200), config) != TK_CHOICE_PACK,
        "the second x.pack was loaded too");
  char list[TK_PACK_DIRS_MAX][TK_PACK_PATH_MAX];
  snprintf(dirs, sizeof dirs, "%s:%s/.:%s", tc_path("d1"), tc_path("d1"), tc_path("d2"));
  setenv("TOKAMAX_PACKS", dirs, 1);
  int n = tk_pack_dirs(list, TK_PACK_DIRS_MAX);
  CHECK(n == 2 && !strcmp(list[0], tc_path("d1")) && !strcmp(list[1], tc_path("d2")),
        "%d folders: %s", n, n ? list[0] : "");
}

/* Checks the log of the run (the file at path), then copies its failed
 * checks to the real stderr. */
static void check_log(const char *path, int saved_stderr) {
  fflush(stderr);
  dup2(saved_stderr, 2);
  size_t len = 0;
  char *log = slurp(path, &len);
  if (!log) log = calloc(1, 1);
  log[len] = '\0';
  for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
    if (strstr(line, "CHECK(")) fprintf(stderr, "%s\n", line);
  free(log);
  log = slurp(path, &len);
  CHECK(log != NULL, "cannot read the log back");
  if (!log) return;
  log[len] = '\0';
  char want[1200];
  snprintf(want, sizeof want, "dispatch %s (impl=auto)", k96);
  const char *block = strstr(log, want);
  CHECK(block && strstr(block, "chose reference parallel=1 (pack: exact entry of a tuned pack "
                               "for this device class)"),
        "the dispatch log lacks the pack choice of %s", k96);
  CHECK(strstr(log, "mine.pack (test, measured on") && strstr(log, "choices loaded for"),
        "the load of mine.pack was not logged");
  CHECK(strstr(log, "other.pack ignored: for device class cpu:NoSuchVendor:99:99:avx2+fma"),
        "the pack of another class was not logged");
  CHECK(strstr(log, "tuned pack skipped: pack: ") && strstr(log, "cut/g.pack:"),
        "the cut pack's warning was not logged");
  CHECK(strstr(log, "u.pack skipped (none of it loaded)"), "the unknown impl was not logged");
  free(log);
}

int main(void) {
  tc_make_dir();
  setenv("TOKAMAX_LOG", "debug", 1); /* before the library reads it */
  char log_path[256];
  snprintf(log_path, sizeof log_path, "%s", tc_path("run.log"));
  int fd = open(log_path, O_CREAT | O_WRONLY | O_TRUNC, 0644), saved = dup(2);
  if (fd < 0 || saved < 0 || dup2(fd, 2) < 0) {
    printf("cannot redirect stderr\n");
    return 1;
  }
  setenv("TOKAMAX_DEFAULT_PACKS", "off", 1); /* the shipped packs stay out of the way */
  tk_device_info dev;
  tk_device_detect(&dev);
  tk_device_fingerprint_cpu(&dev, fp, sizeof fp);
  tk_device_class(fp, cls, sizeof cls);
  char impl[64], config[256];
  tk_choice_source src;
  setenv("TOKAMAX_PACKS", "", 1);
  plan_of(":memory:", GEMM(64), &src, impl, config, k64);
  plan_of(":memory:", GEMM(200), &src, impl, config, k200);
  key_only(GEMM(96), k96);
  CHECK(strstr(k64, "M=64") && strstr(k200, "M=200") && strstr(k96, "M=96") &&
            src == TK_CHOICE_HEURISTIC,
        "keys %s %s %s", k64, k200, k96);
  test_round_trip();
  test_loading();
  test_device_class();
  test_bad_packs();
  test_search_order();
  check_log(log_path, saved);
  tc_remove_dir();
  TK_TEST_END();
}
