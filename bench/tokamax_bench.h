/* tokamax_bench.h: what the files of the tokamax-bench program share: its
 * options, and the row (one benchmark: an implementation or a baseline
 * library on one case of the suite). docs/bench.md describes the tool. */
#ifndef TK_BENCH_TOKAMAX_BENCH_H
#define TK_BENCH_TOKAMAX_BENCH_H

#include <stddef.h>
#include <stdio.h>

#include "regress/case.h"
#include "runtime/name_list.h"
#include "tokamax.h"

typedef struct {
  const char *suite;   /* name or path (default "bench_cpu") */
  const char *ops;     /* comma list of op names, NULL = all */
  const char *impls;   /* comma list of impl and baseline names, NULL = all */
  const char *config;  /* extra row per selected impl with this config, NULL = none */
  double max_call_s;   /* an impl whose warm-up call takes longer is skipped */
  int threads;         /* context threads, 0 = one per physical core */
  unsigned long long seed;
  const char *openblas_core; /* OPENBLAS_CORETYPE to run with; NULL: SkylakeX on AVX-512, "env": keep */
  int check;           /* check each CPU row's warm-up result against the reference */
} tk_bench_options;

/* One case of the suite, with its device copy when rows run on a GPU. */
typedef struct {
  tk_case *c;
  tk_case_device *gpu; /* NULL when there is no device copy */
} tk_bench_case;

typedef enum {
  TK_ROW_IMPL = 0,   /* an implementation through the public API */
  TK_ROW_OPENBLAS,   /* cblas_sgemm once per group */
  TK_ROW_ONEDNN      /* oneDNN bf16 matmul once per group */
} tk_row_kind;

typedef struct {
  char name[640];      /* the benchmark's name: "<case spec>/<impl>[config]" */
  tk_row_kind kind;
  int case_index;      /* into the suite */
  tk_case *kase;       /* shared by the rows of one case */
  tk_context *ctx;
  char impl[64];       /* implementation name, or "openblas" / "onednn" */
  char forced[256];    /* config to force, "" = the heuristic's */
  char ran[256];       /* after setup: the config that ran (baselines: their kernel) */
  const void *args;    /* the op's args: the case's, or their device copy */
  tk_case_device *gpu; /* the case's device copy when the row runs on the GPU, else NULL */
  int memory_bound;    /* permute, unpermute, paged decode: judged by bytes/s */
  double max_call_s;
  int check;           /* after setup, check one call's output against the reference */
  void *state;         /* what the row's kind keeps between setup and teardown */
} tk_row;

/* Parses argv into *o and the Google Benchmark arguments (defaults first,
 * then translations of --repetitions/--min-time/--json, then any
 * --benchmark_* given) into gb_argv (gb_argv[0] = argv[0]); returns their
 * count, 0 after --help, or -1 with a message printed on a bad option. */
int tk_bench_parse_args(int argc, char **argv, tk_bench_options *o, char **gb_argv, int gb_cap);

/* The rows of a run (row_list.c): per case, the applicable baseline
 * libraries, then the selected implementations of its op. Implementations
 * that cannot run here at all (a CUDA one without a device copy) get a
 * line "<impl>: not run: <gpu_why>" in notes instead of rows. Sets *rows
 * (free it; NULL when there are none) and *n; returns 0 when out of memory. */
int tk_rows_build(const tk_bench_options *o, tk_context *ctx, const tk_bench_case *cases,
                  int n_cases, const char *gpu_why, tk_row **rows, int *n, FILE *notes);

/* Registers the benchmark of each row (rows must outlive tk_bench_run). */
void tk_rows_register(tk_row *rows, int n);

/* Row kinds: setup (0 or nonzero with why), one timed call (seconds, or
 * negative with why), teardown. */
int tk_impl_row_setup(tk_row *r, char *why, size_t why_len);
double tk_impl_row_run(tk_row *r, char *why, size_t why_len);
void tk_impl_row_teardown(tk_row *r);
int tk_openblas_row_setup(tk_row *r, char *why, size_t why_len);
double tk_openblas_row_run(tk_row *r, char *why, size_t why_len);
void tk_openblas_row_teardown(tk_row *r);
int tk_onednn_row_setup(tk_row *r, char *why, size_t why_len);
double tk_onednn_row_run(tk_row *r, char *why, size_t why_len);
void tk_onednn_row_teardown(tk_row *r);

/* A line saying which OpenBLAS / oneDNN this binary uses (version, core). */
void tk_openblas_describe(char *buf, size_t len);
void tk_onednn_describe(char *buf, size_t len);

/* Evicts every buffer of case c (inputs, outputs, guards) from all cache
 * levels, so the next call reads them from memory. */
void tk_flush_case(const tk_case *c);

/* Prints the ceilings and the rows as markdown tables. */
void tk_bench_print_tables(const tk_row *rows, int n);

/* Registers the dispatch-overhead benchmarks (dispatch_row.c) of the ops
 * o->ops selects: per tiny problem, "dispatch/<spec>/call" (the public
 * call, choosing through a temporary tuning cache) and
 * "dispatch/<spec>/execute" (the same choice run directly). */
void tk_dispatch_register(const tk_bench_options *o);

/* Prints their table: call and execute ns, the overhead per call and the
 * 1 us target (nothing when none ran). */
void tk_dispatch_print_table(void);

#endif
