/* cache_export.c: writing the portable text file (format in docs/cache.md):
 * a header line, one tab-separated record per line, and an end marker
 * with the record count and checksum (cache_text.h). */
#include <inttypes.h>
#include <stdio.h>

#include "cache/cache_db.h"
#include "runtime/status.h"

static int tk_put_device(void *user, const char *fingerprint, const char *description,
                         int64_t created_us) {
  tk_cache_out *o = user;
  tk_cache_out_record(o, "D");
  tk_cache_out_field(o, fingerprint);
  tk_cache_out_field(o, description);
  tk_cache_out_printf(o, "\t%" PRId64 "\n", created_us);
  return 0;
}

static int tk_put_measurement(void *user, const char *fingerprint, const tk_cache_measurement *m) {
  tk_cache_out *o = user;
  tk_cache_out_record(o, "M");
  tk_cache_out_field(o, fingerprint);
  tk_cache_out_field(o, m->op);
  tk_cache_out_field(o, m->problem_key);
  tk_cache_out_field(o, m->impl);
  tk_cache_out_field(o, m->config);
  tk_cache_out_field(o, tk_cache_result_name(m->result));
  tk_cache_out_field(o, m->reason);
  tk_cache_out_double(o, m->median_ns);
  tk_cache_out_double(o, m->p20_ns);
  tk_cache_out_double(o, m->p80_ns);
  tk_cache_out_printf(o, "\t%" PRId64, m->reps);
  tk_cache_out_double(o, m->max_err);
  tk_cache_out_printf(o, "\t%" PRId64 "\n", m->measured_us);
  return 0;
}

static int tk_put_best(void *user, const char *fingerprint, const tk_cache_best *b) {
  tk_cache_out *o = user;
  tk_cache_out_record(o, "B");
  tk_cache_out_field(o, fingerprint);
  tk_cache_out_field(o, b->op);
  tk_cache_out_field(o, b->problem_key);
  tk_cache_out_field(o, b->impl);
  tk_cache_out_field(o, b->config);
  tk_cache_out_double(o, b->median_ns);
  tk_cache_out_printf(o, "\t%" PRId64 "\n", b->updated_us);
  return 0;
}

typedef struct {
  tk_cache *c;
  const char *fingerprint;
} tk_export_job;

/* Writes the header, every record of one device (NULL: all) inside one
 * read snapshot, and the end marker. */
static tk_status tk_write_records(FILE *f, void *user) {
  const tk_export_job *j = user;
  tk_cache *c = j->c;
  tk_cache_filter flt = {j->fingerprint, NULL, NULL, NULL};
  tk_cache_out o = {f, 0, TK_CACHE_FNV_BASIS};
  fprintf(f, "tokamax-cache\t%d\n", TK_CACHE_FORMAT_VERSION);
  tk_status s = tk_cache_begin(c, 0);
  if (s == TK_OK) s = tk_cache_iter_devices(c, j->fingerprint, tk_put_device, &o);
  if (s == TK_OK) s = tk_cache_iter_measurements(c, &flt, tk_put_measurement, &o);
  if (s == TK_OK) s = tk_cache_iter_best(c, &flt, tk_put_best, &o);
  if (s == TK_OK) tk_cache_out_end(&o);
  return s == TK_OK ? tk_cache_commit(c) : tk_cache_rollback(c, s);
}

tk_status tk_cache_export(tk_cache *c, const char *path, const char *fingerprint) {
  if (!c || !path) return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: export: NULL argument");
  tk_export_job j = {c, fingerprint};
  return tk_cache_write_file(path, "export", tk_write_records, &j);
}
