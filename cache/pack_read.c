/* pack_read.c: parsing a tuned pack, all or nothing (format in
 * docs/cache.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_text.h"
#include "cache/pack.h"
#include "runtime/status.h"

#define TK_PACK_MAX_BYTES (64ll << 20)
#define TK_PACK_FIELDS 9

/* The header fields, in the order a pack holds them. */
static const char *const tk_header_names[] = {"command", "library", "fingerprint",
                                              "class",   "suite",   "created"};
enum { TK_HEADER_FIELDS = 6 };

/* The pack being built: the copy of the text its strings point into. */
typedef struct {
  tk_pack pub;
  char *text;
  tk_pack_entry *entries;
  int cap;
} tk_pack_owned;

void tk_pack_free(tk_pack *p) {
  if (!p) return;
  tk_pack_owned *o = (tk_pack_owned *)p;
  free(o->text);
  free(o->entries);
  free(o);
}

static tk_status tk_bad(const char *name, long line, const char *why, const char *what) {
  return tk_fail(TK_ERR_CACHE, "pack: %s:%ld: %s%s", name, line, why, what);
}

/* The version line "tokamax-pack<TAB>N": a version this library reads. */
static tk_status tk_version_line(char *line, const char *name) {
  char *tab = strchr(line, '\t');
  int64_t v = 0;
  if (!tab || tab - line != 12 || strncmp(line, "tokamax-pack", 12) != 0 ||
      !tk_cache_parse_i64(tab + 1, &v) || v < 1)
    return tk_bad(name, 1, "not a tuned pack (no \"tokamax-pack<TAB>version\" header)", "");
  if (v > TK_PACK_FORMAT_VERSION) {
    char what[160];
    snprintf(what, sizeof what, "%lld is newer than this library's %d (made for a newer tokamax)",
             (long long)v, TK_PACK_FORMAT_VERSION);
    return tk_bad(name, 1, "pack format version ", what);
  }
  return TK_OK;
}

/* A time field: a finite plain decimal >= 0, or "nan" when nan_ok. */
static tk_status tk_ns(const char *s, int nan_ok, const char *name, long line, double *out) {
  if (!tk_cache_parse_double(s, nan_ok, out)) return tk_bad(name, line, "not a time: ", s);
  if (*out < 0) return tk_bad(name, line, "negative time: ", s);
  return TK_OK;
}

/* C op key impl config median p20 p80 reps. */
static tk_status tk_entry_line(tk_pack_owned *o, char **f, int n, const char *name, long line) {
  tk_pack_entry e = {0};
  tk_op op;
  if (n != TK_PACK_FIELDS) return tk_bad(name, line, "a C line has 9 fields", "");
  for (int i = 1; i <= 3; i++) /* op, key, impl; a config may be "" (an empty space) */
    if (!f[i][0]) return tk_bad(name, line, "empty name field", "");
  if (tk_op_from_name(f[1], &op) != TK_OK) return tk_bad(name, line, "unknown op: ", f[1]);
  tk_status s = tk_ns(f[5], 0, name, line, &e.median_ns);
  if (s == TK_OK) s = tk_ns(f[6], 1, name, line, &e.p20_ns);
  if (s == TK_OK) s = tk_ns(f[7], 1, name, line, &e.p80_ns);
  if (s == TK_OK && (!tk_cache_parse_i64(f[8], &e.reps) || e.reps < 0))
    s = tk_bad(name, line, "not a count: ", f[8]);
  if (s != TK_OK) return s;
  for (int i = 0; i < o->pub.n; i++)
    if (!strcmp(o->entries[i].op, f[1]) && !strcmp(o->entries[i].problem_key, f[2]))
      return tk_bad(name, line, "a key listed twice: ", f[2]);
  if (o->pub.n == o->cap) {
    int cap = o->cap ? 2 * o->cap : 64;
    tk_pack_entry *grown = realloc(o->entries, (size_t)cap * sizeof *grown);
    if (!grown) return tk_fail(TK_ERR_OUT_OF_MEMORY, "pack: %s: out of memory", name);
    o->entries = grown;
    o->cap = cap;
  }
  e.op = f[1], e.problem_key = f[2], e.impl = f[3], e.config = f[4];
  o->entries[o->pub.n++] = e;
  return TK_OK;
}

/* E rows checksum: matching the lines read. */
static tk_status tk_end_line(char **f, int n, int64_t rows, uint64_t hash, const char *name,
                             long line) {
  int64_t want = -1;
  char sum[17];
  snprintf(sum, sizeof sum, "%016" PRIx64, hash);
  if (n != 3) return tk_bad(name, line, "end marker: an E line has 3 fields", "");
  if (!tk_cache_parse_i64(f[1], &want) || want != rows)
    return tk_bad(name, line, "end marker: the row count does not match: ", f[1]);
  if (strcmp(f[2], sum) != 0)
    return tk_bad(name, line, "end marker: checksum mismatch (the pack was edited or damaged): ",
                  f[2]);
  return TK_OK;
}

