/* fuzz_import.c: the export-file importer target. The input is one file
 * imported into an in-memory cache holding one row. A refused file leaves
 * "cache: FILE:LINE: reason" and the cache exactly as it was; an accepted
 * one round-trips: its export, imported into an empty cache and exported
 * again, gives the same bytes and the same rows. */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "cache/cache.h"
#include "tests/fuzz/fuzz.h"

static int dump_m(void *user, const char *fp, const tk_cache_measurement *m) {
  sqlite3_str_appendf(user, "M|%s|%s|%s|%s|%s|%d|%s|%a|%a|%a|%" PRId64 "|%a|%" PRId64 "\n", fp, m->op,
      m->problem_key, m->impl, m->config, (int)m->result, m->reason, m->median_ns, m->p20_ns,
      m->p80_ns, m->reps, m->max_err, m->measured_us);
  return 0;
}

static int dump_b(void *user, const char *fp, const tk_cache_best *b) {
  sqlite3_str_appendf(user, "B|%s|%s|%s|%s|%s|%a|%" PRId64 "\n", fp, b->op, b->problem_key, b->impl, b->config,
      b->median_ns, b->updated_us);
  return 0;
}

/* Every measurement and best row of c (caller frees with sqlite3_free). */
static char *dump(tk_cache *c) {
  sqlite3_str *t = sqlite3_str_new(NULL);
  if (tk_cache_each_measurement(c, NULL, dump_m, t) != TK_OK ||
      tk_cache_each_best(c, NULL, dump_b, t) != TK_OK)
    tk_fuzz_fail("import: reading the cache back: %s", tk_last_error());
  char *s = sqlite3_str_finish(t);
  return s ? s : sqlite3_mprintf("%s", "");
}

static tk_cache *fresh(int with_row) {
  tk_cache *c = NULL;
  if (tk_cache_open(":memory:", TK_CACHE_CREATE, 0, &c) != TK_OK)
    tk_fuzz_fail("import: in-memory cache: %s", tk_last_error());
  int64_t dev;
  tk_cache_measurement m = {"attention", "attention:k", "cpu", "block_q=64", TK_CACHE_RESULT_OK,
                            "", 1000.0, 900.0, 1100.0, 10, 1e-4, 0};
  if (with_row && (tk_cache_device_id(c, "cpu:fuzz", NULL, &dev) != TK_OK ||
                   tk_cache_record(c, dev, &m) != TK_OK ||
                   tk_cache_recompute_best(c, dev, m.op, m.problem_key, NULL) != TK_OK))
    tk_fuzz_fail("import: baseline row: %s", tk_last_error());
  return c;
}

/* The file at path as a string (caller frees with sqlite3_free). */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) tk_fuzz_fail("import: cannot read back %s", path);
  sqlite3_str *t = sqlite3_str_new(NULL);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) sqlite3_str_append(t, buf, (int)n);
  fclose(f);
  char *s = sqlite3_str_finish(t);
  return s ? s : sqlite3_mprintf("%s", "");
}

int tk_fuzz_import(const uint8_t *data, size_t size) {
  char path[512], again[512], third[512];
  snprintf(path, sizeof path, "%s/input.tsv", tk_fuzz_dir());
  snprintf(again, sizeof again, "%s/again.tsv", tk_fuzz_dir());
  snprintf(third, sizeof third, "%s/third.tsv", tk_fuzz_dir());
  FILE *f = fopen(path, "wb");
  if (!f) tk_fuzz_fail("import: cannot write %s", path);
  fwrite(data, 1, size, f);
  fclose(f);
  tk_cache *c = fresh(1);
  char *before = dump(c);
  const char *const files[] = {path};
  int64_t n = -1;
  tk_status s = tk_cache_import(c, files, 1, &n);
  if (s != TK_OK) {
    char want[600];
    snprintf(want, sizeof want, "cache: %s:", path);
    FZ_REQUIRE(s == TK_ERR_CACHE && strncmp(tk_last_error(), want, strlen(want)) == 0,
               "import: refused without file:line: %s: %s", tk_status_string(s), tk_last_error());
    char *after = dump(c);
    FZ_REQUIRE(!strcmp(before, after), "import: a refused file changed the cache");
    sqlite3_free(after);
  } else {
    FZ_REQUIRE(n >= 0, "import: %lld measurements", (long long)n);
    tk_cache *d = fresh(0);
    const char *const round[] = {again};
    FZ_REQUIRE(tk_cache_export(c, again, NULL) == TK_OK, "export: %s", tk_last_error());
    FZ_REQUIRE(tk_cache_import(d, round, 1, NULL) == TK_OK,
               "import: its own export was refused: %s", tk_last_error());
    FZ_REQUIRE(!tk_cache_import_warning(d)[0], "import: warning on its own export");
    FZ_REQUIRE(tk_cache_export(d, third, NULL) == TK_OK, "export: %s", tk_last_error());
    char *x = slurp(again), *y = slurp(third), *dc = dump(c), *dd = dump(d);
    FZ_REQUIRE(!strcmp(x, y), "import: export -> import -> export changed the file");
    FZ_REQUIRE(!strcmp(dc, dd), "import: export -> import changed the rows");
    sqlite3_free(x), sqlite3_free(y), sqlite3_free(dc), sqlite3_free(dd);
    tk_cache_close(d);
  }
  sqlite3_free(before);
  tk_cache_close(c);
  return 0;
}
