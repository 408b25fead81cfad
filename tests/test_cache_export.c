/* test_cache_export.c: the export file's integrity (format 2, issue 17):
 * a versioned header and an end marker with the row count and a checksum.
 * A file cut at any byte, converted to CRLF, or edited does not import;
 * unknown ops, non-finite and negative values are refused with file:line;
 * a format-1 file (no marker) still imports, with a warning, unless its
 * last line is cut. Nothing of a refused file reaches the database. */
#include <time.h>

#include "tests/test_cache_util.h"

/* Writes text (len bytes) to the file at path. */
static void put(const char *path, const char *text, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f) fwrite(text, 1, len, f), fclose(f);
}

/* The file at path as a NUL-terminated string (caller frees); *len its size. */
static char *get(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t n = 0, cap = 0;
  while (f) {
    if (n + 4096 + 1 > cap && !(buf = realloc(buf, cap = 2 * cap + 8192))) break;
    size_t got = fread(buf + n, 1, 4096, f);
    if (!got) break;
    n += got;
  }
  if (f) fclose(f);
  if (buf) buf[n] = '\0';
  *len = n;
  return buf;
}

/* A small cache with devices, ok/failed measurements and best rows. */
static tk_cache *filled(const char *name) {
  tk_cache *c = NULL;
  CHECK_OK(tk_cache_open(tc_path(name), TK_CACHE_CREATE, 0, &c));
  if (!c) return NULL;
  int64_t dev = 0;
  CHECK_OK(tk_cache_device_id(c, "cpu:export-test", "{\"note\":\"tab\\there\"}", &dev));
  for (int k = 0; k < 3; k++) {
    char key[64];
    snprintf(key, sizeof key, "grouped_gemm:M=%d\tN=%d", 100 + k, k);
    for (int i = 0; i < 3; i++) {
      char cfg[16];
      snprintf(cfg, sizeof cfg, "b=%d", i);
      tk_cache_measurement m = tc_measurement("grouped_gemm", key, "cpu", cfg);
      if (i == 2) m.result = TK_CACHE_RESULT_FAILED, m.reason = "no\nmemory", m.median_ns = NAN;
      CHECK_OK(tk_cache_record(c, dev, &m));
    }
    CHECK_OK(tk_cache_recompute_best(c, dev, "grouped_gemm", key, NULL));
  }
  return c;
}

/* Imports the file at path into c; the status, with the message in err. */
static tk_status import1(tk_cache *c, const char *path) {
  const char *const files[] = {path};
  return tk_cache_import(c, files, 1, NULL);
}

/* The export is format 2 and ends with its marker; a copy cut at any byte
 * before its end is refused, and the database is unchanged. */
static void test_truncation(void) {
  tk_cache *src = filled("src.db"), *dst = filled("dst.db");
  if (!src || !dst) return;
  const char *full = tc_path("full.tsv"), *cut = tc_path("cut.tsv");
  CHECK_OK(tk_cache_export(src, full, NULL));
  size_t len = 0;
  char *text = get(full, &len);
  CHECK(text && !strncmp(text, "tokamax-cache\t2\n", 16), "header of format 2");
  const char *last = text ? strrchr(text, 'E') : NULL;
  CHECK(last && last[-1] == '\n' && !strncmp(last, "E\t", 2) && text[len - 1] == '\n',
        "the file ends with an E line");
  char *before = tc_dump(dst);
  int accepted = 0;
  for (size_t n = 0; text && n < len; n++) {
    put(cut, text, n);
    tk_status s = import1(dst, cut);
    if (s == TK_OK) {
      accepted++;
      fprintf(stderr, "cut at byte %zu of %zu imported\n", n, len);
    } else if (n > 16) {
      CHECK(strstr(tk_last_error(), "cut.tsv:") != NULL, "cut at %zu: no file:line: %s", n,
            tk_last_error());
    }
  }
  CHECK(accepted == 0, "%d truncated copies imported", accepted);
  char *after = tc_dump(dst);
  CHECK(before && after && !strcmp(before, after), "a refused import changed the db");
  CHECK_OK(import1(dst, full));
  CHECK(!tk_cache_import_warning(dst)[0], "a format-2 file gives no warning: %s",
        tk_cache_import_warning(dst));
  free(text), free(before), free(after);
  tk_cache_close(src), tk_cache_close(dst);
}

/* Replaces the first occurrence of from in s (which has room) by to. */
static void replace(char *s, const char *from, const char *to) {
  char *p = strstr(s, from);
  if (!p) return;
  memmove(p + strlen(to), p + strlen(from), strlen(p + strlen(from)) + 1);
  memcpy(p, to, strlen(to));
}

