/* cmd_show.c: `tokamax-tune show`: the best choices the tuning cache holds
 * and, after them, the tuned packs' choices it does not override (or, with
 * --measurements, every measured candidate of the cache), filtered by
 * device, op, impl and key, as a table or JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/packs.h"
#include "tools/cache_cli.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "runtime/json.h"

typedef struct {
  int json, rows;
  const char *fp; /* the device shown, NULL: all */
  const tk_cache_filter *filter;
  char **keys; /* "op<TAB>key" of each best row shown: a pack entry of one is shadowed */
  int n_keys, cap_keys;
} show_out;

/* Adds a pair to t. */
static void json_pair(tk_text *t, const char *k, const char *v) {
  tk_text_printf(t, ",\"%s\":", k);
  tk_text_json_string(t, v);
}

/* Prints one JSON row: the key/value pairs kv (strings), median_ns, then
 * the n_tail pairs of tail. */
static void json_row(show_out *o, const char *const *kv, int n, double ns,
                     const char *const *tail, int n_tail) {
  char buf[8192];
  tk_text t = tk_text_init(buf, sizeof buf);
  tk_text_printf(&t, "%s\n {\"%s\":", o->rows ? "," : "", kv[0]);
  tk_text_json_string(&t, kv[1]);
  for (int i = 2; i < n; i += 2) json_pair(&t, kv[i], kv[i + 1]);
  if (isfinite(ns)) tk_text_printf(&t, ",\"median_ns\":%.6g", ns);
  else tk_text_printf(&t, ",\"median_ns\":null");
  for (int i = 0; i < n_tail; i += 2) json_pair(&t, tail[i], tail[i + 1]);
  tk_text_printf(&t, "}");
  fputs(buf, stdout);
  o->rows++;
}

/* Notes (op, key) as shown from the cache; 0 when out of memory. */
static int note_key(show_out *o, const char *op, const char *key) {
  if (o->n_keys == o->cap_keys) {
    int cap = 2 * o->cap_keys + 16;
    char **grown = realloc(o->keys, (size_t)cap * sizeof *grown);
    if (!grown) return 0;
    o->keys = grown;
    o->cap_keys = cap;
  }
  size_t n = strlen(op) + strlen(key) + 2;
  if (!(o->keys[o->n_keys] = malloc(n))) return 0;
  snprintf(o->keys[o->n_keys++], n, "%s\t%s", op, key);
  return 1;
}

static int key_noted(const show_out *o, const char *op, const char *key) {
  size_t n = strlen(op);
  for (int i = 0; i < o->n_keys; i++)
    if (!strncmp(o->keys[i], op, n) && o->keys[i][n] == '\t' && !strcmp(o->keys[i] + n + 1, key))
      return 1;
  return 0;
}

static int show_best(void *user, const char *fp, const tk_cache_best *b) {
  show_out *o = user;
  if (o->fp && !note_key(o, b->op, b->problem_key)) return 1;
  if (o->json) {
    const char *kv[] = {"device", fp, "op", b->op, "key", b->problem_key, "impl", b->impl,
                        "config", b->config};
    const char *tail[] = {"source", "cache"};
    json_row(o, kv, 10, b->median_ns, tail, 2);
  } else {
    printf("%-12s %12.2f  %s  [%s]\n  %s\n", b->impl, b->median_ns / 1e3, b->config, fp,
           b->problem_key);
    o->rows++;
  }
  return 0;
}

/* The entries of one usable pack that applies to the device shown (every
 * pack for --device all), passing the filters, less the keys the cache
 * has for that device (the cache wins, as in dispatch). */
