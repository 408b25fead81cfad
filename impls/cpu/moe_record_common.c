/* moe_record_common.c: the config space, instruction-set check and
 * heuristic shared by the cpu MoE permute and unpermute records. */
#include "impls/cpu/moe_record_common.h"

#include <stdio.h>

#include "runtime/device.h"

#define TASK_BYTES (512.0 * 1024)

static const tk_param_def params[] = {
    TK_PARAM(tk_cpu_moe_config, isa, TK_MOE_ISA_AVX2, TK_MOE_ISA_AVX512),
    TK_PARAM(tk_cpu_moe_config, tasks, 1, 4, 16, 64), TK_PARAM(tk_cpu_moe_config, stream, 0, 1)};

/* The isa value is one this CPU runs. */
static int valid(const tk_problem *p, const void *config, char *why, size_t len) {
  (void)p;
  const tk_cpu_moe_config *c = config;
  unsigned isa = tk_cpu_isa();
  if (c->isa == TK_MOE_ISA_AVX512 && !tk_isa_has(isa, TK_ISA_LEVEL_AVX512)) {
    snprintf(why, len,
             "isa=512 needs AVX-512 F/BW/VL, which this CPU lacks or TOKAMAX_CPU_ISA caps");
    return 0;
  }
  if (!tk_isa_has(isa, TK_ISA_LEVEL_AVX2)) {
    snprintf(why, len,
             "isa=%d needs AVX2, FMA and F16C, which this CPU lacks or TOKAMAX_CPU_ISA caps",
             c->isa);
    return 0;
  }
  return 1;
}

const tk_config_space tk_cpu_moe_space = TK_CONFIG_SPACE(tk_cpu_moe_config, params, valid);

int tk_cpu_moe_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  (void)p;
  if (tk_isa_has(dev->isa, TK_ISA_LEVEL_AVX2)) return 1;
  snprintf(why, len,
           "unsupported: needs AVX2, FMA and F16C, which this CPU lacks or TOKAMAX_CPU_ISA caps");
  return 0;
}

void tk_cpu_moe_heuristic(const tk_device_info *dev, double bytes, double out_bytes,
                          int64_t row_bytes, tk_cpu_moe_config *c) {
  const tk_param_def *tasks_p = &params[1];
  int threads = dev->physical_cores > 1 ? dev->physical_cores : 1;
  /* a task per TASK_BYTES moved (waking the pool costs about as much as
   * moving that), up to 8 per thread to balance */
  double want = bytes / TASK_BYTES < 8.0 * threads ? bytes / TASK_BYTES : 8.0 * threads;
  int tasks = tasks_p->values[0];
  for (int i = 1; i < tasks_p->n_values; i++)
    if (tasks_p->values[i] <= want) tasks = tasks_p->values[i];
  double l3 = dev->l3_bytes > 0 ? (double)dev->l3_bytes : 32.0 * (1 << 20);
  c->isa = tk_isa_has(dev->isa, TK_ISA_LEVEL_AVX512) ? TK_MOE_ISA_AVX512 : TK_MOE_ISA_AVX2;
  c->tasks = tasks;
  /* streaming pays when the output cannot stay in cache and rows hold whole lines */
  c->stream = out_bytes > l3 / 2 && row_bytes >= 1024;
}

tk_moe_cpu_opts tk_cpu_moe_options(const void *config) {
  const tk_cpu_moe_config *c = config;
  tk_moe_cpu_opts o = {c->isa, c->tasks, c->stream};
  return o;
}
