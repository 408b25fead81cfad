/* dispatch_row.c: what automatic dispatch costs on a tuning-cache hit. For
 * a tiny problem whose tuned choice sits in a temporary cache file, two
 * benchmarks of the same run, interleaved: "call", the public entry point
 * tk_<op>(ctx, args, NULL) (validation, the cache-hit choice, the kernel),
 * and "execute", tk_execute of the same choice on the problem validated
 * beforehand (the kernel alone). Their difference is the overhead per call,
 * printed beside the target of 1 us. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/call.h"
#include "autotune/execute.h"
#include "bench/bench.h"
#include "bench/tokamax_bench.h"
#include "cache/cache.h"
#include "runtime/context.h"

/* The overhead a cache-hit dispatch may add to a call. */
#define TARGET_NS 1000.0

typedef struct {
  const char *spec; /* the problem: a case spec (regress/case.h) */
  int threads;
  int registered, prepared, failed; /* prepare runs once for both benchmarks */
  char why[256];                    /* why prepare failed */
  char name_call[192], name_execute[192], impl[64], config[256];
  tk_case *c;
  tk_context *ctx;                  /* over the temporary cache */
  tk_problem p;
  tk_choice choice;
} dispatch_row;

/* The cheapest kernel there is (one token of 8 floats), and the smallest
 * GEMM. */
static dispatch_row rows[] = {
    {.spec = "moe_unpermute dtype=f32 T=1 H=8 k=1 E=1"},
    {.spec = "grouped_gemm dtype=f32 out=f32 layout=nn M=16 K=16 N=16 G=1"},
};
enum { N_ROWS = sizeof rows / sizeof rows[0] };

/* Writes the heuristic choice of r's problem, as its tuned best for this
 * machine's CPU, into a new cache file db; 0 on failure with r->why set. */
static int write_cache(dispatch_row *r, const char *db) {
  tk_context_options mo = {":memory:", r->threads, TK_TUNE_OFF, NULL};
  tk_context *mem = NULL;
  tk_plan *plan = NULL;
  tk_cache *cache = NULL;
  char fp[512];
  int64_t dev;
  int ok = tk_context_create(&mo, &mem) == TK_OK &&
           tk_plan_create(mem, tk_case_op(r->c), tk_case_args(r->c), NULL, &plan) == TK_OK;
  if (ok) {
    snprintf(r->impl, sizeof r->impl, "%s", tk_plan_impl(plan));
    snprintf(r->config, sizeof r->config, "%s", tk_plan_config(plan));
    tk_device_fingerprint_cpu(&mem->dev, fp, sizeof fp);
    ok = tk_cache_open(db, TK_CACHE_CREATE, 0, &cache) == TK_OK &&
         tk_cache_device_id(cache, fp, NULL, &dev) == TK_OK &&
         tk_cache_set_best(cache, dev, tk_op_name(tk_case_op(r->c)), tk_plan_problem_key(plan),
                           r->impl, r->config, 1.0) == TK_OK;
  }
  if (!ok) snprintf(r->why, sizeof r->why, "tuning cache not written: %s", tk_last_error());
  tk_cache_close(cache);
  tk_plan_destroy(plan);
  tk_context_destroy(mem);
  return ok;
}

/* Builds r's case, its temporary cache and a context over it (the cache
 * file is removed once loaded: nothing reads it per call), and checks that
 * automatic dispatch hits it; 0 on failure with r->why set. */
static int prepare(dispatch_row *r) {
  char err[256], dir[512], db[600];
  if (tk_case_create(r->spec, 1, &r->c, err, sizeof err) != TK_OK) {
    snprintf(r->why, sizeof r->why, "%s", err);
    return 0;
  }
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/tokamax-bench-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    snprintf(r->why, sizeof r->why, "no temporary folder %.200s", dir);
    return 0;
  }
  snprintf(db, sizeof db, "%s/tune.db", dir);
  tk_context_options o = {db, r->threads, TK_TUNE_OFF, NULL};
  int ok = write_cache(r, db);
  if (ok && tk_context_create(&o, &r->ctx) != TK_OK) {
    snprintf(r->why, sizeof r->why, "%s", tk_last_error());
    ok = 0;
  }
  static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
  for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
    char path[640];
    snprintf(path, sizeof path, "%s%s", db, suffixes[i]);
    remove(path);
  }
  rmdir(dir);
  if (!ok) return 0;
  if (tk_problem_validate(tk_case_op(r->c), tk_case_args(r->c), 1, &r->p) != TK_OK ||
      tk_choose(r->ctx, &r->p, NULL, &r->choice) != TK_OK) {
    snprintf(r->why, sizeof r->why, "%s", tk_last_error());
    return 0;
  }
  if (r->choice.source != TK_CHOICE_CACHE) {
    snprintf(r->why, sizeof r->why, "dispatch did not hit the tuning cache (source %s)",
             tk_choice_source_name(r->choice.source));
    return 0;
  }
  return 1;
}

