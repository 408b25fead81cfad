/* table.c: the tables tokamax-bench prints after the run: the ceilings,
 * then one row per benchmark with its rates, its fraction of the relevant
 * ceiling (memory-bound CPU rows: of the copy and of the read ceiling) and
 * its speed-up over the baseline of its case. */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/ceiling.h"
#include "bench/gemm_view.h"
#include "bench/tokamax_bench.h"

/* The ceiling a row is judged against: its name, short label and rate. */
static const char *ceiling_of(const tk_row *r, const char **label) {
  int bf16 = tk_case_dtype(r->kase) == TK_BF16;
  int half = bf16 || tk_case_dtype(r->kase) == TK_F16;
  if (r->gpu) {
    *label = r->memory_bound ? "gpu copy" : half ? "gpu bf16 gemm" : "gpu f32 gemm";
    return r->memory_bound ? TK_CEIL_GPU_COPY : half ? TK_CEIL_GPU_GEMM_BF16 : TK_CEIL_GPU_GEMM_F32;
  }
  if (r->memory_bound) {
    *label = "copy";
    return TK_CEIL_CPU_COPY;
  }
  if (bf16 && tk_ceiling_rate(TK_CEIL_CPU_DOT_BF16) > 0) {
    *label = "bf16 dot";
    return TK_CEIL_CPU_DOT_BF16;
  }
  *label = "f32 fma";
  return TK_CEIL_CPU_FMA_F32;
}

/* Median seconds of a row that ran (0 when it did not). */
static double row_median(const tk_row *r) {
  tk_bench_result res;
  if (!tk_bench_result_get(r->name, &res) || !res.ran || res.skipped) return 0;
  return res.median_s;
}

/* The row this one's speed-up is measured against (NULL when none ran):
 * for grouped GEMM on the CPU the library baseline of the case (OpenBLAS
 * for f32, oneDNN for bf16), on the GPU the fastest cublas config; else,
 * and when those did not run, the reference. */
static const tk_row *baseline_of(const tk_row *rows, int n, const tk_row *r) {
  int gg = tk_case_op(r->kase) == TK_OP_GROUPED_GEMM;
  const tk_row *lib = NULL, *ref = NULL;
  for (int i = 0; i < n; i++) {
    const tk_row *b = &rows[i];
    if (b->case_index != r->case_index || row_median(b) <= 0) continue;
    int is_lib = r->gpu ? b->gpu && strcmp(b->impl, "cublas") == 0 : b->kind != TK_ROW_IMPL;
    if (gg && is_lib && (!lib || row_median(b) < row_median(lib))) lib = b;
    if (strcmp(b->impl, "reference") == 0 && !b->forced[0]) ref = b;
  }
  return lib ? lib : ref;
}

/* Prints one markdown table row of r. */
static void print_row(const tk_row *rows, int n, const tk_row *r) {
  tk_bench_result res;
  const char *spec = tk_case_spec(r->kase), *shape = strchr(spec, ' ');
  char impl[sizeof r->impl + sizeof r->forced + 4];
  snprintf(impl, sizeof impl, "%s%s%s%s", r->impl, r->forced[0] ? " [" : "", r->forced,
           r->forced[0] ? "]" : "");
  if (!tk_bench_result_get(r->name, &res) || !res.ran) return; /* filtered out */
  printf("| %s | %s | %s | %s |", tk_op_name(tk_case_op(r->kase)), shape ? shape + 1 : "", impl,
         r->ran[0] ? r->ran : "-");
  if (res.skipped || res.median_s <= 0) {
    printf(" skipped: %s | | | | |\n", res.why[0] ? res.why : "no measurement");
    return;
  }
  double t = res.median_s, flops = res.flops / t, bytes = res.bytes / t;
  printf(" %.3f (%.3f-%.3f) | %.1f | %.1f |", t * 1e3, res.min_s * 1e3, res.max_s * 1e3,
         flops * 1e-9, bytes * 1e-9);
  const char *label, *ceil_name = ceiling_of(r, &label);
  double ceil = tk_ceiling_rate(ceil_name);
  double read = r->memory_bound && !r->gpu ? tk_ceiling_rate(TK_CEIL_CPU_READ) : 0;
  if (ceil > 0 && read > 0)
    printf(" %.0f%% %s, %.0f%% read |", 100.0 * bytes / ceil, label, 100.0 * bytes / read);
  else if (ceil > 0)
    printf(" %.0f%% %s |", 100.0 * (r->memory_bound ? bytes : flops) / ceil, label);
  else
    printf(" - |");
  const tk_row *b = baseline_of(rows, n, r);
  if (b) printf(" %.2fx %s%s |\n", row_median(b) / t, b->impl, b->gpu != r->gpu ? " (cpu)" : "");
  else printf(" - |\n");
}

/* Prints the ceilings measured in this run. */
static void print_ceilings(void) {
  static const struct {
    const char *name, *unit;
  } ceilings[] = {{TK_CEIL_CPU_FMA_F32, "GFLOP/s"}, {TK_CEIL_CPU_DOT_BF16, "GFLOP/s"},
                  {TK_CEIL_CPU_COPY, "GB/s"},       {TK_CEIL_CPU_READ, "GB/s"},
                  {TK_CEIL_GPU_GEMM_BF16, "GFLOP/s"},
                  {TK_CEIL_GPU_GEMM_F32, "GFLOP/s"}, {TK_CEIL_GPU_COPY, "GB/s"}};
  printf("\n| ceiling | median ms (min-max) | ceiling (peaks: fastest; copy, read: median) | rate at the "
         "median |\n|---|---|---|---|\n");
  for (size_t i = 0; i < sizeof ceilings / sizeof ceilings[0]; i++) {
    tk_bench_result res;
    if (!tk_bench_result_get(ceilings[i].name, &res) || !res.ran) continue;
    if (res.skipped || res.median_s <= 0)
      printf("| %s | skipped: %s | | |\n", ceilings[i].name, res.why);
    else
      printf("| %s | %.3f (%.3f-%.3f) | %.1f %s | %.1f %s |\n", ceilings[i].name,
             res.median_s * 1e3, res.min_s * 1e3, res.max_s * 1e3,
             tk_ceiling_rate(ceilings[i].name) * 1e-9, ceilings[i].unit,
             (res.flops > 0 ? res.flops : res.bytes) / res.median_s * 1e-9, ceilings[i].unit);
  }
}

void tk_bench_print_tables(const tk_row *rows, int n) {
  print_ceilings();
  printf("\n| op | shape | impl | config | median ms (min-max) | GFLOP/s | GB/s | of ceiling | "
         "speed-up |\n|---|---|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < n; i++) print_row(rows, n, &rows[i]);
}
