/* tokamax_bench.c: main of tokamax-bench: every op x implementation x case
 * of a suite, beside the baseline libraries and the machine's ceilings,
 * all measured in one run by Google Benchmark with interleaved
 * repetitions; then the tables (docs/bench.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/ceiling.h"
#include "bench/tokamax_bench.h"
#include "runtime/context.h"
#if TK_HAVE_CUDA
#include "bench/gpu_timing.h"
#endif

/* OpenBLAS picks its kernels when the library loads, before main, from
 * OPENBLAS_CORETYPE; Debian's 0.3.21 misdetects Zen 5 and then runs a slow
 * kernel. Unless --openblas-core env, run it with SkylakeX on an AVX-512 CPU
 * (or the core given): when the environment holds another value, set it
 * and re-execute this program so the loader sees it. Writes what happened
 * to msg. */
static void openblas_coretype(const tk_bench_options *o, char **argv, char *msg, size_t len) {
#if TK_HAVE_OPENBLAS
  const char *env = getenv("OPENBLAS_CORETYPE"), *replaced = getenv("TOKAMAX_BENCH_REPLACED_CORETYPE");
  const char *want = o->openblas_core                                  ? o->openblas_core
                     : tk_isa_has(tk_cpu_isa(), TK_ISA_LEVEL_AVX512) ? "SkylakeX"
                                                                      : "env";
  if (strcmp(want, "env") == 0) {
    snprintf(msg, len, "OPENBLAS_CORETYPE=%s (the environment's)", env ? env : "(unset: OpenBLAS detects)");
    return;
  }
  if (!env || strcmp(env, want) != 0) {
    setenv("TOKAMAX_BENCH_REPLACED_CORETYPE", env ? env : "(unset)", 1);
    setenv("OPENBLAS_CORETYPE", want, 1);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
      self[n] = '\0';
      execv(self, argv); /* by its real path, so the process keeps its name */
    }
    snprintf(msg, len, "OPENBLAS_CORETYPE=%s could not be applied (re-executing failed)", want);
    return;
  }
  if (replaced)
    snprintf(msg, len, "OPENBLAS_CORETYPE=%s, set by tokamax-bench (was %s; re-executed so OpenBLAS "
             "loads with it)", want, replaced);
  else
    snprintf(msg, len, "OPENBLAS_CORETYPE=%s (the environment's)", want);
#else
  (void)o;
  (void)argv;
  snprintf(msg, len, "OpenBLAS baseline not built");
#endif
}

/* Prints what the run is: date, command, machine, libraries. */
static void print_header(int argc, char **argv, tk_context *ctx, const char *coretype) {
  char when[64], isa[256], line[512];
  time_t t = time(NULL);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", localtime(&t));
  tk_isa_string(ctx->dev.isa, isa, sizeof isa);
  printf("tokamax-bench %s, %s\ncommand:", tk_version(), when);
  for (int i = 0; i < argc; i++) printf(" %s", argv[i]);
  printf("\ncpu: %s, %d cores, L3 %lld KiB, isa: %s; %d threads\n", ctx->dev.brand,
         ctx->dev.physical_cores, (long long)(ctx->dev.l3_bytes >> 10), isa,
         tk_context_num_threads(ctx));
  printf("%s\n", coretype);
  tk_bench_add_context("tokamax_version", tk_version());
  tk_bench_add_context("cpu_isa", isa);
  snprintf(line, sizeof line, "%d", tk_context_num_threads(ctx));
  tk_bench_add_context("threads", line);
  tk_bench_add_context("openblas_coretype", coretype);
  tk_openblas_describe(line, sizeof line);
  printf("%s\n", line);
  tk_bench_add_context("openblas", line);
  tk_onednn_describe(line, sizeof line);
  printf("%s\n", line);
  tk_bench_add_context("onednn", line);
}