static int show_pack(void *user, const char *path, const tk_pack *p) {
  show_out *o = user;
  const tk_cache_filter *f = o->filter;
  if (o->fp && !tk_pack_applies(p, o->fp)) return 0;
  for (int i = 0; i < p->n; i++) {
    const tk_pack_entry *e = &p->entries[i];
    if ((f->op && strcmp(f->op, e->op)) || (f->impl && strcmp(f->impl, e->impl)) ||
        (f->key_contains && !strstr(e->problem_key, f->key_contains)) ||
        (o->fp && key_noted(o, e->op, e->problem_key)))
      continue;
    if (o->json) {
      const char *kv[] = {"device", p->fingerprint, "op", e->op, "key", e->problem_key,
                          "impl", e->impl, "config", e->config};
      const char *tail[] = {"source", "pack", "pack", path};
      json_row(o, kv, 10, e->median_ns, tail, 4);
    } else {
      printf("%-12s %12.2f  %s  [pack %s, measured on %s]\n  %s\n", e->impl, e->median_ns / 1e3,
             e->config, path, p->fingerprint, e->problem_key);
      o->rows++;
    }
  }
  return 0;
}

static void show_pack_warning(void *user, const char *message) {
  (void)user;
  fprintf(stderr, "tokamax-tune: show: warning: %s\n", message);
}

static int show_measurement(void *user, const char *fp, const tk_cache_measurement *m) {
  show_out *o = user;
  const char *result = tk_cache_result_name(m->result);
  if (o->json) {
    const char *kv[] = {"device", fp, "op", m->op, "key", m->problem_key, "impl", m->impl,
                        "config", m->config, "result", result, "reason", m->reason};
    json_row(o, kv, 14, m->median_ns, NULL, 0);
  } else {
    printf("%-12s %-6s %12.2f  %s%s%s\n  %s\n", m->impl, result, m->median_ns / 1e3, m->config,
           m->reason[0] ? "  -- " : "", m->reason, m->problem_key);
    o->rows++;
  }
  return 0;
}

int tk_cmd_show(int argc, char **argv) {
  const char *db = NULL, *device = NULL, *op = NULL, *impl = NULL, *key = NULL;
  int all = 0, json = 0;
  const tk_cli_opt opts[] = {
      {"db", TK_OPT_STRING, "PATH", "tuning cache (default: the one contexts use)", &db, 0},
      {"device", TK_OPT_STRING, "this|cpu|cuda[:N]|all|FP", "whose results (default: this machine's CPU)", &device, 0},
      {"op", TK_OPT_STRING, "OP", "only this op", &op, 0},
      {"impl", TK_OPT_STRING, "NAME", "only this implementation", &impl, 0},
      {"key", TK_OPT_STRING, "TEXT", "only problem keys containing TEXT", &key, 0},
      {"measurements", TK_OPT_FLAG, NULL, "every measured candidate, not just the best", &all, 0},
      {"json", TK_OPT_FLAG, NULL, "print JSON", &json, 0},
  };
  const tk_cli_cmd cmd = {"show", "list what the tuning cache holds", opts,
                          (int)(sizeof opts / sizeof opts[0]), NULL, 0, 0, NULL, NULL};
  int rc = tk_cli_parse(&cmd, argc, argv);
  if (rc >= 0) return rc;
  tk_op v;
  if (op && tk_op_from_name(op, &v) != TK_OK) {
    tk_cli_error("show: unknown op '%s'", op);
    return 2;
  }
  char fp[512];
  const char *dev;
  if (!cache_cli_device("show", device, fp, sizeof fp, &dev)) return 1;
  tk_cache_filter f = {dev, op, impl, key};
  tk_cache *c;
  if (!cache_cli_open("show", db, TK_CACHE_CREATE | TK_CACHE_MAY_READ_ONLY, &c)) return 1;
  show_out o = {json, 0, dev, &f, NULL, 0, 0};
  if (json) printf("[");
  else printf("%-12s %s%12s  %s\n", "impl", all ? "result " : "", "time (us)", "config  [device]\n  problem key");
  tk_status s = all ? tk_cache_each_measurement(c, &f, show_measurement, &o)
                    : tk_cache_each_best(c, &f, show_best, &o);
  if (s == TK_OK && !all) tk_packs_each(show_pack, show_pack_warning, &o);
  for (int i = 0; i < o.n_keys; i++) free(o.keys[i]);
  free(o.keys);
  if (json) printf("\n]\n");
  else if (o.rows == 0) printf("(nothing cached or packed%s)\n", f.fingerprint ? " for this device; try --device all" : "");
  if (s != TK_OK) tk_cli_error("show: %s", tk_last_error());
  tk_cache_close(c);
  return s == TK_OK ? 0 : 1;
}
