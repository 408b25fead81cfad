/* cache_import.c: reading export files into a database (import and merge),
 * all files in one transaction. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_db.h"
#include "runtime/status.h"

#define TK_MAX_FIELDS 14

/* One file being read: where it is, its format, the end marker's running
 * count and checksum, and the fields of the current line (unescaped in
 * place). */
typedef struct {
  tk_cache *c;
  const char *file;
  long line;
  int version;     /* the header's: 1 (no end marker) or 2 */
  int ended;       /* the end marker was read */
  int64_t rows;    /* record lines so far */
  uint64_t hash;   /* their checksum (tk_cache_fnv1a) */
  char *f[TK_MAX_FIELDS];
  int n;
  int64_t measurements;
} tk_reader;

static tk_status tk_bad(const tk_reader *r, const char *why, const char *what) {
  return tk_fail(TK_ERR_CACHE, "cache: %s:%ld: %s%s", r->file, r->line, why, what);
}

/* Splits line at tabs into r->f and unescapes each field. */
static tk_status tk_split(tk_reader *r, char *line) {
  r->n = tk_cache_split_fields(line, r->f, TK_MAX_FIELDS);
  if (r->n == -1) return tk_bad(r, "too many fields", "");
  if (r->n < 0) return tk_bad(r, "bad escape (known: \\\\ \\t \\n \\r)", "");
  return TK_OK;
}

/* Field i as a finite double >= 0 (or nan: unknown) into *out; what names
 * it in messages. */
static tk_status tk_time(const tk_reader *r, int i, const char *what, double *out) {
  if (!tk_cache_parse_double(r->f[i], 1, out)) return tk_bad(r, "not a number: ", r->f[i]);
  if (*out < 0) return tk_bad(r, what, r->f[i]);
  return TK_OK;
}

/* Field i as an int64 >= 0 into *out. */
static tk_status tk_count(const tk_reader *r, int i, const char *what, int64_t *out) {
  if (!tk_cache_parse_i64(r->f[i], out)) return tk_bad(r, "not an integer: ", r->f[i]);
  if (*out < 0) return tk_bad(r, what, r->f[i]);
  return TK_OK;
}

/* Fields 1..n of names (fingerprint, op, key, impl) must not be empty, and
 * field 2 (when n >= 2) must name an op. */
static tk_status tk_names(const tk_reader *r, int n) {
  tk_op op;
  for (int i = 1; i <= n; i++)
    if (!r->f[i][0]) return tk_bad(r, "empty name field", "");
  if (n >= 2 && tk_op_from_name(r->f[2], &op) != TK_OK) return tk_bad(r, "unknown op: ", r->f[2]);
  return TK_OK;
}

/* The id of the line's device (field 1), adding it with "{}" if the file
 * did not declare it. */
static tk_status tk_line_device(tk_reader *r, int64_t *id) {
  return tk_cache_device_upsert(r->c, r->f[1], NULL, tk_cache_now_us(), id);
}

/* D fingerprint description created_us */
static tk_status tk_read_device(tk_reader *r) {
  int64_t created = 0, id = 0;
  tk_status s = r->n == 4 ? tk_names(r, 1) : tk_bad(r, "a D line has 4 fields", "");
  if (s == TK_OK) s = tk_count(r, 3, "negative timestamp: ", &created);
  if (s == TK_OK) s = tk_cache_device_upsert(r->c, r->f[1], r->f[2], created, &id);
  return s;
}

/* M fingerprint op key impl config status reason median p20 p80 reps
 *   max_err measured_us: staged (cache_merge.c), stored after the last
 *   file if newer, and its key recomputed. */
