/* fuzz_suite.c: the suite and case-spec parser target. The input is up to
 * four suite files separated by lines "%%" (s0.suite .. s3.suite in a
 * scratch folder that is $TOKAMAX_SUITE_DIR, so "include s2" finds the
 * third). Loading s0 must either fail with a reason that names a file
 * and line (or a missing suite), or give at most TK_SUITE_MAX_CASES specs,
 * each of which parses again, is trimmed and comment-free. The first file
 * is also parsed as one spec: the same text parses the same way twice. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "regress/case_internal.h"
#include "tests/fuzz/fuzz.h"

#define FZ_SUITE_FILES 4

/* Writes the parts of data between "\n%%\n" separators to s0..s3.suite. */
static int write_parts(const char *dir, const uint8_t *data, size_t size) {
  static const char sep[] = "\n%%\n";
  size_t at = 0;
  int n = 0;
  for (; n < FZ_SUITE_FILES; n++) {
    char path[600];
    snprintf(path, sizeof path, "%s/s%d.suite", dir, n);
    const uint8_t *end = NULL;
    for (size_t i = at; i + 4 <= size && !end; i++)
      if (memcmp(data + i, sep, 4) == 0) end = data + i;
    size_t len = (end ? (size_t)(end - data) : size) - at;
    FILE *f = fopen(path, "wb");
    if (!f) tk_fuzz_fail("cannot write %s", path);
    fwrite(data + at, 1, len, f);
    fwrite("\n", 1, end ? 1 : 0, f);
    fclose(f);
    if (!end) return n + 1;
    at = (size_t)(end - data) + 4;
  }
  return n;
}

static void check_spec(const char *spec, int line) {
  tk_case_params p, q;
  char err[256];
  size_t n = strlen(spec);
  FZ_REQUIRE(n > 0 && !strchr(spec, '#') && spec[0] > ' ' && spec[n - 1] > ' ',
             "suite: spec of line %d is not trimmed: '%s'", line, spec);
  FZ_REQUIRE(line >= 1, "suite: spec '%s' has line %d", spec, line);
  FZ_REQUIRE(tk_case_spec_parse(spec, &p, err, sizeof err) == TK_OK,
             "suite: a loaded spec does not parse: '%s': %s", spec, err);
  FZ_REQUIRE(tk_case_spec_parse(spec, &q, err, sizeof err) == TK_OK && !memcmp(&p, &q, sizeof p),
             "suite: '%s' parses differently twice", spec);
}

int tk_fuzz_suite(const uint8_t *data, size_t size) {
  static char dir[512];
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "%s/suite", tk_fuzz_dir());
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) tk_fuzz_fail("cannot make %s", dir);
    setenv("TOKAMAX_SUITE_DIR", dir, 1);
  }
  for (int i = 0; i < FZ_SUITE_FILES; i++) {
    char path[600];
    snprintf(path, sizeof path, "%s/s%d.suite", dir, i);
    remove(path);
  }
  write_parts(dir, data, size);
  tk_suite s;
  char err[1024] = "";
  tk_status st = tk_suite_load("s0", &s, err, sizeof err);
  if (st == TK_OK) {
    FZ_REQUIRE(s.count >= 0 && s.count <= TK_SUITE_MAX_CASES, "suite: %d specs", s.count);
    for (int i = 0; i < s.count; i++) check_spec(s.specs[i], s.line_numbers[i]);
    tk_suite_free(&s);
  } else {
    FZ_REQUIRE(st == TK_ERR_INVALID_ARGUMENT || st == TK_ERR_OUT_OF_MEMORY,
               "suite: load gave %s: %s", tk_status_string(st), err);
    FZ_REQUIRE(strstr(err, ".suite:") || strstr(err, "not found") || strstr(err, "cannot open"),
               "suite: the error names no file and line: '%s'", err);
  }
  /* The first part as one spec, NUL-terminated where the input has one. */
  char spec[4096];
  size_t n = size < sizeof spec - 1 ? size : sizeof spec - 1;
  memcpy(spec, data, n);
  spec[n] = '\0';
  tk_case_params p, q;
  char e1[256] = "", e2[256] = "";
  tk_status a = tk_case_spec_parse(spec, &p, e1, sizeof e1);
  tk_status b = tk_case_spec_parse(spec, &q, e2, sizeof e2);
  FZ_REQUIRE(a == b && (a != TK_OK || !memcmp(&p, &q, sizeof p)) && !strcmp(e1, e2),
             "spec: parsing twice differs");
  FZ_REQUIRE(a == TK_OK || (a == TK_ERR_INVALID_ARGUMENT && e1[0]), "spec: %s without a reason",
             tk_status_string(a));
  if (a == TK_OK) FZ_REQUIRE(tk_op_name(p.op) != NULL, "spec: parsed op %d", (int)p.op);
  return 0;
}
