/* cache_export.c: writing the portable text file (format in docs/cache.md):
 * a header line, then one tab-separated record per line. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache_db.h"
#include "runtime/status.h"

/* Writes a tab and s with backslash, tab, newline and carriage return
 * escaped as \\, \t, \n, \r. */
static void tk_put_field(FILE *f, const char *s) {
  fputc('\t', f);
  for (; *s; s++) {
    switch (*s) {
      case '\\':
        fputs("\\\\", f);
        break;
      case '\t':
        fputs("\\t", f);
        break;
      case '\n':
        fputs("\\n", f);
        break;
      case '\r':
        fputs("\\r", f);
        break;
      default:
        fputc(*s, f);
    }
  }
}

/* A tab and x exactly (17 digits round-trip), "nan" for unknown. */
static void tk_put_double(FILE *f, double x) {
  if (isnan(x))
    fputs("\tnan", f);
  else
    fprintf(f, "\t%.17g", x);
}

static int tk_put_device(void *user, const char *fingerprint, const char *description,
                         int64_t created_us) {
  FILE *f = user;
  fputc('D', f);
  tk_put_field(f, fingerprint);
  tk_put_field(f, description);
  fprintf(f, "\t%" PRId64 "\n", created_us);
  return 0;
}

static int tk_put_measurement(void *user, const char *fingerprint, const tk_cache_measurement *m) {
  FILE *f = user;
  fputc('M', f);
  tk_put_field(f, fingerprint);
  tk_put_field(f, m->op);
  tk_put_field(f, m->problem_key);
  tk_put_field(f, m->impl);
  tk_put_field(f, m->config);
  tk_put_field(f, tk_cache_result_name(m->result));
  tk_put_field(f, m->reason);
  tk_put_double(f, m->median_ns);
  tk_put_double(f, m->p20_ns);
  tk_put_double(f, m->p80_ns);
  fprintf(f, "\t%" PRId64, m->reps);
  tk_put_double(f, m->max_err);
  fprintf(f, "\t%" PRId64 "\n", m->measured_us);
  return 0;
}

static int tk_put_best(void *user, const char *fingerprint, const tk_cache_best *b) {
  FILE *f = user;
  fputc('B', f);
  tk_put_field(f, fingerprint);
  tk_put_field(f, b->op);
  tk_put_field(f, b->problem_key);
  tk_put_field(f, b->impl);
  tk_put_field(f, b->config);
  tk_put_double(f, b->median_ns);
  fprintf(f, "\t%" PRId64 "\n", b->updated_us);
  return 0;
}

/* Writes every record of one device (NULL: all) to f inside one read
 * snapshot. */
static tk_status tk_write_records(tk_cache *c, FILE *f, const char *fingerprint) {
  tk_cache_filter flt = {fingerprint, NULL, NULL, NULL};
  fprintf(f, "tokamax-cache\t%d\n", TK_CACHE_FORMAT_VERSION);
  tk_status s = tk_cache_begin(c, 0);
  if (s == TK_OK) s = tk_cache_iter_devices(c, fingerprint, tk_put_device, f);
  if (s == TK_OK) s = tk_cache_iter_measurements(c, &flt, tk_put_measurement, f);
  if (s == TK_OK) s = tk_cache_iter_best(c, &flt, tk_put_best, f);
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