static tk_status tk_read_measurement(tk_reader *r) {
  double t[3] = {0}, max_err = 0;
  int64_t reps = 0, when = 0, dev = 0;
  int res = r->n == 14 ? tk_cache_result_parse(r->f[6]) : 0;
  tk_status s = r->n == 14 ? tk_names(r, 4) : tk_bad(r, "an M line has 14 fields", "");
  if (s == TK_OK && res < 0) s = tk_bad(r, "unknown status: ", r->f[6]);
  for (int i = 0; s == TK_OK && i < 3; i++) s = tk_time(r, 8 + i, "negative time: ", &t[i]);
  if (s == TK_OK) s = tk_count(r, 11, "negative repetitions: ", &reps);
  if (s == TK_OK) s = tk_time(r, 12, "negative error: ", &max_err);
  if (s == TK_OK) s = tk_count(r, 13, "negative timestamp: ", &when);
  if (s == TK_OK) s = tk_line_device(r, &dev);
  if (s != TK_OK) return s;
  tk_cache_measurement m = {r->f[2], r->f[3], r->f[4], r->f[5], (tk_cache_result)res,
                            r->f[7], t[0],    t[1],    t[2],    reps,
                            max_err, when};
  r->measurements++;
  return tk_cache_stage_measurement(r->c, dev, r->f[1], &m, r->file);
}

/* B fingerprint op key impl config median updated_us: stored if newer. */
static tk_status tk_read_best(tk_reader *r) {
  double median = 0;
  int64_t when = 0, dev = 0;
  tk_status s = r->n == 8 ? tk_names(r, 4) : tk_bad(r, "a B line has 8 fields", "");
  if (s == TK_OK) s = tk_time(r, 6, "negative time: ", &median);
  if (s == TK_OK) s = tk_count(r, 7, "negative timestamp: ", &when);
  if (s == TK_OK) s = tk_line_device(r, &dev);
  if (s != TK_OK) return s;
  tk_cache_best b = {r->f[2], r->f[3], r->f[4], r->f[5], median, when};
  return tk_cache_put_best(r->c, dev, &b, 0);
}

/* E rows checksum: the end marker of format 2, matching what was read. */
static tk_status tk_read_end(tk_reader *r) {
  int64_t rows = -1;
  char want[17];
  snprintf(want, sizeof want, "%016" PRIx64, r->hash);
  if (r->n != 3) return tk_bad(r, "end marker: an E line has 3 fields", "");
  if (!tk_cache_parse_i64(r->f[1], &rows) || rows != r->rows) {
    char what[96];
    snprintf(what, sizeof what, "%s rows, but the file has %lld", r->f[1], (long long)r->rows);
    return tk_bad(r, "end marker: it counts ", what);
  }
  if (strcmp(r->f[2], want) != 0)
    return tk_bad(r, "end marker: checksum mismatch (the file was edited or damaged): ", r->f[2]);
  r->ended = 1;
  return TK_OK;
}

/* Checks the header line: the format name and a version we can read. */
static tk_status tk_read_header(tk_reader *r, char *line) {
  char *tab = strchr(line, '\t');
  int64_t v = 0;
  if (!tab || tab - line != 13 || strncmp(line, "tokamax-cache", 13) != 0 ||
      !tk_cache_parse_i64(tab + 1, &v) || v < 1)
    return tk_bad(r, "not a tokamax cache export (no \"tokamax-cache<TAB>version\" header)", "");
  if (v > TK_CACHE_FORMAT_VERSION) {
    char what[256];
    snprintf(what, sizeof what,
             "%lld is newer than this library's %d (written by a newer tokamax: read it "
             "with that version, or export it again from there)",
             (long long)v, TK_CACHE_FORMAT_VERSION);
    return tk_bad(r, "export format version ", what);
  }
  r->version = (int)v;
  return TK_OK;
}

/* One line without its newline (raw: the bytes the checksum covers, len
 * of them with the newline). */
static tk_status tk_read_line(tk_reader *r, char *line, size_t len) {
  if (r->line == 1) return tk_read_header(r, line);
  if (r->ended) return tk_bad(r, "a line after the end marker", "");
  int end = r->version >= 2 && line[0] == 'E' && line[1] == '\t';
  if (!end) {
    line[len - 1] = '\n'; /* the checksum covers the newline */
    r->hash = tk_cache_fnv1a(r->hash, line, len);
    line[len - 1] = '\0';
    r->rows++;
  }
  tk_status s = tk_split(r, line);
  if (s != TK_OK) return s;
  if (end) return tk_read_end(r);
  if (!strcmp(r->f[0], "D")) return tk_read_device(r);
  if (!strcmp(r->f[0], "M")) return tk_read_measurement(r);
  if (!strcmp(r->f[0], "B")) return tk_read_best(r);
  return tk_bad(r, "unknown record type: ", r->f[0]);
}