/* CRLF conversion, a changed value, a dropped or added line, lines after
 * the marker: refused with file:line and the reason. */
static void test_damage(void) {
  tk_cache *src = filled("dsrc.db"), *dst = filled("ddst.db");
  if (!src || !dst) return;
  const char *full = tc_path("good.tsv"), *bad = tc_path("bad.tsv");
  CHECK_OK(tk_cache_export(src, full, NULL));
  size_t len = 0;
  char *text = get(full, &len);
  if (!text) return;
  char *work = malloc(2 * len + 256);
  /* CRLF: every "\n" becomes "\r\n". */
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (text[i] == '\n') work[o++] = '\r';
    work[o++] = text[i];
  }
  put(bad, work, o);
  CHECK(import1(dst, bad) == TK_ERR_CACHE && strstr(tk_last_error(), "bad.tsv:1:") &&
            strstr(tk_last_error(), "CRLF"),
        "CRLF: %s", tk_last_error());
  struct {
    const char *what, *from, *to, *why;
  } edits[] = {
      {"a changed digit", "\tcpu\tb=0\tok\t\t", "\tcpu\tb=0\tok\t\t9", "checksum"},
      {"an unknown record type", "\nM\t", "\nX\t", "record type"},
      {"a dropped line", "\nM\t", "", "end marker"},
      {"a line after the marker", NULL, "B\tcpu:x\tattention\tk\tcpu\t\t1\t2\n", "after the end"},
  };
  for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
    memcpy(work, text, len + 1);
    if (!edits[i].from) {
      strcat(work, edits[i].to);
    } else if (!edits[i].to[0]) { /* drop the line from's newline starts */
      char *p = strstr(work, edits[i].from), *q = p ? strchr(p + 1, '\n') : NULL;
      if (q) memmove(p, q, strlen(q) + 1);
    } else {
      replace(work, edits[i].from, edits[i].to);
    }
    put(bad, work, strlen(work));
    tk_status s = import1(dst, bad);
    CHECK(s == TK_ERR_CACHE && strstr(tk_last_error(), "bad.tsv:") &&
              strstr(tk_last_error(), edits[i].why),
          "%s: %s: %s", edits[i].what, tk_status_string(s), tk_last_error());
  }
  /* The marker's own fields. */
  char *e = strrchr(text, 'E');
  const char *markers[] = {"E\t999\t", "E\t1\t2\t3\n", "E\tx\t0\n"};
  for (size_t i = 0; e && i < 3; i++) {
    memcpy(work, text, (size_t)(e - text));
    strcpy(work + (e - text), markers[i]);
    if (i == 0) strcat(work, e + strcspn(e + 2, "\t") + 3);
    put(bad, work, strlen(work));
    CHECK(import1(dst, bad) == TK_ERR_CACHE && strstr(tk_last_error(), "end marker"),
          "marker %zu: %s", i, tk_last_error());
  }
  free(work), free(text);
  tk_cache_close(src), tk_cache_close(dst);
}

/* Values no export writes: refused with file:line and what is wrong. The
 * lines are format 1 (no marker to keep consistent), so each value is the
 * only thing wrong. */
