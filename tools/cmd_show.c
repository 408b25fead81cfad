/* cmd_show.c: `tokamax-tune show`: the best choices (or, with
 * --measurements, every measured candidate) the tuning cache holds,
 * filtered by device, op, impl and key, as a table or JSON. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tools/cache_cli.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "runtime/json.h"

typedef struct {
  int json, rows;
} show_out;

/* Prints key/value pairs of one JSON row (strings; NULL value skipped). */
static void json_row(show_out *o, const char *const *kv, int n, double ns) {
  char buf[8192];
  tk_text t = tk_text_init(buf, sizeof buf);
  tk_text_printf(&t, "%s\n {", o->rows ? "," : "");
  for (int i = 0; i < n; i += 2) {
    tk_text_printf(&t, "%s\"%s\":", i ? "," : "", kv[i]);
    tk_text_json_string(&t, kv[i + 1]);
  }
  if (isfinite(ns)) tk_text_printf(&t, ",\"median_ns\":%.6g}", ns);
  else tk_text_printf(&t, ",\"median_ns\":null}");
  fputs(buf, stdout);
  o->rows++;
}

static int show_best(void *user, const char *fp, const tk_cache_best *b) {
  show_out *o = user;
  if (o->json) {
    const char *kv[] = {"device", fp, "op", b->op, "key", b->problem_key, "impl", b->impl,
                        "config", b->config};
    json_row(o, kv, 10, b->median_ns);
  } else {
    printf("%-12s %12.2f  %s  [%s]\n  %s\n", b->impl, b->median_ns / 1e3, b->config, fp,
           b->problem_key);
    o->rows++;
  }
  return 0;
}

static int show_measurement(void *user, const char *fp, const tk_cache_measurement *m) {
  show_out *o = user;
  const char *result = tk_cache_result_name(m->result);
  if (o->json) {
    const char *kv[] = {"device", fp, "op", m->op, "key", m->problem_key, "impl", m->impl,
                        "config", m->config, "result", result, "reason", m->reason};
    json_row(o, kv, 14, m->median_ns);
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
  show_out o = {json, 0};
  if (json) printf("[");
  else printf("%-12s %s%12s  %s\n", "impl", all ? "result " : "", "time (us)", "config  [device]\n  problem key");
  tk_status s = all ? tk_cache_each_measurement(c, &f, show_measurement, &o)
                    : tk_cache_each_best(c, &f, show_best, &o);
  if (json) printf("\n]\n");
  else if (o.rows == 0) printf("(nothing cached%s)\n", f.fingerprint ? " for this device; try --device all" : "");
  if (s != TK_OK) tk_cli_error("show: %s", tk_last_error());
  tk_cache_close(c);
  return s == TK_OK ? 0 : 1;
}
