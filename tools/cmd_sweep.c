/* cmd_sweep.c: `tokamax-tune sweep`: tunes every problem of a suite (or one
 * given on the command line) into the tuning cache and prints what it
 * chose, how fast, and the speed-up over the heuristic default and the
 * reference. Resumes: candidates already measured are not rerun. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli_args.h"
#include "tools/cli_lookup.h"
#include "tools/commands.h"
#include "kernels/op_desc.h"
#include "runtime/context.h"
#include "runtime/name_list.h"
#include "tools/sweep_output.h"
#include "regress/case_sweep.h"

typedef struct {
  const char *suite, *problem, *op, *impl, *budget, *shard, *db, *device, *oracle;
  int seed, threads, remeasure, json, quiet;
} sweep_opts;

/* Parses "i/n" (0 <= i < n) into *i, *n; 0 on a malformed value. */
static int parse_shard(const char *s, int *i, int *n) {
  char tail;
  return sscanf(s, "%d/%d%c", i, n, &tail) == 2 && *n >= 1 && *i >= 0 && *i < *n;
}

/* Checks the options; the op filter (-1: all) in *op. 0 on a usage error. */
static int check_opts(const sweep_opts *o, int *op, double *budget, int *shard_i, int *shard_n,
                      int *device) {
  *op = -1;
  *budget = 0;
  *shard_i = 0;
  *shard_n = 1;
  if (o->suite && o->problem) {
    tk_cli_error("sweep: give --suite or --problem, not both");
    return 0;
  }
  if (o->op) {
    tk_op v;
    if (tk_op_from_name(o->op, &v) != TK_OK) {
      char names[512];
      tk_op_names_text(names, sizeof names);
      tk_cli_error("sweep: unknown op '%s' (%s)", o->op, names);
      return 0;
    }
    *op = (int)v;
  }
  if (o->budget) {
    char *end;
    *budget = strtod(o->budget, &end);
    if (*end || !(*budget > 0) || !isfinite(*budget)) {
      tk_cli_error("sweep: --budget '%s' is not a positive number of seconds", o->budget);
      return 0;
    }
  }
  char name[64];
  for (tk_name_iter it = tk_name_iter_init(o->impl); tk_name_next(&it, name, sizeof name);)
    if (!tk_cli_impl_exists(name, *op)) {
      tk_cli_error("sweep: no implementation '%s'%s%s", name, o->op ? " of op " : "",
                   o->op ? o->op : "");
      return 0;
    }
  if (o->shard && !parse_shard(o->shard, shard_i, shard_n)) {
    tk_cli_error("sweep: --shard '%s' must be i/n with 0 <= i < n", o->shard);
    return 0;
  }
  if (o->oracle && !tk_cli_impl_exists(o->oracle, *op)) {
    tk_cli_error("sweep: --oracle: no implementation '%s'", o->oracle);
    return 0;
  }
  if (!tk_cli_parse_device(o->device ? o->device : "cpu", device)) {
    tk_cli_error("sweep: --device '%s' must be cpu, cuda or cuda:N", o->device);
    return 0;
  }
  return 1;
}

/* Sweeps one problem; fills *r. */
static void sweep_one(tk_context *ctx, tk_cache *cache, const char *fp, const char *spec,
                      const case_target_options *to, const tk_sweep_options *so,
                      sweep_progress *pr, sweep_result *r) {
  snprintf(r->spec, sizeof r->spec, "%s", spec);
  pr->spec = spec;
  case_target *ct = NULL;
  tk_sweep_target t;
  tk_status s = case_target_create(ctx, spec, to, &ct, &t, r->err, sizeof r->err);
  if (s == TK_OK) {
    r->flops = case_target_flops(ct);
    r->bytes = case_target_bytes(ct);
    r->memory_bound = case_target_memory_bound(ct);
    s = tk_sweep_problem(ctx, cache, fp, &t, so, &r->s);
    if (s != TK_OK) snprintf(r->err, sizeof r->err, "%s", tk_last_error());
  }
  r->ok = s == TK_OK;
  sweep_progress_problem(pr, r->ok ? &r->s : NULL, r->err);
  case_target_destroy(ct);
}