/* Notes a warning for tk_cache_import_warning (several are joined). */
static void tk_warn(tk_cache *c, const char *file, const char *what) {
  size_t used = strlen(c->import_warning);
  snprintf(c->import_warning + used, sizeof c->import_warning - used, "%s%s: %s",
           used ? "; " : "", file, what);
}

/* Reads one file into the open transaction. */
static tk_status tk_read_file(tk_reader *r, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return tk_fail(TK_ERR_CACHE, "cache: cannot read %s: %s", path, strerror(errno));
  r->file = path;
  r->line = 0;
  r->version = 0;
  r->ended = 0;
  r->rows = 0;
  r->hash = TK_CACHE_FNV_BASIS;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  tk_status s = TK_OK;
  while (s == TK_OK && (len = getline(&line, &cap, f)) >= 0) {
    r->line++;
    if (len == 0 || line[len - 1] != '\n')
      s = tk_bad(r, "truncated: the line has no newline (the file is cut)", "");
    else if (memchr(line, '\r', (size_t)len))
      s = tk_bad(r, "carriage return in the line (CRLF line endings: the file was converted)", "");
    else if ((size_t)len != strlen(line))
      s = tk_bad(r, "NUL byte in line", "");
    if (s != TK_OK) break;
    line[len - 1] = '\0';
    s = tk_read_line(r, line, (size_t)len);
  }
  if (s == TK_OK && ferror(f)) s = tk_fail(TK_ERR_CACHE, "cache: reading %s failed", path);
  if (s == TK_OK && r->line == 0) s = tk_fail(TK_ERR_CACHE, "cache: %s:1: empty file", path);
  if (s == TK_OK && r->version >= 2 && !r->ended) {
    r->line++;
    s = tk_bad(r, "truncated: the file ends without its end marker (E line)", "");
  }
  if (s == TK_OK && r->version == 1)
    tk_warn(r->c, path, "export format 1 has no end marker: it cannot be checked for truncation");
  free(line);
  fclose(f);
  return s;
}

/* Recomputes the best of every key an imported measurement touched, then
 * forgets them. */
static tk_status tk_recompute_touched(tk_cache *c) {
  sqlite3_stmt *st = c->st[TK_SQL_TOUCHED_EACH];
  tk_status s, r = TK_OK;
  while (r == TK_OK && tk_cache_step(c, st, "reading imported keys", &s) == SQLITE_ROW)
    r = tk_cache_recompute_in_tx(c, sqlite3_column_int64(st, 0), tk_cache_col_text(st, 1),
                                 tk_cache_col_text(st, 2), NULL);
  tk_cache_done(st);
  if (r != TK_OK) return r;
  return s == TK_OK ? tk_cache_run(c, TK_SQL_TOUCHED_CLEAR, "forgetting imported keys") : s;
}

tk_status tk_cache_import(tk_cache *c, const char *const *paths, int n, int64_t *imported) {
  if (!c || (n > 0 && !paths) || n < 0)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: import: bad arguments");
  tk_reader r = {.c = c};
  c->import_warning[0] = '\0';
  /* Outside the transaction, so a failed import leaves no old conflicts. */
  tk_status s = tk_cache_stage_reset(c);
  if (s == TK_OK) s = tk_cache_begin(c, 1);
  else return s;
  for (int i = 0; s == TK_OK && i < n; i++)
    s = paths[i] ? tk_read_file(&r, paths[i])
                 : tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: import: NULL path");
  if (s == TK_OK) s = tk_cache_apply_staged(c);
  if (s == TK_OK) s = tk_recompute_touched(c);
  s = s == TK_OK ? tk_cache_commit(c) : tk_cache_rollback(c, s);
  if (s == TK_OK && imported) *imported = r.measurements;
  return s;
}

const char *tk_cache_import_warning(const tk_cache *c) { return c ? c->import_warning : ""; }
