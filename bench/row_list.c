/* row_list.c: which rows a run has: for every case of the suite, the
 * baseline libraries that apply (grouped GEMM: OpenBLAS for float32,
 * oneDNN for bf16), then every implementation of the op in registry order
 * (cublas once per config of its space; with --config one more row per
 * impl), filtered by --impl. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/config.h"
#include "bench/gemm_view.h"
#include "bench/tokamax_bench.h"
#include "impls/registry.h"

typedef struct {
  tk_row *v;
  int n, cap;
} row_vec;

/* Appends a row for case bc run by impl (forced config or "", on the GPU
 * copy when gpu); 0 when out of memory. */
static int add(row_vec *rv, const tk_bench_options *o, tk_context *ctx, const tk_bench_case *bc,
               int ci, tk_row_kind kind, const char *impl, const char *forced, int gpu) {
  if (rv->n == rv->cap) {
    int cap = rv->cap ? 2 * rv->cap : 64;
    tk_row *v = realloc(rv->v, sizeof *v * (size_t)cap);
    if (!v) return 0;
    rv->v = v;
    rv->cap = cap;
  }
  tk_row *r = &rv->v[rv->n++];
  memset(r, 0, sizeof *r);
  r->kind = kind;
  r->case_index = ci;
  r->kase = bc->c;
  r->ctx = ctx;
  r->max_call_s = o->max_call_s;
  r->check = o->check;
  snprintf(r->impl, sizeof r->impl, "%s", impl);
  snprintf(r->forced, sizeof r->forced, "%s", forced);
  snprintf(r->name, sizeof r->name, "%s/%s%s%s%s", tk_case_spec(bc->c), impl, forced[0] ? "[" : "",
           forced, forced[0] ? "]" : "");
  r->gpu = gpu ? bc->gpu : NULL;
  r->args = gpu ? tk_case_device_args(bc->gpu) : tk_case_args(bc->c);
  r->memory_bound = tk_case_memory_bound(bc->c);
  return 1;
}

/* Adds one row per config of impl's space (at most 16). */
static int add_every_config(row_vec *rv, const tk_bench_options *o, tk_context *ctx,
                            const tk_bench_case *bc, int ci, const tk_impl *impl, int gpu) {
  int64_t n = tk_config_space_size(impl->space);
  if (impl->space->n_params == 0 || n > 16) return add(rv, o, ctx, bc, ci, TK_ROW_IMPL, impl->name, "", gpu);
  for (int64_t i = 0; i < n; i++) {
    tk_config cfg;
    char text[256];
    tk_config_nth(impl->space, i, &cfg);
    tk_config_format(impl->space, &cfg, text, sizeof text);
    if (!add(rv, o, ctx, bc, ci, TK_ROW_IMPL, impl->name, text, gpu)) return 0;
  }
  return 1;
}

/* Writes "impl: not run: why" to notes once per impl. */
static void note_once(FILE *notes, char noted[][64], int *n_noted, const char *impl, const char *why) {
  for (int i = 0; i < *n_noted; i++)
    if (strcmp(noted[i], impl) == 0) return;
  if (*n_noted < 32) snprintf(noted[(*n_noted)++], 64, "%s", impl);
  fprintf(notes, "%s: not run: %s\n", impl, why);
}

int tk_rows_build(const tk_bench_options *o, tk_context *ctx, const tk_bench_case *cases,
                  int n_cases, const char *gpu_why, tk_row **rows, int *n, FILE *notes) {
  row_vec rv = {0};
  char noted[32][64];
  int n_noted = 0, ok = 1;
  for (int ci = 0; ci < n_cases && ok; ci++) {
    const tk_bench_case *bc = &cases[ci];
    tk_op op = tk_case_op(bc->c);
    if (op == TK_OP_GROUPED_GEMM) {
      DLDataType dt = ((const tk_grouped_gemm_args *)tk_case_args(bc->c))->lhs->dtype;
      if (tk_dtype_is(dt, kDLFloat, 32) && tk_name_listed(o->impls, "openblas"))
        ok = ok && add(&rv, o, ctx, bc, ci, TK_ROW_OPENBLAS, "openblas", "", 0);
      if (tk_dtype_is(dt, kDLBfloat, 16) && tk_name_listed(o->impls, "onednn"))
        ok = ok && add(&rv, o, ctx, bc, ci, TK_ROW_ONEDNN, "onednn", "", 0);
    }
    int count = 0;
    const tk_impl *const *list = tk_registry(op, &count);
    for (int i = 0; i < count && ok; i++) {
      const tk_impl *impl = list[i];
      if (!tk_name_listed(o->impls, impl->name)) continue;
      int gpu = impl->backend == TK_BACKEND_CUDA;
      if (gpu && !bc->gpu) {
        note_once(notes, noted, &n_noted, impl->name, gpu_why);
        continue;
      }
      if (strcmp(impl->name, "cublas") == 0)
        ok = add_every_config(&rv, o, ctx, bc, ci, impl, gpu);
      else
        ok = add(&rv, o, ctx, bc, ci, TK_ROW_IMPL, impl->name, "", gpu);
      if (ok && o->config) ok = add(&rv, o, ctx, bc, ci, TK_ROW_IMPL, impl->name, o->config, gpu);
    }
  }
  if (!ok) {
    free(rv.v);
    return 0;
  }
  *rows = rv.v;
  *n = rv.n;
  return 1;
}
