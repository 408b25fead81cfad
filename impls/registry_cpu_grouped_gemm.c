/* registry_cpu_grouped_gemm.c: the cpu grouped GEMM record (impls/cpu/gemm*):
 * its config space, validity predicate, heuristic and run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/runtime/device.h"
#include "../kernels/runtime/status.h"
#include "cpu/gemm.h"
#include "registry.h"

/* isa: 256 AVX2+FMA, 512 AVX-512 (vdpbf16ps for bf16 when present), 1024
 * AMX-BF16 (bf16 only; also needs TOKAMAX_AMX=1). shape: the microkernel,
 * 0 = 14x32 (AVX-512) / 6x16 (AVX2) / 32x32 (AMX), 1 = 8x48 / 4x24. kc:
 * depth block. tm x tn: the output tile of one pool task, so also how work
 * is split over threads (rounded up to whole microkernel panels). */
static const int isa_values[] = {TK_GEMM_ISA_AVX2, TK_GEMM_ISA_AVX512, TK_GEMM_ISA_AMX};
static const int shape_values[] = {0, 1};
static const int kc_values[] = {128, 256, 512};
static const int tm_values[] = {64, 512};
static const int tn_values[] = {256, 2048};
enum { P_ISA, P_SHAPE, P_KC, P_TM, P_TN, N_PARAMS };
#define COUNT(a) ((int)(sizeof a / sizeof a[0]))
static const tk_param_def params[N_PARAMS] = {{"isa", isa_values, COUNT(isa_values)},
                                              {"shape", shape_values, COUNT(shape_values)},
                                              {"kc", kc_values, COUNT(kc_values)},
                                              {"tm", tm_values, COUNT(tm_values)},
                                              {"tn", tn_values, COUNT(tn_values)}};

/* 1 when TOKAMAX_AMX=1 opts in to the (untested) AMX path. */
static int amx_enabled(void) {
  const char *e = getenv("TOKAMAX_AMX");
  return e && strcmp(e, "1") == 0;
}

/* The largest GEMM of p: rows of an output tile, depth of the reduction. */
static int64_t max_rows(const tk_grouped_gemm_problem *g) {
  return g->layout == TK_GG_TN ? g->K : g->M;
}
static int64_t max_depth(const tk_grouped_gemm_problem *g) {
  return g->layout == TK_GG_TN ? g->M : g->K;
}

/* 1 if a smaller candidate than value (in values[0..n)) is already >= need:
 * then value computes exactly what that one does. */
static int redundant(const int *values, int n, int value, int64_t need) {
  for (int i = 0; i < n; i++)
    if (values[i] < value && values[i] >= need) return 1;
  return 0;
}

/* The kernel config c selects for p on this CPU, or NULL. */
static const tk_gemm_kernel *kernel_of(const tk_problem *p, const tk_config *c) {
  if (c->v[P_ISA] == TK_GEMM_ISA_AMX && !amx_enabled()) return NULL;
  return tk_gemm_kernel_for((tk_gemm_isa)c->v[P_ISA], c->v[P_SHAPE], p->dtype, tk_cpu_isa());
}

/* The kernel exists and this CPU (capped by TOKAMAX_CPU_ISA) runs it; and
 * no blocking value is a larger copy of a smaller one for this problem. */
static int gg_valid(const tk_problem *p, const tk_config *c, char *why, size_t len) {
  const tk_grouped_gemm_problem *g = &p->u.grouped_gemm;
  if (!kernel_of(p, c)) {
    if (c->v[P_ISA] == TK_GEMM_ISA_AMX)
      snprintf(why, len, "isa=1024 (AMX) needs AMX-BF16 and AVX-512, bf16 inputs, shape=0 and "
                         "TOKAMAX_AMX=1");
    else
      snprintf(why, len,
               "isa=%d shape=%d: this CPU lacks the instructions (or TOKAMAX_CPU_ISA caps them)",
               c->v[P_ISA], c->v[P_SHAPE]);
    return 0;
  }
  if (redundant(kc_values, COUNT(kc_values), c->v[P_KC], max_depth(g)) ||
      redundant(tm_values, COUNT(tm_values), c->v[P_TM], max_rows(g)) ||
      redundant(tn_values, COUNT(tn_values), c->v[P_TN], g->N)) {
    snprintf(why, len, "kc/tm/tn larger than the problem needs (a smaller one computes the same)");
    return 0;
  }
  return 1;
}

static const tk_config_space gg_space = {N_PARAMS, params, gg_valid};

