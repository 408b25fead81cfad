/* suite.c: reading a suite file (one case spec per line, '#' comments,
 * includes taken in once each), found by path or by name, every line
 * checked to parse, the expansion capped. */
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
#define MAX_LINE 4096

/* One load: the suite being filled, and the files already taken in (by
 * canonical path), each read once however often it is included. */
typedef struct {
  tk_suite *s;
  char **seen;
  int n_seen;
  char *err;
  size_t err_len;
} loader;

/* 1 if canonical path p was taken in already, else notes it (0; -1 when
 * out of memory). */
static int seen_before(loader *L, const char *p) {
  for (int i = 0; i < L->n_seen; i++)
    if (strcmp(L->seen[i], p) == 0) return 1;
  char **seen = realloc(L->seen, sizeof(char *) * (size_t)(L->n_seen + 1));
  if (!seen) return -1;
  L->seen = seen;
  if (!(L->seen[L->n_seen] = strdup(p))) return -1;
  L->n_seen++;
  return 0;
}

static tk_status load_file(loader *L, const char *path, int depth);

/* An "include NAME" line (number of file path): the specs of suite NAME,
 * unless taken in already. */
static tk_status include(loader *L, const char *path, int number, const char *name, int depth) {
  if (depth >= MAX_INCLUDE_DEPTH)
    return tk_case_err(TK_ERR_INVALID_ARGUMENT, L->err, L->err_len,
                       "%s:%d: includes nest deeper than %d", path, number, MAX_INCLUDE_DEPTH);
  char *inner = resolve(name);
  tk_status st = inner ? load_file(L, inner, depth + 1)
                       : tk_case_err(TK_ERR_INVALID_ARGUMENT, L->err, L->err_len,
                                     "suite '%s' not found", name);
  free(inner);
  if (st == TK_OK) return st;
  char why[512];
  snprintf(why, sizeof why, "%s", L->err ? L->err : "");
  return tk_case_err(st, L->err, L->err_len, "%s:%d: include %s: %s", path, number, name, why);
}

/* One line of file path (number), comments and spaces still in it. */
static tk_status read_line(loader *L, const char *path, int number, char *line, int depth) {
  char *hash = strchr(line, '#');
  if (hash) *hash = '\0';
  char *b = line, *e = line + strlen(line);
  while (isspace((unsigned char)*b)) b++;
  while (e > b && isspace((unsigned char)e[-1])) *--e = '\0';
  if (*b == '\0') return TK_OK;
  if (strncmp(b, "include", 7) == 0 && isspace((unsigned char)b[7])) {
    char *name = b + 8;
    while (isspace((unsigned char)*name)) name++;
    return include(L, path, number, name, depth);
  }
  tk_case_params p;
  char why[256];
  if (tk_case_spec_parse(b, &p, why, sizeof why) != TK_OK)
    return tk_case_err(TK_ERR_INVALID_ARGUMENT, L->err, L->err_len, "%s:%d: %s", path, number, why);
  if (L->s->count >= TK_SUITE_MAX_CASES)
    return tk_case_err(TK_ERR_INVALID_ARGUMENT, L->err, L->err_len,
                       "%s:%d: the suite expands to more than %d cases", path, number,
                       TK_SUITE_MAX_CASES);
  if (!append(L->s, b, number))
    return tk_case_err(TK_ERR_OUT_OF_MEMORY, L->err, L->err_len, "out of memory");
  return TK_OK;
}

/* Reads every line of the suite file at path (an existing file) into the
 * load, checking each spec parses; nothing when it was taken in before. */
static tk_status load_file(loader *L, const char *path, int depth) {
  char *canon = realpath(path, NULL);
  int seen = canon ? seen_before(L, canon) : -1;
  free(canon);
  if (seen < 0) return tk_case_err(TK_ERR_OUT_OF_MEMORY, L->err, L->err_len, "out of memory");
  if (seen) return TK_OK;
  FILE *f = fopen(path, "r");
  if (!f) return tk_case_err(TK_ERR_INVALID_ARGUMENT, L->err, L->err_len, "%s: cannot open", path);
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int number = 0;
  tk_status st = TK_OK;
  while (st == TK_OK && (len = getline(&line, &cap, f)) >= 0) {
    number++;
    if (len > MAX_LINE)
      st = tk_case_err(TK_ERR_INVALID_ARGUMENT, L->err, L->err_len,
                       "%s:%d: line too long (over %d bytes)", path, number, MAX_LINE);
    else if ((size_t)len != strlen(line))
      st = tk_case_err(TK_ERR_INVALID_ARGUMENT, L->err, L->err_len, "%s:%d: NUL byte in the line",
                       path, number);
    else
      st = read_line(L, path, number, line, depth);
  }
  if (st == TK_OK && ferror(f))
    st = tk_case_err(TK_ERR_INVALID_ARGUMENT, L->err, L->err_len, "%s: read error", path);
  free(line);
  fclose(f);
  return st;
}

tk_status tk_suite_load(const char *name_or_path, tk_suite *s, char *err, size_t err_len) {
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
  loader L = {s, NULL, 0, err, err_len};
  tk_status st = load_file(&L, s->path, 0);
  for (int i = 0; i < L.n_seen; i++) free(L.seen[i]);
  free(L.seen);
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