/* Setup of either benchmark: prepares the row once, then one warm-up call
 * of each kind. */
static int row_setup(void *user, char *why, size_t why_len) {
  dispatch_row *r = user;
  if (!r->prepared) {
    r->prepared = 1;
    r->failed = !prepare(r) ||
                tk_api_call(tk_case_op(r->c), r->ctx, tk_case_args(r->c), NULL) != TK_OK ||
                tk_execute(r->ctx, &r->p, &r->choice) != TK_OK;
    if (r->failed && !r->why[0]) snprintf(r->why, sizeof r->why, "%s", tk_last_error());
  }
  if (r->failed) snprintf(why, why_len, "%s", r->why);
  return r->failed;
}

/* One public call, chosen through the tuning cache (timed by the wrapper). */
static double run_call(void *user, char *why, size_t why_len) {
  dispatch_row *r = user;
  if (tk_api_call(tk_case_op(r->c), r->ctx, tk_case_args(r->c), NULL) == TK_OK) return 0;
  snprintf(why, why_len, "%s", tk_last_error());
  return -1;
}

/* The same choice on the validated problem, nothing else (timed by the
 * wrapper). */
static double run_execute(void *user, char *why, size_t why_len) {
  dispatch_row *r = user;
  if (tk_execute(r->ctx, &r->p, &r->choice) == TK_OK) return 0;
  snprintf(why, why_len, "%s", tk_last_error());
  return -1;
}

/* Frees what prepare made (the first of the two teardowns does it). */
static void row_teardown(void *user) {
  dispatch_row *r = user;
  tk_context_destroy(r->ctx);
  tk_case_destroy(r->c);
  r->ctx = NULL;
  r->c = NULL;
}

void tk_dispatch_register(const tk_bench_options *o) {
  for (int i = 0; i < N_ROWS; i++) {
    dispatch_row *r = &rows[i];
    char op[32];
    snprintf(op, sizeof op, "%.*s", (int)strcspn(r->spec, " "), r->spec);
    r->threads = o->threads;
    r->registered = tk_name_listed(o->ops, op);
    if (!r->registered) continue;
    snprintf(r->name_call, sizeof r->name_call, "dispatch/%s/call", r->spec);
    snprintf(r->name_execute, sizeof r->name_execute, "dispatch/%s/execute", r->spec);
    tk_bench_def call = {r->name_call, r, row_setup, run_call, row_teardown, 0, 0, 0};
    tk_bench_def execute = {r->name_execute, r, row_setup, run_execute, row_teardown, 0, 0, 0};
    tk_bench_register(&call);
    tk_bench_register(&execute);
  }
}

void tk_dispatch_print_table(void) {
  int header = 0;
  for (int i = 0; i < N_ROWS; i++) {
    const dispatch_row *r = &rows[i];
    tk_bench_result a, b;
    if (!r->registered || !tk_bench_result_get(r->name_call, &a) ||
        !tk_bench_result_get(r->name_execute, &b) || !a.ran || !b.ran)
      continue; /* filtered out */
    if (!header++)
      printf("\n| dispatch on a cache hit | choice | call ns (min-max) | tk_execute ns (min-max) | "
             "overhead ns per call | call / execute | target |\n|---|---|---|---|---|---|---|\n");
    printf("| %s | %s %s |", r->spec, r->impl, r->config);
    if (a.skipped || b.skipped || a.median_s <= 0 || b.median_s <= 0) {
      printf(" skipped: %s | | | | |\n", a.skipped ? a.why : b.skipped ? b.why : "no measurement");
      continue;
    }
    double over = (a.median_s - b.median_s) * 1e9;
    printf(" %.0f (%.0f-%.0f) | %.0f (%.0f-%.0f) | %.0f | %.2fx | %s %.0f ns |\n",
           a.median_s * 1e9, a.min_s * 1e9, a.max_s * 1e9, b.median_s * 1e9, b.min_s * 1e9,
           b.max_s * 1e9, over, a.median_s / b.median_s, over < TARGET_NS ? "under" : "OVER",
           TARGET_NS);
  }
}
