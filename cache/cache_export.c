/* cache_export.c: writing the portable text file (format in docs/cache.md):
 * a header line, one tab-separated record per line, and an end marker
 * with the record count and checksum. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache_db.h"
#include "runtime/status.h"

/* The file being written: every byte of the record lines goes through
 * tk_out, which counts the lines and keeps their checksum for the end
 * marker. */
typedef struct {
  FILE *f;
  int64_t rows;
  uint64_t hash;
} tk_out;

static void tk_out_bytes(tk_out *o, const char *s, size_t n) {
  fwrite(s, 1, n, o->f);
  o->hash = tk_cache_fnv1a(o->hash, s, n);
}

static void tk_out_str(tk_out *o, const char *s) { tk_out_bytes(o, s, strlen(s)); }

static void tk_out_printf(tk_out *o, const char *fmt, ...) TK_PRINTF(2, 3);
static void tk_out_printf(tk_out *o, const char *fmt, ...) {
  char buf[64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  tk_out_bytes(o, buf, n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* Starts record type t (a letter). */
static void tk_out_record(tk_out *o, char t) {
  tk_out_bytes(o, &t, 1);
  o->rows++;
}

/* Writes a tab and s with backslash, tab, newline and carriage return
 * escaped as \\, \t, \n, \r. */
static void tk_put_field(tk_out *o, const char *s) {
  tk_out_str(o, "\t");
  for (; *s; s++) {
    const char *esc = *s == '\\'  ? "\\\\"
                      : *s == '\t' ? "\\t"
                      : *s == '\n' ? "\\n"
                      : *s == '\r' ? "\\r"
                                   : NULL;
    if (esc)
      tk_out_str(o, esc);
    else
      tk_out_bytes(o, s, 1);
  }
}

/* A tab and x exactly (17 digits round-trip), "nan" for unknown. */
static void tk_put_double(tk_out *o, double x) {
  if (isnan(x))
    tk_out_str(o, "\tnan");
  else
    tk_out_printf(o, "\t%.17g", x);
}

static int tk_put_device(void *user, const char *fingerprint, const char *description,
                         int64_t created_us) {
  tk_out *o = user;
  tk_out_record(o, 'D');
  tk_put_field(o, fingerprint);
  tk_put_field(o, description);
  tk_out_printf(o, "\t%" PRId64 "\n", created_us);
  return 0;
}

static int tk_put_measurement(void *user, const char *fingerprint, const tk_cache_measurement *m) {
  tk_out *o = user;
  tk_out_record(o, 'M');
  tk_put_field(o, fingerprint);
  tk_put_field(o, m->op);
  tk_put_field(o, m->problem_key);
  tk_put_field(o, m->impl);
  tk_put_field(o, m->config);
  tk_put_field(o, tk_cache_result_name(m->result));
  tk_put_field(o, m->reason);
  tk_put_double(o, m->median_ns);
  tk_put_double(o, m->p20_ns);
  tk_put_double(o, m->p80_ns);
  tk_out_printf(o, "\t%" PRId64, m->reps);
  tk_put_double(o, m->max_err);
  tk_out_printf(o, "\t%" PRId64 "\n", m->measured_us);
  return 0;
}

static int tk_put_best(void *user, const char *fingerprint, const tk_cache_best *b) {
  tk_out *o = user;
  tk_out_record(o, 'B');
  tk_put_field(o, fingerprint);
  tk_put_field(o, b->op);
  tk_put_field(o, b->problem_key);
  tk_put_field(o, b->impl);
  tk_put_field(o, b->config);
  tk_put_double(o, b->median_ns);
  tk_out_printf(o, "\t%" PRId64 "\n", b->updated_us);
  return 0;
}

/* Writes the header, every record of one device (NULL: all) inside one
 * read snapshot, and the end marker. */
static tk_status tk_write_records(tk_cache *c, FILE *f, const char *fingerprint) {
  tk_cache_filter flt = {fingerprint, NULL, NULL, NULL};
  tk_out o = {f, 0, TK_CACHE_FNV_BASIS};
  fprintf(f, "tokamax-cache\t%d\n", TK_CACHE_FORMAT_VERSION);
  tk_status s = tk_cache_begin(c, 0);
  if (s == TK_OK) s = tk_cache_iter_devices(c, fingerprint, tk_put_device, &o);
  if (s == TK_OK) s = tk_cache_iter_measurements(c, &flt, tk_put_measurement, &o);
  if (s == TK_OK) s = tk_cache_iter_best(c, &flt, tk_put_best, &o);
  if (s == TK_OK) fprintf(f, "E\t%" PRId64 "\t%016" PRIx64 "\n", o.rows, o.hash);
  return s == TK_OK ? tk_cache_commit(c) : tk_cache_rollback(c, s);
}

tk_status tk_cache_export(tk_cache *c, const char *path, const char *fingerprint) {
  if (!c || !path) return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: export: NULL argument");
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: export: path too long: %s", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return tk_fail(TK_ERR_CACHE, "cache: cannot write %s: %s", tmp, strerror(errno));
  tk_status s = tk_write_records(c, f, fingerprint);
  int bad = ferror(f);
  int err = bad ? EIO : 0;
  if (fclose(f) != 0 && !bad) {
    bad = 1;
    err = errno;
  }
  if (s == TK_OK && bad)
    s = tk_fail(TK_ERR_CACHE, "cache: writing %s failed: %s", tmp, strerror(err));
  if (s == TK_OK && rename(tmp, path) != 0)
    s = tk_fail(TK_ERR_CACHE, "cache: cannot rename %s to %s: %s", tmp, path, strerror(errno));
  if (s != TK_OK) unlink(tmp);
  return s;
}