/* Keeps the cases of the suite whose op --op selects, built from seed. */
static tk_bench_case *build_cases(const tk_bench_options *o, int *n) {
  tk_suite suite;
  char err[512];
  if (tk_suite_load(o->suite, &suite, err, sizeof err) != TK_OK) {
    fprintf(stderr, "tokamax-bench: %s\n", err);
    return NULL;
  }
  tk_bench_case *cases = calloc((size_t)suite.count + 1, sizeof *cases);
  *n = 0;
  for (int i = 0; cases && i < suite.count; i++) {
    tk_case *c;
    if (tk_case_create(suite.specs[i], o->seed, &c, err, sizeof err) != TK_OK) {
      fprintf(stderr, "tokamax-bench: %s:%d: %s\n", suite.path, suite.line_numbers[i], err);
      for (int j = 0; j < *n; j++) tk_case_destroy(cases[j].c);
      free(cases);
      cases = NULL;
      break;
    }
    if (tk_name_listed(o->ops, tk_op_name(tk_case_op(c))))
      cases[(*n)++].c = c;
    else tk_case_destroy(c);
  }
  tk_suite_free(&suite);
  return cases;
}

/* Makes device copies of the cases when a GPU is usable; else says why not. */
static void attach_gpu(tk_bench_case *cases, int n, char *why, size_t why_len) {
#if TK_HAVE_CUDA
  if (!tk_gpu_available(why, why_len)) return;
#endif
  for (int i = 0; i < n; i++)
    if (tk_case_device_create(cases[i].c, 0, &cases[i].gpu, why, why_len) != TK_OK) {
      for (int j = 0; j < i; j++) { /* all on the GPU or none */
        tk_case_device_destroy(cases[j].gpu);
        cases[j].gpu = NULL;
      }
      return;
    }
}

/* Destroys every case and its device copy, then the array. */
static void free_cases(tk_bench_case *cases, int n) {
  for (int i = 0; i < n; i++) {
    tk_case_device_destroy(cases[i].gpu);
    tk_case_destroy(cases[i].c);
  }
  free(cases);
}

int main(int argc, char **argv) {
  tk_bench_options o;
  char coretype[256];
  char **gb_argv = calloc((size_t)argc + 8, sizeof *gb_argv);
  int gb_argc = gb_argv ? tk_bench_parse_args(argc, argv, &o, gb_argv, argc + 8) : -1;
  if (gb_argc <= 0) {
    free(gb_argv);
    return gb_argc == 0 ? 0 : 2;
  }
  openblas_coretype(&o, argv, coretype, sizeof coretype);
  tk_bench_init(&gb_argc, gb_argv);
  if (gb_argc > 1) {
    fprintf(stderr, "tokamax-bench: unknown Google Benchmark flag %s\n", gb_argv[1]);
    free(gb_argv);
    return 2;
  }
  tk_context *ctx;
  tk_context_options co = {":memory:", o.threads, TK_TUNE_OFF, NULL};
  if (tk_context_create(&co, &ctx) != TK_OK) {
    fprintf(stderr, "tokamax-bench: %s\n", tk_last_error());
    free(gb_argv);
    return 1;
  }
  print_header(argc, argv, ctx, coretype);
  tk_bench_add_context("suite", o.suite);
  int n_cases = 0, n_rows = 0, rc = 1;
  tk_bench_case *cases = build_cases(&o, &n_cases);
  tk_pool *pool = NULL;
  tk_row *rows = NULL;
  char gpu_why[256] = "";
  if (cases) attach_gpu(cases, n_cases, gpu_why, sizeof gpu_why);
  if (!cases) goto done;
  if (tk_pool_create(tk_context_num_threads(ctx), 1, &pool) != TK_OK ||
      !tk_rows_build(&o, ctx, cases, n_cases, gpu_why, &rows, &n_rows, stdout)) {
    fprintf(stderr, "tokamax-bench: out of memory\n");
    goto done;
  }
  if (n_rows == 0) printf("no row matches --op/--impl: measuring the ceilings only\n");
  tk_ceiling_register_cpu(pool);
#if TK_HAVE_CUDA
  if (n_cases > 0 && cases[0].gpu) tk_ceiling_register_gpu();
#endif
  if (gpu_why[0]) printf("gpu: not used: %s\n", gpu_why);
  tk_rows_register(rows, n_rows);
  tk_dispatch_register(&o);
  fflush(stdout);
  tk_bench_run();
  tk_bench_print_tables(rows, n_rows);
  tk_dispatch_print_table();
  rc = 0;
done:
  tk_bench_shutdown();
  free(rows);
  if (pool) tk_pool_destroy(pool);
  if (cases) free_cases(cases, n_cases);
  tk_context_destroy(ctx);
  free(gb_argv);
  return rc;
}