/* Opens the cache and records the description of this machine under the
 * fingerprint of `device` (-1: the CPU); 0 on failure. */
static int open_cache(tk_context *ctx, int device, tk_cache **cache, char *fp, size_t fp_len) {
  if (tk_cache_open(ctx->cache_path, TK_CACHE_CREATE, 0, cache) != TK_OK) {
    tk_cli_error("sweep: %s", tk_last_error());
    return 0;
  }
  if (device < 0)
    tk_device_fingerprint_cpu(&ctx->dev, fp, fp_len);
  else
    tk_device_fingerprint_cuda(&ctx->dev, device, fp, fp_len);
  int len = tk_device_json(&ctx->dev, NULL, 0);
  char *desc = malloc((size_t)len + 1);
  int64_t id;
  tk_status s = desc ? (tk_device_json(&ctx->dev, desc, (size_t)len + 1),
                        tk_cache_device_id(*cache, fp, desc, &id))
                     : TK_ERR_OUT_OF_MEMORY;
  free(desc);
  if (s != TK_OK) {
    tk_cli_error("sweep: %s", tk_last_error());
    tk_cache_close(*cache);
    return 0;
  }
  return 1;
}

/* Sweeps the problems of this shard; the exit code. */
static int run(const sweep_opts *o, char **specs, const int *lines, int n, double budget,
               int device) {
  tk_context_options copts = {o->db, o->threads, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  if (tk_context_create(&copts, &ctx) != TK_OK) {
    tk_cli_error("sweep: cannot create a context: %s", tk_last_error());
    return 1;
  }
  tk_cache *cache;
  char fp[512];
  if (!tk_cli_device_here("sweep", &ctx->dev, device) ||
      !open_cache(ctx, device, &cache, fp, sizeof fp)) {
    const int rc = device >= 0 && !ctx->dev.cuda_built ? 2 : 1;
    tk_context_destroy(ctx);
    return rc;
  }
  sweep_result *res = calloc((size_t)n, sizeof *res);
  if (!res) {
    tk_cli_error("sweep: out of memory");
    tk_cache_close(cache);
    tk_context_destroy(ctx);
    return 1;
  }
  sweep_progress pr;
  sweep_progress_begin(&pr, n, o->json, o->quiet);
  tk_sweep_options so = tk_sweep_defaults();
  so.impls = o->impl;
  so.budget_s = budget;
  so.seed = (uint64_t)o->seed;
  so.remeasure = o->remeasure;
  so.progress = sweep_progress_event;
  so.progress_user = &pr;
  if (!o->quiet)
    fprintf(stderr, "sweeping %d problems on %s into %s\n", n, device < 0 ? "the CPU" : fp,
            ctx->cache_path);
  int failed = 0;
  for (int i = 0; i < n; i++) {
    case_target_options to = {1000u + (uint64_t)lines[i], device, o->oracle};
    sweep_one(ctx, cache, fp, specs[i], &to, &so, &pr, &res[i]);
    failed += !res[i].ok;
  }
  sweep_print_results(res, n, o->json);
  free(res);
  tk_cache_close(cache);
  tk_context_destroy(ctx);
  if (failed) fprintf(stderr, "tokamax-tune: sweep: %d of %d problems failed\n", failed, n);
  return failed ? 1 : 0;
}

int tk_cmd_sweep(int argc, char **argv) {
  sweep_opts o = {0};
  o.seed = 1;
  const tk_cli_opt opts[] = {
      {"suite", TK_OPT_STRING, "NAME|PATH", "suite name (regress/suites/NAME.suite) or file; default quick",
       &o.suite, 0},
      {"problem", TK_OPT_STRING, "SPEC", "one problem, e.g. \"grouped_gemm dtype=f32 M=512 K=1024 N=1024 G=8\"",
       &o.problem, 0},
      {"op", TK_OPT_STRING, "OP", "only problems of this op", &o.op, 0},
      {"impl", TK_OPT_STRING, "A,B", "only these implementations", &o.impl, 0},
      {"budget", TK_OPT_STRING, "SECONDS", "per problem: a seeded sample of configs within this time",
       &o.budget, 0},
      {"seed", TK_OPT_INT, "N", "seed of the --budget sample (default 1)", &o.seed, 0},
      {"shard", TK_OPT_STRING, "I/N", "only problems i, i+n, i+2n, ... (merge the shards' exports after)",
       &o.shard, 0},
      {"device", TK_OPT_STRING, "cpu|cuda[:N]",
       "where the candidates run (default cpu); CUDA problems are mirrors of the host cases",
       &o.device, 0},
      {"oracle", TK_OPT_STRING, "IMPL",
       "host implementation whose outputs candidates are checked against (default reference; "
       "cpu for large GPU shapes)",
       &o.oracle, 0},
      {"db", TK_OPT_STRING, "PATH", "tuning cache (default $TOKAMAX_CACHE, else ~/.cache/tokamax/tune.db)",
       &o.db, 0},
      {"threads", TK_OPT_INT, "N", "worker threads (default 0: one per physical core)", &o.threads, 0},
      {"remeasure", TK_OPT_FLAG, NULL, "measure again candidates the cache already has", &o.remeasure, 0},
      {"json", TK_OPT_FLAG, NULL, "print the results as JSON", &o.json, 0},
      {"quiet", TK_OPT_FLAG, NULL, "no progress output", &o.quiet, 0},
  };
  const tk_cli_cmd cmd = {"sweep", "tune a suite or one problem into the tuning cache", opts,
                          (int)(sizeof opts / sizeof opts[0]), NULL, 0, 0, NULL, NULL};
  int rc = tk_cli_parse(&cmd, argc, argv);
  if (rc >= 0) return rc;
  int op, shard_i, shard_n, device;
  double budget;
  if (!check_opts(&o, &op, &budget, &shard_i, &shard_n, &device)) return 2;

  char err[512];
  tk_suite suite = {0};
  char *one[1] = {(char *)o.problem};
  int one_line[1] = {0};
  char **specs = one;
  int *lines = one_line, n = 1;
  if (o.problem) {
    tk_case *c;
    if (tk_case_create(o.problem, 1, &c, err, sizeof err) != TK_OK) {
      tk_cli_error("sweep: --problem: %s", err);
      return 2;
    }
    tk_case_destroy(c);
  } else {
    if (tk_suite_load(o.suite ? o.suite : "quick", &suite, err, sizeof err) != TK_OK) {
      tk_cli_error("sweep: %s", err);
      return 2;
    }
    specs = suite.specs;
    lines = suite.line_numbers;
    n = suite.count;
  }
  /* The op filter and shard, in place. */
  char **sel = malloc((size_t)n * sizeof *sel);
  int *sel_lines = malloc((size_t)n * sizeof *sel_lines), m = 0, k = 0;
  for (int i = 0; sel && sel_lines && i < n; i++) {
    if (op >= 0 && tk_cli_spec_op(specs[i]) != op) continue;
    if (k++ % shard_n == shard_i) {
      sel[m] = specs[i];
      sel_lines[m++] = lines[i];
    }
  }
  if (!sel || !sel_lines) {
    tk_cli_error("sweep: out of memory");
    rc = 1;
  } else if (m == 0) {
    tk_cli_error("sweep: no problem to sweep%s%s%s", o.op ? " of op " : "", o.op ? o.op : "",
                 o.shard ? " in this shard" : "");
    rc = 1;
  } else {
    rc = run(&o, sel, sel_lines, m, budget, device);
  }
  free(sel);
  free(sel_lines);
  tk_suite_free(&suite);
  return rc;
}