static void test_values(void) {
  tk_cache *c = filled("vals.db");
  if (!c) return;
  const char *head = "tokamax-cache\t1\nD\tcpu:v\t{}\t5\n";
  struct {
    const char *line, *why;
  } bad[] = {
      {"M\tcpu:v\twarp\tk\tcpu\tb=1\tok\t\t10\t9\t11\t5\t0.001\t7\n", "unknown op"},
      {"B\tcpu:v\tmatmul\tk\tcpu\tb=1\t10\t7\n", "unknown op"},
      {"M\tcpu:v\tattention\tk\tcpu\tb=1\tok\t\tinf\t9\t11\t5\t0.001\t7\n", "not a number"},
      {"M\tcpu:v\tattention\tk\tcpu\tb=1\tok\t\t10\t-inf\t11\t5\t0.001\t7\n", "not a number"},
      {"M\tcpu:v\tattention\tk\tcpu\tb=1\tok\t\t10\t9\tinfinity\t5\t0.001\t7\n", "not a number"},
      {"M\tcpu:v\tattention\tk\tcpu\tb=1\tok\t\t1e999\t9\t11\t5\t0.001\t7\n", "not a number"},
      {"M\tcpu:v\tattention\tk\tcpu\tb=1\tok\t\t0x10\t9\t11\t5\t0.001\t7\n", "not a number"},
      {"M\tcpu:v\tattention\tk\tcpu\tb=1\tok\t\t 10\t9\t11\t5\t0.001\t7\n", "not a number"},
      {"M\tcpu:v\tattention\tk\tcpu\tb=1\tok\t\t10\t9\t11\t-5\t0.001\t7\n", "negative"},
      {"M\tcpu:v\tattention\tk\tcpu\tb=1\tok\t\t10\t9\t11\t+5\t0.001\t7\n", "not an integer"},
      {"M\tcpu:v\tattention\tk\tcpu\tb=1\tok\t\t10\t9\t11\t5\t0.001\t-7\n", "negative"},
      {"M\tcpu:v\tattention\tk\tcpu\tb=1\tok\t\t-10\t9\t11\t5\t0.001\t7\n", "negative"},
      {"M\tcpu:v\tattention\tk\tcpu\tb=1\tok\t\t10\t9\t11\t5\t-0.5\t7\n", "negative"},
      {"B\tcpu:v\tattention\tk\tcpu\tb=1\t10\t-1\n", "negative"},
      {"D\tcpu:w\t{}\t-5\n", "negative"},
      {"M\tcpu:v\tattention\tk\tcpu\tb=1\tok\t\t10\t9\t11\t5\t0.001\t99999999999999999999\n",
       "not an integer"},
  };
  char *before = tc_dump(c);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[512];
    snprintf(text, sizeof text, "%s%s", head, bad[i].line);
    const char *file = tc_path("value.tsv");
    put(file, text, strlen(text));
    tk_status s = import1(c, file);
    CHECK(s == TK_ERR_CACHE && strstr(tk_last_error(), "value.tsv:3:") &&
              strstr(tk_last_error(), bad[i].why),
          "case %zu (%s): %s: %s", i, bad[i].why, tk_status_string(s), tk_last_error());
  }
  char *after = tc_dump(c);
  CHECK(before && after && !strcmp(before, after), "a refused import changed the db");
  free(before), free(after);
  tk_cache_close(c);
}

/* A format-1 file (what older libraries wrote) imports, with a warning
 * naming it; one whose last line lost its end is refused. */
static void test_format1(void) {
  tk_cache *c = filled("v1.db");
  if (!c) return;
  const char *v1 =
      "tokamax-cache\t1\nD\tcpu:old\t{}\t5\n"
      "M\tcpu:old\tattention\tk\tcpu\tb=1\tok\t\t10\t9\t11\t5\t0.001\t7\n"
      "M\tcpu:old\tattention\tk\tcpu\tb=2\tfailed\tno\\nmemory\tnan\tnan\tnan\t0\tnan\t8\n"
      "B\tcpu:old\tattention\tk\tcpu\tb=1\t10\t7\n";
  const char *file = tc_path("old.tsv");
  put(file, v1, strlen(v1));
  int64_t n = 0;
  const char *const files[] = {file};
  CHECK_OK(tk_cache_import(c, files, 1, &n));
  CHECK(n == 2, "imported %lld measurements of a format-1 file", (long long)n);
  const char *w = tk_cache_import_warning(c);
  CHECK(strstr(w, "old.tsv") && strstr(w, "format 1") && strstr(w, "end marker"),
        "warning: '%s'", w);
  CHECK(tc_sql_int(tc_path("v1.db"), "SELECT count(*) FROM measurements m JOIN devices d ON "
                                     "d.id = m.device WHERE d.fingerprint = 'cpu:old'") == 2,
        "the format-1 rows are in");
  /* Cut inside its last number: the line has no newline. */
  put(file, v1, strlen(v1) - 2);
  tk_status s = tk_cache_import(c, files, 1, NULL);
  CHECK(s == TK_ERR_CACHE && strstr(tk_last_error(), "old.tsv:5:") &&
            strstr(tk_last_error(), "truncated"),
        "format 1 cut: %s: %s", tk_status_string(s), tk_last_error());
  /* Merging old files writes format 2 with its marker. */
  put(file, v1, strlen(v1));
  const char *merged = tc_path("merged.tsv");
  CHECK_OK(tk_cache_export(c, merged, "cpu:old"));
  size_t len = 0;
  char *text = get(merged, &len);
  CHECK(text && !strncmp(text, "tokamax-cache\t2\n", 16) && strstr(text, "\nE\t4\t"),
        "re-exported as format 2 with 4 rows: %s", text ? text : "");
  free(text);
  tk_cache_close(c);
}

int main(void) {
  srand((unsigned)time(NULL));
  tc_make_dir();
  test_truncation();
  test_damage();
  test_values();
  test_format1();
  tc_remove_dir();
  TK_TEST_END();
}
