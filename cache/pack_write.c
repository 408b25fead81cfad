/* pack_write.c: tk_cache_export_pack, the tuned pack of one device from
 * its best rows and their measurements (format in docs/cache.md). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cache/cache_db.h"
#include "cache/pack.h"
#include "runtime/status.h"

typedef struct {
  tk_cache *c;
  const tk_pack_header *h;
  int64_t device, entries;
  tk_cache_out o;
} tk_pack_job;

/* A tab and a time in ns, one decimal ("nan" when unknown). */
static void tk_put_ns(tk_cache_out *o, double ns) {
  if (isnan(ns))
    tk_cache_out_str(o, "\tnan");
  else
    tk_cache_out_printf(o, "\t%.1f", ns);
}

/* The measurement of the best row's candidate, kept by tk_find_spread. */
typedef struct {
  const tk_cache_best *b;
  double p20, p80;
  int64_t reps;
} tk_spread;

static int tk_find_spread(void *user, const char *fp, const tk_cache_measurement *m) {
  (void)fp;
  tk_spread *s = user;
  if (strcmp(m->problem_key, s->b->problem_key) || strcmp(m->impl, s->b->impl) ||
      strcmp(m->config, s->b->config))
    return 0;
  s->p20 = m->p20_ns;
  s->p80 = m->p80_ns;
  s->reps = m->reps;
  return 1;
}

/* One C line per best row; its spread from its measurement. */
static int tk_put_entry(void *user, const char *fp, const tk_cache_best *b) {
  tk_pack_job *j = user;
  tk_spread sp = {b, NAN, NAN, 0};
  tk_cache_filter flt = {fp, b->op, b->impl, b->problem_key};
  if (tk_cache_iter_measurements(j->c, &flt, tk_find_spread, &sp) != TK_OK) return 1;
  tk_cache_out *o = &j->o;
  tk_cache_out_record(o, "C");
  tk_cache_out_field(o, b->op);
  tk_cache_out_field(o, b->problem_key);
  tk_cache_out_field(o, b->impl);
  tk_cache_out_field(o, b->config);
  tk_put_ns(o, b->median_ns);
  tk_put_ns(o, sp.p20);
  tk_put_ns(o, sp.p80);
  tk_cache_out_printf(o, "\t%" PRId64 "\n", sp.reps);
  j->entries++;
  return 0;
}

/* One header line "name<TAB>value". */
static void tk_put_header(tk_cache_out *o, const char *name, const char *value) {
  tk_cache_out_record(o, name);
  tk_cache_out_field(o, value);
  tk_cache_out_str(o, "\n");
}

static tk_status tk_write_pack(FILE *f, void *user) {
  tk_pack_job *j = user;
  const tk_pack_header *h = j->h;
  char version[32], created[32];
  snprintf(version, sizeof version, "%d.%d.%d", TOKAMAX_VERSION_MAJOR, TOKAMAX_VERSION_MINOR,
           TOKAMAX_VERSION_PATCH);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
  j->o = (tk_cache_out){f, 0, TK_CACHE_FNV_BASIS};
  fprintf(f, "tokamax-pack\t%d\n", TK_PACK_FORMAT_VERSION);
  tk_put_header(&j->o, "command", h->command);
  tk_put_header(&j->o, "library", version);
  tk_put_header(&j->o, "fingerprint", h->fingerprint);
  tk_put_header(&j->o, "class", h->device_class);
  tk_put_header(&j->o, "suite", h->suite);
  tk_put_header(&j->o, "created", created);
  tk_cache_filter flt = {h->fingerprint, NULL, NULL, NULL};
  tk_status s = tk_cache_begin(j->c, 0);
  if (s == TK_OK) s = tk_cache_iter_best(j->c, &flt, tk_put_entry, j);
  if (s == TK_OK && j->entries == 0)
    s = tk_fail(TK_ERR_CACHE, "cache: %s has nothing tuned for %s: no pack written",
                tk_cache_path(j->c), h->fingerprint);
  if (s == TK_OK) tk_cache_out_end(&j->o);
  return s == TK_OK ? tk_cache_commit(j->c) : tk_cache_rollback(j->c, s);
}

tk_status tk_cache_export_pack(tk_cache *c, const char *path, const tk_pack_header *h,
                               int64_t *entries) {
  if (!c || !path || !h || !h->fingerprint || !h->device_class || !h->suite || !h->command)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: export_pack: NULL argument");
  tk_pack_job j = {c, h, 0, 0, {0}};
  tk_status s = tk_cache_write_file(path, "export --pack", tk_write_pack, &j);
  if (s == TK_OK && entries) *entries = j.entries;
  return s;
}