/* Parses o->text (len bytes, NUL-terminated copy) line by line. */
static tk_status tk_parse_lines(tk_pack_owned *o, size_t len, const char *name) {
  const char **header[TK_HEADER_FIELDS] = {&o->pub.command,     &o->pub.library,
                                           &o->pub.fingerprint, &o->pub.device_class,
                                           &o->pub.suite,       &o->pub.created};
  char *f[TK_PACK_FIELDS + 1];
  int64_t rows = 0;
  uint64_t hash = TK_CACHE_FNV_BASIS;
  int ended = 0;
  long line = 0;
  tk_status s = TK_OK;
  for (char *p = o->text, *end = o->text + len; s == TK_OK && p < end;) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    line++;
    if (!nl) return tk_bad(name, line, "truncated: the line has no newline (the pack is cut)", "");
    size_t n = (size_t)(nl - p);
    if (memchr(p, '\r', n)) return tk_bad(name, line, "carriage return in the line", "");
    if (memchr(p, '\0', n)) return tk_bad(name, line, "NUL byte in the line", "");
    if (ended) return tk_bad(name, line, "a line after the end marker", "");
    int is_end = line > 1 && n >= 2 && p[0] == 'E' && p[1] == '\t';
    if (line > 1 && !is_end) {
      hash = tk_cache_fnv1a(hash, p, n + 1);
      rows++;
    }
    *nl = '\0';
    char *text = p;
    p = nl + 1;
    if (line == 1) {
      s = tk_version_line(text, name);
      continue;
    }
    int nf = tk_cache_split_fields(text, f, TK_PACK_FIELDS + 1);
    if (nf == -2) return tk_bad(name, line, "bad escape (known: \\\\ \\t \\n \\r)", "");
    if (nf < 0) return tk_bad(name, line, "too many fields", "");
    if (is_end) {
      if (line - 2 < TK_HEADER_FIELDS) return tk_bad(name, line, "the header is incomplete", "");
      s = tk_end_line(f, nf, rows, hash, name, line);
      ended = 1;
    } else if (line - 2 < TK_HEADER_FIELDS) {
      const char *want = tk_header_names[line - 2];
      if (nf != 2 || strcmp(f[0], want) != 0)
        return tk_bad(name, line, "expected the header field ", want);
      *header[line - 2] = f[1];
    } else if (!strcmp(f[0], "C")) {
      s = tk_entry_line(o, f, nf, name, line);
    } else {
      return tk_bad(name, line, "unknown record type: ", f[0]);
    }
  }
  if (s == TK_OK && line == 0) return tk_bad(name, 1, "empty file", "");
  if (s == TK_OK && !ended)
    return tk_bad(name, line + 1, "truncated: the pack ends without its end marker (E line)", "");
  return s;
}

tk_status tk_pack_parse(const char *bytes, size_t len, const char *name, tk_pack **out) {
  if ((!bytes && len) || !name || !out)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "pack: parse: NULL argument");
  tk_pack_owned *o = calloc(1, sizeof *o);
  char *text = malloc(len + 1);
  if (!o || !text) {
    free(o);
    free(text);
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "pack: %s: out of memory", name);
  }
  if (len) memcpy(text, bytes, len);
  text[len] = '\0';
  o->text = text;
  tk_status s = tk_parse_lines(o, len, name);
  if (s != TK_OK) {
    tk_pack_free(&o->pub);
    return s;
  }
  o->pub.entries = o->entries;
  *out = &o->pub;
  return TK_OK;
}

tk_status tk_pack_read(const char *path, tk_pack **out) {
  if (!path || !out) return tk_fail(TK_ERR_INVALID_ARGUMENT, "pack: read: NULL argument");
  FILE *f = fopen(path, "rb");
  if (!f) return tk_fail(TK_ERR_CACHE, "pack: cannot read %s: %s", path, strerror(errno));
  char *buf = NULL;
  size_t n = 0, cap = 0;
  tk_status s = TK_OK;
  for (;;) {
    if (n + 65536 > cap) {
      char *grown = (long long)cap > TK_PACK_MAX_BYTES ? NULL : realloc(buf, cap = 2 * cap + 65536);
      if (!grown) {
        s = tk_fail(TK_ERR_CACHE, "pack: %s: larger than 64 MiB or out of memory", path);
        break;
      }
      buf = grown;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  if (s == TK_OK && ferror(f)) s = tk_fail(TK_ERR_CACHE, "pack: reading %s failed", path);
  fclose(f);
  if (s == TK_OK) s = tk_pack_parse(buf, n, path, out);
  free(buf);
  return s;
}