#define AVX2_BITS (TK_ISA_AVX2 | TK_ISA_FMA | TK_ISA_F16C)

static int gg_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  (void)p;
  if ((dev->isa & AVX2_BITS) == AVX2_BITS) return 1;
  snprintf(why, len,
           "unsupported: needs AVX2, FMA and F16C, which this CPU lacks or TOKAMAX_CPU_ISA caps");
  return 0;
}

/* The smallest candidate >= need, else the largest. */
static int fit(const int *values, int n, int64_t need) {
  for (int i = 0; i < n; i++)
    if (values[i] >= need) return values[i];
  return values[n - 1];
}

/* Output tiles of one group of `rows` rows (of N columns) under tm x tn. */
static int64_t tiles(int64_t rows, int64_t n, int tm, int tn) {
  return ((rows + tm - 1) / tm) * ((n + tn - 1) / tn);
}

/* The fastest ISA the CPU has; the 8x48 (4x24) microkernel, which measured
 * faster than 14x32 (6x16) for large and ragged groups alike; a depth block
 * of 1 KiB per panel row; the largest task tiles (fewest re-packed panels)
 * that still give every thread four tasks to balance. Measured on a 2-core
 * Zen 5 (docs/cpu-gemm.md). */
static void gg_heuristic(const tk_problem *p, const tk_device_info *dev, tk_config *c) {
  const tk_grouped_gemm_problem *g = &p->u.grouped_gemm;
  unsigned isa = tk_cpu_isa();
  c->n = N_PARAMS;
  c->v[P_ISA] = TK_GEMM_ISA_AVX2;
  if (tk_gemm_kernel_for(TK_GEMM_ISA_AVX512, 0, p->dtype, isa)) c->v[P_ISA] = TK_GEMM_ISA_AVX512;
  if (amx_enabled() && tk_gemm_kernel_for(TK_GEMM_ISA_AMX, 0, p->dtype, isa))
    c->v[P_ISA] = TK_GEMM_ISA_AMX;
  int64_t groups = g->G > 0 ? g->G : 1;
  int64_t rows = g->layout == TK_GG_TN ? g->K : (g->M + groups - 1) / groups; /* per group */
  c->v[P_SHAPE] = c->v[P_ISA] != TK_GEMM_ISA_AMX;
  const tk_gemm_kernel *k =
      tk_gemm_kernel_for((tk_gemm_isa)c->v[P_ISA], c->v[P_SHAPE], p->dtype, isa);
  int64_t kc = k && k->elem_bytes == 2 ? 512 : 256;
  int64_t threads = dev->physical_cores > 1 ? dev->physical_cores : 1;
  int tm = tm_values[COUNT(tm_values) - 1], tn = tn_values[COUNT(tn_values) - 1];
  if (groups * tiles(rows, g->N, tm, tn) < 4 * threads) tn = tn_values[0];
  if (groups * tiles(rows, g->N, tm, tn) < 4 * threads) tm = tm_values[0];
  c->v[P_KC] = fit(kc_values, COUNT(kc_values), max_depth(g) < kc ? max_depth(g) : kc);
  c->v[P_TM] = fit(tm_values, COUNT(tm_values), max_rows(g) < tm ? max_rows(g) : tm);
  c->v[P_TN] = fit(tn_values, COUNT(tn_values), g->N < tn ? g->N : tn);
}

/* The driver allocates its per-worker packing buffers itself: their count
 * is the pool's size, which only run() knows. */
static size_t gg_workspace(const tk_problem *p, const tk_config *c) {
  (void)p;
  (void)c;
  return 0;
}

static tk_status gg_run(const tk_problem *p, const tk_config *c, const tk_exec *ex, void *ws) {
  (void)ws;
  const tk_gemm_kernel *k = kernel_of(p, c);
  if (!k) /* valid() rejects such configs before run() */
    return tk_fail(TK_ERR_INTERNAL, "grouped_gemm (cpu): no kernel for isa=%d shape=%d",
                   c->v[P_ISA], c->v[P_SHAPE]);
  tk_gemm_blocking b = {c->v[P_KC], c->v[P_TM], c->v[P_TN]};
  return tk_gemm_grouped(&p->u.grouped_gemm, k, &b, ex->pool);
}

const tk_impl tk_cpu_grouped_gemm_impl = {"cpu",        TK_BACKEND_CPU, &gg_space,   gg_supports,
                                          gg_heuristic, gg_workspace,   gg_run};
