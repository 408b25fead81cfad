/* suite.c: reading a suite file (one case spec per line, '#' comments),
 * found by path or by name, every line checked to parse. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "regress/case_internal.h"

/* 1 if path names a regular file. */
static int is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Resolves name_or_path: an existing file, else $TOKAMAX_SUITE_DIR/<name>.suite,
 * else the source tree's regress/suites/<name>.suite. NULL if none exists. */
static char *resolve(const char *name) {
  char buf[4096];
  if (is_file(name)) return strdup(name);
  const char *dir = getenv("TOKAMAX_SUITE_DIR");
  if (dir && *dir) {
    snprintf(buf, sizeof buf, "%s/%s.suite", dir, name);
    if (is_file(buf)) return strdup(buf);
  }
  snprintf(buf, sizeof buf, "%s/regress/suites/%s.suite", TK_SOURCE_DIR, name);
  return is_file(buf) ? strdup(buf) : NULL;
}

/* Appends a spec line to s; returns 0 when out of memory. */
static int append(tk_suite *s, const char *spec, int line) {
  char **specs = realloc(s->specs, sizeof(char *) * (size_t)(s->count + 1));
  if (specs) s->specs = specs;
  int *lines = realloc(s->line_numbers, sizeof(int) * (size_t)(s->count + 1));
  if (lines) s->line_numbers = lines;
  char *copy = specs && lines ? strdup(spec) : NULL;
  if (!copy) return 0;
  s->specs[s->count] = copy;
  s->line_numbers[s->count++] = line;
  return 1;
}

#define MAX_INCLUDE_DEPTH 8

static tk_status load(const char *name_or_path, tk_suite *s, char *err, size_t err_len, int depth);

/* Appends the specs of the suite `name` (an "include NAME" line). */
static tk_status include(tk_suite *s, const char *name, int number, char *err, size_t err_len,
                         int depth) {
  if (depth >= MAX_INCLUDE_DEPTH)
    return tk_case_err(TK_ERR_INVALID_ARGUMENT, err, err_len, "%s:%d: includes nest deeper than %d",
                       s->path, number, MAX_INCLUDE_DEPTH);
  tk_suite inner;
  char why[512];
  tk_status st = load(name, &inner, why, sizeof why, depth + 1);
  if (st != TK_OK)
    return tk_case_err(st, err, err_len, "%s:%d: include %s: %s", s->path, number, name, why);
  for (int i = 0; i < inner.count && st == TK_OK; i++)
    if (!append(s, inner.specs[i], inner.line_numbers[i]))
      st = tk_case_err(TK_ERR_OUT_OF_MEMORY, err, err_len, "out of memory");
  tk_suite_free(&inner);
  return st;
}

/* Reads every line of f into s, checking each spec parses. */
static tk_status read_lines(FILE *f, tk_suite *s, char *err, size_t err_len, int depth) {
  char line[4096];
  int number = 0;
  while (fgets(line, sizeof line, f)) {
    number++;
    size_t n = strlen(line);
    if (n == sizeof line - 1 && line[n - 1] != '\n' && !feof(f))
      return tk_case_err(TK_ERR_INVALID_ARGUMENT, err, err_len, "%s:%d: line too long", s->path, number);
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *b = line, *e = line + strlen(line);
    while (isspace((unsigned char)*b)) b++;
    while (e > b && isspace((unsigned char)e[-1])) *--e = '\0';
    if (*b == '\0') continue;
    if (strncmp(b, "include", 7) == 0 && isspace((unsigned char)b[7])) {
      char *name = b + 8;
      while (isspace((unsigned char)*name)) name++;
      tk_status st = include(s, name, number, err, err_len, depth);
      if (st != TK_OK) return st;
      continue;
    }
    tk_case_params p;
    char why[256];
    if (tk_case_spec_parse(b, &p, why, sizeof why) != TK_OK)
      return tk_case_err(TK_ERR_INVALID_ARGUMENT, err, err_len, "%s:%d: %s", s->path, number, why);
    if (!append(s, b, number)) return tk_case_err(TK_ERR_OUT_OF_MEMORY, err, err_len, "out of memory");
  }
  if (ferror(f)) return tk_case_err(TK_ERR_INVALID_ARGUMENT, err, err_len, "%s: read error", s->path);
  return TK_OK;
}

tk_status tk_suite_load(const char *name_or_path, tk_suite *s, char *err, size_t err_len) {
  return load(name_or_path, s, err, err_len, 0);
}

static tk_status load(const char *name_or_path, tk_suite *s, char *err, size_t err_len, int depth) {
  memset(s, 0, sizeof *s);
  if (!name_or_path || !*name_or_path)
    return tk_case_err(TK_ERR_INVALID_ARGUMENT, err, err_len, "no suite name given");
  s->path = resolve(name_or_path);
  if (!s->path) {
    const char *dir = getenv("TOKAMAX_SUITE_DIR");
    return tk_case_err(TK_ERR_INVALID_ARGUMENT, err, err_len,
               "suite '%s' not found: no such file, nor %s/%s.suite, nor %s/regress/suites/%s.suite",
               name_or_path, dir && *dir ? dir : "$TOKAMAX_SUITE_DIR", name_or_path, TK_SOURCE_DIR,
               name_or_path);
  }
  FILE *f = fopen(s->path, "r");
  if (!f) {
    tk_status st = tk_case_err(TK_ERR_INVALID_ARGUMENT, err, err_len, "%s: cannot open", s->path);
    tk_suite_free(s);
    return st;
  }
  tk_status st = read_lines(f, s, err, err_len, depth);
  fclose(f);
  if (st != TK_OK) tk_suite_free(s);
  return st;
}

void tk_suite_free(tk_suite *s) {
  if (!s) return;
  for (int i = 0; i < s->count; i++) free(s->specs[i]);
  free(s->specs);
  free(s->line_numbers);
  free(s->path);
  memset(s, 0, sizeof *s);
}
