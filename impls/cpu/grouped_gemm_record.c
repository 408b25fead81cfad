/* grouped_gemm_record.c: the cpu grouped GEMM record (gemm_driver.c and
 * the microkernels of gemm.h): its config space, validity rule, heuristic
 * and run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "impls/cpu/gemm.h"
#include "kernels/impl.h"
#include "runtime/device.h"
#include "runtime/status.h"

/* isa: 256 AVX2+FMA, 512 AVX-512 (vdpbf16ps for bf16 when present), 1024
 * AMX-BF16 (bf16 only; also needs TOKAMAX_AMX=1). shape: the microkernel,
 * 0 = 14x32 (AVX-512) / 6x16 (AVX2) / 32x32 (AMX), 1 = 8x48 / 4x24. kc:
 * depth block. tm x tn: the output tile of one pool task, so also how work
 * is split over threads (rounded up to whole microkernel panels). */
typedef struct {
  int isa, shape, kc, tm, tn;
} gemm_config;

enum { P_ISA, P_SHAPE, P_KC, P_TM, P_TN };
static const tk_param_def params[] = {
    [P_ISA] = TK_PARAM(gemm_config, isa, TK_GEMM_ISA_AVX2, TK_GEMM_ISA_AVX512, TK_GEMM_ISA_AMX),
    [P_SHAPE] = TK_PARAM(gemm_config, shape, 0, 1),
    [P_KC] = TK_PARAM(gemm_config, kc, 128, 256, 512),
    [P_TM] = TK_PARAM(gemm_config, tm, 64, 512),
    [P_TN] = TK_PARAM(gemm_config, tn, 256, 2048)};

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

/* 1 if a smaller candidate of param than value is already >= need: then
 * value computes exactly what that one does. */
static int redundant(const tk_param_def *param, int value, int64_t need) {
  for (int i = 0; i < param->n_values; i++)
    if (param->values[i] < value && param->values[i] >= need) return 1;
  return 0;
}

/* The kernel config c selects for p on this CPU, or NULL. */
static const tk_gemm_kernel *kernel_of(const tk_problem *p, const gemm_config *c) {
  if (c->isa == TK_GEMM_ISA_AMX && !amx_enabled()) return NULL;
  return tk_gemm_kernel_for((tk_gemm_isa)c->isa, c->shape, p->dtype, tk_cpu_isa());
}

/* The kernel exists and this CPU (capped by TOKAMAX_CPU_ISA) runs it; and
 * no blocking value is a larger copy of a smaller one for this problem. */
static int valid(const tk_problem *p, const void *config, char *why, size_t len) {
  const tk_grouped_gemm_problem *g = &p->u.grouped_gemm;
  const gemm_config *c = config;
  if (!kernel_of(p, c)) {
    if (c->isa == TK_GEMM_ISA_AMX)
      snprintf(why, len, "isa=1024 (AMX) needs AMX-BF16 and AVX-512, bf16 inputs, shape=0 and "
                         "TOKAMAX_AMX=1");
    else
      snprintf(why, len,
               "isa=%d shape=%d: this CPU lacks the instructions (or TOKAMAX_CPU_ISA caps them)",
               c->isa, c->shape);
    return 0;
  }
  if (redundant(&params[P_KC], c->kc, max_depth(g)) || redundant(&params[P_TM], c->tm, max_rows(g)) ||
      redundant(&params[P_TN], c->tn, g->N)) {
    snprintf(why, len, "kc/tm/tn larger than the problem needs (a smaller one computes the same)");
    return 0;
  }
  return 1;
}

static const tk_config_space space = TK_CONFIG_SPACE(gemm_config, params, valid);

static int supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  (void)p;
  if (tk_isa_has(dev->isa, TK_ISA_LEVEL_AVX2)) return 1;
  snprintf(why, len,
           "unsupported: needs AVX2, FMA and F16C, which this CPU lacks or TOKAMAX_CPU_ISA caps");
  return 0;
}

/* The smallest candidate of param >= need, else its largest. */
static int fit(const tk_param_def *param, int64_t need) {
  for (int i = 0; i < param->n_values; i++)
    if (param->values[i] >= need) return param->values[i];
  return param->values[param->n_values - 1];
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
static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  const tk_grouped_gemm_problem *g = &p->u.grouped_gemm;
  gemm_config *c = config;
  unsigned isa = tk_cpu_isa();
  c->isa = TK_GEMM_ISA_AVX2;
  if (tk_gemm_kernel_for(TK_GEMM_ISA_AVX512, 0, p->dtype, isa)) c->isa = TK_GEMM_ISA_AVX512;
  if (amx_enabled() && tk_gemm_kernel_for(TK_GEMM_ISA_AMX, 0, p->dtype, isa)) c->isa = TK_GEMM_ISA_AMX;
  int64_t groups = g->G > 0 ? g->G : 1;
  int64_t rows = g->layout == TK_GG_TN ? g->K : (g->M + groups - 1) / groups; /* per group */
  c->shape = c->isa != TK_GEMM_ISA_AMX;
  const tk_gemm_kernel *k = tk_gemm_kernel_for((tk_gemm_isa)c->isa, c->shape, p->dtype, isa);
  int64_t kc = k && k->elem_bytes == 2 ? 512 : 256;
  int64_t threads = dev->physical_cores > 1 ? dev->physical_cores : 1;
  const tk_param_def *tm_p = &params[P_TM], *tn_p = &params[P_TN];
  int tm = tm_p->values[tm_p->n_values - 1], tn = tn_p->values[tn_p->n_values - 1];
  if (groups * tiles(rows, g->N, tm, tn) < 4 * threads) tn = tn_p->values[0];
  if (groups * tiles(rows, g->N, tm, tn) < 4 * threads) tm = tm_p->values[0];
  c->kc = fit(&params[P_KC], max_depth(g) < kc ? max_depth(g) : kc);
  c->tm = fit(tm_p, max_rows(g) < tm ? max_rows(g) : tm);
  c->tn = fit(tn_p, g->N < tn ? g->N : tn);
}

/* The driver allocates its per-worker packing buffers itself: their count
 * is the pool's size, which only run() knows. */
static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  (void)ws;
  const gemm_config *c = config;
  const tk_gemm_kernel *k = kernel_of(p, c);
  if (!k) /* valid() rejects such configs before run() */
    return tk_fail(TK_ERR_INTERNAL, "grouped_gemm (cpu): no kernel for isa=%d shape=%d", c->isa,
                   c->shape);
  tk_gemm_blocking b = {c->kc, c->tm, c->tn};
  return tk_gemm_grouped(&p->u.grouped_gemm, k, &b, ex->pool);
}

const tk_impl tk_cpu_grouped_gemm_impl = {.name = "cpu",
                                          .backend = TK_BACKEND_CPU,
                                          .space = &space,
                                          .supports = supports,
                                          .heuristic = heuristic,
                                          .run = run};
