/* cache_text.c: writing and reading the fields, numbers and end marker of
 * the portable files (cache_text.h). */
#include "cache/cache_text.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/status.h"

void tk_cache_out_bytes(tk_cache_out *o, const char *s, size_t n) {
  fwrite(s, 1, n, o->f);
  o->hash = tk_cache_fnv1a(o->hash, s, n);
}

void tk_cache_out_str(tk_cache_out *o, const char *s) { tk_cache_out_bytes(o, s, strlen(s)); }

void tk_cache_out_printf(tk_cache_out *o, const char *fmt, ...) {
  char buf[64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  tk_cache_out_bytes(o, buf, n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

void tk_cache_out_record(tk_cache_out *o, const char *t) {
  tk_cache_out_str(o, t);
  o->rows++;
}

void tk_cache_out_field(tk_cache_out *o, const char *s) {
  tk_cache_out_str(o, "\t");
  for (; *s; s++) {
    const char *esc = *s == '\\'  ? "\\\\"
                      : *s == '\t' ? "\\t"
                      : *s == '\n' ? "\\n"
                      : *s == '\r' ? "\\r"
                                   : NULL;
    if (esc)
      tk_cache_out_str(o, esc);
    else
      tk_cache_out_bytes(o, s, 1);
  }
}

void tk_cache_out_double(tk_cache_out *o, double x) {
  if (isnan(x))
    tk_cache_out_str(o, "\tnan");
  else
    tk_cache_out_printf(o, "\t%.17g", x);
}

void tk_cache_out_end(tk_cache_out *o) {
  fprintf(o->f, "E\t%" PRId64 "\t%016" PRIx64 "\n", o->rows, o->hash);
}

tk_status tk_cache_write_file(const char *path, const char *what,
                              tk_status (*write)(FILE *f, void *user), void *user) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: %s: path too long: %s", what, path);
  FILE *f = fopen(tmp, "w");
  if (!f) return tk_fail(TK_ERR_CACHE, "cache: cannot write %s: %s", tmp, strerror(errno));
  tk_status s = write(f, user);
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

int tk_cache_unescape(char *s) {
  char *o = s;
  for (; *s; s++) {
    if (*s != '\\') {
      *o++ = *s;
      continue;
    }
    switch (*++s) {
      case '\\':
        *o++ = '\\';
        break;
      case 't':
        *o++ = '\t';
        break;
      case 'n':
        *o++ = '\n';
        break;
      case 'r':
        *o++ = '\r';
        break;
      default:
        return 0;
    }
  }
  *o = '\0';
  return 1;
}

int tk_cache_split_fields(char *line, char **f, int max) {
  int n = 0;
  for (char *p = line;; p++) {
    if (n == max) return -1;
    f[n++] = p;
    p = strchr(p, '\t');
    if (!p) break;
    *p = '\0';
  }
  for (int i = 0; i < n; i++)
    if (!tk_cache_unescape(f[i])) return -2;
  return n;
}

/* 1 if s is a plain decimal as the writers write it: [-]digits, and with
 * frac also [.digits][(e|E)[+|-]digits]; no sign '+', no spaces, no hex,
 * no "inf". */
static int tk_plain_decimal(const char *s, int frac) {
  if (*s == '-') s++;
  if (!isdigit((unsigned char)*s)) return 0;
  while (isdigit((unsigned char)*s)) s++;
  if (frac && *s == '.') {
    s++;
    if (!isdigit((unsigned char)*s)) return 0;
    while (isdigit((unsigned char)*s)) s++;
  }
  if (frac && (*s == 'e' || *s == 'E')) {
    s++;
    if (*s == '+' || *s == '-') s++;
    if (!isdigit((unsigned char)*s)) return 0;
    while (isdigit((unsigned char)*s)) s++;
  }
  return *s == '\0';
}

int tk_cache_parse_i64(const char *s, int64_t *v) {
  if (!tk_plain_decimal(s, 0)) return 0;
  errno = 0;
  long long x = strtoll(s, NULL, 10);
  if (errno) return 0;
  *v = x;
  return 1;
}

int tk_cache_parse_double(const char *s, int nan_ok, double *v) {
  if (nan_ok && strcmp(s, "nan") == 0) {
    *v = NAN;
    return 1;
  }
  if (!tk_plain_decimal(s, 1)) return 0;
  double x = strtod(s, NULL);
  if (!isfinite(x)) return 0; /* overflow; an underflow to a subnormal is exact enough */
  *v = x;
  return 1;
}
